//! `force_after`, the graceful-then-forced stop: its plan-time checks and its duration at
//! apply. It parses like `timeouts.create`, and only means something for a graceful stop
//! that is waited on and ends before apply gives up.

use std::time::Duration;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::BatchStopState;
use crate::provider::batch::DEFAULT_CREATE_TIMEOUT;
use crate::provider::timeouts::parse_timeout;

/// `force_after` as a duration, `None` when unset. Unknown counts as unset: apply only runs
/// with a known plan.
pub fn parse(state: &BatchStopState) -> Result<Option<Duration>, String> {
    match state.force_after.as_ref_option() {
        Some(text) => parse_timeout(text).map(Some),
        None => Ok(None),
    }
}

/// Plan-time checks: a positive duration, not with `force = true` nor `wait = false`, and
/// shorter than `timeouts.create` (or its default) when both are known.
pub fn check(config: &BatchStopState, diags: &mut Diagnostics) {
    let Value::Value(text) = &config.force_after else {
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
    if config.force == Value::Value(true) {
        diags.error(
            "Conflicting force and force_after",
            format!("force_after is {text:?} and force = true: a forced stop is HARD from the start, so there is no graceful stop to force later. Remove force_after, or set force = false."),
            at(),
        );
    }
    if config.wait == Value::Value(false) {
        diags.error(
            "force_after needs wait",
            format!("force_after is {text:?} and wait = false: apply returns once the stop is accepted, before any server could be found still running. Remove force_after, or set wait = true."),
            at(),
        );
    }
    check_shorter_than_create(config, text, after, diags);
}

/// `force_after` must end before apply gives up waiting, or no server would ever be forced.
fn check_shorter_than_create(
    config: &BatchStopState,
    text: &str,
    after: Duration,
    diags: &mut Diagnostics,
) {
    let create = match &config.timeouts {
        Value::Unknown => return,
        Value::Null => DEFAULT_CREATE_TIMEOUT,
        Value::Value(blocks) => match blocks.first().map(|t| &t.create) {
            None | Some(Value::Null) => DEFAULT_CREATE_TIMEOUT,
            Some(Value::Value(create)) => create.as_str(),
            Some(Value::Unknown) => return,
        },
    };
    let Ok(limit) = parse_timeout(create) else {
        return;
    };
    if after >= limit {
        diags.error(
            "force_after is not shorter than timeouts.create",
            format!("force_after is {text:?} and timeouts.create is {create:?}: apply stops waiting before any server could be forced. Make force_after shorter than timeouts.create."),
            AttributePath::new("force_after"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::batch::validate_config;
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
        assert_eq!(parse(&good), Ok(Some(Duration::from_secs(300))));
        assert_eq!(errors(&stop("29m")), "", "shorter than the default 30m");
        assert_eq!(parse(&BatchStopState::default()), Ok(None));
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
