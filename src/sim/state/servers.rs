//! Servers: their power state, the transition under way, how they are served, and loading
//! them from specs.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;
use serde::Serialize;

use super::jobs::Outcome;
use super::power_action::PowerAction;
use super::profile::{FleetShape, Profile};
use super::State;
use crate::api::models::{PowerType, ServerDetail, ServerFault};
use crate::sim::config::{server_id_for_index, ServerSpec};

/// Ends that never come (jobs that never finish).
pub(super) const NEVER: u64 = u64::MAX;

/// The steady power states a server rests in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Active,
    Shutoff,
    Error,
}

impl Power {
    fn parse(s: &str) -> Option<Power> {
        match s {
            "ACTIVE" => Some(Power::Active),
            "SHUTOFF" => Some(Power::Shutoff),
            "ERROR" => Some(Power::Error),
            _ => None,
        }
    }
}

/// A power action under way on one server.
#[derive(Debug, Clone, Copy)]
pub(super) struct Transition {
    pub action: PowerAction,
    pub end_ms: u64,
    /// How its sub-jobs end; on a failure the server stays in the state it started from.
    pub outcome: Outcome,
}

#[derive(Debug)]
pub(super) struct Server {
    pub id: Arc<str>,
    pub name: Box<str>,
    pub power: Power,
    pub locked: bool,
    pub profile: Profile,
    pub transition: Option<Transition>,
    pub updated_ms: u64,
    pub start_count: u32,
    pub stop_count: u32,
    pub reboot_count: u32,
    /// Times it was listed by id (`server_id=`).
    pub read_count: u32,
}

/// How a server's power state is served: the four fields the API shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ServerView {
    /// `status`: `ACTIVE`, `SHUTOFF`, `REBOOT`, …
    pub status: &'static str,
    /// `OS-EXT-STS:task_state`: the transition under way, if any.
    pub task_state: Option<&'static str>,
    /// `OS-EXT-STS:vm_state`.
    pub vm_state: &'static str,
    /// `OS-EXT-STS:power_state`: 1 running, 4 shut off, 0 no state.
    pub power_state: i64,
}

impl ServerView {
    const fn new(
        status: &'static str,
        task_state: Option<&'static str>,
        vm_state: &'static str,
        power_state: i64,
    ) -> Self {
        Self {
            status,
            task_state,
            vm_state,
            power_state,
        }
    }
}

impl Server {
    /// Applies a transition whose end has come.
    pub fn settle(&mut self, now: u64) {
        if let Some(t) = self.transition {
            if now >= t.end_ms {
                if t.outcome == Outcome::Success {
                    self.power = t.action.target();
                }
                self.updated_ms = t.end_ms;
                self.transition = None;
            }
        }
    }

    /// The power fields as served.
    pub fn view(&self) -> ServerView {
        use PowerAction::{Reboot, Start, Stop};
        match (self.power, self.transition.map(|t| t.action)) {
            (Power::Shutoff, Some(Start)) => {
                ServerView::new("SHUTOFF", Some("powering-on"), "stopped", 4)
            }
            (Power::Active, Some(Stop(_))) => {
                ServerView::new("ACTIVE", Some("powering-off"), "active", 1)
            }
            (Power::Active, Some(Reboot(PowerType::Soft))) => {
                ServerView::new("REBOOT", Some("rebooting"), "active", 1)
            }
            (Power::Active, Some(Reboot(PowerType::Hard))) => {
                ServerView::new("HARD_REBOOT", Some("rebooting_hard"), "active", 1)
            }
            (Power::Active, _) => ServerView::new("ACTIVE", None, "active", 1),
            (Power::Shutoff, _) => ServerView::new("SHUTOFF", None, "stopped", 4),
            (Power::Error, _) => ServerView::new("ERROR", None, "error", 0),
        }
    }
}

/// One server for the admin API: as served, with its action counts (sub-jobs received,
/// whatever their outcome).
#[derive(Debug, Clone, Serialize)]
pub struct ServerRecord {
    pub server: ServerDetail,
    pub start_count: u32,
    pub stop_count: u32,
    pub reboot_count: u32,
    /// Times it was listed by id (`server_id=`), for tests that check no server is read
    /// twice.
    pub read_count: u32,
}

/// A validated [`ServerSpec`]: its power state and the transition it is in, if any.
type ParsedSpec<'a> = (&'a ServerSpec, Power, Option<PowerAction>);

