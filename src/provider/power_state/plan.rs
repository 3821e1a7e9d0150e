//! The plan: what an apply will converge, known at plan. A new resource, a new declared
//! state or new members read the servers' states; otherwise the refresh just recorded
//! them, and the plan reads them back from the prior state without a call (so a plan costs
//! one read of every server, the refresh's).
//!
//! Terraform requires a known planned value to be the applied one, and plans again during
//! apply: `converged_server_ids` is planned known when it comes from the refreshed prior
//! state (drift against an unchanged declaration, which both plans read back the same),
//! unknown after a fresh read (which could differ by apply); everything the apply's final
//! read records is planned unknown.

use tf_provider::value::Value;

use super::observe::Observation;
use super::{Declared, DeclaredPrivate, PowerStateState};
use crate::provider::batch::same_members;
use crate::provider::ids::id_list;

/// Where the plan finds the servers' states.
#[derive(Debug, PartialEq)]
pub enum Source {
    /// Nothing to converge: the configuration did not change.
    Unchanged,
    /// The prior state's refresh, against the same declared state and members.
    Recorded(Observation),
    /// A read of the servers now (new resource, declared state or members).
    Read(Declared, Vec<String>),
    /// Not known until apply (unknown ids or state).
    Unknown,
}

/// The planned state of a new resource, `force` filled in.
pub fn with_defaults(mut planned: PowerStateState) -> PowerStateState {
    if planned.force.is_null() {
        planned.force = Value::Value(false);
    }
    planned
}

/// Where the plan of a change from `prior` to `planned` (defaults filled in) finds the
/// servers' states.
pub fn source(
    prior: Option<(&PowerStateState, &DeclaredPrivate)>,
    planned: &PowerStateState,
) -> Source {
    if let Some((prior, _)) = prior {
        if same_arguments(prior, planned) {
            return Source::Unchanged;
        }
    }
    let (Some(declared), Some(ids)) = (
        Declared::of(&planned.state),
        crate::provider::ids::known_ids(&planned.server_ids),
    ) else {
        return Source::Unknown;
    };
    if let Some((prior, private)) = prior {
        let same_fleet = same_members(&prior.server_ids, &planned.server_ids) == Some(true);
        if same_fleet && prior.declared(private) == Some(declared) {
            if let Some(recorded) = Observation::recorded(prior) {
                return Source::Recorded(recorded);
            }
        }
    }
    Source::Read(declared, ids)
}

/// Whether every argument is as the prior state has it: then there is no change to plan.
fn same_arguments(prior: &PowerStateState, planned: &PowerStateState) -> bool {
    prior.state == planned.state
        && prior.server_ids == planned.server_ids
        && prior.force == planned.force
        && prior.force_after == planned.force_after
        && prior.timeouts == planned.timeouts
}

/// The planned state of a change that converges `observed`'s drifted servers (`None`: not
/// known until apply): `converged_server_ids` known, what apply records unknown.
pub fn converging(
    mut planned: PowerStateState,
    prior_id: Option<&Value<String>>,
    observed: Option<&Observation>,
) -> PowerStateState {
    planned.id = prior_id.cloned().unwrap_or(Value::Unknown);
    planned.converged_server_ids = match observed {
        Some(o) => id_list(&o.convergeable),
        None => Value::Unknown,
    };
    planned.set_read(|| Value::Unknown);
    planned.job_ids = Value::Unknown;
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ids::fixtures::{ids, A, B};

    fn refreshed() -> PowerStateState {
        PowerStateState {
            id: Value::Value("x".into()),
            server_ids: ids(&[A, B]),
            state: Value::Value("mixed".into()),
            force: Value::Value(false),
            running_server_ids: ids(&[A]),
            stopped_server_ids: ids(&[B]),
            other_server_states: Value::Value(Default::default()),
            drifted_server_ids: ids(&[B]),
            converged_server_ids: ids(&[]),
            job_ids: ids(&[]),
            ..Default::default()
        }
    }

    #[test]
    fn drift_against_the_same_declaration_is_read_back_from_the_refresh() {
        let prior = refreshed();
        let private = Value::Value("running".to_string());
        let planned = PowerStateState {
            state: Value::Value("running".into()),
            ..prior.clone()
        };
        let Source::Recorded(o) = source(Some((&prior, &private)), &planned) else {
            panic!("read back");
        };
        assert_eq!(o.convergeable, vec![B.to_string()]);
        let plan = converging(planned, Some(&prior.id), Some(&o));
        assert_eq!(plan.converged_server_ids, ids(&[B]));
        assert!(plan.running_server_ids.is_unknown() && plan.job_ids.is_unknown());
        assert_eq!(plan.id, prior.id);
    }

    #[test]
    fn a_new_declaration_or_fleet_reads_and_no_change_plans_nothing() {
        let prior = refreshed();
        let private = Value::Value("running".to_string());
        let flip = PowerStateState {
            state: Value::Value("stopped".into()),
            ..prior.clone()
        };
        assert_eq!(
            source(Some((&prior, &private)), &flip),
            Source::Read(Declared::Stopped, vec![A.to_string(), B.to_string()])
        );
        let same = PowerStateState {
            state: Value::Value("running".into()),
            ..prior.clone()
        };
        let clean = PowerStateState {
            state: Value::Value("running".into()),
            ..prior.clone()
        };
        assert_eq!(source(Some((&clean, &private)), &same), Source::Unchanged);
        let unknown = PowerStateState {
            server_ids: Value::Unknown,
            ..flip
        };
        assert_eq!(source(None, &unknown), Source::Unknown);
        assert_eq!(
            with_defaults(PowerStateState::default()).force,
            Value::Value(false)
        );
    }
}
