//! Harness for the end-to-end tests: real Terraform CLIs, the built provider installed in a
//! filesystem mirror, and ecs-sim in-process on a random loopback port.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use terraform_provider_ecs::sim::{SimConfig, SimServer};

pub const PROVIDER_SOURCE: &str = "terraform-provider-ecs/ecs";
pub const PROVIDER_VERSION: &str = "0.1.0";
pub const VERSIONS: [&str; 2] = ["1.0.3", "1.15.5"];

/// The Terraform CLI of one version, installed by `scripts/ensure-tools.sh` into `.tools/`.
/// Missing CLIs are installed on the spot; if that fails the test fails, never skips.
pub fn terraform(version: &str) -> PathBuf {
    static INSTALL: OnceLock<Result<(), String>> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("ECS_E2E_TERRAFORM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools"));
    let bin = dir.join(format!("terraform-{version}")).join("terraform");
    if !bin.exists() {
        let installed = INSTALL.get_or_init(|| {
            let out = Command::new(root.join("scripts/ensure-tools.sh"))
                .arg("terraform")
                .output()
                .map_err(|e| format!("cannot run scripts/ensure-tools.sh: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        });
        if let Err(e) = installed {
            panic!("Terraform {version} is missing and could not be installed: {e}");
        }
    }
    assert!(
        bin.exists(),
        "Terraform {version} not found at {}",
        bin.display()
    );
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
        let bin = env!("CARGO_BIN_EXE_terraform-provider-ecs");
        if std::fs::hard_link(bin, &dest).is_err() {
            std::fs::copy(bin, &dest).expect("copy provider into the mirror");
        }
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

/// ecs-sim on its own runtime, so tests can stay synchronous while it serves.
pub struct Sim {
    rt: tokio::runtime::Runtime,
    server: Option<SimServer>,
    pub url: String,
    pub ids: Vec<String>,
    pub project_id: String,
    pub access_key: String,
    pub secret_key: String,
    http: reqwest::Client,
}

impl Sim {
    /// `servers` stopped servers, starting in 20–80 ms.
    pub fn start(servers: usize) -> Sim {
        Sim::start_with(SimConfig {
            servers,
            ..SimConfig::default()
        })
    }

    /// ecs-sim with `config` (its `servers` stopped servers start in 20–80 ms, no rate
    /// limit, as [`Sim::start`]). With `config.tls` the URL is `https://` and the admin
    /// calls accept the self-signed certificate.
    pub fn start_with(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (project_id, access_key, secret_key) = (
            config.project_id.clone(),
            config.access_key.clone(),
            config.secret_key.expose().to_string(),
        );
        let server: SimServer = rt
            .block_on(SimServer::start(config))
            .expect("ecs-sim starts");
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .expect("admin client");
        let sim = Sim {
            url: server.url(),
            ids: server.server_ids(),
            server: Some(server),
            rt,
            project_id,
            access_key,
            secret_key,
            http,
        };
        // Fast starts, and no service-side rate limit: tests that need one set it.
        sim.knobs(json!({
            "start_duration_ms": [20, 80],
            "stop_duration_ms": [20, 80],
            "start_rate_limit_per_minute": 0
        }));
        sim
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        self.rt.block_on(async {
            let mut req = self.http.request(method, &url);
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.expect("admin call");
            let status = resp.status();
            let text = resp.text().await.expect("admin body");
            assert!(status.is_success(), "{url}: {status}: {text}");
            serde_json::from_str(&text).unwrap_or(Value::Null)
        })
    }

    pub fn knobs(&self, patch: Value) {
        self.call(reqwest::Method::PUT, "/_sim/knobs", Some(patch));
    }

    pub fn stats(&self) -> Value {
        self.call(reqwest::Method::GET, "/_sim/stats", None)
    }

    pub fn reset_stats(&self) {
        self.call(reqwest::Method::POST, "/_sim/stats/reset", None);
    }

    /// Requests seen on one route (all statuses), e.g. "POST /v1/{project_id}/cloudservers/action".
    pub fn requests(&self, route: &str) -> u64 {
        self.stats()["requests"][route]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }

    pub fn total_requests(&self) -> u64 {
        self.stats()["requests"]
            .as_object()
            .map(|routes| {
                routes
                    .values()
                    .filter_map(Value::as_object)
                    .flat_map(|m| m.values().filter_map(Value::as_u64))
                    .sum()
            })
            .unwrap_or(0)
    }

    pub fn set_servers(&self, servers: Value) {
        self.call(
            reqwest::Method::POST,
            "/_sim/servers",
            Some(json!({"servers": servers, "replace": false})),
        );
    }

    pub fn server(&self, id: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/_sim/servers/{id}"), None)
    }

    pub fn status_of(&self, id: &str) -> String {
        self.server(id)["server"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// A Terraform working directory with the provider installed from the mirror.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub tf: PathBuf,
    pub version: String,
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
        let dir = tempfile::Builder::new()
            .prefix("ecs-e2e-ws")
            .tempdir()
            .expect("temp dir");
        let cli_config = dir.path().join("terraform.rc");
        std::fs::write(&cli_config, cli_config_hcl(mirror())).expect("cli config");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".into(),
                cli_config.display().to_string(),
            ),
            ("HOME".into(), home.display().to_string()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("RUST_LIB_BACKTRACE".into(), "0".into()),
            ("HW_ACCESS_KEY".into(), sim.access_key.clone()),
            ("HW_SECRET_KEY".into(), sim.secret_key.clone()),
            ("HW_PROJECT_ID".into(), sim.project_id.clone()),
        ];
        let ws = Workspace {
            dir,
            tf: terraform(version),
            version: version.to_string(),
            env,
        };
        ws.write("main.tf", main_tf);
        let init = ws.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(init.code, 0, "terraform {version} init failed: {init:?}");
        ws
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
    format!(
        r#"
resource "ecs_batch_start" "{name}" {{
  server_ids = jsondecode(file("${{path.module}}/ids.json"))
{extra}
}}

output "job_ids" {{
  value = ecs_batch_start.{name}.job_ids
}}
"#
    )
}

pub fn write_ids(ws: &Workspace, ids: &[String]) {
    ws.write("ids.json", &serde_json::to_string(ids).expect("ids JSON"));
}

/// Polls `cond` every 50 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// (pid, parent pid, command name) of every process.
fn processes() -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            out.push((pid, ppid, stat[open + 1..close].to_string()));
        }
    }
    out
}

/// Pids of the descendants of `root` whose command name starts with `prefix`.
pub fn descendants_named(root: u32, prefix: &str) -> Vec<u32> {
    let all = processes();
    let mut family = vec![root];
    let mut found = Vec::new();
    while let Some(parent) = family.pop() {
        for (pid, ppid, comm) in &all {
            if *ppid == parent {
                family.push(*pid);
                if comm.starts_with(prefix) {
                    found.push(*pid);
                }
            }
        }
    }
    found
}

pub mod faults;
pub mod package;
