//! `ecs-sim`: a local simulator of the Huawei Cloud ECS API.
//!
//! Prints its base URL as the first line of stdout, then serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use terraform_provider_ecs::api::Secret;
use terraform_provider_ecs::sim::config::{
    DEMO_ACCESS_KEY, DEMO_PROJECT_ID, DEMO_REGION, DEMO_SECRET_KEY,
};
use terraform_provider_ecs::sim::{Knobs, ServerSpec, ServersFile, SimConfig, SimServer};

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
    /// Serve HTTPS with a certificate made at start (localhost, 127.0.0.1, ::1), signed by a
    /// CA also made at start.
    #[arg(long)]
    tls: bool,
    /// With --tls: write the CA's certificate (PEM) to this file, for clients to trust.
    #[arg(long, requires = "tls")]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    knobs: Knobs,
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

/// The servers of a `--servers-file`.
fn servers_file(path: &Path) -> anyhow::Result<Vec<ServerSpec>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: ServersFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(file.servers)
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
    cli.knobs
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid knob: {e}"))?;
    let initial_servers = match &cli.servers_file {
        None => Vec::new(),
        Some(path) => servers_file(path)?,
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
        knobs: cli.knobs.clone(),
        tls: cli.tls,
    };
    let server = SimServer::start(config).await?;
    if let (Some(path), Some(pem)) = (&cli.ca_file, server.cert_pem()) {
        std::fs::write(path, pem).with_context(|| format!("writing {}", path.display()))?;
    }
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
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn knob_flags_sit_beside_the_identity_flags() {
        let cli = Cli::parse_from([
            "ecs-sim",
            "--servers",
            "3",
            "--tls",
            "--start-duration-ms",
            "10,20",
            "--never-finish",
        ]);
        assert_eq!(cli.servers, 3);
        assert!(cli.tls);
        assert_eq!(cli.knobs.start_duration_ms, [10, 20]);
        assert!(cli.knobs.never_finish);
        assert_eq!(cli.knobs.time_scale, Knobs::default().time_scale);
    }
}
