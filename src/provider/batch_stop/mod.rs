//! The `ecs_batch_stop` resource: its state, its schema and its words; the shared
//! `force_after.rs` checks its graceful-then-forced stop. Everything else (lifecycle, plan,
//! checks, diagnostics) is the shared [`BatchResource`].

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::map;
use tf_provider::schema::{AttributeType, Schema};
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use super::attributes::{computed, optional, optional_computed};
use super::batch::{batch_fields, batch_schema, BatchResource, BatchState, Names, Outcome};
use super::batch::{id_list_type, Triggers};
use super::force_after::{self, limit_of, ForceAfterArgs};
use super::ids::IdList;
use super::timeouts::TimeoutsBlock;
use crate::api::models::PowerType;
use crate::power::PowerAction;

pub type BatchStopResource = BatchResource<BatchStopState>;

/// One field per attribute and block of the schema, nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchStopState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub force: Value<bool>,
    pub force_after: Value<String>,
    pub triggers: Triggers,
    pub wait: Value<bool>,
    pub job_ids: IdList,
    pub stopped_server_ids: IdList,
    pub skipped_server_ids: IdList,
    pub forced_server_ids: IdList,
    pub failed_server_ids: IdList,
    pub timeouts: TimeoutsBlock,
}

impl BatchState for BatchStopState {
    const NAMES: Names = Names {
        type_name: "ecs_batch_stop",
        action: PowerAction::Stop(PowerType::Soft),
        past: "stopped",
        done_list: "stopped_server_ids",
        next_apply: "Terraform marks the resource tainted; the next apply stops only the servers still running.",
        destroy_warning: (
            "Servers left stopped",
            "Destroying ecs_batch_stop only removes it from state: no API call is made, and the servers it stopped stay stopped.",
        ),
    };

    fn schema() -> Schema {
        batch_stop_schema()
    }

    batch_fields!();

    fn outcome_lists(&mut self) -> Vec<(&'static str, Outcome, &mut IdList)> {
        vec![
            ("job_ids", Outcome::JobIds, &mut self.job_ids),
            (
                "stopped_server_ids",
                Outcome::Done,
                &mut self.stopped_server_ids,
            ),
            (
                "skipped_server_ids",
                Outcome::Skipped,
                &mut self.skipped_server_ids,
            ),
            (
                "forced_server_ids",
                Outcome::Forced,
                &mut self.forced_server_ids,
            ),
            (
                "failed_server_ids",
                Outcome::Failed,
                &mut self.failed_server_ids,
            ),
        ]
    }

    /// `HARD` with `force = true`, else `SOFT` (forced later with `force_after`).
    fn action(&self) -> PowerAction {
        match self.force {
            Value::Value(true) => PowerAction::Stop(PowerType::Hard),
            _ => PowerAction::Stop(PowerType::Soft),
        }
    }

    fn fill_own_defaults(&mut self) {
        if self.force.is_null() {
            self.force = Value::Value(false);
        }
    }

    fn check_own(&self, diags: &mut Diagnostics) {
        let args = ForceAfterArgs {
            force: &self.force,
            force_after: &self.force_after,
            wait: &self.wait,
            limits: vec![("create", limit_of(&self.timeouts, "create"))],
        };
        force_after::check(&args, diags);
    }

    fn force_after(&self) -> Result<Option<Duration>, String> {
        force_after::parse(&self.force_after)
    }
}

/// The resource schema. Descriptions are the source of `docs/resources/batch_stop.md`.
pub fn batch_stop_schema() -> Schema {
    let own: HashMap<&'static str, _> = map! {
        "force" => optional_computed(AttributeType::Bool,
            "Stop with `HARD` (power the servers off at once) instead of `SOFT` (ask each guest OS to shut down). Default `false`. Conflicts with `force_after`."),
        "force_after" => optional(AttributeType::String,
            "A duration such as `5m`: servers that a graceful (`SOFT`) stop has not stopped that long after their batch was accepted (or whose soft stop failed, as it does for a guest that ignores the shutdown request) are stopped again with `HARD` and listed in `forced_server_ids`. Must be shorter than `timeouts.create`; needs `wait = true`; conflicts with `force = true`. Unset: no forced stop, and such servers end in `failed_server_ids`."),
        "job_ids" => computed(id_list_type(),
            "Ids of the stop jobs, one per batch of at most 1000 servers, in submission order, then those of the `HARD` stops `force_after` sent. Kept in state even when apply fails or is interrupted."),
        "stopped_server_ids" => computed(id_list_type(),
            "Every server this resource stopped, gracefully or forced with `HARD` (so it includes `forced_server_ids`), or found stopping or already stopped after a failed sub-job (sorted)."),
        "skipped_server_ids" => computed(id_list_type(),
            "Servers already stopped (`SHUTOFF`) at the pre-check, not sent (sorted)."),
        "forced_server_ids" => computed(id_list_type(),
            "The servers of `stopped_server_ids` that a graceful stop did not stop within `force_after`, stopped with `HARD` (sorted). Empty without `force_after`.")
    };
    batch_schema(
        &BatchStopState::NAMES,
        "Stops a list of ECS servers through the batch stop API, gracefully (`SOFT`) or at once (`HARD`), in batches of at most 1000 paced to the provider's `stop_rate_limit`, waits on the jobs, and records the job ids and per-server outcomes. With `force_after`, servers a graceful stop did not stop in time are stopped with `HARD`.",
        own,
    )
}
