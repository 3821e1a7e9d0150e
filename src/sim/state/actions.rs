//! Power actions: reading an action body, and [`State::submit`], which checks a batch and
//! turns it into a job in the order the API refuses things: batch size, ids (repeated,
//! malformed, missing), locked servers, wrong states under `sync_400`, the start rate
//! limit. Nothing changes when a POST is refused.
//!
//! What differs between actions (the state each starts from and ends in, its durations,
//! its job types, its counters) is a method of [`PowerAction`]; another action is one more
//! variant and one more arm in each, not another copy of `submit`.

use std::collections::HashSet;

use super::jobs::{init_ms, Outcome, SubJobRecord};
use super::servers::{Power, Server, Transition, NEVER};
use super::{Counters, State};
use crate::api::codes::{
    BUSY, INVALID_PARAMETER, LOCKED, SERVER_NOT_FOUND, START_FAILED, STATE_CONFLICT,
    TOO_MANY_SERVERS,
};
use crate::api::models::{
    is_server_id, BatchRebootBody, BatchStartBody, BatchStopBody, PowerType, MAX_SERVERS_PER_ACTION,
};
use crate::sim::failure::Failure;
use crate::sim::knobs::{AlreadyRunningMode, Knobs};

/// The batch power actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Start,
    Stop,
    Reboot(PowerType),
}

impl PowerAction {
    /// The state a server must rest in for the action to begin.
    fn starts_from(self) -> Power {
        match self {
            PowerAction::Start => Power::Shutoff,
            PowerAction::Stop | PowerAction::Reboot(_) => Power::Active,
        }
    }

    /// The state a server rests in when the action ends well.
    pub(super) fn target(self) -> Power {
        match self {
            PowerAction::Start | PowerAction::Reboot(_) => Power::Active,
            PowerAction::Stop => Power::Shutoff,
        }
    }

    /// Whether a server in a transition of `other` is already doing this action.
    fn same_kind(self, other: PowerAction) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }

    /// `[min, max]` of one server's transition in ms (reboots take as long as starts).
    pub(super) fn duration_ms(self, knobs: &Knobs) -> [u64; 2] {
        match self {
            PowerAction::Stop => knobs.stop_duration_ms,
            PowerAction::Start | PowerAction::Reboot(_) => knobs.start_duration_ms,
        }
    }

    /// Whether the servers count against `start_rate_limit_per_minute`.
    fn is_rate_limited(self) -> bool {
        matches!(self, PowerAction::Start)
    }

    /// The outcome for a server in `failing_servers`, for the actions it applies to.
    fn simulated_failure(self) -> Option<Outcome> {
        match self {
            PowerAction::Start => Some(Outcome::Fail(
                START_FAILED,
                "Failed to start the ECS (simulated failure).",
            )),
            PowerAction::Stop | PowerAction::Reboot(_) => None,
        }
    }

    /// `job_type` of the parent job. The real strings are unknown (`ecs-api.md` §8).
    pub(super) fn job_type(self) -> &'static str {
        match self {
            PowerAction::Start => "batchStartServers",
            PowerAction::Stop => "batchStopServers",
            PowerAction::Reboot(_) => "batchRebootServers",
        }
    }

    pub(super) fn sub_job_type(self) -> &'static str {
        match self {
            PowerAction::Start => "startServer",
            PowerAction::Stop => "stopServer",
            PowerAction::Reboot(_) => "rebootServer",
        }
    }

    /// Counts one sub-job on its server (`/_sim/servers/{id}`).
    fn count_on(self, server: &mut Server) {
        match self {
            PowerAction::Start => server.start_count += 1,
            PowerAction::Stop => server.stop_count += 1,
            PowerAction::Reboot(_) => {}
        }
    }

    /// Counts `n` sub-jobs in the totals (`/_sim/stats`).
    fn count_total(self, counters: &mut Counters, n: u64) {
        match self {
            PowerAction::Start => counters.starts_total += n,
            PowerAction::Stop => counters.stops_total += n,
            PowerAction::Reboot(_) => {}
        }
    }

    /// What this action does to `server` (settled).
    fn plan_for(self, server: &Server) -> Plan {
        match server.transition {
            Some(t) if t.action.same_kind(self) => Plan::Join {
                end_ms: t.end_ms,
                fails: t.fails,
            },
            Some(_) => Plan::Busy,
            None if server.power == self.starts_from() => Plan::Begin,
            None => Plan::WrongState {
                may_succeed: server.power != Power::Error,
            },
        }
    }
}

const ONE_ACTION: &str = "expected exactly one of \"os-start\", \"os-stop\", \"reboot\"";

fn bad_body(why: impl std::fmt::Display) -> Failure {
    Failure::ecs(
        400,
        INVALID_PARAMETER,
        format!("Invalid request body: {why}"),
    )
}

