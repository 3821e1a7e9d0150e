//! The fleet benchmark (`make bench`): the release provider through real `terraform apply`
//! (Terraform 1.15.5) against ecs-sim with the cloud's start times (15–35 s; a stop takes
//! as long, a reboot 30–60 s), measured against the physical limit. Prints a markdown report; docs/benchmarks.md records one.
//! The rows on loopback come first, then rows with ecs-sim answering every call 100 ms late
//! (`latency_ms`), as a region does from a CI runner; their limit includes one round trip.
//!
//! `BENCH_QUICK=1` runs every scenario with 1–2 s start times and small fleets, to check
//! the benchmark itself in a minute; `BENCH_ONLY=text` runs only the row labelled `text`, or
//! if none is, the rows whose label contains `text`; `BENCH_LOGS=dir` keeps each fleet row's
//! Terraform log there (`BENCH_TF_LOG`: its level, INFO unless set).

// The integration tests' support tree (Terraform harness, ecs-sim and its admin client);
// the benchmark uses part of it.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;
// In a directory of its own: a file directly in `benches/` would be a benchmark of its own.
#[path = "fleet/state_backend.rs"]
mod state_backend;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use state_backend::StateBackend;
use support::process::descendants_named;
use support::sim::Sim;
use support::terraform::*;
use terraform_provider_ecs::api::{ClientConfig, Credentials, EcsClient, Endpoints, RetryPolicy};
use terraform_provider_ecs::sim::{ROUTE_ACTION as ACTION, ROUTE_JOB as JOB, ROUTE_LIST as LIST};

/// The newest Terraform the tests run.
const TF: &str = VERSIONS[VERSIONS.len() - 1];

struct Scenario {
    label: &'static str,
    op: Op,
    n: usize,
    /// Servers per minute on both sides; `None` = no pacing anywhere.
    rate: Option<u32>,
    /// `[min, max]` of one server's transition for the operation.
    duration_ms: [u64; 2],
}

/// The power operation a scenario runs, and what that means for its fleet.
#[derive(Clone, Copy)]
enum Op {
    Start,
    Stop,
    Reboot,
    /// `ecs_power_state` declared running over stopped servers: every server drifted.
    Converge,
}

impl Op {
    fn resource(self) -> &'static str {
        match self {
            Op::Start => "ecs_batch_start",
            Op::Stop => "ecs_batch_stop",
            Op::Reboot => "ecs_batch_reboot",
            Op::Converge => "ecs_power_state",
        }
    }

    /// The operation whose rate paces it: converging to running starts servers.
    fn paced_as(self) -> Op {
        match self {
            Op::Converge => Op::Start,
            op => op,
        }
    }

    /// Arguments the resource needs besides `server_ids`.
    fn arguments(self) -> &'static str {
        match self {
            Op::Converge => "  state      = \"running\"\n",
            _ => "",
        }
    }

    /// ecs-sim's knob for the operation's duration (a soft stop or reboot).
    fn duration_knob(self) -> &'static str {
        match self {
            Op::Start | Op::Converge => "start_duration_ms",
            Op::Stop => "stop_duration_ms",
            Op::Reboot => "reboot_duration_ms",
        }
    }

    /// The status every server has before (ecs-sim's servers start stopped) and after.
    fn statuses(self) -> (&'static str, &'static str) {
        match self {
            Op::Start | Op::Converge => ("SHUTOFF", "ACTIVE"),
            Op::Stop => ("ACTIVE", "SHUTOFF"),
            Op::Reboot => ("ACTIVE", "ACTIVE"),
        }
    }
}

struct Measured {
    label: String,
    n: usize,
    resources: usize,
    wall: f64,
    limit: f64,
    detect: f64,
    provider_secs: f64,
    /// Terraform's own time before the provider's first log line of the resource type (the
    /// apply's start-up, reading the plan, planning again) and after its last "done" (state
    /// snapshots): the part of the wall no provider can shorten.
    terraform_before: f64,
    terraform_after: f64,
    plan_secs: f64,
    peak_rss_kb: u64,
    requests: BTreeMap<String, u64>,
    jobs: usize,
    job_reads_budget: u64,
    min_requests: u64,
}

