//! Plan-time checks of one configuration, with zero API calls. Unknown values are left for
//! apply.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::{Declared, PowerStateState, TYPE_NAME};
use crate::provider::attributes::reject_configured;
use crate::provider::force_after::{self, limit_of, ForceAfterArgs};
use crate::provider::ids::check_server_ids;
use crate::provider::timeouts::check_timeouts;

/// Every plan-time check of one configuration.
pub fn validate_config(config: &PowerStateState, diags: &mut Diagnostics) {
    check_server_ids(&config.server_ids, TYPE_NAME, "converge", diags);
    check_state(&config.state, diags);
    check_computed_unset(config, diags);
    check_timeouts(&config.timeouts, diags);
    let args = ForceAfterArgs {
        force: &config.force,
        force_after: &config.force_after,
        wait: &Value::Null,
        limits: vec![
            ("create", limit_of(&config.timeouts, "create")),
            ("update", limit_of(&config.timeouts, "update")),
        ],
    };
    force_after::check(&args, diags);
}

/// `state`: `running` or `stopped` (`mixed` is what a refresh finds, not a declaration).
fn check_state(state: &Value<String>, diags: &mut Diagnostics) {
    let Value::Value(s) = state else { return };
    if Declared::parse(s).is_none() {
        diags.error(
            "Invalid state",
            format!(
                "state is {s:?}; declare \"running\" or \"stopped\" (\"mixed\" is what a refresh finds when servers are in neither)."
            ),
            AttributePath::new("state"),
        );
    }
}

/// `id` and the computed lists are the provider's to set.
fn check_computed_unset(config: &PowerStateState, diags: &mut Diagnostics) {
    reject_configured("id", &config.id, diags);
    reject_configured("other_server_states", &config.other_server_states, diags);
    for (name, list) in [
        ("running_server_ids", &config.running_server_ids),
        ("stopped_server_ids", &config.stopped_server_ids),
        ("drifted_server_ids", &config.drifted_server_ids),
        ("converged_server_ids", &config.converged_server_ids),
        ("job_ids", &config.job_ids),
    ] {
        reject_configured(name, list, diags);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ids::fixtures::{ids, A};
    use crate::provider::timeouts::CreateUpdateTimeouts;

    fn errors(config: &PowerStateState) -> String {
        let mut d = Diagnostics::default();
        validate_config(config, &mut d);
        crate::provider::error_text(&d)
    }

    fn config(state: &str) -> PowerStateState {
        PowerStateState {
            server_ids: ids(&[A]),
            state: Value::Value(state.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_declared_state_passes_and_mixed_is_refused() {
        assert_eq!(errors(&config("running")), "");
        assert_eq!(errors(&config("stopped")), "");
        let e = errors(&config("mixed"));
        assert!(e.starts_with("Invalid state | state is \"mixed\""), "{e}");
    }

    #[test]
    fn force_after_must_end_before_either_timeout() {
        let c = PowerStateState {
            force_after: Value::Value("10m".into()),
            timeouts: Value::Value(vec![CreateUpdateTimeouts {
                create: Value::Null,
                update: Value::Value("5m".into()),
            }]),
            ..config("stopped")
        };
        let e = errors(&c);
        assert!(
            e.contains("force_after is not shorter than timeouts.update"),
            "{e}"
        );
        assert!(!e.contains("timeouts.create"), "30m by default: {e}");
    }

    #[test]
    fn computed_lists_and_empty_ids_are_named() {
        let c = PowerStateState {
            server_ids: ids(&[]),
            drifted_server_ids: ids(&[]),
            ..config("running")
        };
        let e = errors(&c);
        assert!(e.contains("No servers to converge"), "{e}");
        assert!(
            e.contains("`drifted_server_ids` is set by the provider"),
            "{e}"
        );
    }
}
