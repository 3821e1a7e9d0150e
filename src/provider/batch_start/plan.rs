//! The plan: what a change to `ecs_batch_start` does. A start is an action, so only a
//! change that would start other servers (members of `server_ids`, `triggers`) replaces
//! the resource; everything else is an in-place update that starts nothing.

use std::collections::BTreeMap;

use tf_provider::value::Value;
use tf_provider::AttributePath;

use super::state::BatchStartState;
use crate::provider::ids::IdList;

/// The planned state of a new resource: defaults filled in, computed values unknown.
pub fn plan_create(proposed: BatchStartState) -> BatchStartState {
    let mut planned = proposed;
    planned.set_computed_unknown();
    planned.fill_defaults();
    planned
}

/// The planned state of a change, and the attributes whose change forces replacement.
pub fn plan_update(
    prior: &BatchStartState,
    proposed: BatchStartState,
) -> (BatchStartState, Vec<AttributePath>) {
    let mut planned = proposed;
    planned.fill_defaults();
    let mut replace = Vec::new();
    if same_members(&prior.server_ids, &planned.server_ids) != Some(true) {
        replace.push(AttributePath::new("server_ids"));
    }
    if !same_triggers(prior, &planned) {
        replace.push(AttributePath::new("triggers"));
    }
    if replace.is_empty() {
        // Reordered ids, `wait` or `timeouts`: an in-place update that starts nothing.
        planned.copy_computed_from(prior);
    } else {
        planned.set_computed_unknown();
    }
    (planned, replace)
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
fn same_triggers(a: &BatchStartState, b: &BatchStartState) -> bool {
    let norm = |s: &BatchStartState| match &s.triggers {
        Value::Null => Value::Value(BTreeMap::new()),
        other => other.clone(),
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_unknown() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
