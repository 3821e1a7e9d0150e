//! `terraform-provider-ecs`: the plugin binary Terraform starts.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use terraform_provider_ecs::provider::{EcsProvider, PROVIDER_NAME};
use terraform_provider_ecs::{handshake, logging};

/// Keeps the process alive on SIGINT and SIGTERM. A terminal's Ctrl-C reaches the whole
/// process group: with the default action the provider would die mid-apply and the job ids
/// of the starts it sent would never reach state. Instead the first signal cancels every
/// wait; apply returns the job ids so far with an "interrupted" error, and Terraform shuts
/// the plugin down over gRPC as usual.
fn guard_signals(interrupt: CancellationToken) -> anyhow::Result<()> {
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            if !interrupt.is_cancelled() {
                warn!(
                    signal = name,
                    "interrupt received: stopping waits and saving the job ids submitted so far"
                );
                interrupt.cancel();
            }
        }
    });
    Ok(())
}

/// Ends the process when Terraform does. The signal guard keeps the provider alive through
/// SIGINT and SIGTERM, so a Terraform that dies without shutting its plugins down (SIGKILL,
/// a crash) would otherwise leave it running forever. Nobody is left to receive a state
/// then; the job ids are in the log.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != parent {
                warn!(parent, "Terraform is gone; the provider exits");
                std::process::exit(1);
            }
        }
    });
}

fn main() -> anyhow::Result<()> {
    // tf-provider appends a backtrace to every diagnostic when backtraces are enabled
    // (RUST_BACKTRACE=1 in a user's shell). Set before any thread exists.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let interrupt = CancellationToken::new();
    if std::env::var_os("PLUGIN_LOG_FILE").is_none() {
        logging::init(interrupt.clone());
    }
    // `ECS_PROVIDER_NODELAY=0` keeps Nagle's algorithm, only to measure what it costs.
    if std::env::var("ECS_PROVIDER_NODELAY").as_deref() != Ok("0") {
        if let Err(e) = handshake::install() {
            warn!(error = %e, "cannot watch the handshake; the plugin connection keeps Nagle's algorithm");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        guard_signals(interrupt.clone())?;
        exit_with_parent();
        tf_provider::serve(PROVIDER_NAME, EcsProvider::new(interrupt)).await
    })
}
