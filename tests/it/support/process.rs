//! Processes the end-to-end tests watch and stop: Terraform in the background (optionally
//! in its own process group, as a terminal runs it), signals, bounded waits, and the
//! provider processes under a Terraform process.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use super::terraform::{Run, Workspace};

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
    pub fn finish(mut self, limit: Duration) -> Run {
        let status = wait_with_limit(&mut self.child, limit);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let run = Run {
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

/// Polls until the child exits or `limit` passes; `None` on timeout (the child is then
/// killed, by its own pid).
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
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
