//! What `ecs_batch_start` stores: the state struct and the schema that declares it. The two
//! name the same attributes; tf-provider decodes state by these names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tf_provider::map;
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::Value;

use crate::provider::attributes::{computed, optional, optional_computed, required};
use crate::provider::ids::{known_ids, IdList};
use crate::provider::timeouts::TimeoutsBlock;

/// How long apply waits when `timeouts.create` is unset.
pub const DEFAULT_CREATE_TIMEOUT: &str = "30m";

/// One field per attribute and block of the schema, nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchStartState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub triggers: Value<BTreeMap<String, Value<String>>>,
    pub wait: Value<bool>,
    pub job_ids: IdList,
    pub started_server_ids: IdList,
    pub skipped_server_ids: IdList,
    pub failed_server_ids: IdList,
    pub timeouts: TimeoutsBlock,
}

impl BatchStartState {
    /// The computed id lists with their attribute names, in schema order.
    pub fn computed_lists(&self) -> [(&'static str, &IdList); 4] {
        [
            ("job_ids", &self.job_ids),
            ("started_server_ids", &self.started_server_ids),
            ("skipped_server_ids", &self.skipped_server_ids),
            ("failed_server_ids", &self.failed_server_ids),
        ]
    }

    pub fn set_computed_unknown(&mut self) {
        self.id = Value::Unknown;
        self.job_ids = Value::Unknown;
        self.started_server_ids = Value::Unknown;
        self.skipped_server_ids = Value::Unknown;
        self.failed_server_ids = Value::Unknown;
    }

    pub fn copy_computed_from(&mut self, prior: &BatchStartState) {
        self.id = prior.id.clone();
        self.job_ids = prior.job_ids.clone();
        self.started_server_ids = prior.started_server_ids.clone();
        self.skipped_server_ids = prior.skipped_server_ids.clone();
        self.failed_server_ids = prior.failed_server_ids.clone();
    }

    pub fn fill_defaults(&mut self) {
        if self.wait.is_null() {
            self.wait = Value::Value(true);
        }
    }

    /// `wait`, with its default while unset.
    pub fn wait(&self) -> bool {
        self.wait.as_ref_option().copied().unwrap_or(true)
    }

    /// `server_ids` as plain strings, when every one is known.
    pub fn known_server_ids(&self) -> Option<Vec<String>> {
        known_ids(&self.server_ids)
    }
}

/// The resource schema. Descriptions are the source of `docs/resources/batch_start.md`.
pub fn batch_start_schema() -> Schema {
    use AttributeType::{Bool, List, Map, String};
    let list = || List(Box::new(String));
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes: map! {
                "id" => computed(String,
                    "Identifier of this start, a random UUID chosen at create."),
                "server_ids" => required(list(),
                    "Ids (UUIDs) of the servers to start: 1 to 10,000 of them, without duplicates (compared case-insensitively). Changing the members re-runs the start; reordering them changes nothing."),
                "triggers" => optional(Map(Box::new(String)),
                    "Arbitrary strings; any change re-runs the start (for example a release version)."),
                "wait" => optional_computed(Bool,
                    "Wait until every start job finishes, and report per-server outcomes. Default `true`. With `false`, apply returns once the batches are accepted and `started_server_ids` lists the servers submitted."),
                "job_ids" => computed(list(),
                    "Ids of the start jobs, one per batch of at most 1000 servers, in submission order. Kept in state even when apply fails or is interrupted."),
                "started_server_ids" => computed(list(),
                    "Servers started by this resource, or found starting or already running after a failed sub-job (sorted)."),
                "skipped_server_ids" => computed(list(),
                    "Servers already running at the pre-check, not sent (sorted)."),
                "failed_server_ids" => computed(list(),
                    "Servers that failed to start (sorted). The apply error gives each one's error code and reason.")
            },
            blocks: map! {
                "timeouts" => NestedBlock::Optional(Block {
                    version: 0,
                    attributes: map! {
                        "create" => optional(String,
                            "How long apply waits for the start jobs, such as `30m` or `1h`. Default `30m`.")
                    },
                    description: Description::markdown("Operation timeouts."),
                    ..Default::default()
                })
            },
            description: Description::markdown(
                "Starts a list of ECS servers through the batch start API, in batches of at most 1000 paced to the provider's `start_rate_limit`, waits on the jobs, and records the job ids and per-server outcomes.",
            ),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_lists_are_named_after_their_fields() {
        let state = BatchStartState {
            job_ids: Value::Unknown,
            failed_server_ids: Value::Value(vec![]),
            ..Default::default()
        };
        let schema = batch_start_schema();
        for (name, list) in state.computed_lists() {
            assert!(schema.block.attributes.contains_key(name), "{name}");
            let expected = match name {
                "job_ids" => &state.job_ids,
                "failed_server_ids" => &state.failed_server_ids,
                _ => &Value::Null,
            };
            assert_eq!(list, expected, "{name}");
        }
    }
}
