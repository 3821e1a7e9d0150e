//! Helpers for the docs, examples and packaging tests: workspaces whose filesystem
//! mirror lives inside the workspace (unpacked from a binary, or packed from a release zip)
//! and disappears with it, and the release packaging script.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::sim::Sim;
use super::terraform::{
    link_or_copy, repo_root, temp_dir, terraform, Run, Workspace, PROVIDER_SOURCE, PROVIDER_VERSION,
};

/// Where `terraform init` finds the provider.
pub enum Mirror<'a> {
    /// `registry.terraform.io/terraform-provider-ecs/ecs/{VERSION}/linux_amd64/terraform-provider-ecs_v{VERSION}`
    Unpacked(&'a Path),
    /// `registry.terraform.io/terraform-provider-ecs/ecs/terraform-provider-ecs_{VERSION}_linux_amd64.zip`
    Packed(&'a Path),
}

impl Workspace {
    /// A fresh directory holding `files`, initialised offline from a mirror built inside
    /// it. With a `sim`, the HW_* credentials of ecs-sim are in the environment. Panics with
    /// Terraform's output when init fails; returns init's output otherwise.
    pub fn with_mirror(
        version: &str,
        mirror: Mirror<'_>,
        files: &[(&str, &str)],
        sim: Option<&Sim>,
    ) -> (Workspace, Run) {
        let dir = temp_dir();
        let mirror_dir = dir.path().join("mirror");
        let type_dir = mirror_dir
            .join("registry.terraform.io")
            .join(PROVIDER_SOURCE);
        match mirror {
            Mirror::Unpacked(binary) => {
                let target = type_dir.join(PROVIDER_VERSION).join("linux_amd64");
                std::fs::create_dir_all(&target).expect("mirror dirs");
                link_or_copy(
                    binary,
                    &target.join(format!("terraform-provider-ecs_v{PROVIDER_VERSION}")),
                );
            }
            Mirror::Packed(zip) => {
                std::fs::create_dir_all(&type_dir).expect("mirror dirs");
                link_or_copy(
                    zip,
                    &type_dir.join(format!(
                        "terraform-provider-ecs_{PROVIDER_VERSION}_linux_amd64.zip"
                    )),
                );
            }
        }
        Workspace::init(version, dir, &mirror_dir, sim, files)
    }

    /// Where `terraform init` put the provider executable.
    pub fn installed_provider(&self) -> PathBuf {
        self.dir
            .path()
            .join(".terraform/providers/registry.terraform.io")
            .join(PROVIDER_SOURCE)
            .join(PROVIDER_VERSION)
            .join("linux_amd64")
            .join(format!("terraform-provider-ecs_v{PROVIDER_VERSION}"))
    }
}

/// `terraform` of one version run in `dir` with no provider installation at all (fmt).
pub fn terraform_in(version: &str, dir: &Path, args: &[&str]) -> Run {
    Command::new(terraform(version))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .output()
        .expect("run terraform")
        .into()
}

/// The package version in Cargo.toml, which the harness's PROVIDER_VERSION must equal.
pub fn cargo_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

pub fn sha256_file(path: &Path) -> String {
    let mut file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(hasher.finalize())
}

/// Runs `scripts/package.sh --binary BINARY --out OUT`; panics with its output on failure.
pub fn run_package_script(binary: &Path, out: &Path) -> Run {
    let run: Run = Command::new(repo_root().join("scripts/package.sh"))
        .arg("--binary")
        .arg(binary)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run scripts/package.sh")
        .into();
    assert_eq!(run.code, 0, "scripts/package.sh failed: {run:?}");
    run
}

/// One entry of a zip's central directory.
#[derive(Debug)]
pub struct ZipEntry {
    pub name: String,
    /// High byte of "version made by": 3 is Unix, the only system whose mode bits count.
    pub made_by_system: u8,
    /// Unix mode from the external attributes (upper 16 bits).
    pub unix_mode: u32,
    /// MS-DOS date and time fields.
    pub dos_date: u16,
    pub dos_time: u16,
    pub uncompressed_size: u64,
}

/// The central directory of a zip without a trailing comment or zip64 records.
pub fn zip_entries(bytes: &[u8]) -> Vec<ZipEntry> {
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    assert!(bytes.len() >= 22, "too short for a zip");
    let eocd = bytes.len() - 22;
    assert_eq!(
        u32_at(eocd),
        0x0605_4b50,
        "no end-of-central-directory record at the end (a comment?)"
    );
    let count = u16_at(eocd + 10) as usize;
    let mut at = u32_at(eocd + 16) as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "central directory header");
        let (name_len, extra_len, comment_len) = (
            u16_at(at + 28) as usize,
            u16_at(at + 30) as usize,
            u16_at(at + 32) as usize,
        );
        entries.push(ZipEntry {
            name: String::from_utf8_lossy(&bytes[at + 46..at + 46 + name_len]).into_owned(),
            made_by_system: bytes[at + 5],
            unix_mode: u32_at(at + 38) >> 16,
            dos_time: u16_at(at + 12),
            dos_date: u16_at(at + 14),
            uncompressed_size: u32_at(at + 24) as u64,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    entries
}
