//! Harness for the end-to-end tests: real Terraform CLIs, the built provider installed in a
//! filesystem mirror, and ecs-sim in-process on a random loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use super::sim::Sim;
use super::tools::ensure_installed;

pub const PROVIDER_SOURCE: &str = "terraform-provider-ecs/ecs";
pub const PROVIDER_VERSION: &str = "0.1.0";

/// The Terraform versions every end-to-end scenario runs on (`on_both_versions!`): the
/// oldest supported and the newest.
pub const VERSIONS: [&str; 2] = ["1.0.3", "1.15.5"];

/// The version of [`VERSIONS`] that a module made by `on_both_versions!` is named after
/// (`tf_1_15_5` runs `1.15.5`).
pub fn version_named(module: &str) -> &'static str {
    VERSIONS
        .into_iter()
        .find(|v| format!("tf_{}", v.replace('.', "_")) == module)
        .unwrap_or_else(|| {
            panic!("{module} names none of {VERSIONS:?}: rename it in on_both_versions!")
        })
}

/// The provider binary cargo built for this test run.
pub fn provider_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-ecs"))
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A hard link where possible (no copy of a 100 MB debug binary), a copy otherwise. A hard
/// link also pins the inode, so a concurrent `cargo build` cannot change it under Terraform.
pub fn link_or_copy(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    }
}

/// The Terraform CLI of one version, installed by `scripts/ensure-tools.sh` into `.tools/`.
/// Missing CLIs are installed on the spot; if that fails the test fails, never skips.
pub fn terraform(version: &str) -> PathBuf {
    let root = repo_root();
    let dir = std::env::var_os("ECS_E2E_TERRAFORM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools"));
    let bin = dir.join(format!("terraform-{version}")).join("terraform");
    ensure_installed("terraform", &bin, &format!("Terraform {version}"));
    bin
}

/// A filesystem mirror holding the provider binary built for this test run: a hard link in
/// cargo's target tmp directory, one per test process. Mirrors of processes that have ended
/// are removed, so repeated runs leave nothing behind.
fn mirror() -> &'static Path {
    static MIRROR: OnceLock<PathBuf> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        if let Ok(entries) = std::fs::read_dir(base) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let stale = name
                    .strip_prefix("e2e-mirror-")
                    .and_then(|pid| pid.parse::<u32>().ok())
                    .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                if stale {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("e2e-mirror-{}", std::process::id()));
        let target = dir
            .join("registry.terraform.io")
            .join(PROVIDER_SOURCE)
            .join(PROVIDER_VERSION)
            .join("linux_amd64");
        std::fs::create_dir_all(&target).expect("mirror dirs");
        let dest = target.join(format!("terraform-provider-ecs_v{PROVIDER_VERSION}"));
        let _ = std::fs::remove_file(&dest);
        link_or_copy(provider_binary(), &dest);
        dir
    })
}

/// A CLI configuration that installs this provider from the filesystem mirror `mirror`
/// (unpacked or packed layout) and everything else as usual.
pub fn cli_config_hcl(mirror: &Path) -> String {
    format!(
        r#"provider_installation {{
  filesystem_mirror {{
    path    = "{}"
    include = ["registry.terraform.io/{PROVIDER_SOURCE}"]
  }}
  direct {{
    exclude = ["registry.terraform.io/{PROVIDER_SOURCE}"]
  }}
}}
"#,
        mirror.display()
    )
}

/// An empty working directory for Terraform, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ecs-e2e-ws")
        .tempdir()
        .expect("temp dir")
}

/// A Terraform working directory with the provider installed from a mirror.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub tf: PathBuf,
    env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// [`Run::text`] with Terraform's line wrapping (and the box drawing of its
    /// diagnostics) undone: words separated by single spaces.
    pub fn flat(&self) -> String {
        self.text()
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Environment variables that choose credentials, proxies or trusted CAs, never inherited
/// by Terraform in the tests.
pub const AMBIENT_CONNECTION_VARS: [&str; 19] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "OS_CACERT",
    "OS_CERT",
    "OS_KEY",
    "HW_SHARED_CONFIG_FILE",
    "HW_PROFILE",
    "HW_ASSUME_ROLE_AGENCY_NAME",
    "HW_ASSUME_ROLE_DOMAIN_NAME",
    "HW_ASSUME_ROLE_DOMAIN_ID",
    "HW_ASSUME_ROLE_DURATION",
];

