//! Power action POSTs: reading an action body, and [`State::submit`], which checks a batch
//! and turns it into a job in the order the API refuses things: batch size, ids (repeated,
//! malformed, missing), locked servers, wrong states under `sync_400`, the start rate
//! limit. Nothing changes when a POST is refused. What differs between the actions is in
//! `power_action.rs`.

use std::collections::HashSet;

use super::jobs::{init_ms, Outcome, SubJobRecord, Superseded};
use super::power_action::{Plan, PowerAction, IGNORED_SOFT_STOP};
use super::servers::{Transition, NEVER};
use super::State;
use crate::api::codes::{
    BUSY, INVALID_PARAMETER, LOCKED, SERVER_NOT_FOUND, STATE_CONFLICT, TOO_MANY_SERVERS,
};
use crate::api::models::{
    is_server_id, BatchRebootBody, BatchStartBody, BatchStopBody, PowerType, MAX_SERVERS_PER_ACTION,
};
use crate::sim::failure::Failure;
use crate::sim::knobs::{AlreadyRunningMode, Knobs};

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
            let power_type = b.os_stop.power_type.unwrap_or(PowerType::Soft);
            (PowerAction::Stop(power_type), b.os_stop.servers)
        }
        "reboot" => {
            let b: BatchRebootBody = serde_json::from_value(value).map_err(bad_body)?;
            (PowerAction::Reboot(b.reboot.power_type), b.reboot.servers)
        }
        _ => return Err(bad_body(ONE_ACTION)),
    };
    Ok((action, servers.into_iter().map(|r| r.id).collect()))
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
            let plan = action.plan_for(s, &self.knobs);
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
        let misbehaving = Misbehaving::of(action, &self.knobs);
        let mut subs = Vec::with_capacity(plans.len());
        let mut superseded = Vec::new();
        for (i, plan) in plans {
            let sub = self.sub_job(action, i, plan, &times, &misbehaving);
            if let Plan::Supersede { end_ms } = plan {
                superseded.push(Superseded {
                    server_id: sub.server_id.clone(),
                    old_end_ms: end_ms,
                    new_end_ms: sub.end_ms,
                    outcome: sub.outcome,
                });
            }
            subs.push(sub);
        }
        self.supersede(&superseded);
        action.count_total(&mut self.counters, subs.len() as u64);
        self.insert_job(action, now, times.running_ms, subs, times.never)
    }

    /// Server `i`'s part of the job: its transition when it begins one, and its sub-job.
    fn sub_job(
        &mut self,
        action: PowerAction,
        i: usize,
        plan: Plan,
        times: &JobTimes,
        misbehaving: &Misbehaving,
    ) -> SubJobRecord {
        // Drawn for every server, whatever its plan, so that a seed gives the same
        // durations however the servers stand.
        let drawn_end = self
            .draw_end(action, times.now, times.never)
            .max(times.running_ms);
        let (end_ms, outcome) = match plan {
            Plan::Begin | Plan::Supersede { .. } => {
                let (end_ms, outcome) = self.transition_end(i, drawn_end, times, misbehaving);
                let s = &mut self.servers[i];
                s.transition = Some(Transition {
                    action,
                    end_ms,
                    outcome,
                });
                s.updated_ms = times.now;
                (end_ms, outcome)
            }
            Plan::Join { end_ms, outcome } => (end_ms, outcome),
            Plan::Busy => (
                times.running_ms,
                Outcome::Fail(
                    BUSY,
                    "Other commands are being executed on the ECS. Try again later.",
                ),
            ),
            Plan::WrongState { may_succeed } => self.wrong_state(may_succeed, times),
        };
        let s = &mut self.servers[i];
        action.count_on(s);
        SubJobRecord {
            server_id: s.id.clone(),
            end_ms,
            outcome,
        }
    }

    /// When and how the transition server `i` begins ends: a guest that ignores a SOFT
    /// stop fails after `soft_stop_timeout_ms`, a failing server after the drawn duration.
    fn transition_end(
        &self,
        i: usize,
        drawn_end: u64,
        times: &JobTimes,
        misbehaving: &Misbehaving,
    ) -> (u64, Outcome) {
        let id = &*self.servers[i].id;
        if misbehaving.ignoring.contains(id) {
            let end = if times.never {
                NEVER
            } else {
                let timeout = self.scaled(self.knobs.soft_stop_timeout_ms);
                times.now.saturating_add(timeout).max(times.running_ms)
            };
            return (end, IGNORED_SOFT_STOP);
        }
        if misbehaving.failing.contains(id) {
            return (drawn_end, misbehaving.failure);
        }
        (drawn_end, Outcome::Success)
    }

    /// A wrong-state sub-job: it ends when the job leaves INIT, per `already_running_mode`.
    fn wrong_state(&self, may_succeed: bool, times: &JobTimes) -> (u64, Outcome) {
        let end = if times.never { NEVER } else { times.running_ms };
        if may_succeed && self.knobs.already_running_mode == AlreadyRunningMode::Success {
            (end, Outcome::Success)
        } else {
            let reason = "The ECS status does not meet requirements.";
            (end, Outcome::Fail(STATE_CONFLICT, reason))
        }
    }
}

/// The servers that misbehave in one job: `failing_servers` (and how they fail), and, for
/// a SOFT stop, `ignore_soft_stop`.
struct Misbehaving {
    failing: HashSet<String>,
    failure: Outcome,
    ignoring: HashSet<String>,
}

impl Misbehaving {
    fn of(action: PowerAction, knobs: &Knobs) -> Self {
        let ignoring = match action {
            PowerAction::Stop(PowerType::Soft) => knobs.ignore_soft_stop.iter().cloned().collect(),
            _ => HashSet::new(),
        };
        Self {
            failing: knobs.failing_servers.iter().cloned().collect(),
            failure: action.simulated_failure(),
            ignoring,
        }
    }
}
