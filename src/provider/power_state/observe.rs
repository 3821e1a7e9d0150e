//! One read of the servers' states, sorted relative to the declared state: where each
//! server is (the computed lists), which drifted, and of those which a start or stop can
//! converge. The states are read through the engine's [`read_states`] (100 ids a call, a
//! few calls at once); what a state means for the converging operation is the engine's
//! [`PowerAction::fate`](crate::power::PowerAction), so plan and apply agree.

use std::collections::BTreeMap;

use tf_provider::value::Value;

use super::{Declared, PowerStateState};
use crate::api::{ApiError, EcsClient, Limits};
use crate::power::{read_states, Class, Fate, States};
use crate::provider::ids::id_list;

/// What `other_server_states` says of an id that does not exist in the project.
pub const NOT_FOUND: &str = "not found";

/// One read, relative to the declared state. Every list is sorted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// `ACTIVE` with no task, not locked.
    pub running: Vec<String>,
    /// `SHUTOFF` with no task, not locked.
    pub stopped: Vec<String>,
    /// Every other server: its status (and task, and whether it is locked), or
    /// [`NOT_FOUND`].
    pub other: BTreeMap<String, String>,
    /// Not in the declared state and not on its way there.
    pub drifted: Vec<String>,
    /// Of `drifted`: those a start or stop converges (what apply sends).
    pub convergeable: Vec<String>,
    /// Of `drifted`: those nothing here can converge, with their status.
    pub blocked: Vec<(String, String)>,
}

/// Reads the states of `ids` and sorts them relative to `declared` (`None`: only where each
/// server is, no drift).
pub async fn observe(
    client: &EcsClient,
    ids: &[String],
    declared: Option<Declared>,
    limits: &Limits,
) -> Result<Observation, ApiError> {
    let states = read_states(client, ids, limits).await?;
    Ok(sort(ids, &states, declared))
}

/// Sorts servers whose states were read: see [`Observation`].
pub fn sort(ids: &[String], states: &States, declared: Option<Declared>) -> Observation {
    let mut o = Observation::default();
    for id in ids {
        let class = states.class_of(id);
        match class {
            Some(Class::Running) => o.running.push(id.clone()),
            Some(Class::Stopped) => o.stopped.push(id.clone()),
            Some(other) => {
                o.other.insert(id.clone(), other.to_string());
            }
            None => {
                o.other.insert(id.clone(), NOT_FOUND.to_string());
            }
        }
        let Some(declared) = declared else { continue };
        match position(class, declared) {
            Position::There => {}
            Position::Convergeable => {
                o.drifted.push(id.clone());
                o.convergeable.push(id.clone());
            }
            Position::Blocked => {
                o.drifted.push(id.clone());
                let status = o.other.get(id).cloned().unwrap_or_default();
                o.blocked.push((id.clone(), status));
            }
        }
    }
    for list in [
        &mut o.running,
        &mut o.stopped,
        &mut o.drifted,
        &mut o.convergeable,
    ] {
        list.sort();
    }
    o.blocked.sort();
    o
}

/// Where a server stands relative to the declared state.
#[derive(Debug, PartialEq, Eq)]
enum Position {
    /// In the declared state, or on its way there: not drift.
    There,
    /// Drifted, and a start or stop converges it.
    Convergeable,
    /// Drifted, and nothing here converges it (not found, `ERROR`, locked, resizing, moving
    /// the other way…).
    Blocked,
}

fn position(class: Option<&Class>, declared: Declared) -> Position {
    let Some(class) = class else {
        return Position::Blocked;
    };
    // A reboot ends `ACTIVE`: a rebooting server is on its way to running.
    if declared == Declared::Running && matches!(class.unlocked(), Class::Rebooting { .. }) {
        return Position::There;
    }
    match declared.action(false).fate(class) {
        Fate::Skip | Fate::Wait => Position::There,
        Fate::Send => Position::Convergeable,
        Fate::Fail { .. } => Position::Blocked,
    }
}

impl Observation {
    /// The refreshed `state`: the declared one when nothing drifted, else `mixed`. Without
    /// a declared state, what every server reads when they all agree.
    pub fn state(&self, declared: Option<Declared>) -> String {
        match declared {
            Some(d) if self.drifted.is_empty() => d.as_str().to_string(),
            Some(_) => super::MIXED.to_string(),
            None if self.other.is_empty() && self.stopped.is_empty() => "running".to_string(),
            None if self.other.is_empty() && self.running.is_empty() => "stopped".to_string(),
            None => super::MIXED.to_string(),
        }
    }

