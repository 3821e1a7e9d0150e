//! The registry docs cannot drift from the schema: the `## Schema` section of each page (the
//! provider, each resource and each data source) is
//! rendered from the schema the provider serves, in tfplugindocs' format, and compared.
//! `UPDATE_DOCS=1 cargo test --test it docs_schema` rewrites the sections.

use terraform_provider_ecs::provider::batch_reboot::batch_reboot_schema;
use terraform_provider_ecs::provider::batch_start::batch_start_schema;
use terraform_provider_ecs::provider::batch_stop::batch_stop_schema;
use terraform_provider_ecs::provider::power_state::power_state_schema;
use terraform_provider_ecs::provider::provider_schema;
use terraform_provider_ecs::provider::servers::servers_schema;
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, NestedBlock, Schema};

fn type_name(t: &AttributeType) -> String {
    match t {
        AttributeType::String => "String".into(),
        AttributeType::Number => "Number".into(),
        AttributeType::Bool => "Boolean".into(),
        AttributeType::List(e) => format!("List of {}", type_name(e)),
        AttributeType::Set(e) => format!("Set of {}", type_name(e)),
        AttributeType::Map(e) => format!("Map of {}", type_name(e)),
        AttributeType::Any => "Dynamic".into(),
        AttributeType::Object(_) => "Object".into(),
        other => format!("{other:?}"),
    }
}

fn render_block(block: &Block, nested_prefix: &str) -> String {
    // (name, bullet) per section; attributes and blocks are sorted together, as tfplugindocs does.
    let mut sections: Vec<(&str, Vec<(String, String)>)> = vec![
        ("Required", vec![]),
        ("Optional", vec![]),
        ("Read-Only", vec![]),
    ];
    let mut names: Vec<&String> = block.attributes.keys().collect();
    names.sort();
    let mut object_sections = Vec::new();
    for name in names {
        let a = &block.attributes[name];
        let idx = match a.constraint {
            AttributeConstraint::Required => 0,
            AttributeConstraint::Optional | AttributeConstraint::OptionalComputed => 1,
            AttributeConstraint::Computed => 2,
        };
        let sensitive = if a.sensitive { ", Sensitive" } else { "" };
        let mut description = a.description.content.clone();
        if let Some(fields) = object_fields(&a.attr_type) {
            let anchor = format!("{nested_prefix}nestedatt--{name}");
            description.push_str(&format!(" (see [below for nested schema](#{anchor}))"));
            object_sections.push(object_section(&anchor, name, fields));
        }
        sections[idx].1.push((
            name.clone(),
            format!(
                "- `{name}` ({}{sensitive}) {description}",
                type_name(&a.attr_type)
            ),
        ));
    }
    let mut nested = String::new();
    let mut blocks: Vec<&String> = block.blocks.keys().collect();
    blocks.sort();
    for name in blocks {
        let (kind, inner) = match &block.blocks[name] {
            // tf-provider serves an optional block as a list of at most one (nesting mode
            // list, max_items 1), which tfplugindocs calls "Block List, Max: 1".
            NestedBlock::Optional(b) => ("Block List, Max: 1", b),
            NestedBlock::List(b) => ("Block List", b),
            NestedBlock::Single(b) => ("Block, Required", b),
            other => panic!("undocumented block kind {other:?}"),
        };
        let anchor = format!("{nested_prefix}nestedblock--{name}");
        sections[1].1.push((
            name.clone(),
            format!(
                "- `{name}` ({kind}) {} (see [below for nested schema](#{anchor}))",
                inner.description.content
            ),
        ));
        nested.push_str(&format!(
            "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{name}`\n\n{}",
            render_block(inner, &format!("{anchor}--"))
                .replace("### Required", "Required:")
                .replace("### Optional", "Optional:")
                .replace("### Read-Only", "Read-Only:")
        ));
    }
    let mut out = String::new();
    for (title, mut lines) in sections {
        if lines.is_empty() {
            continue;
        }
        lines.sort();
        let lines: Vec<String> = lines.into_iter().map(|(_, line)| line).collect();
        out.push_str(&format!("### {title}\n\n{}\n\n", lines.join("\n")));
    }
    for o in object_sections {
        out.push_str(&o);
    }
    out.push_str(&nested);
    out
}

/// The fields of an object attribute, or of the objects of a list or set attribute.
fn object_fields(t: &AttributeType) -> Option<&std::collections::HashMap<String, AttributeType>> {
    match t {
        AttributeType::Object(fields) => Some(fields),
        AttributeType::List(e) | AttributeType::Set(e) => object_fields(e),
        _ => None,
    }
}

/// tfplugindocs' section for an object attribute: its fields, read-only, without
/// descriptions (object types have none).
fn object_section(
    anchor: &str,
    name: &str,
    fields: &std::collections::HashMap<String, AttributeType>,
) -> String {
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    let bullets: Vec<String> = names
        .into_iter()
        .map(|f| format!("- `{f}` ({})", type_name(&fields[f])))
        .collect();
    format!(
        "\n<a id=\"{anchor}\"></a>\n### Nested Schema for `{name}`\n\nRead-Only:\n\n{}\n",
        bullets.join("\n")
    )
}

fn render(schema: &Schema) -> String {
    format!("## Schema\n\n{}", render_block(&schema.block, ""))
        .trim_end()
        .to_string()
        + "\n"
}

fn check(path: &str, schema: &Schema) {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = doc
        .find("## Schema\n")
        .unwrap_or_else(|| panic!("{path} has no ## Schema"));
    let end = doc[start + 10..]
        .find("\n## ")
        .map(|i| start + 10 + i + 1)
        .unwrap_or(doc.len());
    let expected = render(schema);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let sep = if end < doc.len() { "\n" } else { "" };
        let updated = format!("{}{expected}{sep}{}", &doc[..start], &doc[end..]);
        std::fs::write(&full, updated).expect("write doc");
        return;
    }
    assert_eq!(
        doc[start..end].trim_end(),
        expected.trim_end(),
        "{path}'s schema section differs from the provider's schema; run UPDATE_DOCS=1 cargo test --test it docs_schema"
    );
}

#[test]
fn provider_doc_matches_schema() {
    check("docs/index.md", &provider_schema());
}

#[test]
fn batch_start_doc_matches_schema() {
    check("docs/resources/batch_start.md", &batch_start_schema());
}

#[test]
fn batch_stop_doc_matches_schema() {
    check("docs/resources/batch_stop.md", &batch_stop_schema());
}

#[test]
fn batch_reboot_doc_matches_schema() {
    check("docs/resources/batch_reboot.md", &batch_reboot_schema());
}

#[test]
fn power_state_doc_matches_schema() {
    check("docs/resources/power_state.md", &power_state_schema());
}

#[test]
fn servers_doc_matches_schema() {
    check("docs/data-sources/servers.md", &servers_schema());
}
