//! The provider's interrupt and the sources that trigger it.
//!
//! The interrupt is one `CancellationToken`, called `interrupt` wherever it is passed. Once it
//! is cancelled, every wait on start jobs stops, and apply fails with "Interrupted" while
//! keeping in state the job ids submitted so far. Three events end the provider's work, and
//! each one works in every logging mode, whether logs go to Terraform's stderr or to
//! `PLUGIN_LOG_FILE`:
//!
//! - **SIGINT or SIGTERM** (a terminal's Ctrl-C reaches the whole process group): cancels the
//!   interrupt instead of killing the process ([`watch_process`]).
//! - **Terraform's StopProvider call** (terraform alone was interrupted, as when a CI runner
//!   cancels a job): cancels the interrupt ([`stop_provider_watcher`]). tf-provider handles
//!   that call itself and never tells provider code, so it is seen through the span
//!   tf-provider's gRPC trace layer opens for it, by a tracing layer that is installed on the
//!   process's subscriber whatever the logging mode.
//! - **Terraform's exit** without shutting its plugins down (SIGKILL, a crash): the provider
//!   exits too ([`watch_process`]); nobody is left to receive a state, and the job ids are
//!   in the log.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{warn, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// Watches SIGINT, SIGTERM and Terraform's exit. Call inside the tokio runtime.
pub fn watch_process(interrupt: CancellationToken) -> std::io::Result<()> {
    guard_signals(interrupt)?;
    exit_with_parent();
    Ok(())
}

/// Keeps the process alive on SIGINT and SIGTERM. With the default action the provider would
/// die mid-apply and the job ids of the starts it sent would never reach state. Instead the
/// first signal cancels the interrupt; apply returns the job ids so far with an "Interrupted"
/// error, and Terraform shuts the plugin down over gRPC as usual.
fn guard_signals(interrupt: CancellationToken) -> std::io::Result<()> {
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
/// SIGINT and SIGTERM, so a Terraform that dies without shutting its plugins down would
/// otherwise leave it running forever.
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

/// The path of the StopProvider RPC of plugin protocol 6.
pub(crate) const STOP_PROVIDER_PATH: &str = "/tfplugin6.Provider/StopProvider";

/// A tracing layer that turns Terraform's StopProvider call into the interrupt, filtered to
/// the only spans it needs: tower_http's request spans, at debug.
pub(crate) fn stop_provider_watcher<S>(interrupt: CancellationToken) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let requests = Targets::new().with_target("tower_http::trace", LevelFilter::DEBUG);
    StopWatcher { interrupt }.with_filter(requests)
}

/// Cancels the interrupt when a request span for [`STOP_PROVIDER_PATH`] opens.
struct StopWatcher {
    interrupt: CancellationToken,
}

struct UriField(Option<String>);

impl Visit for UriField {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "uri" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for StopWatcher {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut uri = UriField(None);
        attrs.record(&mut uri);
        if uri.0.is_some_and(|u| u.ends_with(STOP_PROVIDER_PATH)) && !self.interrupt.is_cancelled()
        {
            warn!("Terraform asked the provider to stop: stopping waits and saving the job ids submitted so far");
            self.interrupt.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn stop_provider_span_cancels_the_interrupt() {
        let token = CancellationToken::new();
        let subscriber = tracing_subscriber::registry().with(stop_provider_watcher(token.clone()));
        tracing::subscriber::with_default(subscriber, || {
            // The span tower_http's DefaultMakeSpan opens, under its own target.
            let other = tracing::span!(target: "tower_http::trace::make_span", Level::DEBUG, "request", uri = %"/tfplugin6.Provider/PlanResourceChange");
            drop(other);
            assert!(!token.is_cancelled());
            let stop = tracing::span!(target: "tower_http::trace::make_span", Level::DEBUG, "request", uri = %STOP_PROVIDER_PATH);
            drop(stop);
        });
        assert!(token.is_cancelled());
    }
}
