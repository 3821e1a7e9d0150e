//! What the batch power resources (`ecs_batch_start`, `ecs_batch_stop`, `ecs_batch_reboot`)
//! share: each is an action recorded as a resource. Create hands the ids to the power
//! [`Engine`](crate::power::Engine) and records what it did; read, update and destroy make
//! no API call. The lifecycle, the plan, the checks and the diagnostics are written once,
//! over [`BatchState`], which each resource's state implements with its own names:
//!
//! - `resource.rs`: [`BatchResource`], the [`Resource`](tf_provider::Resource) impl, one
//!   method per lifecycle step;
//! - `apply.rs`: the steps of create (resolve the plan, run the engine, record the report);
//! - `plan.rs`: which changes replace the resource (and run it again) and which do not;
//! - `validate.rs`: the plan-time checks every batch resource makes;
//! - `diagnostics.rs`: a run's report turned into the state to save and one diagnostic per
//!   kind of outcome, in the resource's words;
//! - `schema.rs`: the attributes every batch resource declares.

mod apply;
mod diagnostics;
mod plan;
mod resource;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use super::ids::IdList;
use super::timeouts::TimeoutsBlock;
use crate::power::{PowerAction, PowerReport};
pub(crate) use apply::look_up_project;
pub use diagnostics::{report_diagnostics, state_from};
pub use plan::{plan_create, plan_update, same_members};
pub use resource::BatchResource;
pub use schema::{batch_schema, id_list_type};
pub use validate::validate_config;

/// How long apply waits when `timeouts.create` is unset, for every batch resource.
pub const DEFAULT_CREATE_TIMEOUT: &str = "30m";

/// `triggers` as it appears in state.
pub type Triggers = Value<BTreeMap<String, Value<String>>>;

/// A batch resource's names, and the words its messages and descriptions use.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// The resource type, such as `ecs_batch_start`.
    pub type_name: &'static str,
    /// The operation, for its verb (`start`) and gerund (`starting`); the power type it
    /// runs with is the state's to choose ([`BatchState::action`]).
    pub action: PowerAction,
    /// The verb's past participle: `started`.
    pub past: &'static str,
    /// The attribute that lists the servers the operation was carried out on.
    pub done_list: &'static str,
    /// What the next apply does after a failed one, closing every error that saved job ids.
    pub next_apply: &'static str,
    /// The warning destroy gives: summary and detail.
    pub destroy_warning: (&'static str, &'static str),
}

impl Names {
    pub fn verb(&self) -> &'static str {
        self.action.verb()
    }

    pub fn gerund(&self) -> &'static str {
        self.action.gerund()
    }
}

/// Which part of a run's report a computed list records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    JobIds,
    Done,
    Skipped,
    Forced,
    Failed,
}

impl Outcome {
    /// The ids of this outcome in `report`.
    pub fn ids(self, report: &PowerReport) -> Vec<String> {
        match self {
            Outcome::JobIds => report.job_ids.clone(),
            Outcome::Done => report.done.clone(),
            Outcome::Skipped => report.skipped.clone(),
            Outcome::Forced => report.forced.clone(),
            Outcome::Failed => report.failed.iter().map(|f| f.server_id.clone()).collect(),
        }
    }
}

/// The state of one batch resource: one field per attribute of its schema, read through
/// these methods. The fields every batch resource has are reached through accessors that
/// [`batch_fields!`] writes; the rest says what is the resource's own.
pub trait BatchState:
    Clone + Default + std::fmt::Debug + Send + Sync + Serialize + DeserializeOwned + 'static
{
    const NAMES: Names;

    fn schema() -> Schema;

    fn id(&self) -> &Value<String>;
    fn id_mut(&mut self) -> &mut Value<String>;
    fn server_ids(&self) -> &IdList;
    fn triggers(&self) -> &Triggers;
    fn wait(&self) -> &Value<bool>;
    fn wait_mut(&mut self) -> &mut Value<bool>;
    fn timeouts(&self) -> &TimeoutsBlock;

    /// The computed id lists in schema order: attribute name, what each records, the list.
    fn outcome_lists(&mut self) -> Vec<(&'static str, Outcome, &mut IdList)>;

    /// The operation to run, as the arguments that choose it (`force`) say.
    fn action(&self) -> PowerAction;

    /// Fills in the defaults of the resource's own optional arguments (`wait` is filled in
    /// for every resource).
    fn fill_own_defaults(&mut self) {}

    /// Plan-time checks of the resource's own arguments.
    fn check_own(&self, _diags: &mut Diagnostics) {}

    /// `force_after`, for the resources that have it: `Err` with the reason when it does
    /// not parse.
    fn force_after(&self) -> Result<Option<Duration>, String> {
        Ok(None)
    }
}

/// The [`BatchState`] accessors of the fields every batch resource has (`id`,
/// `server_ids`, `triggers`, `wait`, `timeouts`), for a state struct that names them so.
macro_rules! batch_fields {
    () => {
        fn id(&self) -> &tf_provider::value::Value<String> {
            &self.id
        }
        fn id_mut(&mut self) -> &mut tf_provider::value::Value<String> {
            &mut self.id
        }
        fn server_ids(&self) -> &$crate::provider::ids::IdList {
            &self.server_ids
        }
        fn triggers(&self) -> &$crate::provider::batch::Triggers {
            &self.triggers
        }
        fn wait(&self) -> &tf_provider::value::Value<bool> {
            &self.wait
        }
        fn wait_mut(&mut self) -> &mut tf_provider::value::Value<bool> {
            &mut self.wait
        }
        fn timeouts(&self) -> &$crate::provider::timeouts::TimeoutsBlock {
            &self.timeouts
        }
    };
}
pub(crate) use batch_fields;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::provider::batch_reboot::BatchRebootState;
    use crate::provider::batch_start::BatchStartState;
    use crate::provider::batch_stop::BatchStopState;

    /// tf-provider decodes state by field name: the struct and the schema must name the
    /// same attributes and blocks, and every outcome list must be a computed attribute.
    fn fields_match_schema<S: BatchState>() {
        let json = serde_json::to_value(S::default()).expect("state serializes");
        let fields: BTreeSet<String> = json.as_object().expect("object").keys().cloned().collect();
        let schema = S::schema();
        let declared: BTreeSet<String> = schema
            .block
            .attributes
            .keys()
            .chain(schema.block.blocks.keys())
            .cloned()
            .collect();
        assert_eq!(fields, declared, "{}", S::NAMES.type_name);
        let mut state = S::default();
        let lists = state.outcome_lists();
        assert!(lists
            .iter()
            .any(|(n, o, _)| *n == S::NAMES.done_list && *o == Outcome::Done));
        for (name, _, _) in lists {
            let attribute = &schema.block.attributes[name];
            assert_eq!(
                attribute.constraint,
                tf_provider::schema::AttributeConstraint::Computed,
                "{name}"
            );
        }
    }

    #[test]
    fn every_resource_state_names_what_its_schema_declares() {
        fields_match_schema::<BatchStartState>();
        fields_match_schema::<BatchStopState>();
        fields_match_schema::<BatchRebootState>();
    }
}
