//! The registry docs against what Terraform itself sees: `terraform providers schema -json`
//! of the built provider (Terraform 1.0.3 and 1.15.5) is rendered into tfplugindocs' terms
//! (section, type, Sensitive, description) and compared with the `## Schema` bullets of
//! docs/index.md, docs/resources/*.md and docs/data-sources/*.md, both ways. tests/it/docs_schema.rs generates those
//! sections from the Rust schema; this test is the independent check through the CLI.
//! It also checks the front matter, the provider's environment-variable table, and that
//! every Example Usage block is an example file of examples/ verbatim.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::package::Mirror;
use crate::support::terraform::{provider_binary, repo_root, Workspace};

const PROVIDER_ADDRESS: &str = "registry.terraform.io/terraform-provider-ecs/ecs";
const PROVIDER_PREFIX: &str = "ecs_";

/// One documented attribute or block, keyed by its dotted path (`timeouts.create`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    /// "Required", "Optional" or "Read-Only"
    section: String,
    /// tfplugindocs' type text: "String", "List of String", "Block List, Max: 1", …
    kind: String,
    sensitive: bool,
    description: String,
}

// ---- what Terraform sees -------------------------------------------------------------

fn type_text(t: &Value) -> String {
    match t {
        Value::String(s) => match s.as_str() {
            "string" => "String".into(),
            "number" => "Number".into(),
            "bool" => "Boolean".into(),
            "dynamic" => "Dynamic".into(),
            other => panic!("unexpected primitive type {other}"),
        },
        Value::Array(a) if a.len() == 2 && a[0] == "object" => "Object".into(),
        Value::Array(a) if a.len() == 2 => {
            let inner = type_text(&a[1]);
            match a[0].as_str() {
                Some("list") => format!("List of {inner}"),
                Some("set") => format!("Set of {inner}"),
                Some("map") => format!("Map of {inner}"),
                _ => panic!("unexpected collection type {t}"),
            }
        }
        other => panic!("type not handled by this test: {other}"),
    }
}

fn attr_section(a: &Value) -> &'static str {
    if a["required"] == true {
        "Required"
    } else if a["optional"] == true {
        "Optional"
    } else {
        assert_eq!(
            a["computed"], true,
            "neither required, optional nor computed: {a}"
        );
        "Read-Only"
    }
}

/// tfplugindocs' classification of a nested block (behaviors.go).
fn block_section(b: &Value) -> &'static str {
    if b["min_items"].as_u64().unwrap_or(0) > 0 {
        return "Required";
    }
    let inner = &b["block"];
    let configurable = inner["attributes"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, a)| a["required"] == true || a["optional"] == true)
        || inner["block_types"]
            .as_object()
            .into_iter()
            .flatten()
            .any(|(_, nb)| block_section(nb) != "Read-Only");
    if configurable {
        "Optional"
    } else {
        "Read-Only"
    }
}

/// tfplugindocs' type text of a nested block (write_block_type_description.go).
fn block_kind(b: &Value) -> String {
    let mode = b["nesting_mode"].as_str().expect("nesting_mode");
    let mut s = String::from("Block");
    match mode {
        "single" | "group" => {}
        "list" => s.push_str(" List"),
        "set" => s.push_str(" Set"),
        "map" => s.push_str(" Map"),
        other => panic!("unexpected nesting mode {other}"),
    }
    let (min, max) = (
        b["min_items"].as_u64().unwrap_or(0),
        b["max_items"].as_u64().unwrap_or(0),
    );
    if mode == "single" || mode == "group" {
        s.push_str(match block_section(b) {
            "Required" => ", Required",
            "Optional" => ", Optional",
            _ => ", Read-only",
        });
    } else if min > 0 {
        s.push_str(&format!(", Min: {min}"));
    }
    // tf-provider 0.2.2 sends an unbounded list block (`NestedBlock::List`) with
    // `max_items = i64::MAX`: no maximum, as a Go provider's 0.
    if max > 0 && max != i64::MAX as u64 {
        s.push_str(&format!(", Max: {max}"));
    }
    s
}

/// The fields of an `["object", {..}]` type, or of the objects of a list or set of them.
fn object_fields(t: &Value) -> Option<&serde_json::Map<String, Value>> {
    match t.as_array().map(Vec::as_slice) {
        Some([kind, fields]) if kind == "object" => fields.as_object(),
        Some([kind, inner]) if kind == "list" || kind == "set" => object_fields(inner),
        _ => None,
    }
}

fn anchor(path: &str) -> String {
    format!("nestedblock--{}", path.replace('.', "--"))
}

