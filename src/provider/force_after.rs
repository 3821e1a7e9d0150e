//! `force_after`, the graceful-then-forced stop of every resource that stops servers
//! (`ecs_batch_stop`, `ecs_power_state`): its plan-time checks and its duration at apply. It
//! parses like the `timeouts`, and only means something for a graceful stop that is waited
//! on and ends before apply gives up.

use std::time::Duration;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::provider::batch::DEFAULT_CREATE_TIMEOUT;
use crate::provider::timeouts::{parse_timeout, TimeoutFields};

/// What the checks read from one configuration.
pub struct ForceAfterArgs<'a> {
    pub force: &'a Value<bool>,
    pub force_after: &'a Value<String>,
    /// `wait`; null for a resource that always waits.
    pub wait: &'a Value<bool>,
    /// The timeouts of the operations that may force, as [`limit_of`] reads them: force_after
    /// must be shorter than each known one.
    pub limits: Vec<(&'static str, Option<&'a str>)>,
}

/// `timeouts.<name>` as force_after is compared with it: as written, the default when unset,
/// `None` while unknown.
pub fn limit_of<'a, T: TimeoutFields>(block: &'a Value<Vec<T>>, name: &str) -> Option<&'a str> {
    let blocks = match block {
        Value::Unknown => return None,
        Value::Null => return Some(DEFAULT_CREATE_TIMEOUT),
        Value::Value(blocks) => blocks,
    };
    let Some(first) = blocks.first() else {
        return Some(DEFAULT_CREATE_TIMEOUT);
    };
    match first.fields().into_iter().find(|(n, _)| *n == name) {
        None | Some((_, Value::Null)) => Some(DEFAULT_CREATE_TIMEOUT),
        Some((_, Value::Value(text))) => Some(text.as_str()),
        Some((_, Value::Unknown)) => None,
    }
}

/// `force_after` as a duration, `None` when unset. Unknown counts as unset: apply only runs
/// with a known plan.
pub fn parse(force_after: &Value<String>) -> Result<Option<Duration>, String> {
    match force_after.as_ref_option() {
        Some(text) => parse_timeout(text).map(Some),
        None => Ok(None),
    }
}

/// A parsed `force_after` at apply; an error at `force_after` when it does not parse.
pub fn or_error(
    parsed: Result<Option<Duration>, String>,
    diags: &mut Diagnostics,
) -> Option<Option<Duration>> {
    match parsed {
        Ok(d) => Some(d),
        Err(msg) => {
            diags.error(
                "Invalid force_after",
                msg,
                AttributePath::new("force_after"),
            );
            None
        }
    }
}

/// Plan-time checks: a positive duration, not with `force = true` nor `wait = false`, and
/// shorter than each timeout (or its default) when known.
pub fn check(args: &ForceAfterArgs, diags: &mut Diagnostics) {
    let Value::Value(text) = args.force_after else {
        return;
    };
    let at = || AttributePath::new("force_after");
    let after = match parse_timeout(text) {
        Ok(after) => after,
        Err(msg) => {
            diags.error("Invalid force_after", format!("force_after: {msg}."), at());
            return;
        }
    };
    if *args.force == Value::Value(true) {
        diags.error(
            "Conflicting force and force_after",
            format!("force_after is {text:?} and force = true: a forced stop is HARD from the start, so there is no graceful stop to force later. Remove force_after, or set force = false."),
            at(),
        );
    }
    if *args.wait == Value::Value(false) {
        diags.error(
            "force_after needs wait",
            format!("force_after is {text:?} and wait = false: apply returns once the stop is accepted, before any server could be found still running. Remove force_after, or set wait = true."),
            at(),
        );
    }
    for (name, limit) in &args.limits {
        if let Some(limit) = limit {
            check_shorter_than(name, limit, text, after, diags);
        }
    }
}

/// `force_after` must end before apply gives up waiting, or no server would ever be forced.
fn check_shorter_than(
    name: &str,
    limit_text: &str,
    text: &str,
    after: Duration,
    diags: &mut Diagnostics,
) {
    let Ok(limit) = parse_timeout(limit_text) else {
        return;
    };
    if after >= limit {
        diags.error(
            format!("force_after is not shorter than timeouts.{name}"),
            format!("force_after is {text:?} and timeouts.{name} is {limit_text:?}: apply stops waiting before any server could be forced. Make force_after shorter than timeouts.{name}."),
            AttributePath::new("force_after"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::batch::validate_config;
    use crate::provider::batch_stop::BatchStopState;
    use crate::provider::ids::fixtures::{ids, A};
    use crate::provider::timeouts::Timeouts;

    fn stop(force_after: &str) -> BatchStopState {
        BatchStopState {
            server_ids: ids(&[A]),
            force_after: Value::Value(force_after.into()),
            ..Default::default()
        }
    }

    fn with_create(mut s: BatchStopState, create: Value<String>) -> BatchStopState {
        s.timeouts = Value::Value(vec![Timeouts { create }]);
        s
    }

    fn errors(config: &BatchStopState) -> String {
        let mut d = Diagnostics::default();
        validate_config(config, &mut d);
        d.errors
            .iter()
            .map(|e| format!("{:?} {} | {}", e.attribute, e.summary, e.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_graceful_stop_forced_in_time_passes_and_parses() {
        let good = with_create(stop("5m"), Value::Value("10m".into()));
        assert_eq!(errors(&good), "");
        assert_eq!(parse(&good.force_after), Ok(Some(Duration::from_secs(300))));
        assert_eq!(errors(&stop("29m")), "", "shorter than the default 30m");
        assert_eq!(parse(&BatchStopState::default().force_after), Ok(None));
        let unknown_create = with_create(stop("1h"), Value::Unknown);
        assert_eq!(errors(&unknown_create), "", "left for apply");
    }

    #[test]
    fn each_misuse_is_named_at_force_after() {
        let e = errors(&stop("soon"));
        assert!(e.contains("force_after: \"soon\" is not a duration"), "{e}");
        assert!(e.contains("AttributePath"), "{e}");
        let forced = BatchStopState {
            force: Value::Value(true),
            ..stop("5m")
        };
        let e = errors(&forced);
        assert!(e.contains("Conflicting force and force_after"), "{e}");
        let no_wait = BatchStopState {
            wait: Value::Value(false),
            ..stop("5m")
        };
        assert!(errors(&no_wait).contains("force_after needs wait"));
        let e = errors(&with_create(stop("10m"), Value::Value("10m".into())));
        assert!(
            e.contains("force_after is \"10m\" and timeouts.create is \"10m\""),
            "{e}"
        );
        let e = errors(&stop("30m"));
        assert!(e.contains("timeouts.create is \"30m\""), "the default: {e}");
    }
}
