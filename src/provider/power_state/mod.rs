//! The `ecs_power_state` resource: a fleet's declared power state (`running` or `stopped`),
//! which Terraform keeps. Unlike the `ecs_batch_*` actions, it is an object to refresh:
//! read reads every server's state, and a server not in the declared state (and not on its
//! way there) is drift, which makes the refreshed `state` `"mixed"` so that plan shows a
//! change. Create and update converge only the drifted servers, through the power
//! [`Engine`](crate::power::Engine).
//!
//! - `resource.rs`: [`PowerStateResource`], the [`Resource`](tf_provider::Resource) impl, one
//!   method per lifecycle step;
//! - `schema.rs`: the attributes and their descriptions (the source of the registry page);
//! - `validate.rs`: the plan-time checks, with zero API calls;
//! - `observe.rs`: one read of the servers' states, sorted relative to the declared state
//!   (what read records and what plan and apply converge);
//! - `plan.rs`: what a change converges, known at plan;
//! - `converge.rs`: create and update: run the engine on the drifted servers, then record
//!   what the servers read;
//! - `diagnostics.rs`: the plan's warnings and the apply's errors, in this resource's words.
//!
//! The declared state travels in private state too: once refreshed `state` reads `"mixed"`
//! it no longer says what was declared.

mod converge;
mod diagnostics;
mod observe;
mod plan;
mod resource;
mod schema;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tf_provider::value::Value;

use super::ids::IdList;
use super::timeouts::CreateUpdateTimeoutsBlock;
use crate::api::models::PowerType;
use crate::power::PowerAction;
pub use observe::{observe, Observation, NOT_FOUND};
pub use resource::PowerStateResource;
pub use schema::power_state_schema;

/// The resource type.
pub const TYPE_NAME: &str = "ecs_power_state";
/// The refreshed `state` when a server is not in the declared state.
pub const MIXED: &str = "mixed";

/// One field per attribute and block of the schema, nothing else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PowerStateState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub state: Value<String>,
    pub force: Value<bool>,
    pub force_after: Value<String>,
    pub running_server_ids: IdList,
    pub stopped_server_ids: IdList,
    pub other_server_states: StatusMap,
    pub drifted_server_ids: IdList,
    pub converged_server_ids: IdList,
    pub job_ids: IdList,
    pub timeouts: CreateUpdateTimeoutsBlock,
}

/// Server id → status, as `other_server_states` appears in state.
pub type StatusMap = Value<BTreeMap<String, Value<String>>>;

/// The private state: the declared state, `running` or `stopped`.
pub type DeclaredPrivate = Value<String>;

/// The power state a configuration declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    Running,
    Stopped,
}

impl Declared {
    pub const VALUES: [&'static str; 2] = ["running", "stopped"];

    pub fn parse(s: &str) -> Option<Declared> {
        match s {
            "running" => Some(Declared::Running),
            "stopped" => Some(Declared::Stopped),
            _ => None,
        }
    }

    /// The declared state of a known `state` value (`None` for `mixed`, unknown or null).
    pub fn of(value: &Value<String>) -> Option<Declared> {
        value.as_ref_option().and_then(|s| Declared::parse(s))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Declared::Running => "running",
            Declared::Stopped => "stopped",
        }
    }

    /// The operation that converges a server to this state: a stop is `HARD` with `force`.
    pub fn action(self, force: bool) -> PowerAction {
        match (self, force) {
            (Declared::Running, _) => PowerAction::Start,
            (Declared::Stopped, true) => PowerAction::Stop(PowerType::Hard),
            (Declared::Stopped, false) => PowerAction::Stop(PowerType::Soft),
        }
    }
}

impl PowerStateState {
    /// The declared state: the private state's, else a known `state` (never `mixed`).
    pub fn declared(&self, private: &DeclaredPrivate) -> Option<Declared> {
        Declared::of(private).or_else(|| Declared::of(&self.state))
    }

    /// Sets what a read of the servers records (the four lists) to `value`: unknown in a
    /// plan, null when apply could not read.
    pub fn set_read(&mut self, value: fn() -> IdList) {
        self.running_server_ids = value();
        self.stopped_server_ids = value();
        self.drifted_server_ids = value();
        self.other_server_states = match value() {
            Value::Unknown => Value::Unknown,
            _ => Value::Null,
        };
    }

    /// `force`, false while unset.
    pub fn forced(&self) -> bool {
        self.force == Value::Value(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_names_what_the_schema_declares() {
        crate::provider::assert_fields_match_schema(
            &PowerStateState::default(),
            &power_state_schema(),
            TYPE_NAME,
        );
    }

    #[test]
    fn the_declared_state_survives_a_mixed_refresh() {
        let s = PowerStateState {
            state: Value::Value(MIXED.into()),
            ..Default::default()
        };
        assert_eq!(
            s.declared(&Value::Value("stopped".into())),
            Some(Declared::Stopped)
        );
        assert_eq!(s.declared(&Value::Null), None);
        let running = PowerStateState {
            state: Value::Value("running".into()),
            ..Default::default()
        };
        assert_eq!(running.declared(&Value::Null), Some(Declared::Running));
        assert_eq!(
            Declared::Stopped.action(true),
            PowerAction::Stop(PowerType::Hard)
        );
    }
}
