//! The filters of `ecs_servers`: their checks (at validate, each error at its attribute),
//! what is sent to the API ([`ServerQuery`]) and what is checked again on our side
//! ([`Filters::keeps`]).
//!
//! Sent to the API, and checked again here where the API's meaning is looser than ours:
//! `status` (the API's aliases are removed), `tags` and `not_tags` (how the service
//! combines several pairs is not documented), `enterprise_project_id` (unless
//! `all_granted_eps`), `flavor_id` (as `flavor`) and `private_ip` (as `ip_eq`). Sent only:
//! `name` (the API's own fuzzy match). Applied only here: `name_regex` and
//! `availability_zone` (v1 listing has no zone filter).

use std::net::Ipv4Addr;

use regex::Regex;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::state::{ServersState, StringMap};
use crate::api::{ListedServer, ServerQuery};
use crate::provider::attributes::reject_configured;

/// The statuses the list API filters on.
pub const STATUSES: &[&str] = &[
    "ACTIVE",
    "BUILD",
    "DELETED",
    "ERROR",
    "HARD_REBOOT",
    "MIGRATING",
    "REBOOT",
    "RESIZE",
    "REVERT_RESIZE",
    "SHELVED",
    "SHELVED_OFFLOADED",
    "SHUTOFF",
    "UNKNOWN",
    "VERIFY_RESIZE",
];

/// The enterprise project value that lists every project the caller may see.
const ALL_PROJECTS: &str = "all_granted_eps";

/// The filters of one read, checked.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub query: ServerQuery,
    name_regex: Option<Regex>,
    availability_zone: Option<String>,
}

/// Validate: every known filter checked, each error at its attribute; unknown values wait
/// for the read.
pub fn check(state: &ServersState, diags: &mut Diagnostics) {
    reject_configured("ids", &state.ids, diags);
    reject_configured("servers", &state.servers, diags);
    let _ = resolve(state, false, diags);
}

/// Read: the filters, or `None` after an error at the attribute that is wrong (or, with
/// `at_read`, not known).
pub fn resolve(state: &ServersState, at_read: bool, diags: &mut Diagnostics) -> Option<Filters> {
    let before = diags.errors.len();
    let name_regex = known("name_regex", &state.name_regex, at_read, diags).and_then(|r| {
        let why = |e: regex::Error| format!("not a regular expression: {e}");
        Regex::new(&r)
            .map_err(|e| bad::<()>("name_regex", &r, &why(e), diags))
            .ok()
    });
    let mut text =
        |name: &'static str, v: &Value<String>, check: fn(&str) -> Result<(), String>| {
            let value = known(name, v, at_read, diags)?;
            match check(&value) {
                Ok(()) => Some(value),
                Err(why) => bad(name, &value, &why, diags),
            }
        };
    let mut query = ServerQuery {
        name: text("name", &state.name, not_blank),
        status: text("status", &state.status, known_status),
        enterprise_project_id: text(
            "enterprise_project_id",
            &state.enterprise_project_id,
            one_word,
        ),
        flavor: text("flavor_id", &state.flavor_id, one_word),
        ip_eq: text("private_ip", &state.private_ip, ipv4),
        ..ServerQuery::default()
    };
    let availability_zone = text("availability_zone", &state.availability_zone, one_word);
    query.tags = pairs("tags", &state.tags, at_read, diags);
    query.not_tags = pairs("not_tags", &state.not_tags, at_read, diags);
    let filters = Filters {
        query,
        name_regex,
        availability_zone,
    };
    (diags.errors.len() == before).then_some(filters)
}

impl Filters {
    /// Whether a server the API returned passes the filters checked on our side.
    pub fn keeps(&self, s: &ListedServer) -> bool {
        let q = &self.query;
        let has = |(k, v): &(String, String)| s.tag_pairs().any(|(a, b)| a == k && b == v);
        let ep = q
            .enterprise_project_id
            .as_deref()
            .filter(|e| *e != ALL_PROJECTS);
        same(&q.status, &s.status)
            && q.tags.iter().all(has)
            && !q.not_tags.iter().any(has)
            && ep.is_none_or(|e| s.enterprise_project_id.as_deref() == Some(e))
            && same(&q.flavor, &s.flavor.as_ref().and_then(|f| f.id.clone()))
            && same(&self.availability_zone, &s.availability_zone)
            && q.ip_eq
                .as_ref()
                .is_none_or(|ip| s.private_ips().contains(ip))
            && self
                .name_regex
                .as_ref()
                .is_none_or(|r| s.name.as_deref().is_some_and(|n| r.is_match(n)))
    }
}

/// An unset filter passes everything; a set one needs the same value.
fn same(filter: &Option<String>, value: &Option<String>) -> bool {
    filter.is_none() || filter == value
}

/// The value when known; `None` when null, or unknown (an error at read).
fn known(
    name: &'static str,
    v: &Value<String>,
    at_read: bool,
    diags: &mut Diagnostics,
) -> Option<String> {
    match v {
        Value::Value(s) => Some(s.clone()),
        Value::Null => None,
        Value::Unknown => {
            if at_read {
                diags.error_short(format!("{name} is not known"), AttributePath::new(name));
            }
            None
        }
    }
}

