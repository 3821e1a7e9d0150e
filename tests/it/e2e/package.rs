//! Release packaging: `scripts/package.sh` (what `make package` runs) turns the provider
//! binary into the Terraform Registry's artefacts, and Terraform 1.0.3 and 1.15.5 install
//! the zip from a packed filesystem mirror and plan against ecs-sim with it. To avoid a
//! release build inside `make test`, the script packages the binary cargo built for this
//! test run (`--binary`); the artefacts are otherwise the same as `make package` writes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;

use crate::support::package::*;
use crate::support::sim::Sim;
use crate::support::terraform::{
    provider_binary, provider_block, repo_root, Run, Workspace, PROVIDER_VERSION, VERSIONS,
};

fn names(version: &str) -> (String, String, String) {
    (
        format!("terraform-provider-ecs_{version}_linux_amd64.zip"),
        format!("terraform-provider-ecs_{version}_manifest.json"),
        format!("terraform-provider-ecs_{version}_SHA256SUMS"),
    )
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Checks the three artefacts in `out` for `binary`; returns the zip's path.
fn check_artefacts(out: &Path, binary: &Path) -> std::path::PathBuf {
    let version = cargo_version();
    let (zip, manifest, sums) = names(version);
    let mut want = vec![zip.clone(), manifest.clone(), sums.clone()];
    want.sort();
    assert_eq!(dir_listing(out), want, "exactly the three artefacts");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(&manifest)).expect("manifest"))
            .expect("manifest is JSON");
    assert_eq!(
        m,
        json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    // SHA256SUMS: sha256sum's format, the zip and the manifest, each hash right.
    let text = std::fs::read_to_string(out.join(&sums)).expect("SHA256SUMS");
    let lines: Vec<(&str, &str)> = text
        .lines()
        .map(|l| l.split_once("  ").expect("`HASH  NAME` lines"))
        .collect();
    assert_eq!(
        lines.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        vec![zip.as_str(), manifest.as_str()],
        "SHA256SUMS names the zip and the manifest: {text}"
    );
    for (hash, name) in &lines {
        assert_eq!(*hash, sha256_file(&out.join(name)), "sha256 of {name}");
    }
    let check = std::process::Command::new("sha256sum")
        .args(["--check", "--strict", &sums])
        .current_dir(out)
        .output()
        .expect("sha256sum (coreutils) runs");
    assert!(
        check.status.success(),
        "sha256sum --check: {}",
        String::from_utf8_lossy(&check.stdout)
    );

    // The zip: one executable entry named as the registry expects, with a fixed timestamp.
    let bytes = std::fs::read(out.join(&zip)).expect("zip");
    let entries = zip_entries(&bytes);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e.name, format!("terraform-provider-ecs_v{version}"));
    assert_eq!(e.made_by_system, 3, "made by Unix, so the mode counts");
    assert_eq!(
        e.unix_mode, 0o100755,
        "regular file, rwxr-xr-x: {:o}",
        e.unix_mode
    );
    assert_eq!((e.dos_date, e.dos_time), (0x21, 0), "1980-01-01 00:00");
    assert_eq!(
        e.uncompressed_size,
        std::fs::metadata(binary).expect("binary").len()
    );
    out.join(zip)
}

#[test]
fn packaged_zip_installs_from_a_packed_mirror_and_plans() {
    assert_eq!(
        cargo_version(),
        PROVIDER_VERSION,
        "the harness's provider version is Cargo.toml's"
    );
    let binary = provider_binary();
    let binary_sha = sha256_file(binary);
    let out = tempfile::Builder::new()
        .prefix("ecs-e2e-dist")
        .tempdir()
        .expect("temp dir");
    run_package_script(binary, out.path());
    let zip = check_artefacts(out.path(), binary);

    let sim = Sim::start(3);
    let main_tf = format!(
        "{}\nresource \"ecs_batch_start\" \"web\" {{\n  server_ids = {}\n}}\n",
        provider_block(&sim, ""),
        serde_json::to_string(&sim.ids).expect("ids")
    );
    std::thread::scope(|s| {
        for version in VERSIONS {
            let (zip, main_tf, sim, binary_sha) = (&zip, &main_tf, &sim, &binary_sha);
            s.spawn(move || {
                let (ws, init) = Workspace::with_mirror(
                    version,
                    Mirror::Packed(zip),
                    &[("main.tf", main_tf)],
                    Some(sim),
                );
                assert!(
                    init.stdout.contains(&format!(
                        "Installed terraform-provider-ecs/ecs v{PROVIDER_VERSION}"
                    )),
                    "terraform {version} init: {init:?}"
                );
                // Unpacked from the zip into the working directory, executable, the same bytes.
                let installed = ws.installed_provider();
                let meta = std::fs::symlink_metadata(&installed)
                    .unwrap_or_else(|e| panic!("{}: {e}", installed.display()));
                assert!(meta.is_file(), "extracted, not linked: {meta:?}");
                assert_eq!(meta.permissions().mode() & 0o111, 0o111, "executable");
                assert_eq!(&sha256_file(&installed), binary_sha, "the packaged binary");

                let plan = ws.plan();
                assert_eq!(plan.code, 2, "terraform {version} plan: {plan:?}");
                assert!(
                    plan.stdout.contains("ecs_batch_start.web will be created"),
                    "{plan:?}"
                );
            });
        }
    });
    assert_eq!(sim.total_requests(), 0, "plan makes no API call");
}

/// The same binary gives the same bytes whatever its file's timestamp, and a binary that is
/// not linux/amd64 is refused before anything is written. A small system binary stands in
/// for the provider, to keep this quick.
#[test]
fn packaging_is_deterministic_and_refuses_other_binaries() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let small = Path::new("/bin/true");
    assert!(small.exists(), "/bin/true (coreutils) is missing");
    let copy = tmp.path().join("copy");
    std::fs::copy(small, &copy).expect("copy");
    let old = std::fs::File::options()
        .write(true)
        .open(&copy)
        .expect("open copy");
    old.set_modified(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1e9 as u64),
    )
    .expect("set mtime");
    drop(old);

    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_package_script(small, &a);
    run_package_script(&copy, &b);
    check_artefacts(&a, small);
    for name in dir_listing(&a) {
        assert_eq!(
            std::fs::read(a.join(&name)).expect("a"),
            std::fs::read(b.join(&name)).expect("b"),
            "{name} differs between two packagings of the same binary"
        );
    }

    let refused = tmp.path().join("refused");
    let run: Run = std::process::Command::new(repo_root().join("scripts/package.sh"))
        .arg("--binary")
        .arg(repo_root().join("Cargo.toml"))
        .arg("--out")
        .arg(&refused)
        .output()
        .expect("run scripts/package.sh")
        .into();
    assert_ne!(run.code, 0, "a non-ELF file is refused: {run:?}");
    assert!(run.stderr.contains("not a linux/amd64"), "{run:?}");
    assert!(
        !refused.exists() || dir_listing(&refused).is_empty(),
        "nothing written for a refused binary"
    );
}
