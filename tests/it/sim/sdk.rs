//! Huawei's unmodified official Python SDK (`huaweicloudsdkecs` 3.1.219, installed from
//! PyPI into `.tools/` by `scripts/ensure-tools.sh sdk`) drives the `ecs-sim` binary:
//! `tests/sdk/drive_sim.py` lists with every filter and by marker, lists by id, starts, reboots SOFT and HARD, stops SOFT and HARD and
//! shows each job until SUCCESS, and checks that a reboot without `type` is refused. A
//! missing SDK is installed on the spot; if that fails the test fails, never skips.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use terraform_provider_ecs::sim::{server_id_for_index, SimConfig};

use super::cli::Proc;
use crate::support::terraform::repo_root;
use crate::support::tools::ensure_installed;

/// The SDK's version: the one the signing vectors came from.
const SDK_VERSION: &str = "3.1.219";

/// The venv's python, installing the SDK first when it is missing.
fn sdk_python() -> PathBuf {
    let python = repo_root()
        .join(".tools")
        .join(format!("huaweicloud-sdk-{SDK_VERSION}"))
        .join("venv/bin/python3");
    ensure_installed("sdk", &python, "Huawei's Python SDK");
    python
}

/// Transitions of 300–400 ms for every operation: long enough for the script to see each
/// state while it runs, short enough for the whole drive to take seconds.
const DURATIONS: [&str; 5] = [
    "--start-duration-ms",
    "--stop-duration-ms",
    "--hard-stop-duration-ms",
    "--reboot-duration-ms",
    "--hard-reboot-duration-ms",
];

fn spawn_sim(servers: usize) -> Proc {
    let servers = servers.to_string();
    let mut args = vec!["--servers", &servers, "--start-rate-limit-per-minute", "0"];
    // The fleet drive_sim.py lists with filters.
    args.extend(["--fleet-name-pattern", "web-{i}"]);
    args.extend(["--fleet-tags", "env=prod+team=a,env=staging"]);
    args.extend(["--fleet-flavors", "s6.small.1,c7.large.2"]);
    for flag in DURATIONS {
        args.extend([flag, "300,400"]);
    }
    Proc::spawn(&args, &[])
}

#[tokio::test]
async fn official_python_sdk_drives_start_stop_and_reboot() {
    let python = sdk_python();
    let sim = spawn_sim(4);
    let ids: Vec<String> = (0..4).map(server_id_for_index).collect();
    let config = SimConfig::default();
    let out = Command::new(&python)
        .arg(repo_root().join("tests/sdk/drive_sim.py"))
        .arg(&sim.url)
        .arg(&config.project_id)
        .args(&ids)
        .env("ECS_SIM_AK", &config.access_key)
        .env("ECS_SIM_SK", config.secret_key.expose())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .expect("the SDK's python runs");
    assert!(
        out.status.success(),
        "drive_sim.py failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // What ecs-sim saw: 4 starts, 4 reboots, 4 stops, and one refused reboot.
    let admin = |path: String| {
        let http = reqwest::Client::new();
        async move {
            let answer = http.get(path).send().await.expect("admin call");
            answer.json::<Value>().await.expect("admin JSON")
        }
    };
    let stats = admin(format!("{}/_sim/stats", sim.url)).await;
    assert_eq!(stats["starts_total"], 4, "{stats}");
    assert_eq!(stats["reboots_total"], 4, "{stats}");
    assert_eq!(stats["stops_total"], 4, "{stats}");
    let actions = &stats["requests"]["POST /v1/{project_id}/cloudservers/action"];
    assert_eq!(actions["200"], 5, "{stats}");
    assert_eq!(actions["400"], 1, "{stats}");
    for id in &ids {
        let server = admin(format!("{}/_sim/servers/{id}", sim.url)).await;
        assert_eq!(server["reboot_count"], 1, "{server}");
        assert_eq!(server["server"]["status"], "SHUTOFF", "{server}");
    }
}
