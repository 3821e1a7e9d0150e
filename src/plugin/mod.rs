//! The plugin process: what `terraform-provider-ecs` sets up around tf-provider's `serve`.
//!
//! On start, before any other thread exists, [`prepare`] turns off the backtraces tf-provider
//! would append to diagnostics, installs the process's one tracing subscriber (the logs, to
//! Terraform's stderr or to `PLUGIN_LOG_FILE`, and the watcher of Terraform's StopProvider
//! call) and routes stdout through the watcher of the go-plugin handshake line, which turns on
//! `TCP_NODELAY` for the plugin connection. Once the runtime runs, [`watch_process`] turns
//! SIGINT and SIGTERM into the provider's interrupt and ends the process with Terraform's.
//! Each part is one file: `handshake.rs`, `logging.rs`, `interrupt.rs`.

mod handshake;
mod interrupt;
mod logging;

use tokio_util::sync::CancellationToken;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use interrupt::watch_process;

/// Sets the process up for Terraform. Call first in `main`, before the runtime starts: it
/// edits the environment (`RUST_LIB_BACKTRACE`, `PLUGIN_LOG_FILE`), which is sound only while
/// no other thread exists.
pub fn prepare(interrupt: &CancellationToken) -> anyhow::Result<()> {
    // tf-provider appends a backtrace to every diagnostic when backtraces are enabled
    // (RUST_BACKTRACE=1 in a user's shell).
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    let output = logging::Output::take_from_env();
    // Only fails if a global subscriber exists already, which then serves as well.
    let _ = subscriber(output, interrupt)?.try_init();
    handshake::install();
    Ok(())
}

/// The logs and the StopProvider watcher, on one subscriber in every logging mode.
fn subscriber(
    output: logging::Output,
    interrupt: &CancellationToken,
) -> anyhow::Result<impl Subscriber + Send + Sync> {
    Ok(tracing_subscriber::registry()
        .with(output.layer()?)
        .with(interrupt::stop_provider_watcher(interrupt.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes one event to `output`, then opens the span tower_http opens for Terraform's
    /// StopProvider call. (Events the watcher logs itself are not seen here: tracing drops
    /// events raised inside a scoped subscriber's own callbacks.)
    fn stop_provider_call(output: logging::Output) -> CancellationToken {
        let interrupt = CancellationToken::new();
        let subscriber = subscriber(output, &interrupt).expect("subscriber");
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("before the stop");
            let span = tracing::debug_span!(target: "tower_http::trace::make_span", "request", uri = %interrupt::STOP_PROVIDER_PATH);
            drop(span);
        });
        interrupt
    }

    #[test]
    fn stop_provider_interrupts_with_logs_to_terraform() {
        assert!(stop_provider_call(logging::Output::Terraform).is_cancelled());
    }

    #[test]
    fn stop_provider_interrupts_with_plugin_log_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("provider.log");
        let interrupt = stop_provider_call(logging::Output::File(path.clone()));
        assert!(interrupt.is_cancelled());
        let log = std::fs::read_to_string(&path).expect("log file");
        assert!(
            log.contains("before the stop"),
            "the log goes to the file: {log}"
        );
    }
}
