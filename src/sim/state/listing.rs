//! Listing by filter (`GET /v1/{project_id}/cloudservers/detail` without `server_id`): the
//! filters with the service's documented meanings (`ecs-api.md` §3.2–3.3), and paging by
//! page number (`offset`) or by `marker`.

use super::servers::Server;
use super::State;
use crate::api::models::ServerDetail;

/// The filters of one listing; every one set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Fuzzy: the name contains it, `.` matching any one character.
    pub name: Option<String>,
    /// With the service's aliases ([`status_matches`]).
    pub status: Option<String>,
    /// `key=value` pairs the server's tags must all contain.
    pub tags: Vec<String>,
    /// `key=value` pairs the server's tags must contain none of.
    pub not_tags: Vec<String>,
    /// One enterprise project id; `all_granted_eps` matches every one.
    pub enterprise_project_id: Option<String>,
    /// A flavor id.
    pub flavor: Option<String>,
    /// Fuzzy: the private IP contains it.
    pub ip: Option<String>,
    /// Exact private IP.
    pub ip_eq: Option<String>,
    /// No simulated server was created with a reservation: matches none.
    pub reservation_id: Option<String>,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// `offset`: the page number, from 1.
    Page(usize),
    /// `marker`: after this server (in creation order), whether or not it still matches.
    After(String),
}

impl ListFilter {
    fn matches(&self, s: &Server) -> bool {
        let p = &s.profile;
        let ep = self.enterprise_project_id.as_deref();
        self.reservation_id.is_none()
            && self
                .name
                .as_deref()
                .is_none_or(|n| fuzzy_contains(&s.name, n))
            && self
                .status
                .as_deref()
                .is_none_or(|st| status_matches(st, s.view().status))
            && self.tags.iter().all(|t| p.has_tag(t))
            && !self.not_tags.iter().any(|t| p.has_tag(t))
            && ep.is_none_or(|e| e == "all_granted_eps" || *e == *p.enterprise_project_id)
            && self.flavor.as_deref().is_none_or(|f| f == &*p.flavor)
            && self
                .ip
                .as_deref()
                .is_none_or(|ip| p.private_ip.to_string().contains(ip))
            && self
                .ip_eq
                .as_deref()
                .is_none_or(|ip| p.private_ip.to_string() == ip)
    }
}

/// A status filter matches its own status and, as the service documents, `ACTIVE` also
/// `REBOOT`, `HARD_REBOOT`, `REBUILD`, `MIGRATING` and `RESIZE`, `SHUTOFF` also `RESIZE` and
/// `REBUILD`.
pub fn status_matches(filter: &str, shown: &str) -> bool {
    filter == shown
        || match filter {
            "ACTIVE" => matches!(
                shown,
                "REBOOT" | "HARD_REBOOT" | "REBUILD" | "MIGRATING" | "RESIZE"
            ),
            "SHUTOFF" => matches!(shown, "RESIZE" | "REBUILD"),
            _ => false,
        }
}

/// Whether `pattern` occurs in `name`, `.` in the pattern matching any one character.
pub fn fuzzy_contains(name: &str, pattern: &str) -> bool {
    if !pattern.contains('.') {
        return name.contains(pattern);
    }
    let (n, p): (Vec<char>, Vec<char>) = (name.chars().collect(), pattern.chars().collect());
    p.is_empty()
        || n.windows(p.len())
            .any(|w| w.iter().zip(&p).all(|(c, q)| *q == '.' || c == q))
}

