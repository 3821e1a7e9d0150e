//! The schema of `ecs_servers`. Descriptions are the source of `docs/data-sources/servers.md`.

use tf_provider::map;
use tf_provider::schema::{AttributeType, Block, Description, Schema};

use crate::provider::attributes::{computed, optional};
use crate::provider::batch::id_list_type;

/// The type of one element of `servers`.
pub fn server_object_type() -> AttributeType {
    use AttributeType::{List, Map, Object, String};
    Object(map! {
        "id" => String,
        "name" => String,
        "status" => String,
        "flavor_id" => String,
        "availability_zone" => String,
        "enterprise_project_id" => String,
        "tags" => Map(Box::new(String)),
        "private_ips" => List(Box::new(String))
    })
}

pub fn servers_schema() -> Schema {
    use AttributeType::{Bool, List, Map, String};
    let tag_map = || Map(Box::new(String));
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes: map! {
                "name" => optional(String,
                    "Servers whose name matches, as the API matches names: a fuzzy match in which `.` stands for any one character (`web-.` matches `web-1` and `big-web-2x`). Sent to the API."),
                "name_regex" => optional(String,
                    "A regular expression (Rust `regex` syntax) that names must match, applied on the provider's side; unanchored, so write `^web-[0-9]+$` to match whole names."),
                "status" => optional(String,
                    "Exactly this status, such as `SHUTOFF` or `ACTIVE`. Sent to the API, whose filter also returns other statuses (`ACTIVE` also returns `REBOOT`, `HARD_REBOOT`, `REBUILD`, `MIGRATING`, `RESIZE`; `SHUTOFF` also `RESIZE`, `REBUILD`): those are removed."),
                "tags" => optional(tag_map(),
                    "Servers carrying every one of these tags (key and value). Sent to the API and checked again on the provider's side."),
                "not_tags" => optional(tag_map(),
                    "Servers carrying none of these tags (key and value). Sent to the API (`not-tags`) and checked again on the provider's side."),
                "enterprise_project_id" => optional(String,
                    "Servers of this enterprise project, or `all_granted_eps` for every project the credentials may see. Sent to the API."),
                "flavor_id" => optional(String,
                    "Servers of this flavor, such as `s6.small.1`. Sent to the API (`flavor`)."),
                "availability_zone" => optional(String,
                    "Servers in this availability zone, such as `cn-north-4a`. Applied on the provider's side (the listing API has no zone filter)."),
                "private_ip" => optional(String,
                    "Servers with this private IPv4 address, matched exactly. Sent to the API (`ip_eq`)."),
                "details" => optional(Bool,
                    "Whether `servers` is filled in. Default `true`. With `false` it is an empty list and only `ids` is returned: Terraform keeps every detail in state and takes seconds to handle those of 100,000 servers, so a large selection that only feeds `server_ids` reads faster without them."),
                "ids" => computed(id_list_type(),
                    "Ids of the servers selected, sorted: ready for `server_ids`, or for `chunklist(…, 10000)` and `for_each` beyond 10,000 servers. Empty when nothing matches."),
                "servers" => computed(List(Box::new(server_object_type())),
                    "The servers selected, in the order of `ids` (empty with `details = false`): each with `id`, `name`, `status`, `flavor_id`, `availability_zone`, `enterprise_project_id`, `tags` (a map) and `private_ips` (its private, `fixed`, IPv4 addresses). Empty when nothing matches.")
            },
            description: Description::markdown(
                "Selects servers by name, tag, status, flavor, availability zone, enterprise project or private IP, every filter given having to match, and returns their ids (sorted) and details. Reads during `terraform plan`: the provider's credentials are needed at plan time.",
            ),
            ..Default::default()
        },
    }
}
