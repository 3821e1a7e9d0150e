//! The `ecs_batch_start` resource: its state, its schema and its words. Everything else
//! (lifecycle, plan, checks, diagnostics) is the shared [`BatchResource`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::map;
use tf_provider::schema::Schema;
use tf_provider::value::Value;

use super::attributes::computed;
pub use super::batch::DEFAULT_CREATE_TIMEOUT;
use super::batch::{batch_fields, batch_schema, BatchResource, BatchState, Names, Outcome};
use super::batch::{id_list_type, Triggers};
use super::ids::IdList;
use super::timeouts::TimeoutsBlock;
use crate::power::PowerAction;

pub type BatchStartResource = BatchResource<BatchStartState>;

/// One field per attribute and block of the schema, nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchStartState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub triggers: Triggers,
    pub wait: Value<bool>,
    pub job_ids: IdList,
    pub started_server_ids: IdList,
    pub skipped_server_ids: IdList,
    pub failed_server_ids: IdList,
    pub timeouts: TimeoutsBlock,
}

impl BatchState for BatchStartState {
    const NAMES: Names = Names {
        type_name: "ecs_batch_start",
        action: PowerAction::Start,
        past: "started",
        done_list: "started_server_ids",
        next_apply: "Terraform marks the resource tainted; the next apply starts only the servers still stopped.",
        destroy_warning: (
            "Servers left running",
            "Destroying ecs_batch_start only removes it from state: no API call is made, and the servers it started keep running.",
        ),
    };

    fn schema() -> Schema {
        batch_start_schema()
    }

    batch_fields!();

    fn outcome_lists(&mut self) -> Vec<(&'static str, Outcome, &mut IdList)> {
        vec![
            ("job_ids", Outcome::JobIds, &mut self.job_ids),
            (
                "started_server_ids",
                Outcome::Done,
                &mut self.started_server_ids,
            ),
            (
                "skipped_server_ids",
                Outcome::Skipped,
                &mut self.skipped_server_ids,
            ),
            (
                "failed_server_ids",
                Outcome::Failed,
                &mut self.failed_server_ids,
            ),
        ]
    }

    fn action(&self) -> PowerAction {
        PowerAction::Start
    }
}

/// The resource schema. Descriptions are the source of `docs/resources/batch_start.md`.
pub fn batch_start_schema() -> Schema {
    let own: HashMap<&'static str, _> = map! {
        "started_server_ids" => computed(id_list_type(),
            "Servers started by this resource, or found starting or already running after a failed sub-job (sorted)."),
        "skipped_server_ids" => computed(id_list_type(),
            "Servers already running at the pre-check, not sent (sorted).")
    };
    batch_schema(
        &BatchStartState::NAMES,
        "Starts a list of ECS servers through the batch start API, in batches of at most 1000 paced to the provider's `start_rate_limit`, waits on the jobs, and records the job ids and per-server outcomes.",
        own,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lists_are_named_after_their_fields() {
        let mut state = BatchStartState {
            job_ids: Value::Unknown,
            failed_server_ids: Value::Value(vec![]),
            ..Default::default()
        };
        let (job_ids, failed) = (state.job_ids.clone(), state.failed_server_ids.clone());
        let schema = batch_start_schema();
        for (name, _, list) in state.outcome_lists() {
            assert!(schema.block.attributes.contains_key(name), "{name}");
            let expected = match name {
                "job_ids" => &job_ids,
                "failed_server_ids" => &failed,
                _ => &Value::Null,
            };
            assert_eq!(list, expected, "{name}");
        }
    }
}