impl State {
    /// One page of the servers matching `filter`, in creation order, and how many match in
    /// all. `Err` names an unknown marker.
    pub fn list_servers(
        &mut self,
        filter: &ListFilter,
        limit: usize,
        paging: &Paging,
    ) -> Result<(u64, Vec<ServerDetail>), String> {
        let now = self.now_ms();
        let first = match paging {
            Paging::Page(_) => 0,
            Paging::After(marker) => match self.index.get(marker.as_str()) {
                Some(&i) => i as usize + 1,
                None => {
                    return Err(format!(
                        "Invalid parameter marker: {marker:?} is not a server."
                    ))
                }
            },
        };
        let mut matching = Vec::new();
        for (i, s) in self.servers.iter_mut().enumerate() {
            s.settle(now);
            if filter.matches(s) {
                matching.push(i);
            }
        }
        let count = matching.len() as u64;
        let skip = match paging {
            Paging::Page(page) => page.saturating_sub(1).saturating_mul(limit),
            Paging::After(_) => matching.partition_point(|&i| i < first),
        };
        let page: Vec<usize> = matching.into_iter().skip(skip).take(limit).collect();
        let items = page.into_iter().map(|i| self.detail_of(i, now)).collect();
        Ok((count, items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::PowerType;
    use crate::sim::config::ServerSpec;
    use crate::sim::knobs::Knobs;
    use crate::sim::state::PowerAction;

    fn spec(id: &str, name: &str, tags: &[(&str, &str)]) -> ServerSpec {
        ServerSpec {
            id: id.into(),
            name: Some(name.into()),
            tags: Some(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ServerSpec::default()
        }
    }

    /// a: web-1 env=prod; b: web-2 env=staging team=x; c: db-1 env=prod, running.
    fn state() -> State {
        let knobs = Knobs {
            start_rate_limit_per_minute: 0,
            reboot_duration_ms: [60_000, 60_000],
            ..Knobs::default()
        };
        let mut state = State::new(knobs);
        let specs = [
            spec("a", "web-1", &[("env", "prod")]),
            spec("b", "web-2", &[("env", "staging"), ("team", "x")]),
            ServerSpec {
                status: "ACTIVE".into(),
                flavor_id: Some("big".into()),
                enterprise_project_id: Some("ep-1".into()),
                ..spec("c", "db-1", &[("env", "prod")])
            },
        ];
        state.load_servers(&specs, false).expect("loads");
        state
    }

    fn ids(state: &mut State, f: ListFilter) -> Vec<String> {
        let (count, page) = state
            .list_servers(&f, 1000, &Paging::Page(1))
            .expect("lists");
        assert_eq!(count as usize, page.len());
        page.into_iter().map(|s| s.id).collect()
    }

    #[test]
    fn filters_have_the_documented_meanings() {
        let mut s = state();
        let f = |name: Option<&str>, tags: &[&str], not: &[&str]| ListFilter {
            name: name.map(Into::into),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            not_tags: not.iter().map(|t| t.to_string()).collect(),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, f(Some("web"), &[], &[])), ["a", "b"]);
        assert_eq!(ids(&mut s, f(Some("b-."), &[], &[])), ["a", "b", "c"]);
        assert_eq!(ids(&mut s, f(Some("x.1"), &[], &[])), Vec::<String>::new());
        assert_eq!(ids(&mut s, f(None, &["env=prod"], &[])), ["a", "c"]);
        assert_eq!(ids(&mut s, f(None, &["env=staging", "team=x"], &[])), ["b"]);
        assert_eq!(
            ids(&mut s, f(None, &["env=prod", "team=x"], &[])),
            Vec::<String>::new()
        );
        assert_eq!(ids(&mut s, f(None, &[], &["env=prod"])), ["b"]);
        let ep = ListFilter {
            enterprise_project_id: Some("ep-1".into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, ep), ["c"]);
        let all = ListFilter {
            enterprise_project_id: Some("all_granted_eps".into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, all).len(), 3);
        let flavor = ListFilter {
            flavor: Some("big".into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, flavor), ["c"]);
        let ip = ListFilter {
            ip: Some("10.0.0.".into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, ip).len(), 3);
        let ip_eq = ListFilter {
            ip_eq: Some("10.0.0.2".into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, ip_eq), ["b"]);
    }

    #[test]
    fn active_also_lists_rebooting_servers() {
        let mut s = state();
        s.submit(PowerAction::Reboot(PowerType::Soft), &["c".to_string()])
            .expect("reboot");
        let status = |st: &str| ListFilter {
            status: Some(st.into()),
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, status("ACTIVE")), ["c"]);
        assert_eq!(ids(&mut s, status("REBOOT")), ["c"]);
        assert_eq!(ids(&mut s, status("SHUTOFF")), ["a", "b"]);
        assert!(status_matches("SHUTOFF", "RESIZE") && !status_matches("SHUTOFF", "REBOOT"));
    }

    #[test]
    fn reloading_a_server_without_tags_keeps_them() {
        let mut s = state();
        let restatus = ServerSpec {
            id: "a".into(),
            status: "ACTIVE".into(),
            ..ServerSpec::default()
        };
        s.load_servers(&[restatus], false).expect("loads");
        let prod = ListFilter {
            tags: vec!["env=prod".into()],
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, prod), ["a", "c"]);
        let cleared = ServerSpec {
            tags: Some(Default::default()),
            ..spec("a", "web-1", &[])
        };
        s.load_servers(&[cleared], false).expect("loads");
        let prod = ListFilter {
            tags: vec!["env=prod".into()],
            ..ListFilter::default()
        };
        assert_eq!(ids(&mut s, prod), ["c"]);
    }

    #[test]
    fn marker_paging_starts_after_the_marker() {
        let mut s = state();
        let all = ListFilter::default();
        let (count, p) = s.list_servers(&all, 2, &Paging::Page(1)).expect("page");
        assert_eq!((count, p.len()), (3, 2));
        let after = Paging::After(p[1].id.clone());
        let (count, p) = s.list_servers(&all, 2, &after).expect("page");
        assert_eq!(count, 3, "count is every match, not what is left");
        assert_eq!(p.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["c"]);
        let prod = ListFilter {
            tags: vec!["env=prod".into()],
            ..ListFilter::default()
        };
        let (_, p) = s
            .list_servers(&prod, 5, &Paging::After("b".into()))
            .expect("page");
        assert_eq!(
            p.len(),
            1,
            "a marker that does not match still places the page"
        );
        assert!(s
            .list_servers(&all, 2, &Paging::After("zz".into()))
            .is_err());
    }
}
