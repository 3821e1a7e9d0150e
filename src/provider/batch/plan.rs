//! The plan: what a change to a batch resource does. The resource records an action, so only
//! a change that would act on other servers (members of `server_ids`, `triggers`) replaces
//! it; a change to how it runs (reordered ids, `wait`, `timeouts`, `force`, `force_after`) is
//! an in-place update that sends nothing.

use std::collections::BTreeMap;

use tf_provider::value::Value;
use tf_provider::AttributePath;

use super::{BatchState, Triggers};
use crate::provider::ids::IdList;

/// The planned state of a new resource: defaults filled in, computed values unknown.
pub fn plan_create<S: BatchState>(proposed: S) -> S {
    let mut planned = proposed;
    set_computed_unknown(&mut planned);
    fill_defaults(&mut planned);
    planned
}

/// The planned state of a change, and the attributes whose change forces replacement.
pub fn plan_update<S: BatchState>(prior: &S, proposed: S) -> (S, Vec<AttributePath>) {
    let mut planned = proposed;
    fill_defaults(&mut planned);
    let mut replace = Vec::new();
    if same_members(prior.server_ids(), planned.server_ids()) != Some(true) {
        replace.push(AttributePath::new("server_ids"));
    }
    if !same_triggers(prior.triggers(), planned.triggers()) {
        replace.push(AttributePath::new("triggers"));
    }
    if replace.is_empty() {
        copy_computed_from(&mut planned, prior);
    } else {
        set_computed_unknown(&mut planned);
    }
    (planned, replace)
}

/// `wait`, with its default while unset.
pub fn wait_or_default<S: BatchState>(state: &S) -> bool {
    state.wait().as_ref_option().copied().unwrap_or(true)
}

fn fill_defaults<S: BatchState>(state: &mut S) {
    if state.wait().is_null() {
        *state.wait_mut() = Value::Value(true);
    }
    state.fill_own_defaults();
}

fn set_computed_unknown<S: BatchState>(state: &mut S) {
    *state.id_mut() = Value::Unknown;
    for (_, _, list) in state.outcome_lists() {
        *list = Value::Unknown;
    }
}

fn copy_computed_from<S: BatchState>(state: &mut S, prior: &S) {
    *state.id_mut() = prior.id().clone();
    let mut prior = prior.clone();
    for ((_, _, to), (_, _, from)) in state.outcome_lists().into_iter().zip(prior.outcome_lists()) {
        *to = std::mem::take(from);
    }
}

/// Multiset equality of two id lists, ignoring case and order; `None` while unknown.
pub fn same_members(a: &IdList, b: &IdList) -> Option<bool> {
    let norm = |l: &IdList| -> Option<Vec<String>> {
        let mut v: Vec<String> = l
            .as_ref_option()?
            .iter()
            .map(|s| s.as_ref_option().map(|s| s.to_ascii_lowercase()))
            .collect::<Option<_>>()?;
        v.sort();
        Some(v)
    };
    Some(norm(a)? == norm(b)?)
}

/// Whether `triggers` is unchanged; null and empty are the same, unknown is a change.
fn same_triggers(a: &Triggers, b: &Triggers) -> bool {
    let norm = |t: &Triggers| match t {
        Value::Null => Value::Value(BTreeMap::new()),
        other => other.clone(),
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_unknown() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::batch_start::BatchStartState;
    use crate::provider::batch_stop::BatchStopState;
    use crate::provider::ids::fixtures::{ids, A, B};

    #[test]
    fn reorder_is_same_members_and_case_is_ignored() {
        assert_eq!(same_members(&ids(&[A, B]), &ids(&[B, A])), Some(true));
        assert_eq!(
            same_members(&ids(&[A]), &ids(&[&A.to_uppercase()])),
            Some(true)
        );
        assert_eq!(same_members(&ids(&[A]), &ids(&[A, B])), Some(false));
        assert_eq!(same_members(&ids(&[A]), &Value::Unknown), None);
    }

    fn applied(server_ids: &[&str]) -> BatchStartState {
        BatchStartState {
            id: Value::Value("start-1".into()),
            server_ids: ids(server_ids),
            wait: Value::Value(true),
            job_ids: ids(&["j1"]),
            ..Default::default()
        }
    }

    #[test]
    fn a_reorder_keeps_the_recorded_outcome() {
        let prior = applied(&[A, B]);
        let proposed = BatchStartState {
            server_ids: ids(&[B, A]),
            wait: Value::Null,
            ..prior.clone()
        };
        let (planned, replace) = plan_update(&prior, proposed);
        assert!(replace.is_empty());
        assert_eq!(planned.job_ids, prior.job_ids);
        assert_eq!(planned.id, prior.id);
        assert_eq!(planned.wait, Value::Value(true));
    }

    #[test]
    fn new_members_or_triggers_replace_and_start_again() {
        let prior = applied(&[A]);
        let mut triggers = BTreeMap::new();
        triggers.insert("release".to_string(), Value::Value("2".to_string()));
        let proposed = BatchStartState {
            server_ids: ids(&[A, B]),
            triggers: Value::Value(triggers),
            ..prior.clone()
        };
        let (planned, replace) = plan_update(&prior, proposed);
        assert_eq!(
            replace,
            vec![
                AttributePath::new("server_ids"),
                AttributePath::new("triggers")
            ]
        );
        assert!(planned.id.is_unknown() && planned.job_ids.is_unknown());
        let created = plan_create(BatchStartState {
            server_ids: ids(&[A]),
            ..Default::default()
        });
        assert!(created.id.is_unknown() && created.wait == Value::Value(true));
    }

    #[test]
    fn a_stop_fills_force_and_changing_how_it_runs_stops_nothing() {
        let created = plan_create(BatchStopState {
            server_ids: ids(&[A]),
            ..Default::default()
        });
        assert_eq!(created.force, Value::Value(false));
        assert!(created.forced_server_ids.is_unknown() && created.stopped_server_ids.is_unknown());
        let prior = BatchStopState {
            id: Value::Value("stop-1".into()),
            job_ids: ids(&["j1"]),
            forced_server_ids: ids(&[A]),
            ..created
        };
        let proposed = BatchStopState {
            force_after: Value::Value("5m".into()),
            ..prior.clone()
        };
        let (planned, replace) = plan_update(&prior, proposed);
        assert!(replace.is_empty(), "{replace:?}");
        assert_eq!(planned.forced_server_ids, prior.forced_server_ids);
        assert_eq!(planned.job_ids, prior.job_ids);
    }
}