/// Reads an action POST's body: the action and its server ids, in order. 400
/// `Ecs.0005` when it is not JSON, not an object with exactly one action key, or not
/// that action's shape.
pub fn parse_action_body(body: &[u8]) -> Result<(PowerAction, Vec<String>), Failure> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad_body(format!("not valid JSON ({e})")))?;
    let Some(obj) = value.as_object() else {
        return Err(bad_body("expected a JSON object"));
    };
    let key = match obj.keys().next() {
        Some(k) if obj.len() == 1 => k.clone(),
        _ => return Err(bad_body(ONE_ACTION)),
    };
    let (action, servers) = match key.as_str() {
        "os-start" => {
            let b: BatchStartBody = serde_json::from_value(value).map_err(bad_body)?;
            (PowerAction::Start, b.os_start.servers)
        }
        "os-stop" => {
            let b: BatchStopBody = serde_json::from_value(value).map_err(bad_body)?;
            (PowerAction::Stop, b.os_stop.servers)
        }
        "reboot" => {
            let b: BatchRebootBody = serde_json::from_value(value).map_err(bad_body)?;
            (PowerAction::Reboot(b.reboot.power_type), b.reboot.servers)
        }
        _ => return Err(bad_body(ONE_ACTION)),
    };
    Ok((action, servers.into_iter().map(|r| r.id).collect()))
}

/// What an accepted action does to one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The server begins the transition.
    Begin,
    /// The server is already in a transition of the same kind: the sub-job shares its end
    /// (and its failure).
    Join { end_ms: u64, fails: bool },
    /// Another action is under way: the sub-job FAILs with `Ecs.0603`.
    Busy,
    /// The server does not rest in the state the action starts from (`already_running_mode`;
    /// an ERROR server never succeeds).
    WrongState { may_succeed: bool },
}

/// The instants a new job's sub-jobs are placed by.
struct JobTimes {
    now: u64,
    /// When the job leaves INIT; no sub-job ends before.
    running_ms: u64,
    /// The job never finishes.
    never: bool,
}

/// 400 `Ecs.0118` for an empty batch or one over [`MAX_SERVERS_PER_ACTION`].
fn check_batch_size(ids: &[String]) -> Result<(), Failure> {
    if ids.is_empty() {
        return Err(Failure::ecs(
            400,
            TOO_MANY_SERVERS,
            "The number of ECSs in a batch is invalid: the servers list is empty.",
        ));
    }
    if ids.len() > MAX_SERVERS_PER_ACTION {
        return Err(Failure::ecs(
            400,
            TOO_MANY_SERVERS,
            format!(
                "The number of ECSs exceeds the maximum allowed limit: {} > {MAX_SERVERS_PER_ACTION}.",
                ids.len(),
            ),
        ));
    }
    Ok(())
}

impl State {
    /// Validates and carries out a batch action. Returns the new job's id.
    pub fn submit(&mut self, action: PowerAction, ids: &[String]) -> Result<String, Failure> {
        let now = self.now_ms();
        check_batch_size(ids)?;
        let servers = self.resolve(ids)?;
        self.refuse_locked(&servers)?;
        let plans = self.plan(action, &servers, now)?;
        if action.is_rate_limited() {
            let knobs = &self.knobs;
            let (limit, window) = (
                knobs.start_rate_limit_per_minute,
                knobs.start_rate_window_ms,
            );
            self.start_window
                .admit(now, ids.len() as u32, limit, window)?;
        }
        Ok(self.create_job(action, plans, now))
    }