/// Checks one spec: a known status, and a task state that fits it.
fn parse_spec(s: &ServerSpec) -> Result<ParsedSpec<'_>, String> {
    if s.id.trim().is_empty() {
        return Err("a server id is empty".into());
    }
    let power = Power::parse(&s.status).ok_or_else(|| {
        format!(
            "server {}: status {:?} is not ACTIVE, SHUTOFF or ERROR",
            s.id, s.status
        )
    })?;
    let action = match (s.task_state.as_deref(), power) {
        (None | Some(""), _) => None,
        (Some("powering-on"), Power::Shutoff) => Some(PowerAction::Start),
        (Some("powering-off"), Power::Active) => Some(PowerAction::Stop(PowerType::Soft)),
        (Some("rebooting"), Power::Active) => Some(PowerAction::Reboot(PowerType::Soft)),
        (Some("rebooting_hard"), Power::Active) => Some(PowerAction::Reboot(PowerType::Hard)),
        (Some(t), _) => {
            return Err(format!(
                "server {}: task_state {t:?} with status {} is not supported \
                 (powering-on needs SHUTOFF; powering-off, rebooting and rebooting_hard \
                 need ACTIVE)",
                s.id, s.status
            ))
        }
    };
    Ok((s, power, action))
}

/// The documented entry for an id a `server_id=` listing does not know.
fn unknown_server(id: &str) -> ServerDetail {
    ServerDetail {
        id: id.to_string(),
        name: None,
        status: None,
        task_state: None,
        vm_state: None,
        power_state: None,
        locked: None,
        fault: Some(ServerFault {
            code: Some(serde_json::json!(404)),
            message: Some(format!("Instance {id} could not be found.")),
            details: None,
            created: None,
        }),
        created: None,
        updated: None,
        tags: None,
        availability_zone: None,
        flavor: None,
        enterprise_project_id: None,
        addresses: None,
        metadata: None,
    }
}

