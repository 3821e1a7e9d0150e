//! Provider logs: hclog JSON lines on stderr, or the `PLUGIN_LOG_FILE` trace log.
//!
//! go-plugin turns each JSON line a plugin writes on stderr into a Terraform log line at
//! the line's own `@level`, so `TF_LOG=DEBUG` shows our debug events and `TF_LOG` unset shows
//! none. `PLUGIN_LOG_FILE` keeps the meaning tf-provider gives it (every crate at trace, to
//! that file), but this module writes the file, so that the process has one subscriber,
//! which also carries the StopProvider watcher (`super::interrupt`). stdout is reserved for
//! the plugin handshake: nothing else may ever be printed there.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// go-plugin parses `@timestamp` with Go's layout `2006-01-02T15:04:05.000000Z07:00`:
/// exactly six fractional digits, or it logs the whole line as plain DEBUG text.
const HCLOG_TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Writes each event as one hclog JSON object.
struct HclogLayer;

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
fn render(
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

/// Where the provider's logs go.
pub(crate) enum Output {
    /// hclog JSON lines on stderr, which Terraform shows according to `TF_LOG`.
    Terraform,
    /// `PLUGIN_LOG_FILE`: every event of every crate at trace, in tracing's plain text format,
    /// as tf-provider writes that file itself.
    File(PathBuf),
}

impl Output {
    /// `PLUGIN_LOG_FILE` if set, taken out of the environment: left there, tf-provider's
    /// `serve` would install its own global subscriber for it, which panics next to ours and
    /// would carry no StopProvider watcher. Call before any other thread exists.
    pub(crate) fn take_from_env() -> Output {
        match std::env::var_os("PLUGIN_LOG_FILE") {
            Some(path) => {
                std::env::remove_var("PLUGIN_LOG_FILE");
                Output::File(path.into())
            }
            None => Output::Terraform,
        }
    }

    /// The layer that writes the logs. A file is created afresh, at every launch as
    /// tf-provider does; one that cannot be created is an error, as in tf-provider.
    pub(crate) fn layer<S>(self) -> anyhow::Result<Box<dyn Layer<S> + Send + Sync>>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    {
        Ok(match self {
            Output::Terraform => Box::new(HclogLayer.with_filter(terraform_filter())),
            Output::File(path) => {
                let file = File::create(&path)
                    .with_context(|| format!("cannot create PLUGIN_LOG_FILE {}", path.display()))?;
                Box::new(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(Mutex::new(file))
                        .with_filter(LevelFilter::TRACE),
                )
            }
        })
    }
}

/// This crate at the `TF_LOG` level, debug at most, every other crate at warn.
fn terraform_filter() -> Targets {
    let ours = level_from_env().min(LevelFilter::DEBUG);
    Targets::new()
        .with_default(LevelFilter::WARN.min(ours))
        .with_target("terraform_provider_ecs", ours)
        // tf-provider's gRPC trace layer reports every UNIMPLEMENTED call (RPCs newer than
        // its protocol 6.5, which Terraform 1.15 probes) as an error: noise, not a fault.
        .with_target("tower_http", LevelFilter::OFF)
}

#[cfg(test)]
mod tests {
    use super::*;

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
