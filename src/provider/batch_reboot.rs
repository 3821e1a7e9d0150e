//! The `ecs_batch_reboot` resource: its state, its schema and its words. Everything else
//! (lifecycle, plan, checks, diagnostics) is the shared [`BatchResource`]. A reboot is not
//! idempotent: the engine never sends one again after a lost answer, and refuses servers
//! that are not running (a reboot would start them).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tf_provider::map;
use tf_provider::schema::{AttributeType, Schema};
use tf_provider::value::Value;

use super::attributes::{computed, optional_computed};
use super::batch::{batch_fields, batch_schema, BatchResource, BatchState, Names, Outcome};
use super::batch::{id_list_type, Triggers};
use super::ids::IdList;
use super::timeouts::TimeoutsBlock;
use crate::api::models::PowerType;
use crate::power::PowerAction;

pub type BatchRebootResource = BatchResource<BatchRebootState>;

/// One field per attribute and block of the schema, nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchRebootState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub force: Value<bool>,
    pub triggers: Triggers,
    pub wait: Value<bool>,
    pub job_ids: IdList,
    pub rebooted_server_ids: IdList,
    pub failed_server_ids: IdList,
    pub timeouts: TimeoutsBlock,
}

impl BatchState for BatchRebootState {
    const NAMES: Names = Names {
        type_name: "ecs_batch_reboot",
        action: PowerAction::Reboot(PowerType::Soft),
        past: "rebooted",
        done_list: "rebooted_server_ids",
        next_apply: "Terraform marks the resource tainted; the next apply reboots every server of server_ids again, those rebooted now included (run terraform untaint on this resource to keep this record instead).",
        destroy_warning: (
            "Nothing to undo",
            "Destroying ecs_batch_reboot only removes it from state: no API call is made, and a reboot cannot be undone.",
        ),
    };

    fn schema() -> Schema {
        batch_reboot_schema()
    }

    batch_fields!();

    fn outcome_lists(&mut self) -> Vec<(&'static str, Outcome, &mut IdList)> {
        vec![
            ("job_ids", Outcome::JobIds, &mut self.job_ids),
            (
                "rebooted_server_ids",
                Outcome::Done,
                &mut self.rebooted_server_ids,
            ),
            (
                "failed_server_ids",
                Outcome::Failed,
                &mut self.failed_server_ids,
            ),
        ]
    }

    fn action(&self) -> PowerAction {
        match self.force {
            Value::Value(true) => PowerAction::Reboot(PowerType::Hard),
            _ => PowerAction::Reboot(PowerType::Soft),
        }
    }

    fn fill_own_defaults(&mut self) {
        if self.force.is_null() {
            self.force = Value::Value(false);
        }
    }
}

/// The resource schema. Descriptions are the source of `docs/resources/batch_reboot.md`.
pub fn batch_reboot_schema() -> Schema {
    let own: HashMap<&'static str, _> = map! {
        "force" => optional_computed(AttributeType::Bool,
            "Reboot with `HARD` (reset the servers at once) instead of `SOFT` (ask each guest OS to restart). Default `false`."),
        "rebooted_server_ids" => computed(id_list_type(),
            "Servers rebooted by this resource, including those found already rebooting at the pre-check and waited on (sorted)."),
        "failed_server_ids" => computed(id_list_type(),
            "Servers that failed to reboot (sorted), including those not running at the pre-check, which are not sent: a reboot would start a stopped server. The apply error gives each one's error code and reason.")
    };
    batch_schema(
        &BatchRebootState::NAMES,
        "Reboots a list of running ECS servers through the batch reboot API, gracefully (`SOFT`) or at once (`HARD`), in batches of at most 1000 paced to the provider's `reboot_rate_limit`, waits on the jobs, and records the job ids and per-server outcomes. A reboot whose answer was lost is never sent again.",
        own,
    )
}