fn quick() -> bool {
    std::env::var_os("BENCH_QUICK").is_some()
}

fn fleet_config(sim: &Sim, s: &Scenario) -> String {
    let rate = |op: Op| match (s.rate, op.resource() == s.op.paced_as().resource()) {
        (Some(r), true) => r,
        _ => 0,
    };
    let block = provider_block(
        sim,
        &format!(
            "  stop_rate_limit = {}\n  reboot_rate_limit = {}\n",
            rate(Op::Stop),
            rate(Op::Reboot)
        ),
    )
    .replace(
        "start_rate_limit = 0",
        &format!("start_rate_limit = {}", rate(Op::Start)),
    );
    let resource = s.op.resource();
    let arguments = s.op.arguments();
    format!(
        r#"{block}
locals {{
  server_ids = compact(split("\n", file("${{path.module}}/ids.txt")))
}}

resource "{resource}" "fleet" {{
  for_each   = {{ for i, chunk in chunklist(local.server_ids, 10000) : tostring(i) => chunk }}
  server_ids = each.value
{arguments}}}
"#
    )
}

/// Highest VmHWM (peak RSS) seen among the provider processes under `root`, in kB.
fn provider_peak_kb(root: u32) -> u64 {
    descendants_named(root, "terraform-provi")
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .max()
        .unwrap_or(0)
}

/// Waits for `child` (a Terraform command), sampling its providers' peak RSS every `every`;
/// returns its exit status and the highest peak seen, in kB.
fn wait_watching_rss(
    child: &mut std::process::Child,
    every: Duration,
) -> (std::process::ExitStatus, u64) {
    let mut peak = 0;
    loop {
        peak = peak.max(provider_peak_kb(child.id()));
        if let Some(status) = child.try_wait().expect("wait terraform") {
            return (status, peak);
        }
        std::thread::sleep(every);
    }
}

/// The longest `secs=` of the provider's "<resource type>: done" lines of `log`.
fn provider_secs(log: &str, resource: &str) -> f64 {
    let done = format!("{resource}: done");
    log.lines()
        .filter(|l| l.contains(&done))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("secs="))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .fold(0.0, f64::max)
}

/// When Terraform logged each line of `log` that contains `text`, in order.
fn provider_lines(log: &str, text: &str) -> Vec<SystemTime> {
    log.lines()
        .filter(|l| l.contains(text))
        .filter_map(|l| l.split_whitespace().next().and_then(rfc3339))
        .collect()
}

fn rfc3339(s: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(t.unix_timestamp_nanos() as u64))
}

