//! `ecs-sim`: a local simulator of the Huawei Cloud ECS API.
//!
//! Prints its base URL as the first line of stdout, then serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use terraform_provider_ecs::api::Secret;
use terraform_provider_ecs::sim::config::{
    DEMO_ACCESS_KEY, DEMO_PROJECT_ID, DEMO_REGION, DEMO_SECRET_KEY,
};
use terraform_provider_ecs::sim::{
    AlreadyRunningMode, DropMode, Knobs, PartialFailureParent, ServersFile, SimConfig, SimServer,
};

/// A `[min, max]` range in ms: `MIN,MAX`, `MIN-MAX` or a single `N`.
fn parse_range(s: &str) -> Result<[u64; 2], String> {
    let parts: Vec<&str> = s.split([',', '-']).map(str::trim).collect();
    let nums: Result<Vec<u64>, _> = parts.iter().map(|p| p.parse::<u64>()).collect();
    match nums.map_err(|e| format!("{s:?}: {e}"))?.as_slice() {
        [n] => Ok([*n, *n]),
        [a, b] if a <= b => Ok([*a, *b]),
        _ => Err(format!("{s:?}: expected MIN,MAX with MIN <= MAX")),
    }
}

fn parse_probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?}: expected a probability between 0.0 and 1.0")),
    }
}

fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AlreadyRunningArg {
    #[value(name = "subjob_fail")]
    SubjobFail,
    #[value(name = "sync_400")]
    Sync400,
    #[value(name = "success")]
    Success,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DropModeArg {
    After,
    Before,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ParentArg {
    Fail,
    Success,
}

/// A local simulator of the Huawei Cloud ECS API (batch start/stop/reboot, jobs, server
/// details) and the IAM project lookup, with fault knobs. Knobs can also be changed at run
/// time with `PUT /_sim/knobs`.
#[derive(Debug, Parser)]
#[command(name = "ecs-sim", version)]
struct Cli {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Number of stopped servers to create, with deterministic ids.
    #[arg(long, default_value_t = 0)]
    servers: usize,
    /// JSON file `{"servers":[{"id","status","locked"?,"task_state"?}]}` to load servers from
    /// (after the generated ones).
    #[arg(long)]
    servers_file: Option<PathBuf>,
    #[arg(long, env = "HW_ACCESS_KEY", default_value = DEMO_ACCESS_KEY)]
    access_key: String,
    #[arg(long, env = "HW_SECRET_KEY", default_value = DEMO_SECRET_KEY, hide_default_value = true, hide_env_values = true)]
    secret_key: String,
    #[arg(long, env = "HW_PROJECT_ID", default_value = DEMO_PROJECT_ID)]
    project_id: String,
    #[arg(long, env = "HW_REGION_NAME", default_value = DEMO_REGION)]
    region: String,
    /// When set, every request must carry it as X-Security-Token.
    #[arg(long, env = "HW_SECURITY_TOKEN", hide_env_values = true)]
    security_token: Option<String>,

    /// Per-server start time range in ms, MIN,MAX (default 15000,35000).
    #[arg(long, value_parser = parse_range)]
    start_duration_ms: Option<[u64; 2]>,
    /// Per-server stop time range in ms, MIN,MAX (default 15000,35000).
    #[arg(long, value_parser = parse_range)]
    stop_duration_ms: Option<[u64; 2]>,
    /// Multiplies every duration (default 1.0).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Servers started per rolling minute per project; 0 = off (default 1000).
    #[arg(long)]
    start_rate_limit_per_minute: Option<u32>,
    /// Probability of a 429 per request.
    #[arg(long = "fault-429", value_parser = parse_probability)]
    fault_429: Option<f64>,
    /// Probability of a 503 per request.
    #[arg(long = "fault-5xx", value_parser = parse_probability)]
    fault_5xx: Option<f64>,
    /// Probability of a dropped connection per request.
    #[arg(long, value_parser = parse_probability)]
    fault_drop: Option<f64>,
    /// Whether a dropped request is carried out first (after) or not (before).
    #[arg(long, value_enum)]
    fault_drop_mode: Option<DropModeArg>,
    /// Comma-separated route names the faults apply to (default: all).
    #[arg(long)]
    fault_routes: Option<String>,
    /// The next N requests get a 429.
    #[arg(long = "fault-429-burst")]
    fault_429_burst: Option<u32>,
    /// The next N requests get a 503.
    #[arg(long = "fault-5xx-burst")]
    fault_5xx_burst: Option<u32>,
    /// The next N requests are dropped.
    #[arg(long)]
    fault_drop_burst: Option<u32>,
    /// Retry-After seconds on injected 429s (default 1).
    #[arg(long)]
    retry_after_secs: Option<u64>,
    /// Added latency per API request, in ms.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Comma-separated server ids whose start fails (Ecs.0226).
    #[arg(long)]
    failing_servers: Option<String>,
    /// How starting an already running server is answered.
    #[arg(long, value_enum)]
    already_running_mode: Option<AlreadyRunningArg>,
    /// Parent status of a partly failed job.
    #[arg(long, value_enum)]
    partial_failure_parent: Option<ParentArg>,
    /// New jobs never finish.
    #[arg(long)]
    never_finish: bool,
    /// The next N jobs never finish.
    #[arg(long)]
    never_finish_jobs: Option<u32>,
    /// Finished jobs are purged after this many seconds (default 86400).
    #[arg(long)]
    job_ttl_secs: Option<u64>,
    /// RNG seed for durations and probabilistic faults (default 0).
    #[arg(long)]
    seed: Option<u64>,
    /// Served as every job's parent status.
    #[arg(long)]
    job_status_override: Option<String>,
    /// Job reads answer invalid JSON.
    #[arg(long)]
    malformed_job_json: bool,
    /// Action POSTs answer 200 {}.
    #[arg(long)]
    omit_job_id: bool,
    /// Accepted X-Sdk-Date skew in seconds (default 900).
    #[arg(long)]
    clock_skew_tolerance_secs: Option<u64>,
    /// Shifts ecs-sim's clock for the X-Sdk-Date check, in seconds (either sign).
    #[arg(long, allow_negative_numbers = true)]
    clock_offset_secs: Option<i64>,
    /// The rolling window of the start rate limit, in ms (default 60000).
    #[arg(long)]
    start_rate_window_ms: Option<u64>,
    /// Serve HTTPS with a self-signed certificate made at start (localhost, 127.0.0.1, ::1).
    #[arg(long)]
    tls: bool,
}

impl Cli {
    fn knobs(&self) -> Knobs {
        let mut k = Knobs::default();
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { k.$f = v; } )* };
        }
        set!(
            start_duration_ms,
            stop_duration_ms,
            time_scale,
            start_rate_limit_per_minute,
            fault_429,
            fault_5xx,
            fault_drop,
            fault_429_burst,
            fault_5xx_burst,
            fault_drop_burst,
            retry_after_secs,
            latency_ms,
            never_finish_jobs,
            job_ttl_secs,
            seed,
            clock_skew_tolerance_secs,
            clock_offset_secs,
            start_rate_window_ms
        );
        if let Some(r) = &self.fault_routes {
            k.fault_routes = parse_list(r);
        }
        if let Some(f) = &self.failing_servers {
            k.failing_servers = parse_list(f);
        }
        if let Some(m) = self.already_running_mode {
            k.already_running_mode = match m {
                AlreadyRunningArg::SubjobFail => AlreadyRunningMode::SubjobFail,
                AlreadyRunningArg::Sync400 => AlreadyRunningMode::Sync400,
                AlreadyRunningArg::Success => AlreadyRunningMode::Success,
            };
        }
        if let Some(m) = self.fault_drop_mode {
            k.fault_drop_mode = match m {
                DropModeArg::After => DropMode::After,
                DropModeArg::Before => DropMode::Before,
            };
        }
        if let Some(p) = self.partial_failure_parent {
            k.partial_failure_parent = match p {
                ParentArg::Fail => PartialFailureParent::Fail,
                ParentArg::Success => PartialFailureParent::Success,
            };
        }
        k.never_finish = self.never_finish;
        k.malformed_job_json = self.malformed_job_json;
        k.omit_job_id = self.omit_job_id;
        k.job_status_override = self.job_status_override.clone();
        k
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let knobs = cli.knobs();
    knobs
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid knob: {e}"))?;
    let initial_servers = match &cli.servers_file {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let file: ServersFile = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            file.servers
        }
    };
    let config = SimConfig {
        access_key: cli.access_key.clone(),
        secret_key: Secret::new(cli.secret_key.clone()),
        security_token: cli.security_token.clone(),
        project_id: cli.project_id.clone(),
        region: cli.region.clone(),
        listen: cli.listen,
        servers: cli.servers,
        initial_servers,
        knobs,
        tls: cli.tls,
    };
    let server = SimServer::start(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", server.url())?;
        out.flush()?;
    }
    let servers = server.server_ids().len();
    let rss = terraform_provider_ecs::sim::admin::rss_bytes();
    tracing::info!(
        url = %server.url(),
        servers,
        rss_mib = rss.map(|b| b as f64 / 1048576.0),
        "ecs-sim ready"
    );
    wait_for_signal().await;
    tracing::info!("ecs-sim stopping");
    server.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("15000,35000"), Ok([15000, 35000]));
        assert_eq!(parse_range("5-10"), Ok([5, 10]));
        assert_eq!(parse_range("7"), Ok([7, 7]));
        assert!(parse_range("10,5").is_err());
        assert!(parse_range("x").is_err());
    }

    #[test]
    fn cli_flags_become_knobs() {
        let cli = Cli::parse_from([
            "ecs-sim",
            "--start-duration-ms",
            "10,20",
            "--time-scale",
            "0.5",
            "--fault-429",
            "0.5",
            "--fault-routes",
            "GET /v1/{project_id}/jobs/{job_id}",
            "--already-running-mode",
            "sync_400",
            "--partial-failure-parent",
            "success",
            "--never-finish",
            "--failing-servers",
            "a,b",
        ]);
        let k = cli.knobs();
        assert_eq!(k.start_duration_ms, [10, 20]);
        assert_eq!(k.time_scale, 0.5);
        assert_eq!(k.fault_429, 0.5);
        assert_eq!(k.fault_routes, vec!["GET /v1/{project_id}/jobs/{job_id}"]);
        assert_eq!(k.already_running_mode, AlreadyRunningMode::Sync400);
        assert_eq!(k.partial_failure_parent, PartialFailureParent::Success);
        assert!(k.never_finish);
        assert_eq!(k.failing_servers, vec!["a", "b"]);
        assert!(k.validate().is_ok());
    }
}
