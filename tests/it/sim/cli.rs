//! The `ecs-sim` binary: first stdout line is the URL, flags and env become the config and
//! knobs, `--servers-file` loads servers, SIGTERM/SIGINT exit 0; and the scale target:
//! 100,000 servers served to 100 concurrent clients.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use terraform_provider_ecs::sim::{server_id_for_index, SimConfig};

use crate::support::sim::{TestSim, PROJECT};

/// The `ecs-sim` binary, running; killed when dropped.
pub(super) struct Proc {
    child: Child,
    pub(super) url: String,
}

impl Proc {
    pub(super) fn spawn(args: &[&str], env: &[(&str, &str)]) -> Proc {
        // ECS_SIM_BIN measures another build (e.g. the release binary) with the same test.
        let bin = std::env::var("ECS_SIM_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecs-sim").to_string());
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env_remove("HW_ACCESS_KEY")
            .env_remove("HW_SECRET_KEY")
            .env_remove("HW_PROJECT_ID")
            .env_remove("HW_REGION_NAME")
            .env_remove("HW_SECURITY_TOKEN");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("ecs-sim spawns");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line {url:?}");
        assert!(!url.ends_with('/'));
        Proc { child, url }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "ecs-sim did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn rss_kb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `TestSim`-like signer pointed at a process started with the given config.
fn client_for(url: &str, config: SimConfig, rt_sim: TestSim) -> TestSim {
    TestSim {
        url: url.to_string(),
        config,
        ..rt_sim
    }
}

#[tokio::test]
async fn binary_prints_url_serves_and_exits_on_sigterm() {
    let mut p = Proc::spawn(
        &[
            "--servers",
            "3",
            "--start-duration-ms",
            "10,20",
            "--start-rate-limit-per-minute",
            "0",
            "--already-running-mode",
            "sync_400",
            "--fault-routes",
            "GET /v1/{project_id}/jobs/{job_id}",
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let k: Value = http
        .get(format!("{}/_sim/knobs", p.url))
        .send()
        .await
        .expect("knobs")
        .json()
        .await
        .expect("json");
    assert_eq!(k["start_duration_ms"], json!([10, 20]));
    assert_eq!(k["start_rate_limit_per_minute"], 0);
    assert_eq!(k["already_running_mode"], "sync_400");
    assert_eq!(
        k["fault_routes"],
        json!(["GET /v1/{project_id}/jobs/{job_id}"])
    );
    // Signed API calls work against the process with the demo credentials.
    let local = TestSim::start(0, Default::default()).await;
    let sim = client_for(&p.url, SimConfig::default(), local);
    let ids: Vec<String> = (0..3).map(server_id_for_index).collect();
    let job = sim.start_servers(&ids).await;
    let done = sim.wait_job(&job).await;
    assert_eq!(done.sub_jobs().len(), 3);
    p.signal("-TERM");
    assert_eq!(p.wait_exit(), 0);
}

#[tokio::test]
async fn env_credentials_servers_file_and_sigint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("servers.json");
    std::fs::write(
        &file,
        json!({"servers": [
            {"id": "aaaaaaaa-0000-4000-8000-000000000001", "status": "ACTIVE"},
            {"id": "aaaaaaaa-0000-4000-8000-000000000002", "status": "SHUTOFF", "locked": true},
        ]})
        .to_string(),
    )
    .expect("write");
    let file_arg = file.to_string_lossy().to_string();
    let project = "99999999999999999999999999999999";
    let mut p = Proc::spawn(
        &["--servers", "1", "--servers-file", &file_arg],
        &[
            ("HW_ACCESS_KEY", "ENVAK"),
            ("HW_SECRET_KEY", "env-secret"),
            ("HW_PROJECT_ID", project),
            ("HW_REGION_NAME", "ap-southeast-3"),
            ("HW_SECURITY_TOKEN", "env-token"),
        ],
    );
    let config = SimConfig {
        access_key: "ENVAK".into(),
        secret_key: terraform_provider_ecs::api::Secret::new("env-secret"),
        security_token: Some("env-token".into()),
        project_id: project.into(),
        region: "ap-southeast-3".into(),
        ..SimConfig::default()
    };
    let local = TestSim::start(0, Default::default()).await;
    let sim = client_for(&p.url, config, local);
    let (s, _, v) = sim
        .call("GET", "/v3/projects", &[("name", "ap-southeast-3")], None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["projects"][0]["id"], project);
    let (s, _, v) = sim
        .call(
            "GET",
            &format!("/v1/{project}/cloudservers/detail"),
            &[],
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 3);
    assert_eq!(v["servers"][1]["status"], "ACTIVE");
    assert_eq!(v["servers"][2]["locked"], true);
    // The demo project is not this one.
    let (s, _, _) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[],
            None,
        )
        .await;
    assert_eq!(s, 400);
    p.signal("-INT");
    assert_eq!(p.wait_exit(), 0);
}

#[tokio::test]
async fn bad_flags_fail_fast() {
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .args(["--fault-5xx", "2"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .args(["--servers-file", "/nonexistent/servers.json"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
}

/// 100,000 servers, 100 concurrent clients each listing 100 ids, reading a page of 1000 and
/// a job. Reports the process RSS (asserted under 200 MB, a debug build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_servers_hundred_clients() {
    let p = Proc::spawn(
        &[
            "--servers",
            "100000",
            "--start-duration-ms",
            "50,100",
            "--start-rate-limit-per-minute",
            "0",
        ],
        &[],
    );
    let rss_idle = p.rss_kb();
    let local = TestSim::start(0, Default::default()).await;
    let sim = std::sync::Arc::new(client_for(&p.url, SimConfig::default(), local));
    let all: Vec<String> = (0..100_000).map(server_id_for_index).collect();
    // Start 100 batches of 1000: every server.
    let t = Instant::now();
    let mut jobs = Vec::new();
    for chunk in all.chunks(1000) {
        jobs.push(sim.start_servers(chunk).await);
    }
    let post_time = t.elapsed();
    // One client alone, then 100 at once: the per-request latency should not grow much
    // beyond what sharing the machine's cores costs.
    let list = |sim: std::sync::Arc<TestSim>, ids: Vec<String>| async move {
        let t = Instant::now();
        let (s, _, v) = sim
            .call(
                "GET",
                &format!("/v1/{PROJECT}/cloudservers/detail"),
                &[("server_id", &ids.join(","))],
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(v["servers"].as_array().map(Vec::len), Some(100));
        t.elapsed()
    };
    let mut alone = Duration::ZERO;
    for i in 0..20 {
        alone += list(sim.clone(), all[i * 100..i * 100 + 100].to_vec()).await;
    }
    let alone = alone / 20;
    let t = Instant::now();
    let tasks: Vec<_> = (0..100)
        .map(|c| {
            let sim = sim.clone();
            let ids: Vec<String> = all[c * 1000..c * 1000 + 100].to_vec();
            let job = jobs[c].clone();
            tokio::spawn(async move {
                let mut spent = Duration::ZERO;
                for _ in 0..3 {
                    spent += list(sim.clone(), ids.clone()).await;
                    let (s, _) = sim.job(&job).await;
                    assert_eq!(s, 200);
                }
                let page = (c % 100 + 1).to_string();
                let (s, _, v) = sim
                    .call(
                        "GET",
                        &format!("/v1/{PROJECT}/cloudservers/detail"),
                        &[("limit", "1000"), ("offset", &page)],
                        None,
                    )
                    .await;
                assert_eq!(s, 200);
                assert_eq!(v["count"], 100_000);
                spent / 3
            })
        })
        .collect();
    let mut crowd = Duration::ZERO;
    for t in tasks {
        crowd += t.await.expect("client task");
    }
    let crowd = crowd / 100;
    let read_time = t.elapsed();
    for j in &jobs[..3] {
        sim.wait_job(j).await;
    }
    let stats: Value = reqwest::get(format!("{}/_sim/stats", p.url))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let rss_busy = p.rss_kb();
    eprintln!(
        "100k servers: RSS idle {} MiB, after 100 jobs of 1000 and 100 clients {} MiB; \
         100 POSTs {post_time:?}; list of 100 ids alone {alone:?}, among 100 clients \
         {crowd:?}; 700 reads by 100 clients {read_time:?}; max concurrent requests {}, connections {}",
        rss_idle / 1024,
        rss_busy / 1024,
        stats["max_concurrent_requests"],
        stats["max_open_connections"]
    );
    assert_eq!(stats["servers_total"], 100_000);
    assert_eq!(stats["starts_total"], 100_000);
    assert!(stats["max_concurrent_requests"].as_u64() >= Some(1));
    assert!(
        stats["max_open_connections"].as_u64() >= Some(50),
        "100 clients share a pool of connections: {}",
        stats["max_open_connections"]
    );
    assert!(rss_busy < 200 * 1024, "RSS {rss_busy} kB");
}

/// `ecs-sim --tls --ca-file F` writes its CA; a client that trusts only that CA gets in.
#[test]
fn tls_ca_file_is_written_and_trusted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = dir.path().join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .args(["--listen", "127.0.0.1:0", "--tls", "--ca-file"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ecs-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = format!("{}/_sim/health", line.trim());
    let pem = std::fs::read(&ca).expect("the CA file is written before the URL is printed");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let answer = rt.block_on(async {
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
            .build()
            .expect("client");
        client.get(url).send().await.expect("trusted").text().await
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer.expect("body"), "ok");
}