fn bad<T>(name: &'static str, value: &str, why: &str, diags: &mut Diagnostics) -> Option<T> {
    diags.error(
        format!("Invalid {name}"),
        format!("`{name}` = {value:?}: {why}."),
        AttributePath::new(name),
    );
    None
}

/// The known pairs of a tag map, sorted by key; errors at each bad key.
fn pairs(
    name: &'static str,
    map: &StringMap,
    at_read: bool,
    diags: &mut Diagnostics,
) -> Vec<(String, String)> {
    let entries = match map {
        Value::Value(m) => m,
        Value::Null => return Vec::new(),
        Value::Unknown => {
            let _ = known(name, &Value::Unknown, at_read, diags);
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        if k.trim().is_empty() || k.contains('=') {
            diags.error(
                format!("Invalid {name}"),
                format!("`{name}` key {k:?}: a tag key is not empty and has no `=`."),
                AttributePath::new(name).key(k.clone()),
            );
        } else if let Some(v) = known(name, v, at_read, diags) {
            out.push((k.clone(), v));
        }
    }
    out
}

fn not_blank(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        Err("it is empty; leave it out to select every name".into())
    } else {
        Ok(())
    }
}

fn one_word(s: &str) -> Result<(), String> {
    not_blank(s)?;
    match s.chars().any(|c| c.is_whitespace() || c == ',') {
        true => Err("it holds a space or a comma; give one value".into()),
        false => Ok(()),
    }
}

fn known_status(s: &str) -> Result<(), String> {
    match STATUSES.contains(&s) {
        true => Ok(()),
        false => Err(format!("expected one of {}", STATUSES.join(", "))),
    }
}

fn ipv4(s: &str) -> Result<(), String> {
    s.parse::<Ipv4Addr>()
        .map(|_| ())
        .map_err(|_| "not an IPv4 address such as 192.168.0.10".into())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::provider::error_text;

    fn tags(pairs: &[(&str, &str)]) -> StringMap {
        let m: BTreeMap<String, Value<String>> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Value(v.to_string())))
            .collect();
        Value::Value(m)
    }

    fn listed(json: serde_json::Value) -> ListedServer {
        serde_json::from_value(json).expect("a listed server")
    }

    #[test]
    fn bad_values_are_refused_naming_the_attribute_and_value() {
        let state = ServersState {
            name_regex: Value::Value("web-(".into()),
            status: Value::Value("RUNNING".into()),
            private_ip: Value::Value("10.0.0".into()),
            tags: tags(&[("", "x")]),
            ids: Value::Value(Vec::new()),
            ..ServersState::default()
        };
        let mut d = Diagnostics::default();
        check(&state, &mut d);
        let e = error_text(&d);
        assert_eq!(d.errors.len(), 5, "{e}");
        assert!(
            e.contains("Invalid name_regex | `name_regex` = \"web-(\": not a regular expression"),
            "{e}"
        );
        assert!(
            e.contains("Invalid status | `status` = \"RUNNING\": expected one of ACTIVE"),
            "{e}"
        );
        assert!(e.contains("Invalid private_ip"), "{e}");
        assert!(e.contains("Invalid tags"), "{e}");
        assert!(e.contains("`ids` is set by the provider"), "{e}");
    }

    #[test]
    fn unknown_values_wait_for_the_read() {
        let state = ServersState {
            name_regex: Value::Unknown,
            tags: Value::Unknown,
            ..ServersState::default()
        };
        let mut d = Diagnostics::default();
        check(&state, &mut d);
        assert!(d.errors.is_empty(), "{}", error_text(&d));
        assert!(resolve(&state, true, &mut d).is_none());
        assert!(error_text(&d).contains("name_regex is not known"));
    }

    #[test]
    fn what_the_api_returns_is_checked_again_here() {
        let state = ServersState {
            status: Value::Value("ACTIVE".into()),
            tags: tags(&[("env", "prod")]),
            not_tags: tags(&[("keep", "yes")]),
            name_regex: Value::Value("^web-[0-9]+$".into()),
            availability_zone: Value::Value("az1".into()),
            ..ServersState::default()
        };
        let f = resolve(&state, true, &mut Diagnostics::default()).expect("valid");
        assert_eq!(f.query.status.as_deref(), Some("ACTIVE"));
        let base = serde_json::json!({"id": "a", "name": "web-1", "status": "ACTIVE",
            "tags": ["env=prod"], "OS-EXT-AZ:availability_zone": "az1"});
        assert!(f.keeps(&listed(base.clone())));
        let with = |k: &str, v: serde_json::Value| {
            let mut j = base.clone();
            j[k] = v;
            f.keeps(&listed(j))
        };
        assert!(
            !with("status", "REBOOT".into()),
            "the API's alias is removed"
        );
        assert!(!with("name", "web-1x".into()));
        assert!(!with("tags", serde_json::json!(["env=prod", "keep=yes"])));
        assert!(!with("tags", serde_json::json!(["env=staging"])));
        assert!(!with("OS-EXT-AZ:availability_zone", "az2".into()));
    }
}
