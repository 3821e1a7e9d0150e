//! Helpers for the fault-matrix and security tests (`tests/e2e_faults.rs`): ecs-sim with a
//! full `SimConfig` (security token, TLS), request counts per status, the signatures
//! ecs-sim saw, Terraform in its own process group, and secret scans that never print the
//! secret they look for.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Sim, Workspace};

pub const ACTION: &str = "POST /v1/{project_id}/cloudservers/action";
pub const JOB: &str = "GET /v1/{project_id}/jobs/{job_id}";
pub const LIST: &str = "GET /v1/{project_id}/cloudservers/detail";

impl Sim {
    /// Answers on `route` with `status` ("200", "429", "dropped", …) since the last reset.
    pub fn count(&self, route: &str, status: &str) -> u64 {
        self.stats()["requests"][route][status]
            .as_u64()
            .unwrap_or(0)
    }

    /// Answers with `status` on every route.
    pub fn count_all(&self, status: &str) -> u64 {
        self.stats()["requests"]
            .as_object()
            .map(|routes| routes.values().filter_map(|m| m[status].as_u64()).sum())
            .unwrap_or(0)
    }

    /// The `Authorization` signatures ecs-sim received (the last 1000).
    pub fn signatures(&self) -> Vec<String> {
        super::strings(&self.call(reqwest::Method::GET, "/_sim/signatures", None)["signatures"])
    }

    /// `GET /_sim/jobs/{id}`: the job as ecs-sim serves it.
    pub fn job(&self, id: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/_sim/jobs/{id}"), None)
    }

    pub fn start_count(&self, id: &str) -> u64 {
        self.server(id)["start_count"].as_u64().unwrap_or(u64::MAX)
    }

    /// Marks servers ACTIVE, as if someone else had started them.
    pub fn set_active(&self, ids: &[String]) {
        self.set_servers(json!(ids
            .iter()
            .map(|id| json!({"id": id, "status": "ACTIVE"}))
            .collect::<Vec<_>>()));
    }
}

/// A Terraform command running in the background, its output going to files (a pipe
/// nobody reads would block it once full).
pub struct Spawned {
    pub child: Child,
    stdout: std::path::PathBuf,
    stderr: std::path::PathBuf,
}

impl Spawned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits at most `limit` for the command to end; panics (after killing it) if it does
    /// not.
    pub fn finish(mut self, limit: Duration) -> super::Run {
        let status = wait_with_limit(&mut self.child, limit);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let run = super::Run {
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        };
        assert!(
            status.is_some(),
            "terraform did not end within {limit:?}: {run:?}"
        );
        run
    }
}

impl Workspace {
    /// Starts a Terraform command in the background. With `own_group` it runs in its own
    /// process group (its pid is the group id), so that a test can send Ctrl-C to the whole
    /// group as a terminal does.
    pub fn spawn_to_files(&self, args: &[&str], own_group: bool) -> Spawned {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let stdout = self.path(&format!("spawned-{n}.out"));
        let stderr = self.path(&format!("spawned-{n}.err"));
        let mut cmd = self.command(args);
        if own_group {
            cmd.process_group(0);
        }
        let child = cmd
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn terraform");
        Spawned {
            child,
            stdout,
            stderr,
        }
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

/// Sends `signal` ("INT", "TERM") to a process, or to a process group when `pid` is
/// negative.
pub fn send_signal(signal: &str, pid: i64) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Every entry of a zip archive (a saved plan file), uncompressed and concatenated, read
/// with Python's zipfile (Python is already a build requirement: ensure-tools uses it).
pub fn unzip_all(path: &Path) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    sys.stdout.buffer.write(n.encode() + b'\\n' + z.read(n) + b'\\n')",
        ])
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "cannot read {} as a zip: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Named places to search and named secrets to look for. Failures name the secret and the
/// place, never the secret's value.
pub struct LeakCheck {
    places: Vec<(String, Vec<u8>)>,
}

impl LeakCheck {
    pub fn new() -> Self {
        Self { places: Vec::new() }
    }

    pub fn add(&mut self, place: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.places.push((place.into(), bytes.into()));
    }

    pub fn add_file(&mut self, place: &str, path: &Path) {
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("{place}: cannot read {}: {e}", path.display()));
        self.add(place, bytes);
    }

    /// Every file under `dir` (recursively), except the directories named in `skip`.
    pub fn add_dir(&mut self, place: &str, dir: &Path, skip: &[&str]) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{place}: cannot list {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !skip.contains(&name.as_str()) {
                    self.add_dir(&format!("{place}/{name}"), &path, skip);
                }
            } else if kind.is_file() {
                self.add_file(&format!("{place}/{name}"), &path);
            }
        }
    }

    /// The places that hold `value` (a positive control: the search does find things).
    pub fn found_in(&self, value: &str) -> Vec<String> {
        self.places
            .iter()
            .filter(|(_, b)| contains(b, value.as_bytes()))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// How many places are searched.
    pub fn places(&self) -> usize {
        self.places.len()
    }

    /// Panics naming each (secret name, place) where a secret was found.
    pub fn assert_absent(&self, secrets: &[(&str, &str)]) {
        let mut found = Vec::new();
        for (name, value) in secrets {
            assert!(value.len() >= 8, "{name} is too short to search for");
            for (place, bytes) in &self.places {
                if contains(bytes, value.as_bytes()) {
                    found.push(format!("{name} in {place}"));
                }
            }
        }
        assert!(found.is_empty(), "secrets leaked: {}", found.join("; "));
    }
}

impl Default for LeakCheck {
    fn default() -> Self {
        Self::new()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls until the child exits or `limit` passes; `None` on timeout (the child is then
/// killed, by its own pid).
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// `text` with every secret replaced by `<its name>` and every run of 64 hex digits (the
/// shape of a signature) by `<64 hex digits>`: what a failing security test may print.
pub fn redact(text: &str, secrets: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (name, value) in secrets {
        out = out.replace(value, &format!("<{name}>"));
    }
    let mut result = String::with_capacity(out.len());
    let mut run = String::new();
    for c in out.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        flush_hex(&mut result, &mut run);
        result.push(c);
    }
    flush_hex(&mut result, &mut run);
    result
}

fn flush_hex(result: &mut String, run: &mut String) {
    if run.len() >= 64 {
        result.push_str("<64 hex digits>");
    } else {
        result.push_str(run);
    }
    run.clear();
}
