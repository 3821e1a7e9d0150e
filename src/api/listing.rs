//! Listing servers by filter: `GET /v1/{project_id}/cloudservers/detail` with a
//! [`ServerQuery`], one page at a time ([`EcsClient::list_servers`]) or every page
//! ([`EcsClient::list_all_servers`]).
//!
//! Why this call: v1 pages up to 1000 servers a call with `marker` paging, so 100,000
//! servers take 100 calls. The newer `GET /v1.1/…/cloudservers/detail` pages at most 100 a
//! call (1,000 calls for the same fleet), and the tag query API
//! (`POST …/cloudservers/resource_instances/action`) is deprecated. The deprecated `offset`
//! (a page number) is not used: a server created or deleted between two pages shifts every
//! later page, while a marker (the id of the last server seen) does not.
//!
//! Pages are read into [`ListedServer`], which keeps only the fields a caller selects on:
//! the rest of each `ServerDetail` is skipped while parsing, and each page is handed to the
//! caller and dropped before the next is asked for.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::client::EcsClient;
use super::error::{truncate_lossy, ApiError, MAX_RAW_BODY};
use super::transport::{Answer, Call};

/// The most servers one page of `cloudservers/detail` holds.
pub const MAX_LIST_LIMIT: u32 = 1000;

/// The filters of `GET /v1/{project_id}/cloudservers/detail`, each sent as the API names it
/// when set. What each means is the service's (`ecs-api.md` §3.2–3.3): `name` is a fuzzy
/// match, `status` has aliases, `ip` is fuzzy and `ip_eq` exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerQuery {
    pub name: Option<String>,
    pub status: Option<String>,
    /// `tags=key=value`, one parameter per pair: servers whose tags contain it.
    pub tags: Vec<(String, String)>,
    /// `not-tags=key=value`, one parameter per pair.
    pub not_tags: Vec<(String, String)>,
    /// One enterprise project id, or `all_granted_eps`.
    pub enterprise_project_id: Option<String>,
    /// `flavor`: a flavor id.
    pub flavor: Option<String>,
    pub ip: Option<String>,
    pub ip_eq: Option<String>,
    pub reservation_id: Option<String>,
    /// Servers per page, 1 to [`MAX_LIST_LIMIT`]; 0 means [`MAX_LIST_LIMIT`].
    pub limit: u32,
}

impl ServerQuery {
    /// The page size sent: `limit`, or the most the API allows when it is 0.
    pub fn page_size(&self) -> u32 {
        if self.limit == 0 {
            MAX_LIST_LIMIT
        } else {
            self.limit
        }
    }

    /// The query parameters of the page after `marker` (the first page without one).
    pub fn parameters(&self, marker: Option<&str>) -> Vec<(String, String)> {
        let mut q = Vec::new();
        let mut push = |k: &str, v: &str| q.push((k.to_string(), v.to_string()));
        let singles = [
            ("name", &self.name),
            ("status", &self.status),
            ("enterprise_project_id", &self.enterprise_project_id),
            ("flavor", &self.flavor),
            ("ip", &self.ip),
            ("ip_eq", &self.ip_eq),
            ("reservation_id", &self.reservation_id),
        ];
        for (k, v) in singles {
            if let Some(v) = v {
                push(k, v);
            }
        }
        for (k, v) in &self.tags {
            push("tags", &format!("{k}={v}"));
        }
        for (k, v) in &self.not_tags {
            push("not-tags", &format!("{k}={v}"));
        }
        push("limit", &self.page_size().to_string());
        if let Some(m) = marker {
            push("marker", m);
        }
        q
    }

    fn check(&self) -> Result<(), ApiError> {
        if self.limit > MAX_LIST_LIMIT {
            return Err(ApiError::InvalidArgument(format!(
                "a server list takes a limit of 1 to {MAX_LIST_LIMIT}, got {}",
                self.limit
            )));
        }
        Ok(())
    }
}

/// One page: `count` (the servers matching, as the service counts them) and its servers.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServerPage {
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub servers: Vec<ListedServer>,
}

/// The fields of a `ServerDetail` a listing selects on; the others are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ListedServer {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub flavor: Option<FlavorRef>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// `"key=value"` strings (`"key"` alone for a tag without a value).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Per network, its addresses.
    #[serde(default)]
    pub addresses: Option<BTreeMap<String, Vec<ListedAddress>>>,
}

/// `flavor` of a server: only its id is read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FlavorRef {
    #[serde(default)]
    pub id: Option<String>,
}

/// One address of `addresses`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ListedAddress {
    #[serde(default)]
    pub addr: Option<String>,
    /// `fixed` (private) or `floating`.
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub ip_type: Option<String>,
}

impl ListedServer {
    /// The tags as pairs; a tag without `=` has an empty value.
    pub fn tag_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags
            .iter()
            .flatten()
            .map(|t| t.split_once('=').unwrap_or((t.as_str(), "")))
    }

    /// The private (`fixed`) IP addresses, in the answer's order (networks by name). An
    /// address without a type counts as private, as on networks that do not say.
    pub fn private_ips(&self) -> Vec<String> {
        self.addresses
            .iter()
            .flat_map(BTreeMap::values)
            .flatten()
            .filter(|a| a.ip_type.as_deref().is_none_or(|t| t == "fixed"))
            .filter_map(|a| a.addr.clone())
            .collect()
    }
}