fn description(v: &Value) -> String {
    v["description"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn items_from_schema(block: &Value, prefix: &str, out: &mut BTreeMap<String, Item>) {
    for (name, a) in block["attributes"].as_object().into_iter().flatten() {
        assert!(
            a.get("nested_type").is_none(),
            "{prefix}{name}: nested attributes are not handled by this test"
        );
        let path = format!("{prefix}{name}");
        let mut text = description(a);
        if let Some(fields) = object_fields(&a["type"]) {
            let anchor = format!("nestedatt--{}", path.replace('.', "--"));
            text.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
            for (field, t) in fields {
                let item = Item {
                    section: attr_section(a).into(),
                    kind: type_text(t),
                    sensitive: false,
                    description: String::new(),
                };
                out.insert(format!("{path}.{field}"), item);
            }
        }
        out.insert(
            path,
            Item {
                section: attr_section(a).into(),
                kind: type_text(&a["type"]),
                sensitive: a["sensitive"] == true,
                description: text,
            },
        );
    }
    for (name, b) in block["block_types"].as_object().into_iter().flatten() {
        let path = format!("{prefix}{name}");
        out.insert(
            path.clone(),
            Item {
                section: block_section(b).into(),
                kind: block_kind(b),
                sensitive: false,
                description: format!(
                    "{} (see [below for nested schema](#{}))",
                    description(&b["block"]),
                    anchor(&path)
                ),
            },
        );
        items_from_schema(&b["block"], &format!("{path}."), out);
    }
}

// ---- what the docs say ---------------------------------------------------------------

fn read_doc(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The lines of one `## Title` section (up to the next `## ` heading).
fn section<'a>(doc: &'a str, title: &str, rel: &str) -> Vec<&'a str> {
    let mut lines = doc
        .lines()
        .skip_while(|l| l.trim_end() != format!("## {title}"));
    assert!(lines.next().is_some(), "{rel} has no `## {title}` section");
    lines.take_while(|l| !l.starts_with("## ")).collect()
}

/// `- \`name\` (Type[, Sensitive]) description` → (name, type, sensitive, description).
fn parse_bullet(line: &str) -> Option<(String, String, bool, String)> {
    let rest = line.strip_prefix("- `")?;
    let (name, rest) = rest.split_once("` (")?;
    let (kind, desc) = rest.split_once(')')?;
    let (kind, sensitive) = match kind.strip_suffix(", Sensitive") {
        Some(k) => (k, true),
        None => (kind, false),
    };
    Some((
        name.to_string(),
        kind.to_string(),
        sensitive,
        desc.trim().to_string(),
    ))
}

/// The `## Schema` bullets of one page, and the anchors its nested sections define.
fn items_from_doc(rel: &str) -> (BTreeMap<String, Item>, BTreeSet<String>) {
    let doc = read_doc(rel);
    let mut items = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    let mut prefix = String::new();
    let mut current: Option<&str> = None;
    // tfplugindocs sorts the bullets of a section by name, attributes and blocks together.
    let mut previous: Option<String> = None;
    for (n, line) in section(&doc, "Schema", rel).into_iter().enumerate() {
        let line = line.trim_end();
        let nested = !prefix.is_empty();
        match line {
            "" => {}
            "### Required" | "### Optional" | "### Read-Only" if !nested => {
                current = Some(&line[4..]);
                previous = None;
            }
            "Required:" | "Optional:" | "Read-Only:" if nested => {
                current = Some(&line[..line.len() - 1]);
                previous = None;
            }
            _ if line.starts_with("<a id=\"") && line.ends_with("\"></a>") => {
                anchors.insert(line[7..line.len() - 6].to_string());
            }
            _ if line.starts_with("### Nested Schema for `") && line.ends_with('`') => {
                prefix = format!("{}.", &line[23..line.len() - 1]);
                current = None;
                previous = None;
            }
            _ if line.starts_with("- ") => {
                let (name, kind, sensitive, description) = parse_bullet(line).unwrap_or_else(
                    || panic!("{rel}: Schema line {n} is not `- \\`name\\` (Type) description`: {line}"),
                );
                let section = current.unwrap_or_else(|| {
                    panic!("{rel}: `{name}` is under no Required/Optional/Read-Only heading")
                });
                if let Some(p) = &previous {
                    assert!(
                        p < &name,
                        "{rel}: `{name}` comes after `{p}` in its section; sort by name"
                    );
                }
                previous = Some(name.clone());
                let path = format!("{prefix}{name}");
                let item = Item {
                    section: section.into(),
                    kind,
                    sensitive,
                    description,
                };
                assert!(
                    items.insert(path.clone(), item).is_none(),
                    "{rel}: `{path}` documented twice"
                );
            }
            _ => panic!("{rel}: unexpected line in ## Schema: {line:?}"),
        }
    }
    (items, anchors)
}

fn compare(rel: &str, schema_block: &Value) {
    let mut expected = BTreeMap::new();
    items_from_schema(schema_block, "", &mut expected);
    let (documented, anchors) = items_from_doc(rel);

    let mut problems = Vec::new();
    for (path, want) in &expected {
        match documented.get(path) {
            None => problems.push(format!(
                "`{path}` is not documented (Terraform sees {want:?})"
            )),
            Some(got) if got != want => problems.push(format!(
                "`{path}` differs:\n    docs:      {got:?}\n    Terraform: {want:?}"
            )),
            Some(_) => {}
        }
    }
    for path in documented.keys() {
        if !expected.contains_key(path) {
            problems.push(format!("`{path}` is documented but not in the schema"));
        }
    }
    for path in expected.keys().filter(|p| is_block(schema_block, p)) {
        if !anchors.contains(&anchor(path)) {
            problems.push(format!(
                "nested block `{path}` has no <a id=\"{}\"></a> section",
                anchor(path)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{rel} does not match `terraform providers schema -json`:\n  - {}",
        problems.join("\n  - ")
    );
}

/// Whether `path` names a nested block (not an attribute) of `block`.
fn is_block(block: &Value, path: &str) -> bool {
    let mut b = block;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        match b["block_types"].get(*part) {
            Some(_) if i + 1 == parts.len() => return true,
            Some(nb) => b = &nb["block"],
            None => return false,
        }
    }
    false
}

/// The YAML front matter's `key: value` (or `key: |-` with indented lines) values.
fn front_matter(rel: &str) -> BTreeMap<String, String> {
    let doc = read_doc(rel);
    let body = doc
        .strip_prefix("---\n")
        .unwrap_or_else(|| panic!("{rel} does not start with front matter"));
    let (fm, _) = body
        .split_once("\n---\n")
        .unwrap_or_else(|| panic!("{rel}: front matter not closed"));
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in fm.lines() {
        if let Some(cont) = line.strip_prefix("  ") {
            let key = last.clone().expect("indented line after a key");
            let v = out.entry(key).or_default();
            if !v.is_empty() {
                v.push(' ');
            }
            v.push_str(cont.trim());
        } else {
            let (k, v) = line.split_once(':').expect("key: value");
            let v = v.trim();
            let v = if v == "|-" { "" } else { v.trim_matches('"') };
            out.insert(k.to_string(), v.to_string());
            last = Some(k.to_string());
        }
    }
    out
}

fn check_front_matter(rel: &str, page_title: &str, schema_block: &Value) {
    let fm = front_matter(rel);
    assert_eq!(
        fm.get("page_title").map(String::as_str),
        Some(page_title),
        "{rel}: page_title"
    );
    // tfplugindocs puts the schema's description, as plain text, in the front matter.
    assert_eq!(
        fm.get("description").map(String::as_str),
        Some(description(schema_block).replace('`', "").as_str()),
        "{rel}: front matter description is not the schema's description"
    );
}

/// `providers schema -json` of a workspace holding examples/provider/provider.tf.
fn schema_json(version: &str) -> Value {
    let provider_tf = read_doc("examples/provider/provider.tf");
    let (ws, _) = Workspace::with_mirror(
        version,
        Mirror::Unpacked(provider_binary()),
        &[("provider.tf", &provider_tf)],
        None,
    );
    let out = ws.run(&["providers", "schema", "-json"]);
    assert_eq!(out.code, 0, "terraform {version} providers schema: {out:?}");
    let all: Value = serde_json::from_str(&out.stdout).expect("schema JSON");
    all["provider_schemas"][PROVIDER_ADDRESS].clone()
}

fn docs_match_terraform_schema(version: &str) {
    let schema = schema_json(version);
    assert!(
        schema.is_object(),
        "{PROVIDER_ADDRESS} missing in the schema"
    );

    // The provider page.
    let provider = &schema["provider"]["block"];
    compare("docs/index.md", provider);
    check_front_matter("docs/index.md", "Provider: ecs", provider);

    // One page per resource and data source, and no page for one the provider lacks.
    check_pages(&schema, "resource_schemas", "docs/resources", "Resource");
    check_pages(
        &schema,
        "data_source_schemas",
        "docs/data-sources",
        "Data Source",
    );
    for kind in ["functions", "ephemeral_resource_schemas"] {
        let n = schema[kind].as_object().map_or(0, |m| m.len());
        assert_eq!(n, 0, "{kind}: the provider has some now; document them");
    }
    for dir in ["docs/functions", "docs/ephemeral-resources"] {
        assert!(
            !repo_root().join(dir).exists(),
            "{dir} documents what the schema lacks"
        );
    }
}

/// One page under `dir` per entry of `schema[kind]` (`ecs_x` documented in `x.md`), each
/// matching its schema, and no page for a type the provider lacks.
fn check_pages(schema: &Value, kind: &str, dir: &str, title: &str) {
    let types = schema[kind].as_object().expect(kind);
    let mut pages = BTreeSet::new();
    for (type_name, t) in types {
        let short = type_name
            .strip_prefix(PROVIDER_PREFIX)
            .unwrap_or_else(|| panic!("{type_name} lacks the provider prefix"));
        let rel = format!("{dir}/{short}.md");
        compare(&rel, &t["block"]);
        let page_title = format!("{type_name} {title} - terraform-provider-ecs");
        check_front_matter(&rel, &page_title, &t["block"]);
        pages.insert(format!("{short}.md"));
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(repo_root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(on_disk, pages, "{dir}/ pages vs the provider's {kind}");
}

on_both_versions!(docs_match_terraform_schema);

// ---- without Terraform -----------------------------------------------------------------

/// Every `HW_*` variable a provider attribute falls back to is in the Authentication table,
/// on that attribute's row, and every row names a real attribute.
#[test]
fn provider_env_vars_are_in_the_authentication_table() {
    let rel = "docs/index.md";
    let doc = read_doc(rel);
    let (items, _) = items_from_doc(rel);
    let rows: BTreeMap<String, String> = section(&doc, "Authentication", rel)
        .into_iter()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [a, e] if a.starts_with('`') && e.starts_with("`HW_") => Some((
                    a.trim_matches('`').to_string(),
                    e.trim_matches('`').to_string(),
                )),
                _ => None,
            }
        })
        .collect();
    for (name, item) in &items {
        if let Some(i) = item.description.find("`HW_") {
            let var: String = item.description[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            assert_eq!(
                rows.get(name),
                Some(&var),
                "{rel}: the Authentication table lacks `{name}` | `{var}`"
            );
        }
    }
    for name in rows.keys() {
        assert!(
            items.contains_key(name),
            "{rel}: table row `{name}` is no attribute"
        );
    }
}

/// The `.tf` files under examples/, by path relative to the repository.
fn example_files() -> BTreeMap<String, String> {
    fn walk(dir: &std::path::Path, out: &mut BTreeMap<String, String>) {
        for e in std::fs::read_dir(dir).expect("examples dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "tf") {
                let rel = p
                    .strip_prefix(repo_root())
                    .expect("under the repo")
                    .display()
                    .to_string();
                out.insert(rel, std::fs::read_to_string(&p).expect("read example"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&repo_root().join("examples"), &mut out);
    out
}

/// The code blocks fenced as ```terraform or ```hcl in one `## Title` section.
fn code_blocks(rel: &str, title: &str) -> Vec<String> {
    let doc = read_doc(rel);
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section(&doc, title, rel) {
        match (&mut current, line.trim_end()) {
            (None, "```terraform" | "```hcl") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().expect("open block")),
            (Some(text), l) => {
                text.push_str(l);
                text.push('\n');
            }
            _ => {}
        }
    }
    assert!(
        current.is_none(),
        "{rel}: unclosed code block in ## {title}"
    );
    blocks
}

/// Example Usage is taken from examples/ verbatim, as tfplugindocs does, so the two cannot
/// drift: every block is one whole example file, and the page's own example is among them.
#[test]
fn example_usage_is_the_example_files() {
    let examples = example_files();
    for (rel, required) in [
        ("docs/index.md", "examples/provider/provider.tf"),
        (
            "docs/resources/batch_start.md",
            "examples/resources/ecs_batch_start/resource.tf",
        ),
        (
            "docs/resources/batch_stop.md",
            "examples/resources/ecs_batch_stop/resource.tf",
        ),
        (
            "docs/resources/batch_reboot.md",
            "examples/resources/ecs_batch_reboot/resource.tf",
        ),
        (
            "docs/resources/power_state.md",
            "examples/resources/ecs_power_state/resource.tf",
        ),
        (
            "docs/data-sources/servers.md",
            "examples/data-sources/ecs_servers/data-source.tf",
        ),
    ] {
        let blocks = code_blocks(rel, "Example Usage");
        let mut used = Vec::new();
        for (i, block) in blocks.iter().enumerate() {
            let source = examples
                .iter()
                .find(|(_, text)| *text == block)
                .map(|(path, _)| path.clone())
                .unwrap_or_else(|| {
                    panic!("{rel}: Example Usage block {i} is not the text of any file under examples/:\n{block}")
                });
            used.push(source);
        }
        assert!(
            used.iter().any(|p| p == required),
            "{rel}: Example Usage lacks {required} (blocks are from {used:?})"
        );
    }
}
