//! Plan-time checks of one batch resource's configuration, with zero API calls. Unknown
//! values are left for apply.

use tf_provider::Diagnostics;

use super::BatchState;
use crate::provider::attributes::reject_configured;
use crate::provider::ids;
use crate::provider::timeouts::check_timeouts;

/// Every plan-time check of one configuration: the shared ones, then the resource's own.
pub fn validate_config<S: BatchState>(config: &S, diags: &mut Diagnostics) {
    check_server_ids(config, diags);
    check_computed_unset(config, diags);
    check_timeouts(config.timeouts(), diags);
    config.check_own(diags);
}

/// `server_ids`: not empty, not too long, each a server id listed once.
fn check_server_ids<S: BatchState>(config: &S, diags: &mut Diagnostics) {
    let names = S::NAMES;
    ids::check_server_ids(config.server_ids(), names.type_name, names.verb(), diags);
}

/// `id` and the outcome lists are the provider's to set.
fn check_computed_unset<S: BatchState>(config: &S, diags: &mut Diagnostics) {
    reject_configured("id", config.id(), diags);
    let mut lists = config.clone();
    for (name, _, list) in lists.outcome_lists() {
        reject_configured(name, list, diags);
    }
}

#[cfg(test)]
mod tests {
    use tf_provider::value::Value;

    use super::*;
    use crate::provider::batch_reboot::BatchRebootState;
    use crate::provider::batch_start::BatchStartState;
    use crate::provider::ids::fixtures::{ids, A, B};
    use crate::provider::ids::{MAX_LISTED_INVALID_IDS, MAX_SERVER_IDS};
    use crate::provider::timeouts::Timeouts;

    pub(crate) fn errors<S: BatchState>(config: &S) -> Vec<String> {
        let mut d = Diagnostics::default();
        validate_config(config, &mut d);
        d.errors
            .iter()
            .map(|e| format!("{:?} {} {}", e.attribute, e.summary, e.detail))
            .collect()
    }

    #[test]
    fn good_config_passes() {
        let c = BatchStartState {
            server_ids: ids(&[A, B]),
            ..Default::default()
        };
        assert!(errors(&c).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let c = BatchStartState {
            server_ids: ids(&[A, "not-a-uuid", &B.to_uppercase(), B]),
            job_ids: ids(&[]),
            timeouts: Value::Value(vec![Timeouts {
                create: Value::Value("soon".into()),
            }]),
            ..Default::default()
        };
        let e = errors(&c).join("\n");
        assert!(e.contains("server_ids[1] is \"not-a-uuid\""), "{e}");
        assert!(
            e.contains("server_ids[3]") && e.contains("server_ids[2]") && e.contains("distinct"),
            "{e}"
        );
        assert!(e.contains("`job_ids` is set by the provider"), "{e}");
        assert!(e.contains("timeouts.create: \"soon\""), "{e}");
        let empty = BatchStartState {
            server_ids: ids(&[]),
            ..Default::default()
        };
        assert!(errors(&empty).join("").contains("No servers to start"));
        assert!(errors(&empty).join("").contains("is empty"));
    }

    #[test]
    fn every_computed_list_of_each_resource_is_the_providers() {
        let c = BatchRebootState {
            server_ids: ids(&[A]),
            rebooted_server_ids: ids(&[]),
            id: Value::Value("x".into()),
            ..Default::default()
        };
        let e = errors(&c).join("\n");
        assert!(
            e.contains("`rebooted_server_ids` is set by the provider"),
            "{e}"
        );
        assert!(e.contains("`id` is set by the provider"), "{e}");
        let empty = BatchRebootState {
            server_ids: ids(&[]),
            ..Default::default()
        };
        assert!(errors(&empty).join("").contains("No servers to reboot"));
    }

    #[test]
    fn too_many_ids_shows_the_for_each_pattern() {
        let many: Vec<String> = (0..=MAX_SERVER_IDS)
            .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
            .collect();
        let c = BatchStartState {
            server_ids: Value::Value(many.into_iter().map(Value::Value).collect()),
            ..Default::default()
        };
        let e = errors(&c);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("10001 ids") && e[0].contains("chunklist"),
            "{e:?}"
        );
        assert!(
            e[0].contains("one ecs_batch_start takes at most")
                && e[0].contains("share the provider's start-rate pacing")
                && e[0].contains("    server_ids = each.value"),
            "{e:?}"
        );
    }

    #[test]
    fn invalid_ids_past_the_cap_are_counted_not_listed() {
        let bad: Vec<String> = (0..MAX_LISTED_INVALID_IDS + 5)
            .map(|i| format!("bad-{i}"))
            .collect();
        let c = BatchStartState {
            server_ids: Value::Value(bad.into_iter().map(Value::Value).collect()),
            ..Default::default()
        };
        let e = errors(&c);
        assert_eq!(e.len(), MAX_LISTED_INVALID_IDS + 1, "{e:?}");
        assert!(
            e.last()
                .unwrap()
                .contains("5 more entries of server_ids are not server ids"),
            "{e:?}"
        );
    }
}
