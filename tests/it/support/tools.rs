//! Tools the tests need but the build does not (Terraform CLIs, Huawei's Python SDK),
//! installed by `scripts/ensure-tools.sh` into `.tools/` when missing. A test that needs one
//! fails when it cannot be installed, never skips.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

/// Runs `scripts/ensure-tools.sh <target>` when `needed` does not exist: at most once per
/// target and test process, other tests waiting for it. Panics naming `what` when the
/// install fails or `needed` is still missing after it.
pub fn ensure_installed(target: &'static str, needed: &Path, what: &str) {
    static INSTALLS: Mutex<Option<HashMap<&'static str, Result<(), String>>>> = Mutex::new(None);
    if needed.exists() {
        return;
    }
    let mut installs = INSTALLS.lock().unwrap_or_else(|e| e.into_inner());
    let installed = installs
        .get_or_insert_with(HashMap::new)
        .entry(target)
        .or_insert_with(|| run_ensure_tools(target));
    if let Err(e) = installed {
        panic!("{what} is missing and could not be installed: {e}");
    }
    assert!(needed.exists(), "{what} not found at {}", needed.display());
}

fn run_ensure_tools(target: &str) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-tools.sh");
    let out = Command::new(script)
        .arg(target)
        .output()
        .map_err(|e| format!("cannot run scripts/ensure-tools.sh: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