    /// Records this read in `state`'s computed lists and `drifted_server_ids`.
    pub fn record(&self, state: &mut PowerStateState) {
        state.running_server_ids = id_list(&self.running);
        state.stopped_server_ids = id_list(&self.stopped);
        state.other_server_states = Value::Value(
            self.other
                .iter()
                .map(|(id, status)| (id.clone(), Value::Value(status.clone())))
                .collect(),
        );
        state.drifted_server_ids = id_list(&self.drifted);
    }

    /// The drift recorded in a refreshed state, relative to the declared state it was read
    /// against: `None` when a list is not known.
    pub fn recorded(state: &PowerStateState) -> Option<Observation> {
        use crate::provider::ids::known_ids;
        let drifted = known_ids(&state.drifted_server_ids)?;
        let other: BTreeMap<String, String> = state
            .other_server_states
            .as_ref_option()?
            .iter()
            .map(|(id, s)| Some((id.clone(), s.as_ref_option()?.clone())))
            .collect::<Option<_>>()?;
        let (blocked, convergeable): (Vec<String>, Vec<String>) = drifted
            .iter()
            .cloned()
            .partition(|id| other.contains_key(id));
        Some(Observation {
            running: known_ids(&state.running_server_ids)?,
            stopped: known_ids(&state.stopped_server_ids)?,
            blocked: blocked
                .into_iter()
                .map(|id| {
                    let status = other[&id].clone();
                    (id, status)
                })
                .collect(),
            other,
            drifted,
            convergeable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ids::fixtures::{A, B};

    const C: &str = "11111111-1111-4111-8111-111111111111";
    const D: &str = "22222222-2222-4222-8222-222222222222";
    const E: &str = "33333333-3333-4333-8333-333333333333";

    fn states(classes: &[(&str, Class)]) -> States {
        States::from_classes(classes.iter().map(|(id, c)| (id.to_string(), c.clone())))
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn drift_is_what_is_not_there_nor_on_its_way() {
        let read = states(&[
            (A, Class::Running),
            (B, Class::Stopped),
            (C, Class::Starting),
            (
                D,
                Class::Error {
                    code: "500".into(),
                    message: None,
                },
            ),
        ]);
        let o = sort(&ids(&[A, B, C, D, E]), &read, Some(Declared::Running));
        assert_eq!(o.running, ids(&[A]));
        assert_eq!(o.stopped, ids(&[B]));
        assert_eq!(o.other[C], "SHUTOFF (task powering-on)");
        assert_eq!(o.other[E], NOT_FOUND);
        assert_eq!(o.convergeable, ids(&[B]), "the starting one is on its way");
        let mut drifted = ids(&[B, D, E]);
        drifted.sort();
        assert_eq!(o.drifted, drifted);
        assert_eq!(o.blocked.len(), 2);
        assert_eq!(o.state(Some(Declared::Running)), "mixed");

        let stopped = sort(&ids(&[A, B, C]), &read, Some(Declared::Stopped));
        assert_eq!(stopped.convergeable, ids(&[A]));
        assert!(
            stopped.drifted.contains(&C.to_string()),
            "starting is moving away"
        );
    }

    #[test]
    fn a_locked_server_drifts_blocked_and_a_rebooting_one_is_on_its_way() {
        let read = states(&[
            (A, Class::Locked(Box::new(Class::Stopped))),
            (B, Class::Locked(Box::new(Class::Running))),
            (
                C,
                Class::Rebooting {
                    status: "REBOOT".into(),
                    task: Some("rebooting".into()),
                },
            ),
        ]);
        let o = sort(&ids(&[A, B, C]), &read, Some(Declared::Running));
        assert_eq!(
            o.blocked,
            vec![(A.to_string(), "SHUTOFF, locked".to_string())]
        );
        assert!(o.convergeable.is_empty());
        assert_eq!(o.other[B], "ACTIVE, locked");
    }

    #[test]
    fn what_read_records_plan_reads_back() {
        let read = states(&[
            (A, Class::Running),
            (B, Class::Stopped),
            (
                D,
                Class::Error {
                    code: "500".into(),
                    message: None,
                },
            ),
        ]);
        let o = sort(&ids(&[A, B, D]), &read, Some(Declared::Running));
        let mut state = PowerStateState::default();
        o.record(&mut state);
        let back = Observation::recorded(&state).expect("known");
        assert_eq!(back, o);
        let all_running = sort(&ids(&[A]), &read, None);
        assert_eq!(all_running.state(None), "running");
        assert!(all_running.drifted.is_empty());
    }
}
