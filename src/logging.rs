//! Provider logs as hclog JSON lines on stderr.
//!
//! go-plugin turns each JSON line a plugin writes on stderr into a Terraform log line at
//! the line's own `@level`, so `TF_LOG=DEBUG` shows our debug events and `TF_LOG` unset shows
//! none. stdout is reserved for the plugin handshake: nothing else may ever be printed there.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// go-plugin parses `@timestamp` with Go's layout `2006-01-02T15:04:05.000000Z07:00`:
/// exactly six fractional digits, or it logs the whole line as plain DEBUG text.
const HCLOG_TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Writes each event as one hclog JSON object.
pub struct HclogLayer;

struct JsonFields {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        if field.name() == "message" {
            self.message = s;
        } else {
            self.fields
                .insert(field.name().to_string(), serde_json::Value::String(s));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .insert(field.name().to_string(), value.to_string().into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_string(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_string(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_string(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().to_string(), value.into());
    }
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// One hclog line for an event (without the newline).
pub fn render(
    level: &Level,
    target: &str,
    message: &str,
    fields: serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut obj = fields;
    obj.insert("@level".into(), hclog_level(level).into());
    obj.insert("@message".into(), message.into());
    obj.insert(
        "@module".into(),
        format!("ecs.{}", target.rsplit("::").next().unwrap_or(target)).into(),
    );
    let now = time::OffsetDateTime::now_utc()
        .format(HCLOG_TIMESTAMP)
        .unwrap_or_default();
    obj.insert("@timestamp".into(), now.into());
    serde_json::Value::Object(obj).to_string()
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut v = JsonFields {
            message: String::new(),
            fields: serde_json::Map::new(),
        };
        event.record(&mut v);
        let meta = event.metadata();
        let mut line = render(meta.level(), meta.target(), &v.message, v.fields);
        line.push('\n');
        // One write per line, so lines of concurrent tasks never interleave.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Turns Terraform's `StopProvider` call into the provider's interrupt.
///
/// When only the `terraform` process is interrupted (a CI runner cancelling a job, `kill
/// -INT` on terraform alone), Terraform asks each provider to stop with the StopProvider
/// RPC. tf-provider handles that RPC itself and never tells provider code, so a long wait
/// on jobs would run on until `timeouts.create`. tf-provider's gRPC trace layer opens a
/// `request` span for every RPC with its `uri`; this layer watches for the StopProvider one
/// and cancels the interrupt token, which stops the waits and saves the job ids so far, as
/// a signal does.
pub struct StopWatcher {
    interrupt: tokio_util::sync::CancellationToken,
}

/// The path of the StopProvider RPC of plugin protocol 6.
pub const STOP_PROVIDER_PATH: &str = "/tfplugin6.Provider/StopProvider";

struct UriField(Option<String>);

impl Visit for UriField {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "uri" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl StopWatcher {
    pub fn new(interrupt: tokio_util::sync::CancellationToken) -> Self {
        Self { interrupt }
    }

    /// The spans it needs: tower_http's request spans, at debug.
    pub fn filter() -> Targets {
        Targets::new().with_target("tower_http::trace", LevelFilter::DEBUG)
    }
}

impl<S: Subscriber> Layer<S> for StopWatcher {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: Context<'_, S>,
    ) {
        let mut uri = UriField(None);
        attrs.record(&mut uri);
        if uri.0.is_some_and(|u| u.ends_with(STOP_PROVIDER_PATH)) && !self.interrupt.is_cancelled()
        {
            tracing::warn!("Terraform asked the provider to stop: stopping waits and saving the job ids submitted so far");
            self.interrupt.cancel();
        }
    }
}

/// The most detailed level Terraform will show, from `TF_LOG_PROVIDER` or `TF_LOG`; events
/// below it are not even formatted.
fn level_from_env() -> LevelFilter {
    let v = std::env::var("TF_LOG_PROVIDER")
        .or_else(|_| std::env::var("TF_LOG"))
        .unwrap_or_default();
    match v.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        // TF_LOG unset: Terraform drops plugin logs anyway, keep only what matters.
        _ => LevelFilter::WARN,
    }
}

/// Installs the global subscriber: the hclog layer (this crate at the `TF_LOG` level, debug
/// at most, every other crate at warn) and the [`StopWatcher`]. Not called when
/// `PLUGIN_LOG_FILE` is set, because tf-provider then installs its own subscriber and
/// panics if one exists.
pub fn init(interrupt: tokio_util::sync::CancellationToken) {
    let ours = level_from_env().min(LevelFilter::DEBUG);
    let filter = Targets::new()
        .with_default(LevelFilter::WARN.min(ours))
        .with_target("terraform_provider_ecs", ours)
        // tf-provider's gRPC trace layer reports every UNIMPLEMENTED call (RPCs newer than
        // its protocol 6.5, which Terraform 1.15 probes) as an error: noise, not a fault.
        .with_target("tower_http", LevelFilter::OFF);
    let _ = tracing_subscriber::registry()
        .with(HclogLayer.with_filter(filter))
        .with(StopWatcher::new(interrupt).with_filter(StopWatcher::filter()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_provider_span_cancels_the_interrupt() {
        let token = tokio_util::sync::CancellationToken::new();
        let subscriber = tracing_subscriber::registry()
            .with(StopWatcher::new(token.clone()).with_filter(StopWatcher::filter()));
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

    #[test]
    fn renders_an_hclog_line() {
        let mut f = serde_json::Map::new();
        f.insert("job_id".into(), "abc".into());
        let line = render(
            &Level::INFO,
            "terraform_provider_ecs::start",
            "batch start accepted",
            f,
        );
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "batch start accepted");
        assert_eq!(v["@module"], "ecs.start");
        assert_eq!(v["job_id"], "abc");
        let ts = v["@timestamp"].as_str().expect("timestamp");
        // 2026-11-26T04:33:26.290197Z: the layout go-plugin insists on.
        assert_eq!(ts.len(), 27, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
    }
}