/// A provider block for `endpoint` with exactly the `settings` given (one per line), the
/// region and both endpoints; credentials come from the `HW_*` environment.
pub fn provider_hcl(endpoint: &str, settings: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    ecs = {{
      source  = "{source}"
      version = "{version}"
    }}
  }}
}}

provider "ecs" {{
  region    = "cn-north-4"
  endpoints = {{ ecs = "{endpoint}", iam = "{endpoint}" }}
{settings}
}}
"#,
        source = PROVIDER_SOURCE,
        version = PROVIDER_VERSION,
    )
}

/// The provider block pointing at ecs-sim, without pacing (`extra`: more settings).
pub fn provider_block(sim: &Sim, extra: &str) -> String {
    provider_hcl(&sim.url, &format!("  start_rate_limit = 0\n{extra}"))
}

impl Workspace {
    /// A fresh directory with `main.tf`, initialised offline from the mirror.
    pub fn new(version: &str, sim: &Sim, main_tf: &str) -> Workspace {
        let (ws, _init) = Workspace::init(
            version,
            temp_dir(),
            mirror(),
            Some(sim),
            &[("main.tf", main_tf)],
        );
        ws
    }

    /// `dir` holding `files` and a CLI configuration that installs this provider from
    /// `mirror`, initialised offline. With a `sim`, the HW_* credentials of ecs-sim are in
    /// the environment. Panics with Terraform's output when init fails; returns init's
    /// output otherwise.
    pub fn init(
        version: &str,
        dir: tempfile::TempDir,
        mirror: &Path,
        sim: Option<&Sim>,
        files: &[(&str, &str)],
    ) -> (Workspace, Run) {
        let cli_config = dir.path().join("terraform.rc");
        std::fs::write(&cli_config, cli_config_hcl(mirror)).expect("cli config");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let mut env = vec![
            (
                "TF_CLI_CONFIG_FILE".into(),
                cli_config.display().to_string(),
            ),
            ("HOME".into(), home.display().to_string()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("RUST_LIB_BACKTRACE".into(), "0".into()),
        ];
        if let Some(sim) = sim {
            env.push(("HW_ACCESS_KEY".into(), sim.access_key.clone()));
            env.push(("HW_SECRET_KEY".into(), sim.secret_key.clone()));
            env.push(("HW_PROJECT_ID".into(), sim.project_id.clone()));
        }
        let ws = Workspace {
            dir,
            tf: terraform(version),
            env,
        };
        for (name, text) in files {
            ws.write(name, text);
        }
        let init = ws.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(init.code, 0, "terraform {version} init failed: {init:?}");
        (ws, init)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write file");
    }

    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(v) = value {
            self.env.push((key.to_string(), v.to_string()));
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.tf);
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("TF_LOG")
            .env_remove("HW_SECURITY_TOKEN")
            .env_remove("HW_REGION_NAME")
            .stdin(Stdio::null());
        // What the machine running the tests may have set that would change where requests
        // go or what is trusted: a test sets what it needs with `set_env`.
        for var in AMBIENT_CONNECTION_VARS {
            c.env_remove(var);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("run terraform").into()
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn terraform")
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn plan(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
    }

    /// `terraform show -json`'s values of one resource.
    pub fn resource_values(&self, address: &str) -> Option<Value> {
        let out = self.run(&["show", "-json", "-no-color"]);
        assert_eq!(out.code, 0, "show -json: {out:?}");
        let state: Value = serde_json::from_str(&out.stdout).expect("show -json is JSON");
        state["values"]["root_module"]["resources"]
            .as_array()?
            .iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
    }
}

/// The string values of a list attribute.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A config whose `server_ids` are read from `ids.json`, as real fleets do.
pub fn resource_from_file(name: &str, extra: &str) -> String {
    resource_of_type_from_file("ecs_batch_start", name, extra)
}

/// A `resource_type` resource whose `server_ids` are read from `ids.json`, and its job ids
/// as an output.
pub fn resource_of_type_from_file(resource_type: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
resource "{resource_type}" "{name}" {{
  server_ids = jsondecode(file("${{path.module}}/ids.json"))
{extra}
}}

output "job_ids" {{
  value = {resource_type}.{name}.job_ids
}}
"#
    )
}

pub fn write_ids(ws: &Workspace, ids: &[String]) {
    ws.write("ids.json", &serde_json::to_string(ids).expect("ids JSON"));
}
