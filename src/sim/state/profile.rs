//! What a server is besides its power state and name: tags, flavor, availability zone,
//! enterprise project and private IP. Generated fleets deal these out from the `fleet_*`
//! knobs; loaded servers take them from their spec. Strings a fleet shares are shared
//! (`Arc`), so 100,000 generated servers cost little more than their ids.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::api::models::{ServerAddress, ServerFlavor};
use crate::sim::config::ServerSpec;
use crate::sim::knobs::{parse_tag_set, Knobs};

/// The network name the private address is served under in `addresses`.
const NETWORK: &str = "ecs-sim-net";

#[derive(Debug, Clone)]
pub(super) struct Profile {
    /// `"key=value"` strings, as served.
    pub tags: Arc<[Arc<str>]>,
    pub flavor: Arc<str>,
    pub availability_zone: Arc<str>,
    pub enterprise_project_id: Arc<str>,
    pub private_ip: Ipv4Addr,
}

/// The `fleet_*` knobs, parsed once for a generation run.
pub(super) struct FleetShape {
    name_pattern: String,
    tag_sets: Vec<Arc<[Arc<str>]>>,
    flavors: Vec<Arc<str>>,
    zones: Vec<Arc<str>>,
    projects: Vec<Arc<str>>,
}

impl FleetShape {
    pub fn from_knobs(k: &Knobs) -> Self {
        let tag_sets = k
            .fleet_tags
            .iter()
            .map(|set| {
                let pairs = parse_tag_set(set).unwrap_or_default();
                pairs.iter().map(|(k, v)| tag(k, v)).collect()
            })
            .collect();
        Self {
            name_pattern: k.fleet_name_pattern.clone(),
            tag_sets,
            flavors: shared(&k.fleet_flavors, "s6.small.1"),
            zones: shared(&k.fleet_availability_zones, "cn-north-4a"),
            projects: shared(&k.fleet_enterprise_projects, "0"),
        }
    }

    pub fn name(&self, i: usize) -> String {
        self.name_pattern.replace("{i}", &i.to_string())
    }

    /// The profile of generated server `i`.
    pub fn profile(&self, i: usize) -> Profile {
        let pick = |v: &[Arc<str>]| v[i % v.len()].clone();
        Profile {
            tags: match self.tag_sets.len() {
                0 => Arc::from(Vec::new()),
                n => self.tag_sets[i % n].clone(),
            },
            flavor: pick(&self.flavors),
            availability_zone: pick(&self.zones),
            enterprise_project_id: pick(&self.projects),
            private_ip: ip_for_index(i),
        }
    }

    /// The profile of a loaded server at position `i`: its spec's values; for what the
    /// spec leaves out, those of `current` (the server it resets, if any), else the first
    /// of each knob list. Re-posting a server to change its status keeps its tags.
    pub fn profile_of_spec(&self, s: &ServerSpec, current: Option<&Profile>, i: usize) -> Profile {
        let pick = |v: &Option<String>, now: Option<&Arc<str>>, list: &[Arc<str>]| match v {
            Some(x) => Arc::from(x.as_str()),
            None => now.unwrap_or(&list[0]).clone(),
        };
        let tags = match &s.tags {
            Some(t) => t.iter().map(|(k, v)| tag(k, v)).collect(),
            None => current.map_or_else(|| Arc::from(Vec::new()), |c| c.tags.clone()),
        };
        Profile {
            tags,
            flavor: pick(&s.flavor_id, current.map(|c| &c.flavor), &self.flavors),
            availability_zone: pick(
                &s.availability_zone,
                current.map(|c| &c.availability_zone),
                &self.zones,
            ),
            enterprise_project_id: pick(
                &s.enterprise_project_id,
                current.map(|c| &c.enterprise_project_id),
                &self.projects,
            ),
            private_ip: s
                .private_ip
                .or(current.map(|c| c.private_ip))
                .unwrap_or_else(|| ip_for_index(i)),
        }
    }
}

impl Profile {
    pub fn has_tag(&self, pair: &str) -> bool {
        self.tags.iter().any(|t| &**t == pair)
    }

    pub fn served_tags(&self) -> Vec<String> {
        self.tags.iter().map(|t| t.to_string()).collect()
    }

    pub fn served_flavor(&self) -> ServerFlavor {
        ServerFlavor {
            id: Some(self.flavor.to_string()),
            name: Some(self.flavor.to_string()),
        }
    }

    /// `addresses`: the private address on one network.
    pub fn served_addresses(&self) -> BTreeMap<String, Vec<ServerAddress>> {
        let fixed = ServerAddress {
            addr: Some(self.private_ip.to_string()),
            version: Some(4),
            ip_type: Some("fixed".into()),
        };
        BTreeMap::from([(NETWORK.to_string(), vec![fixed])])
    }
}

fn tag(k: &str, v: &str) -> Arc<str> {
    Arc::from(format!("{k}={v}"))
}

fn shared(list: &[String], fallback: &str) -> Vec<Arc<str>> {
    let v: Vec<Arc<str>> = list.iter().map(|s| Arc::from(s.as_str())).collect();
    if v.is_empty() {
        vec![Arc::from(fallback)]
    } else {
        v
    }
}

/// `10.0.0.0` + `i + 1`, wrapping inside `10.0.0.0/8`.
fn ip_for_index(i: usize) -> Ipv4Addr {
    let host = ((i as u32).wrapping_add(1)) & 0x00ff_ffff;
    Ipv4Addr::from(0x0a00_0000 | host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fleet_deals_its_knobs_out_by_index() {
        let knobs = Knobs {
            fleet_name_pattern: "web-{i}".into(),
            fleet_tags: vec!["env=prod+team=a".into(), "-".into()],
            fleet_flavors: vec!["f1".into(), "f2".into(), "f3".into()],
            ..Knobs::default()
        };
        let shape = FleetShape::from_knobs(&knobs);
        assert_eq!(shape.name(7), "web-7");
        let p = shape.profile(2);
        assert_eq!(p.served_tags(), vec!["env=prod", "team=a"]);
        assert!(p.has_tag("team=a") && !p.has_tag("team=b"));
        assert_eq!(&*p.flavor, "f3");
        assert_eq!(&*p.availability_zone, "cn-north-4a");
        assert_eq!(&*p.enterprise_project_id, "0");
        assert_eq!(p.private_ip, Ipv4Addr::new(10, 0, 0, 3));
        assert!(shape.profile(3).tags.is_empty());
        assert_eq!(ip_for_index(99_999), Ipv4Addr::new(10, 1, 134, 160));
    }
}
