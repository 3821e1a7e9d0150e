//! The attributes every batch resource declares, described in its words. Each resource adds
//! its own (its outcome lists, `force`, …) and may replace a shared one's description.

use std::collections::HashMap;

use tf_provider::map;
use tf_provider::schema::{Attribute, AttributeType, Block, Description, NestedBlock, Schema};

use super::{Names, DEFAULT_CREATE_TIMEOUT};
use crate::provider::attributes::{computed, optional, optional_computed, required};

/// A string list, the type of every id list.
pub fn id_list_type() -> AttributeType {
    AttributeType::List(Box::new(AttributeType::String))
}

/// The schema of a batch resource: the shared attributes and the `timeouts` block, then
/// `own` (added, or replacing a shared attribute of the same name). Descriptions are the
/// source of the resource's page under `docs/resources/`.
pub fn batch_schema(
    names: &Names,
    description: &str,
    own: HashMap<&'static str, Attribute>,
) -> Schema {
    let mut attributes = shared_attributes(names);
    attributes.extend(own.into_iter().map(|(k, v)| (k.to_string(), v)));
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes,
            blocks: map! { "timeouts" => timeouts_block(names) },
            description: Description::markdown(description),
            ..Default::default()
        },
    }
}

fn shared_attributes(names: &Names) -> HashMap<String, Attribute> {
    use AttributeType::{Bool, Map, String};
    let (verb, done) = (names.verb(), names.done_list);
    map! {
        "id" => computed(String,
            &format!("Identifier of this {verb}, a random UUID chosen at create.")),
        "server_ids" => required(id_list_type(),
            &format!("Ids (UUIDs) of the servers to {verb}: 1 to 10,000 of them, without duplicates (compared case-insensitively). Changing the members re-runs the {verb}; reordering them changes nothing.")),
        "triggers" => optional(Map(Box::new(String)),
            &format!("Arbitrary strings; any change re-runs the {verb} (for example a release version).")),
        "wait" => optional_computed(Bool,
            &format!("Wait until every {verb} job finishes, and report per-server outcomes. Default `true`. With `false`, apply returns once the batches are accepted and `{done}` lists the servers submitted.")),
        "job_ids" => computed(id_list_type(),
            &format!("Ids of the {verb} jobs, one per batch of at most 1000 servers, in submission order. Kept in state even when apply fails or is interrupted.")),
        "failed_server_ids" => computed(id_list_type(),
            &format!("Servers that failed to {verb} (sorted). The apply error gives each one's error code and reason."))
    }
}

fn timeouts_block(names: &Names) -> NestedBlock {
    NestedBlock::Optional(Block {
        version: 0,
        attributes: map! {
            "create" => optional(AttributeType::String,
                &format!("How long apply waits for the {} jobs, such as `30m` or `1h`. Default `{DEFAULT_CREATE_TIMEOUT}`.", names.verb()))
        },
        description: Description::markdown("Operation timeouts."),
        ..Default::default()
    })
}