impl State {
    /// Creates `n` stopped servers with the deterministic ids `server_id_for_index(0..n)`,
    /// named, tagged and placed as the `fleet_*` knobs say.
    pub fn create_generated(&mut self, n: usize) -> Vec<String> {
        self.servers.reserve(n);
        self.index.reserve(n);
        let shape = FleetShape::from_knobs(&self.knobs);
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let id = server_id_for_index(i);
            let (name, profile) = (Some(shape.name(i)), shape.profile(i));
            self.insert_server(&id, name, Power::Shutoff, false, profile);
            ids.push(id);
        }
        ids
    }

    /// Adds a server, or resets the one with that id. Returns its index.
    fn insert_server(
        &mut self,
        id: &str,
        name: Option<String>,
        power: Power,
        locked: bool,
        profile: Profile,
    ) -> usize {
        if let Some(&i) = self.index.get(id) {
            let s = &mut self.servers[i as usize];
            s.power = power;
            s.locked = locked;
            s.profile = profile;
            s.transition = None;
            if let Some(n) = name {
                s.name = n.into();
            }
            return i as usize;
        }
        let i = self.servers.len();
        let id: Arc<str> = Arc::from(id);
        self.servers.push(Server {
            id: id.clone(),
            name: name.unwrap_or_else(|| format!("ecs-sim-{i}")).into(),
            power,
            locked,
            profile,
            transition: None,
            updated_ms: 0,
            start_count: 0,
            stop_count: 0,
            reboot_count: 0,
            read_count: 0,
        });
        self.index.insert(id, i as u32);
        i
    }

    /// Adds (or resets) servers from specs; with `replace`, every other server goes first.
    /// Nothing changes when a spec is refused. Returns the ids in the order given.
    pub fn load_servers(
        &mut self,
        specs: &[ServerSpec],
        replace: bool,
    ) -> Result<Vec<String>, String> {
        let parsed = specs
            .iter()
            .map(parse_spec)
            .collect::<Result<Vec<_>, _>>()?;
        if replace {
            self.servers.clear();
            self.index.clear();
        }
        let now = self.now_ms();
        let shape = FleetShape::from_knobs(&self.knobs);
        let mut ids = Vec::with_capacity(parsed.len());
        for (s, power, action) in parsed {
            let position = self.index.get(s.id.as_str()).map(|&i| i as usize);
            let current = position.map(|i| &self.servers[i].profile);
            let at = position.unwrap_or(self.servers.len());
            let profile = shape.profile_of_spec(s, current, at);
            let i = self.insert_server(&s.id, s.name.clone(), power, s.locked, profile);
            if let Some(action) = action {
                let end_ms = self.draw_end(action, now, false);
                self.servers[i].transition = Some(Transition {
                    action,
                    end_ms,
                    outcome: Outcome::Success,
                });
            }
            self.servers[i].updated_ms = now;
            ids.push(s.id.clone());
        }
        Ok(ids)
    }

    /// Changes the power of existing servers out of band, as a person in the console
    /// would: no job and no action counted; the lock, the name and the counters are kept,
    /// and a transition under way ends. Unknown ids change nothing and are named.
    pub fn set_power(&mut self, ids: &[String], status: &str) -> Result<usize, String> {
        let power = Power::parse(status)
            .ok_or_else(|| format!("status {status:?} is not ACTIVE, SHUTOFF or ERROR"))?;
        let missing: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .filter(|id| !self.index.contains_key(*id))
            .collect();
        if !missing.is_empty() {
            return Err(format!("no server {}", missing.join(", ")));
        }
        let now = self.now_ms();
        for id in ids {
            let s = &mut self.servers[self.index[id.as_str()] as usize];
            s.power = power;
            s.transition = None;
            s.updated_ms = now;
        }
        Ok(ids.len())
    }

    /// A random end for a transition of `action` starting at `now` (scaled by
    /// `time_scale`), or [`NEVER`].
    pub(super) fn draw_end(&mut self, action: PowerAction, now: u64, never: bool) -> u64 {
        if never {
            return NEVER;
        }
        let [lo, hi] = action.duration_ms(&self.knobs);
        let raw = if hi > lo {
            self.rng.gen_range(lo..=hi)
        } else {
            lo
        };
        now.saturating_add(self.scaled(raw))
    }

    /// A duration in ms multiplied by `time_scale`.
    pub(super) fn scaled(&self, ms: u64) -> u64 {
        (ms as f64 * self.knobs.time_scale).round() as u64
    }

    pub fn server_ids(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.id.to_string()).collect()
    }

    pub(super) fn detail_of(&mut self, i: usize, now: u64) -> ServerDetail {
        self.servers[i].settle(now);
        let s = &self.servers[i];
        let view = s.view();
        let fault = (s.power == Power::Error).then(|| ServerFault {
            code: Some(serde_json::json!(500)),
            message: Some("The server is in the ERROR state (simulated).".into()),
            details: None,
            created: Some(self.server_time(s.updated_ms)),
        });
        ServerDetail {
            id: s.id.to_string(),
            name: Some(s.name.to_string()),
            status: Some(view.status.into()),
            task_state: view.task_state.map(Into::into),
            vm_state: Some(view.vm_state.into()),
            power_state: Some(view.power_state),
            locked: Some(s.locked),
            fault,
            created: Some(self.server_time(0)),
            updated: Some(self.server_time(s.updated_ms)),
            tags: Some(s.profile.served_tags()),
            availability_zone: Some(s.profile.availability_zone.to_string()),
            flavor: Some(s.profile.served_flavor()),
            enterprise_project_id: Some(s.profile.enterprise_project_id.to_string()),
            addresses: Some(s.profile.served_addresses()),
            metadata: Some(Default::default()),
        }
    }

    /// One server, or `None` when unknown.
    pub fn show_server(&mut self, id: &str) -> Option<ServerDetail> {
        let now = self.now_ms();
        let i = *self.index.get(id)? as usize;
        Some(self.detail_of(i, now))
    }

    /// `server_id=` listing: one entry per id, in the order asked; unknown ids get the
    /// documented null entry with a fault.
    pub fn list_by_ids(&mut self, ids: &[String]) -> Vec<ServerDetail> {
        let now = self.now_ms();
        ids.iter()
            .map(|id| match self.index.get(id.as_str()) {
                Some(&i) => {
                    self.servers[i as usize].read_count += 1;
                    self.detail_of(i as usize, now)
                }
                None => unknown_server(id),
            })
            .collect()
    }

    /// (servers listed by id at least once, the most times one server was).
    pub fn read_counts(&self) -> (u64, u32) {
        let read = self.servers.iter().filter(|s| s.read_count > 0).count();
        let most = self.servers.iter().map(|s| s.read_count).max();
        (read as u64, most.unwrap_or(0))
    }

    /// The server as served, with its action counts, for the admin API.
    pub fn server_record(&mut self, id: &str) -> Option<ServerRecord> {
        let server = self.show_server(id)?;
        let s = &self.servers[*self.index.get(id)? as usize];
        Some(ServerRecord {
            server,
            start_count: s.start_count,
            stop_count: s.stop_count,
            reboot_count: s.reboot_count,
            read_count: s.read_count,
        })
    }

    /// Servers per displayed status.
    pub fn server_counts(&mut self) -> HashMap<&'static str, u64> {
        let now = self.now_ms();
        let mut counts = HashMap::new();
        for s in &mut self.servers {
            s.settle(now);
            *counts.entry(s.view().status).or_insert(0) += 1;
        }
        counts
    }
}