    /// The index of each server, in order. A repeated id, or an unknown one that is not
    /// UUID-shaped, refuses at once (400 `Ecs.0005`); the other unknown ids are named
    /// together in one 404 `Ecs.0114`.
    fn resolve(&self, ids: &[String]) -> Result<Vec<usize>, Failure> {
        let mut seen = HashSet::with_capacity(ids.len());
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                return Err(Failure::ecs(
                    400,
                    INVALID_PARAMETER,
                    format!("Invalid parameter: server id {id} appears more than once."),
                ));
            }
            match self.index.get(id.as_str()) {
                Some(&i) => found.push(i as usize),
                None if !is_server_id(id) => {
                    return Err(Failure::ecs(
                        400,
                        INVALID_PARAMETER,
                        format!("Invalid parameter: server id {id:?} is not a UUID."),
                    ))
                }
                None => missing.push((
                    SERVER_NOT_FOUND.to_string(),
                    format!("The ECS {id} does not exist."),
                )),
            }
        }
        if !missing.is_empty() {
            let message = "The ECS does not exist.";
            return Err(Failure::ecs_with(404, SERVER_NOT_FOUND, message, missing));
        }
        Ok(found)
    }

    /// 400 `Ecs.0605` naming every locked server.
    fn refuse_locked(&self, servers: &[usize]) -> Result<(), Failure> {
        let locked: Vec<_> = servers
            .iter()
            .map(|&i| &self.servers[i])
            .filter(|s| s.locked)
            .map(|s| (LOCKED.to_string(), format!("The ECS {} is locked.", s.id)))
            .collect();
        if locked.is_empty() {
            return Ok(());
        }
        Err(Failure::ecs_with(400, LOCKED, "ECS locked.", locked))
    }

    /// What the action does to each server; under `sync_400`, a server in the wrong state
    /// refuses the whole POST (400 `Ecs.0100`, naming each).
    fn plan(
        &mut self,
        action: PowerAction,
        servers: &[usize],
        now: u64,
    ) -> Result<Vec<(usize, Plan)>, Failure> {
        let mut plans = Vec::with_capacity(servers.len());
        let mut wrong = Vec::new();
        for &i in servers {
            let s = &mut self.servers[i];
            s.settle(now);
            let plan = action.plan_for(s);
            if let Plan::WrongState { .. } = plan {
                wrong.push((
                    STATE_CONFLICT.to_string(),
                    format!(
                        "The ECS {} status {} does not meet requirements.",
                        s.id,
                        s.view().status
                    ),
                ));
            }
            plans.push((i, plan));
        }
        if !wrong.is_empty() && self.knobs.already_running_mode == AlreadyRunningMode::Sync400 {
            let message = "The ECS status does not meet requirements.";
            return Err(Failure::ecs_with(400, STATE_CONFLICT, message, wrong));
        }
        Ok(plans)
    }

    /// Whether the new job never finishes (`never_finish`, or one of `never_finish_jobs`,
    /// which counts down).
    fn take_never_finish(&mut self) -> bool {
        if self.knobs.never_finish {
            return true;
        }
        if self.knobs.never_finish_jobs > 0 {
            self.knobs.never_finish_jobs -= 1;
            return true;
        }
        false
    }

    /// Carries out an accepted action: each server's transition and sub-job, then the job.
    fn create_job(&mut self, action: PowerAction, plans: Vec<(usize, Plan)>, now: u64) -> String {
        let times = JobTimes {
            now,
            running_ms: now + init_ms(&self.knobs),
            never: self.take_never_finish(),
        };
        let failing: HashSet<String> = match action.simulated_failure() {
            Some(_) => self.knobs.failing_servers.iter().cloned().collect(),
            None => HashSet::new(),
        };
        let mut subs = Vec::with_capacity(plans.len());
        for (i, plan) in plans {
            let fails = failing.contains(&*self.servers[i].id);
            subs.push(self.sub_job(action, i, plan, &times, fails));
        }
        action.count_total(&mut self.counters, subs.len() as u64);
        self.insert_job(action, now, times.running_ms, subs, times.never)
    }

    /// Server `i`'s part of the job: its transition when it begins one, and its sub-job.
    /// `fails`: the server is in `failing_servers` (for the actions that can fail).
    fn sub_job(
        &mut self,
        action: PowerAction,
        i: usize,
        plan: Plan,
        times: &JobTimes,
        fails: bool,
    ) -> SubJobRecord {
        // Drawn for every server, whatever its plan, so that a seed gives the same
        // durations however the servers stand.
        let drawn_end = self
            .draw_end(action, times.now, times.never)
            .max(times.running_ms);
        let outcome_of = |fails: bool| match action.simulated_failure() {
            Some(failure) if fails => failure,
            _ => Outcome::Success,
        };
        let mode = self.knobs.already_running_mode;
        let s = &mut self.servers[i];
        let (end_ms, outcome) = match plan {
            Plan::Begin => {
                s.transition = Some(Transition {
                    action,
                    end_ms: drawn_end,
                    fails,
                });
                s.updated_ms = times.now;
                (drawn_end, outcome_of(fails))
            }
            Plan::Join { end_ms, fails } => (end_ms, outcome_of(fails)),
            Plan::Busy => (
                times.running_ms,
                Outcome::Fail(
                    BUSY,
                    "Other commands are being executed on the ECS. Try again later.",
                ),
            ),
            Plan::WrongState { may_succeed } => {
                let end = if times.never { NEVER } else { times.running_ms };
                if may_succeed && mode == AlreadyRunningMode::Success {
                    (end, Outcome::Success)
                } else {
                    let reason = "The ECS status does not meet requirements.";
                    (end, Outcome::Fail(STATE_CONFLICT, reason))
                }
            }
        };
        action.count_on(s);
        SubJobRecord {
            server_id: s.id.clone(),
            end_ms,
            outcome,
        }
    }
}
