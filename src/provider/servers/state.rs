//! The state of `ecs_servers`: one field per attribute of the schema, nothing else, and one
//! [`ServerRow`] per field of a `servers` element.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tf_provider::value::Value;

use crate::api::ListedServer;
use crate::provider::ids::IdList;

/// A string map as configured: the map or any value may be unknown at validate.
pub type StringMap = Value<BTreeMap<String, Value<String>>>;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ServersState {
    pub name: Value<String>,
    pub name_regex: Value<String>,
    pub status: Value<String>,
    pub tags: StringMap,
    pub not_tags: StringMap,
    pub enterprise_project_id: Value<String>,
    pub flavor_id: Value<String>,
    pub availability_zone: Value<String>,
    pub private_ip: Value<String>,
    pub details: Value<bool>,
    pub ids: IdList,
    pub servers: Value<Vec<ServerRow>>,
}

/// One element of `servers`. A field the API left out is null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRow {
    pub id: String,
    pub name: Value<String>,
    pub status: Value<String>,
    pub flavor_id: Value<String>,
    pub availability_zone: Value<String>,
    pub enterprise_project_id: Value<String>,
    pub tags: BTreeMap<String, String>,
    pub private_ips: Vec<String>,
}

impl ServerRow {
    /// The row of a listed server, which it consumes.
    pub fn from_listed(s: ListedServer) -> Self {
        let tags = s
            .tag_pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let private_ips = s.private_ips();
        Self {
            id: s.id,
            name: s.name.into(),
            status: s.status.into(),
            flavor_id: s.flavor.and_then(|f| f.id).into(),
            availability_zone: s.availability_zone.into(),
            enterprise_project_id: s.enterprise_project_id.into(),
            tags,
            private_ips,
        }
    }
}