fn route_counts(stats: &Value) -> BTreeMap<String, u64> {
    stats["requests"]
        .as_object()
        .map(|routes| {
            routes
                .iter()
                .map(|(r, by_status)| {
                    let n = by_status
                        .as_object()
                        .map(|m| m.values().filter_map(Value::as_u64).sum())
                        .unwrap_or(0);
                    (r.clone(), n)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `s` with ecs-sim answering every call `latency_ms` late (0: loopback), the state
/// in a remote backend with `remote_state` (else in `terraform.tfstate`).
fn run_fleet(s: &Scenario, latency_ms: u64, remote_state: bool) -> Measured {
    let sim = Sim::start(s.n);
    let (before, after) = s.op.statuses();
    if before == "ACTIVE" {
        sim.set_active(&sim.ids);
    }
    sim.knobs(json!({
        s.op.duration_knob(): s.duration_ms,
        "start_rate_limit_per_minute": s.rate.unwrap_or(0),
        "latency_ms": latency_ms,
    }));
    let backend = remote_state.then(StateBackend::start);
    let backend_hcl = backend.as_ref().map(|b| b.hcl("fleet")).unwrap_or_default();
    let mut ws = Workspace::new(TF, &sim, &(fleet_config(&sim, s) + &backend_hcl));
    ws.write("ids.txt", &(sim.ids.join("\n") + "\n"));
    let log = ws.dir.path().join("apply.log");
    let level = std::env::var("BENCH_TF_LOG").unwrap_or_else(|_| "INFO".into());
    ws.set_env("TF_LOG", Some(&level));
    ws.set_env("TF_LOG_PATH", Some(&log.display().to_string()));

    let t = Instant::now();
    let plan = ws.run(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let plan_secs = t.elapsed().as_secs_f64();
    assert_eq!(plan.code, 0, "{}: plan: {plan:?}", s.label);
    sim.reset_stats();

    let (started, started_at) = (Instant::now(), SystemTime::now());
    let mut child = ws.spawn(&["apply", "-input=false", "-no-color", "tfplan"]);
    let (status, peak) = wait_watching_rss(&mut child, Duration::from_millis(100));
    let wall = started.elapsed().as_secs_f64();
    let ended = SystemTime::now();
    let out = child.wait_with_output().expect("apply output");
    // `BENCH_LOGS=dir` keeps each row's Terraform log (the provider's INFO lines with it).
    if let Some(dir) = std::env::var_os("BENCH_LOGS") {
        let to = Path::new(&dir).join(format!("{}.log", s.label.replace([' ', ','], "_")));
        std::fs::copy(&log, to).expect("keep the apply log");
    }
    assert!(
        status.success(),
        "{}: apply failed: {}",
        s.label,
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = sim.stats();
    assert_eq!(
        stats["servers"][after], s.n,
        "{}: every server ends {after}",
        s.label
    );
    let last_end = stats["last_job_end"]
        .as_str()
        .and_then(rfc3339)
        .expect("ecs-sim reports the last job end");
    let detect = ended
        .duration_since(last_end)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);

    let batches = s.n.div_ceil(1000);
    let d_max = s.duration_ms[1] as f64 / 1000.0;
    let pacing = match s.rate {
        Some(r) if r > 0 => (batches as f64 - 1.0) * 1000.0 / r as f64 * 60.0,
        _ => 0.0,
    };
    // Job reads: at most duration / 3 s + 3 per job, the duration being the job's own.
    let job_reads_budget = batches as u64 * ((d_max / 3.0).floor() as u64 + 3);
    let min_requests = (s.n.div_ceil(100) + batches + batches) as u64;
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    Measured {
        label: s.label.to_string(),
        n: s.n,
        resources: s.n.div_ceil(10_000),
        wall,
        // One round trip: the last batch's POST (negligible on loopback).
        limit: pacing + d_max + latency_ms as f64 / 1000.0,
        detect,
        provider_secs: provider_secs(&log, s.op.resource()),
        terraform_before: provider_lines(&log, &format!("{}: ", s.op.resource()))
            .first()
            .and_then(|t| t.duration_since(started_at).ok())
            .map_or(0.0, |d| d.as_secs_f64()),
        terraform_after: provider_lines(&log, &format!("{}: done", s.op.resource()))
            .last()
            .and_then(|t| ended.duration_since(*t).ok())
            .map_or(0.0, |d| d.as_secs_f64()),
        plan_secs,
        peak_rss_kb: peak,
        requests: route_counts(&stats),
        jobs: batches,
        job_reads_budget,
        min_requests,
    }
}

/// Huawei's own provider's way, through the crate's client: one server per call and a job
/// each, 10 at once (Terraform's default parallelism), the job read every 10 s.
///
/// Time runs `speedup` times faster on both sides (ecs-sim's `time_scale` and the 10 s poll),
/// so every server is really started and every request really made; the wall time returned
/// is in the modelled seconds (measured × `speedup`). A round trip on loopback is about a
/// millisecond, so compressing it too changes the result by well under 1%.
fn huawei_style(n: usize, start_ms: u64, speedup: f64) -> (f64, BTreeMap<String, u64>) {
    let sim = Sim::start(n);
    sim.knobs(json!({
        "start_duration_ms": [start_ms, start_ms],
        "start_rate_limit_per_minute": 0,
        "time_scale": 1.0 / speedup,
    }));
    let poll = Duration::from_secs_f64(10.0 / speedup);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = EcsClient::new(ClientConfig {
        credentials: Credentials::new(sim.access_key.clone(), sim.secret_key.clone()),
        region: "cn-north-4".into(),
        project_id: Some(sim.project_id.clone()),
        endpoints: Endpoints::for_region("cn-north-4", Some(&sim.url), Some(&sim.url))
            .expect("endpoints"),
        insecure: false,
        retry: RetryPolicy::default(),
        request_timeout: Duration::from_secs(30),
        user_agent: "huawei-style-bench".into(),
    })
    .expect("client");
    let queue = Arc::new(std::sync::Mutex::new(sim.ids.clone()));
    let started = Instant::now();
    rt.block_on(async {
        let workers = (0..10).map(|_| {
            let (client, queue) = (client.clone(), queue.clone());
            async move {
                loop {
                    let Some(id) = queue.lock().expect("queue").pop() else {
                        return;
                    };
                    let job = client.batch_start(&[id]).await.expect("start");
                    loop {
                        tokio::time::sleep(poll).await;
                        let j = client.show_job(&job).await.expect("job");
                        if j.status.as_ref().is_some_and(|s| s.is_terminal()) {
                            break;
                        }
                    }
                }
            }
        });
        futures::future::join_all(workers).await;
    });
    (
        started.elapsed().as_secs_f64() * speedup,
        route_counts(&sim.stats()),
    )
}

/// Median wall time of `terraform plan` of a one-resource configuration.
fn plan_median(ws: &Workspace, runs: usize) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let r = ws.run(&["plan", "-input=false", "-no-color", "-refresh=false"]);
            assert!(r.code == 0 || r.code == 2, "plan: {r:?}");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// `terraform plan` with our provider (with and without TCP_NODELAY) and with HashiCorp's
/// Go null provider 2.1.2.
fn round_trips() -> Vec<(String, f64)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = Command::new(root.join("scripts/ensure-tools.sh"))
        .arg("null-provider")
        .status()
        .expect("ensure-tools")
        .success();
    assert!(ok, "terraform-provider-null 2.1.2 could not be installed");
    let runs = if quick() { 3 } else { 11 };
    let sim = Sim::start(1);
    let ours = format!(
        "{}\nresource \"ecs_batch_start\" \"one\" {{\n  server_ids = [\"{}\"]\n}}\n",
        provider_block(&sim, ""),
        sim.ids[0]
    );
    let mut ws = Workspace::new(TF, &sim, &ours);
    let with = plan_median(&ws, runs);
    ws.set_env("ECS_PROVIDER_NODELAY", Some("0"));
    let without = plan_median(&ws, runs);

    // The null provider from its own plugin directory.
    let null_dir = tempfile::tempdir().expect("temp dir");
    let plugins = null_dir
        .path()
        .join("plugins/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(
        root.join(".tools/null-provider-2.1.2/terraform-provider-null_v2.1.2_x4"),
        plugins.join("terraform-provider-null_v2.1.2_x4"),
    )
    .expect("copy null provider");
    let work = null_dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    std::fs::write(
        work.join("main.tf"),
        "terraform {\n  required_providers {\n    null = {\n      source  = \"hashicorp/null\"\n      version = \"2.1.2\"\n    }\n  }\n}\n\nresource \"null_resource\" \"one\" {}\n",
    )
    .expect("null config");
    let tf = terraform(TF);
    let null_run = |args: &[&str]| {
        let out = Command::new(&tf)
            .args(args)
            .current_dir(&work)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env_remove("TF_LOG")
            .output()
            .expect("terraform");
        out.status.code().unwrap_or(-1)
    };
    let plugin_dir = format!("-plugin-dir={}", null_dir.path().join("plugins").display());
    assert_eq!(
        null_run(&["init", "-input=false", &plugin_dir]),
        0,
        "null init"
    );
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let code = null_run(&["plan", "-input=false", "-no-color", "-refresh=false"]);
            assert!(code == 0 || code == 2);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let null = times[times.len() / 2];
    vec![
        ("ecs (TCP_NODELAY on the plugin connection)".into(), with),
        (
            "ecs with Nagle's algorithm (ECS_PROVIDER_NODELAY=0)".into(),
            without,
        ),
        ("hashicorp/null 2.1.2 (Go)".into(), null),
    ]
}

/// `terraform plan` of `ecs_power_state` resources over `n` running servers (10,000 a
/// resource), with ecs-sim answering every call after `latency_ms`.
struct PlanRead {
    label: &'static str,
    n: usize,
    latency_ms: u64,
}

/// The refresh's state reads, the plan's wall time, and the same plan's with
/// `-refresh=false`.
fn run_plan_read(p: &PlanRead) -> (u64, f64, f64) {
    let sim = Sim::start(p.n);
    // In parts: ecs-sim's admin API takes bodies of at most 2 MB.
    for part in sim.ids.chunks(10_000) {
        sim.set_active(part);
    }
    let s = Scenario {
        label: p.label,
        op: Op::Converge,
        n: p.n,
        rate: None,
        duration_ms: [0, 0],
    };
    let ws = Workspace::new(TF, &sim, &fleet_config(&sim, &s));
    ws.write("ids.txt", &(sim.ids.join("\n") + "\n"));
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{}: apply: {apply:?}", p.label);
    sim.knobs(json!({"latency_ms": p.latency_ms}));
    sim.reset_stats();
    let timed = |args: &[&str]| {
        let t = Instant::now();
        let r = ws.run(args);
        assert_eq!(r.code, 0, "{}: {args:?}: {r:?}", p.label);
        t.elapsed().as_secs_f64()
    };
    let refreshed = timed(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
    let reads = sim.requests(LIST);
    let stale = timed(&[
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        "-refresh=false",
    ]);
    (reads, refreshed, stale)
}

/// `terraform plan` of a configuration selecting a fleet with `data.ecs_servers` and
/// feeding ten `ecs_batch_start` (10,000 servers each through `chunklist`), against the same
/// plan with the ids read from a file, with ecs-sim answering each call after `latency_ms`.
struct Listing {
    n: usize,
    latency_ms: u64,
    /// `details` of the data source: whether `servers` is filled in.
    details: bool,
    list_calls: u64,
    plan_secs: f64,
    file_plan_secs: f64,
    peak_rss_kb: u64,
}

impl Listing {
    /// The time budget: the list calls at ecs-sim's latency plus the file plan, × 1.5.
    fn budget(&self) -> f64 {
        1.5 * ((self.n.div_ceil(1000) as u64 * self.latency_ms) as f64 / 1000.0
            + self.file_plan_secs)
    }
}

/// A plan's wall time and the provider's peak RSS (kB) during it.
fn timed_plan(ws: &Workspace, label: &str) -> (f64, u64) {
    // The plan's output (every id) goes to a file: a pipe nobody reads would block it.
    let log = std::fs::File::create(ws.dir.path().join("plan.out")).expect("plan.out");
    let started = Instant::now();
    let mut child = ws
        .command(&["plan", "-input=false", "-no-color", "-out=tfplan"])
        .stdout(log.try_clone().expect("plan.out"))
        .stderr(log)
        .spawn()
        .expect("spawn terraform plan");
    let (status, peak) = wait_watching_rss(&mut child, Duration::from_millis(50));
    let secs = started.elapsed().as_secs_f64();
    let out = std::fs::read_to_string(ws.dir.path().join("plan.out")).unwrap_or_default();
    assert!(status.success(), "{label}: plan failed: {out}");
    (secs, peak)
}

fn listing(n: usize, latency_ms: u64, details: bool) -> Listing {
    let sim = Sim::start_with(terraform_provider_ecs::sim::SimConfig {
        servers: n,
        knobs: terraform_provider_ecs::sim::Knobs {
            fleet_name_pattern: "bench-{i}".into(),
            fleet_tags: vec!["env=bench+team=a".into(), "env=bench+team=b".into()],
            ..Default::default()
        },
        ..Default::default()
    });
    let chunks = "for_each   = { for i, chunk in chunklist(local.server_ids, 10000) : tostring(i) => chunk }";
    let config = |ids: &str| {
        format!(
            "{}\n{ids}\nresource \"ecs_batch_start\" \"fleet\" {{\n  {chunks}\n  server_ids = each.value\n}}\n",
            provider_block(&sim, "")
        )
    };
    let from_data = format!("data \"ecs_servers\" \"fleet\" {{\n  tags    = {{ env = \"bench\" }}\n  details = {details}\n}}\n\nlocals {{\n  server_ids = data.ecs_servers.fleet.ids\n}}\n");
    let from_file =
        "locals {\n  server_ids = compact(split(\"\\n\", file(\"${path.module}/ids.txt\")))\n}\n";
    let file_ws = Workspace::new(TF, &sim, &config(from_file));
    file_ws.write("ids.txt", &(sim.ids.join("\n") + "\n"));
    let (file_plan_secs, _) = timed_plan(&file_ws, "ids from a file");
    sim.knobs(json!({"latency_ms": latency_ms}));
    sim.reset_stats();
    let data_ws = Workspace::new(TF, &sim, &config(&from_data));
    let (plan_secs, peak_rss_kb) = timed_plan(&data_ws, "ids from ecs_servers");
    let list_calls = sim.requests(LIST);
    Listing {
        n,
        latency_ms,
        details,
        list_calls,
        plan_secs,
        file_plan_secs,
        peak_rss_kb,
    }
}

/// The `ecs_servers` rows of the report.
fn listing_report(report: &mut String, n: usize) {
    let _ = writeln!(
        report,
        "\n`data.ecs_servers` selecting {n} servers by tag and feeding ten `ecs_batch_start` (`chunklist`), `terraform plan`:\n"
    );
    let _ = writeln!(
        report,
        "| ecs-sim latency ms | `details` | List calls | Plan s | Same plan, ids from a file s | Budget s | Plan / budget | Provider peak RSS MB |\n|---:|---|---:|---:|---:|---:|---:|---:|"
    );
    for (latency_ms, details) in [(0, true), (100, true), (100, false)] {
        eprintln!("bench: ecs_servers, {n} servers, latency {latency_ms} ms, details {details} …");
        let l = listing(n, latency_ms, details);
        let _ = writeln!(
            report,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} |",
            l.latency_ms,
            l.details,
            l.list_calls,
            l.plan_secs,
            l.file_plan_secs,
            l.budget(),
            l.plan_secs / l.budget(),
            l.peak_rss_kb as f64 / 1024.0,
        );
        eprintln!("{}", report.lines().last().unwrap_or_default());
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    format!(
        "{cores} cores ({cpu}), {:.1} GiB memory",
        mem_kb as f64 / 1048576.0
    )
}

/// Where each row's wall time went: Terraform before the provider's first line, the
/// provider's longest resource, Terraform after the last resource was done.
fn time_split(results: &[Measured], report: &mut String) {
    let _ = writeln!(
        report,
        "\n| Scenario | Limit s | Terraform before s | Provider s | Terraform after s | Wall s |\n|---|---:|---:|---:|---:|---:|"
    );
    for m in results {
        let _ = writeln!(
            report,
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            m.label, m.limit, m.terraform_before, m.provider_secs, m.terraform_after, m.wall
        );
    }
}

/// `BENCH_ONLY`: which rows run. A label equal to it picks that row alone (so one label that
/// is part of another can still be run by itself); otherwise it picks every label containing
/// it. Without it, every row runs.
struct Only {
    text: Option<String>,
    exact: bool,
}

impl Only {
    fn from_env<'a>(labels: impl IntoIterator<Item = &'a str>) -> Self {
        let text = std::env::var("BENCH_ONLY").ok();
        let exact = text
            .as_deref()
            .is_some_and(|t| labels.into_iter().any(|l| l == t));
        Only { text, exact }
    }

    fn picks(&self, label: &str) -> bool {
        match self.text.as_deref() {
            None => true,
            Some(t) if self.exact => label == t,
            Some(t) => label.contains(t),
        }
    }
}

/// The table of the [`PlanRead`]s that `only` picks.
fn plan_read_rows(scenarios: &[PlanRead], only: &Only, report: &mut String) {
    let chosen: Vec<&PlanRead> = scenarios.iter().filter(|p| only.picks(p.label)).collect();
    if chosen.is_empty() {
        return;
    }
    let _ = writeln!(
        report,
        "\n| Plan | N | Res. | State reads (expected) | Plan s | Plan -refresh=false s | Difference s |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for p in chosen {
        eprintln!("bench: {} …", p.label);
        let (reads, refreshed, stale) = run_plan_read(p);
        let _ = writeln!(
            report,
            "| {} | {} | {} | {reads} ({}) | {refreshed:.2} | {stale:.2} | {:.2} |",
            p.label,
            p.n,
            p.n.div_ceil(10_000),
            p.n.div_ceil(100),
            refreshed - stale,
        );
        eprintln!("{}", report.lines().last().unwrap_or_default());
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and must not start a
    // run of several minutes.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("fleet benchmark: run it with `make bench` (cargo bench --bench fleet)");
        return;
    }
    let real = [15_000, 35_000];
    let short = [1_000, 2_000];
    let d = if quick() { short } else { real };
    // ecs-sim's default soft reboot: a shutdown and a boot.
    let reboot = if quick() { short } else { [30_000, 60_000] };
    let scale = |n: usize| if quick() { (n / 10).max(1) } else { n };
    let scenarios = [
        Scenario {
            label: "1 server",
            n: 1,
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "1,000 servers",
            n: scale(1_000),
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "10,000 servers, one resource",
            n: scale(10_000),
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "100,000 servers, ten resources",
            n: scale(100_000),
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "5,000 servers paced at 10,000/min",
            n: scale(5_000),
            rate: Some(10_000),
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "10,000 servers stopped (soft), one resource",
            op: Op::Stop,
            n: scale(10_000),
            rate: None,
            duration_ms: d,
        },
        Scenario {
            label: "10,000 servers rebooted (soft), one resource",
            op: Op::Reboot,
            n: scale(10_000),
            rate: None,
            duration_ms: reboot,
        },
        Scenario {
            label: "1,000 servers, 1 s starts",
            n: scale(1_000),
            rate: None,
            op: Op::Start,
            duration_ms: [1_000, 1_000],
        },
        Scenario {
            label: "10,000 drifted servers converged (ecs_power_state), one resource",
            n: scale(10_000),
            rate: None,
            op: Op::Converge,
            duration_ms: d,
        },
    ];
    let plan_reads = [
        PlanRead {
            label: "plan of ecs_power_state, 10,000 servers, one resource, 100 ms a call",
            n: scale(10_000),
            latency_ms: 100,
        },
        PlanRead {
            label: "plan of ecs_power_state, 100,000 servers, ten resources, 100 ms a call",
            n: scale(100_000),
            latency_ms: 100,
        },
    ];
    // At a real round trip: ecs-sim answers every call 100 ms late, as a region does from a
    // CI runner.
    let at_latency = [
        Scenario {
            label: "10,000 servers, one resource, 100 ms a call",
            n: scale(10_000),
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "100,000 servers, ten resources, 100 ms a call",
            n: scale(100_000),
            rate: None,
            op: Op::Start,
            duration_ms: d,
        },
        Scenario {
            label: "10,000 servers stopped (soft), one resource, 100 ms a call",
            op: Op::Stop,
            n: scale(10_000),
            rate: None,
            duration_ms: d,
        },
    ];
    // As a CI pipeline runs it: 100 ms a call, and the state in a remote backend.
    let in_ci = [Scenario {
        label: "100,000 servers, ten resources, 100 ms a call, remote state",
        n: scale(100_000),
        rate: None,
        op: Op::Start,
        duration_ms: d,
    }];
    let mut report = String::new();
    let total = Instant::now();
    let _ = writeln!(
        report,
        "Machine: {}. Terraform {TF}, release build.\n",
        machine()
    );
    let _ = writeln!(
        report,
        "| Scenario | N | Res. | Wall s | Limit s | Wall/limit | Detect s | Provider s | Terraform s | Plan s | Peak RSS MB | Lists | POSTs | Job reads (budget) | Requests / minimum |"
    );
    let _ = writeln!(
        report,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut results = Vec::new();
    let labels = (scenarios.iter().chain(&at_latency).chain(&in_ci))
        .map(|s| s.label)
        .chain(plan_reads.iter().map(|p| p.label))
        .chain(["ecs_servers"]);
    let only = Only::from_env(labels);
    let rows = (scenarios.iter().map(|s| (s, 0, false)))
        .chain(at_latency.iter().map(|s| (s, 100, false)))
        .chain(in_ci.iter().map(|s| (s, 100, true)))
        .filter(|(s, _, _)| only.picks(s.label));
    for (s, latency_ms, remote_state) in rows {
        eprintln!("bench: {} …", s.label);
        let m = run_fleet(s, latency_ms, remote_state);
        let total_requests: u64 = m.requests.values().sum();
        let _ = writeln!(
            report,
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {} | {} | {} ({}) | {} / {} |",
            m.label,
            m.n,
            m.resources,
            m.wall,
            m.limit,
            m.wall / m.limit,
            m.detect,
            m.provider_secs,
            (m.wall - m.provider_secs).max(0.0),
            m.plan_secs,
            m.peak_rss_kb as f64 / 1024.0,
            m.requests.get(LIST).copied().unwrap_or(0),
            m.requests.get(ACTION).copied().unwrap_or(0),
            m.requests.get(JOB).copied().unwrap_or(0),
            m.job_reads_budget,
            total_requests,
            m.min_requests,
        );
        let _ = m.jobs;
        eprintln!("{}", report.lines().last().unwrap_or_default());
        results.push(m);
    }

    time_split(&results, &mut report);
    plan_read_rows(&plan_reads, &only, &mut report);

    // `BENCH_ONLY=ecs_servers` runs only these rows.
    if only.picks("ecs_servers") {
        listing_report(&mut report, scale(100_000));
    }

    if only.text.is_some() {
        println!("{report}");
        return;
    }

    // Huawei's way at 1 s starts, for as many servers as the 1 s run of ours. One server per
    // 10 s slot and 10 slots: 1,000 servers take 1,000 s, so time runs 10× faster on both
    // sides (ecs-sim and the 10 s poll) and the run takes 100 s.
    let ours = results
        .iter()
        .find(|m| m.label.contains("1 s starts"))
        .expect("1 s run");
    let hw_speedup = 10.0;
    eprintln!("bench: Huawei-style, {} servers …", ours.n);
    let (hw_wall, hw_req) = huawei_style(ours.n, 1_000, hw_speedup);
    let hw_total: u64 = hw_req.values().sum();
    let ours_total: u64 = ours.requests.values().sum();
    let _ = writeln!(
        report,
        "\nHuawei's way (one server per call, a job each, 10 at once, a read every 10 s), 1 s starts, {} servers (time {hw_speedup}× faster on both sides, wall in modelled seconds): {hw_wall:.0} s and {hw_total} requests ({} POSTs, {} job reads). Ours: {:.1} s and {ours_total} requests. Ratio: {:.0}× the requests and {:.0}× the wall time.",
        ours.n,
        hw_req.get(ACTION).copied().unwrap_or(0),
        hw_req.get(JOB).copied().unwrap_or(0),
        ours.wall,
        hw_total as f64 / ours_total.max(1) as f64,
        hw_wall / ours.wall,
    );

    eprintln!("bench: plugin round trips …");
    let _ = writeln!(
        report,
        "\n`terraform plan` of one resource, median wall time:\n"
    );
    let _ = writeln!(report, "| Provider | Plan s |\n|---|---:|");
    for (name, secs) in round_trips() {
        let _ = writeln!(report, "| {name} | {secs:.3} |");
    }
    let _ = writeln!(
        report,
        "\nTotal benchmark time: {:.0} s.",
        total.elapsed().as_secs_f64()
    );
    println!("{report}");
}
