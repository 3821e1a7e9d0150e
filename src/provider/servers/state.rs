//! The state of `ecs_servers`: one field per attribute of the schema, nothing else, and one
//! [`ServerRow`] per field of a `servers` element.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
    /// Sorted by key; a map to Terraform. Pairs rather than a `BTreeMap`, whose smallest
    /// node holds room for eleven entries: for 100,000 servers that is tens of MB.
    #[serde(serialize_with = "pairs_as_map", deserialize_with = "map_as_pairs")]
    pub tags: Vec<(String, String)>,
    pub private_ips: Vec<String>,
}

fn pairs_as_map<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

fn map_as_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    Ok(BTreeMap::<String, String>::deserialize(d)?
        .into_iter()
        .collect())
}

impl ServerRow {
    /// The row of a listed server, which it consumes.
    pub fn from_listed(s: ListedServer) -> Self {
        let mut tags: Vec<(String, String)> = s
            .tag_pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tags.sort_unstable();
        tags.dedup_by(|a, b| a.0 == b.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_a_sorted_map_to_terraform() {
        let listed: ListedServer = serde_json::from_value(serde_json::json!({
            "id": "a", "tags": ["team=web", "env=prod", "bare"]
        }))
        .expect("listed");
        let row = ServerRow::from_listed(listed);
        let json = serde_json::to_value(&row).expect("serializes");
        assert_eq!(
            json["tags"],
            serde_json::json!({"bare": "", "env": "prod", "team": "web"})
        );
        assert_eq!(row.tags[0].0, "bare");
        let back: ServerRow = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, row);
    }
}