impl EcsClient {
    /// One page of `GET /v1/{project_id}/cloudservers/detail`: the servers after `marker`
    /// matching `query`.
    pub async fn list_servers(
        &self,
        query: &ServerQuery,
        marker: Option<&str>,
    ) -> Result<ServerPage, ApiError> {
        query.check()?;
        let path = format!("{}/cloudservers/detail", self.project_path()?);
        let call = Call::ecs_get(path, query.parameters(marker));
        let answer = self.execute(&call).await?;
        self.parse_page(&call, &answer)
    }

    /// Every page of `query`, each handed to `on_page` as it comes; returns how many pages
    /// were read. Paging follows the marker until a page is short, or until the servers
    /// seen reach the answer's `count` (the total matching), which saves the empty page
    /// after a last full one. A `count` equal to its own page's length could be that page's
    /// count rather than the total, so it never ends the listing. A page whose last id is
    /// the marker it was asked after is an `InvalidResponse` (it would loop forever).
    pub async fn list_all_servers<F>(
        &self,
        query: &ServerQuery,
        mut on_page: F,
    ) -> Result<u64, ApiError>
    where
        F: FnMut(Vec<ListedServer>) + Send,
    {
        let size = query.page_size() as usize;
        let mut marker: Option<String> = None;
        let (mut pages, mut seen) = (0, 0u64);
        loop {
            let page = self.list_servers(query, marker.as_deref()).await?;
            pages += 1;
            let len = page.servers.len() as u64;
            seen += len;
            let all_seen = page.count.is_some_and(|c| c != len && seen >= c);
            let full = len >= size as u64 && !all_seen;
            let last = page.servers.last().map(|s| s.id.clone());
            on_page(page.servers);
            match last {
                Some(last) if full => {
                    if marker.as_deref() == Some(last.as_str()) {
                        return Err(ApiError::InvalidResponse {
                            method: "GET".into(),
                            path: "cloudservers/detail".into(),
                            message: format!("the list did not advance past marker {last}"),
                            request_id: None,
                        });
                    }
                    marker = Some(last);
                }
                _ => return Ok(pages),
            }
        }
    }

    /// A page's JSON, parsed straight into [`ServerPage`]: no intermediate JSON tree of the
    /// whole page is built.
    fn parse_page(&self, call: &Call, answer: &Answer) -> Result<ServerPage, ApiError> {
        let starts_as_object = answer
            .body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{');
        let parsed = if starts_as_object {
            serde_json::from_slice(&answer.body).map_err(|e| e.to_string())
        } else {
            Err("not a JSON object".to_string())
        };
        parsed.map_err(|e| {
            let message = format!(
                "HTTP {} with a body that is not a server list ({e}): {}",
                answer.status,
                truncate_lossy(&answer.body, MAX_RAW_BODY)
            );
            self.invalid_answer(call, message, answer.request_id.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_name_each_filter_as_the_api_does() {
        let q = ServerQuery {
            name: Some("web-.".into()),
            status: Some("ACTIVE".into()),
            tags: vec![
                ("env".into(), "staging".into()),
                ("team".into(), "a".into()),
            ],
            not_tags: vec![("keep".into(), "yes".into())],
            ip_eq: Some("10.0.0.1".into()),
            ..ServerQuery::default()
        };
        let p = q.parameters(Some("m-1"));
        let has = |k: &str, v: &str| p.iter().any(|(a, b)| a == k && b == v);
        assert!(has("name", "web-."));
        assert!(has("status", "ACTIVE"));
        assert!(has("tags", "env=staging") && has("tags", "team=a"));
        assert!(has("not-tags", "keep=yes"));
        assert!(has("ip_eq", "10.0.0.1"));
        assert!(has("limit", "1000"));
        assert!(has("marker", "m-1"));
        assert_eq!(p.len(), 8, "{p:?}");
        assert!(!ServerQuery::default()
            .parameters(None)
            .iter()
            .any(|(k, _)| k == "marker"));
    }

    #[test]
    fn a_listed_server_keeps_only_what_it_selects_on() {
        let s: ListedServer = serde_json::from_str(
            r#"{"id":"a","name":"web-1","status":"ACTIVE","flavor":{"id":"s6.small.1","name":"x"},
               "OS-EXT-AZ:availability_zone":"az1","enterprise_project_id":"0",
               "tags":["env=prod","bare"],"metadata":{"k":"v"},"locked":false,
               "addresses":{"net":[{"addr":"10.0.0.5","OS-EXT-IPS:type":"fixed","version":4},
                                   {"addr":"1.2.3.4","OS-EXT-IPS:type":"floating","version":4}]}}"#,
        )
        .expect("parses");
        assert_eq!(s.private_ips(), vec!["10.0.0.5".to_string()]);
        let tags: Vec<_> = s.tag_pairs().collect();
        assert_eq!(tags, vec![("env", "prod"), ("bare", "")]);
        assert_eq!(s.flavor.and_then(|f| f.id).as_deref(), Some("s6.small.1"));
    }

    #[test]
    fn a_limit_over_the_maximum_is_refused_before_sending() {
        let q = ServerQuery {
            limit: 1001,
            ..ServerQuery::default()
        };
        assert!(q.check().is_err());
        assert_eq!(ServerQuery::default().page_size(), MAX_LIST_LIMIT);
    }
}
