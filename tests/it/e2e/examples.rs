//! Every configuration under examples/ is formatted (`terraform fmt -check -recursive`) and
//! valid (`terraform validate`, after `terraform init` from a mirror holding the built
//! provider), under Terraform 1.0.3 and 1.15.5. A directory without `required_providers`
//! (examples/resources/<type>/) is validated together with examples/provider/provider.tf,
//! as the registry layout implies.

use std::path::{Path, PathBuf};

use crate::support::package::{terraform_in, Mirror};
use crate::support::terraform::{provider_binary, repo_root, Workspace};

/// The directories under examples/ that hold `.tf` files, sorted.
fn example_dirs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut has_tf = false;
        for e in std::fs::read_dir(dir).expect("read examples").flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != ".terraform") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            out.push(dir.to_path_buf());
        }
    }
    let mut out = Vec::new();
    walk(&repo_root().join("examples"), &mut out);
    out.sort();
    out
}

fn tf_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("read example dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read example"),
            )
        })
        .collect();
    files.sort();
    files
}

fn examples_are_formatted(version: &str) {
    let out = terraform_in(
        version,
        repo_root(),
        &[
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            "-no-color",
            "examples",
        ],
    );
    assert_eq!(
        out.code, 0,
        "terraform {version} fmt -check -recursive examples: not formatted: {out:?}"
    );
}

fn examples_validate(version: &str) {
    let dirs = example_dirs();
    for must in [
        "provider",
        "resources/ecs_batch_start",
        "resources/ecs_batch_stop",
        "resources/ecs_batch_reboot",
        "data-sources/ecs_servers",
        "fleet",
        "park",
        "demo",
    ] {
        assert!(
            dirs.contains(&repo_root().join("examples").join(must)),
            "examples/{must} is missing (found {dirs:?})"
        );
    }
    let provider_tf = std::fs::read_to_string(repo_root().join("examples/provider/provider.tf"))
        .expect("examples/provider/provider.tf");
    let mut failures = Vec::new();
    for dir in &dirs {
        let rel = dir.strip_prefix(repo_root()).unwrap().display().to_string();
        let mut files = tf_files(dir);
        if !files
            .iter()
            .any(|(_, text)| text.contains("required_providers"))
        {
            files.push(("provider.tf".into(), provider_tf.clone()));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let (ws, _) =
            Workspace::with_mirror(version, Mirror::Unpacked(provider_binary()), &files, None);
        let out = ws.run(&["validate", "-no-color"]);
        if out.code != 0
            || !out.stdout.contains("The configuration is valid.")
            || out.text().contains("Warning:")
        {
            failures.push(format!("{rel}: {out:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "terraform {version} validate:\n{}",
        failures.join("\n\n")
    );
}

on_both_versions!(examples_are_formatted, examples_validate);
