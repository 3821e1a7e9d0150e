//! The `ecs_power_state` schema. Descriptions are the source of
//! `docs/resources/power_state.md`'s Schema section.

use tf_provider::map;
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};

use crate::provider::attributes::{computed, optional, optional_computed, required};
use crate::provider::batch::{id_list_type, DEFAULT_CREATE_TIMEOUT};

/// The resource schema.
pub fn power_state_schema() -> Schema {
    use AttributeType::{Bool, Map, String};
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes: map! {
                "id" => computed(String,
                    "Identifier of this resource, a random UUID chosen at create."),
                "server_ids" => required(id_list_type(),
                    "Ids (UUIDs) of the servers whose power state this resource keeps: 1 to 10,000 of them, without duplicates (compared case-insensitively). Changing the members is an in-place update: the servers added are converged, the servers removed are left as they are."),
                "state" => required(String,
                    "The declared power state, `running` or `stopped`. After a refresh it reads `mixed` when a server is not in the declared state and not on its way there, so that `terraform plan` shows a change (and `plan -detailed-exitcode` exits 2). Changing it is an in-place update that starts or stops the servers not in the new state."),
                "force" => optional_computed(Bool,
                    "Stop with `HARD` (power the servers off at once) instead of `SOFT` (ask each guest OS to shut down), as `ecs_batch_stop`. Default `false`. Only used when `state = \"stopped\"`. Conflicts with `force_after`."),
                "force_after" => optional(String,
                    "A duration such as `5m`: servers that a graceful (`SOFT`) stop has not stopped that long after their batch was accepted (or whose soft stop failed) are stopped again with `HARD`, as `ecs_batch_stop`. Must be shorter than `timeouts.create` and `timeouts.update`; conflicts with `force = true`. Only used when `state = \"stopped\"`."),
                "running_server_ids" => computed(id_list_type(),
                    "Servers found running (`ACTIVE`, no task, not locked) at the last refresh or apply (sorted)."),
                "stopped_server_ids" => computed(id_list_type(),
                    "Servers found stopped (`SHUTOFF`, no task, not locked) at the last refresh or apply (sorted)."),
                "other_server_states" => computed(Map(Box::new(String)),
                    "Every other server, by id, with what it was found in at the last refresh or apply: its status with its task (`SHUTOFF (task powering-on)`), `, locked` for a locked server, or `not found` for an id that does not exist in the project."),
                "drifted_server_ids" => computed(id_list_type(),
                    "Servers not in the declared state and not on their way there (a server starting counts as running, one stopping as stopped, one rebooting as running) at the last refresh or apply (sorted). Those in `other_server_states` (not found, `ERROR`, locked, being resized, moving the other way) cannot be converged: plan names them and apply fails naming them, after converging the rest."),
                "converged_server_ids" => computed(id_list_type(),
                    "The servers the last apply started or stopped (or waited on, when already on their way by then), sorted. At plan, when `state` and the members of `server_ids` are unchanged, exactly the drifted servers this apply will converge, known from the refresh; after a change of either (or at create) it is known after apply, and the plan's warning names the servers."),
                "job_ids" => computed(id_list_type(),
                    "Ids of the last apply's start or stop jobs, one per batch of at most 1000 servers, in submission order (then those of the `HARD` stops `force_after` sent). Kept in state even when apply fails, times out or is interrupted.")
            },
            blocks: map! { "timeouts" => timeouts_block() },
            description: Description::markdown(
                "Keeps a fleet of ECS servers in a declared power state, `running` or `stopped`. Every refresh reads each server's state (100 ids a call) and a server not in the declared state shows as drift in `terraform plan`; create and update start or stop exactly the drifted servers, through the same batches, pacing and waiting as `ecs_batch_start` and `ecs_batch_stop`.",
            ),
            ..Default::default()
        },
    }
}

fn timeouts_block() -> NestedBlock {
    NestedBlock::Optional(Block {
        version: 0,
        attributes: map! {
            "create" => optional(AttributeType::String,
                &format!("How long create waits for the servers to converge, such as `30m` or `1h`. Default `{DEFAULT_CREATE_TIMEOUT}`.")),
            "update" => optional(AttributeType::String,
                &format!("How long an update waits for the servers to converge. Default `{DEFAULT_CREATE_TIMEOUT}`."))
        },
        description: Description::markdown("Operation timeouts."),
        ..Default::default()
    })
}
