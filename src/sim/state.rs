//! The simulated cloud: servers, jobs, the start-rate window and the clock.
//!
//! Time is lazy: a power action records, on each server and in its job, when the transition
//! ends; every read compares those instants with the clock. No timer runs per server, so
//! 100,000 servers cost only their memory.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use super::config::{
    server_id_for_index, AlreadyRunningMode, Knobs, PartialFailureParent, ServerSpec,
};
use crate::api::models::{
    is_server_id, Job, JobEntities, JobStatus, PowerType, ServerDetail, ServerFault, SubJob,
    SubJobEntities,
};

/// Ends that never come (jobs that never finish).
const NEVER: u64 = u64::MAX;

/// A job's INIT phase: 10% of the shortest start time (scaled), at most 1 s.
fn init_ms(knobs: &Knobs) -> u64 {
    let min = knobs.start_duration_ms[0].min(knobs.stop_duration_ms[0]) as f64;
    ((min * knobs.time_scale * 0.1) as u64).min(1000)
}

/// A simulator error answer, in one of the two real shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// `{"error": {"code", "message", "details"?}}`
    Ecs {
        status: u16,
        code: &'static str,
        message: String,
        details: Vec<(String, String)>,
    },
    /// `{"error_code", "error_msg", "request_id"}`, with `Retry-After` when set.
    Gateway {
        status: u16,
        code: &'static str,
        message: String,
        retry_after: Option<u64>,
    },
}

impl Failure {
    pub fn ecs(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Failure::Ecs {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    fn ecs_with(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        details: Vec<(String, String)>,
    ) -> Self {
        Failure::Ecs {
            status,
            code,
            message: message.into(),
            details,
        }
    }

    pub fn gateway(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Failure::Gateway {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

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

/// The three batch actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Start,
    Stop,
    Reboot(PowerType),
}

impl Op {
    fn target(self) -> Power {
        match self {
            Op::Start | Op::Reboot(_) => Power::Active,
            Op::Stop => Power::Shutoff,
        }
    }

    fn same_kind(self, other: Op) -> bool {
        matches!(
            (self, other),
            (Op::Start, Op::Start) | (Op::Stop, Op::Stop) | (Op::Reboot(_), Op::Reboot(_))
        )
    }

    /// `job_type` of the parent job. The real strings are unknown (`ecs-api.md` §8).
    fn job_type(self) -> &'static str {
        match self {
            Op::Start => "batchStartServers",
            Op::Stop => "batchStopServers",
            Op::Reboot(_) => "batchRebootServers",
        }
    }

    fn sub_job_type(self) -> &'static str {
        match self {
            Op::Start => "startServer",
            Op::Stop => "stopServer",
            Op::Reboot(_) => "rebootServer",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Transition {
    op: Op,
    end_ms: u64,
    /// The transition ends without reaching its target (a failing start).
    fail: bool,
}

#[derive(Debug)]
struct Server {
    id: Arc<str>,
    name: Box<str>,
    power: Power,
    locked: bool,
    transition: Option<Transition>,
    updated_ms: u64,
    start_count: u32,
    stop_count: u32,
}

impl Server {
    /// Applies a transition whose end has come.
    fn settle(&mut self, now: u64) {
        if let Some(t) = self.transition {
            if now >= t.end_ms {
                if !t.fail {
                    self.power = t.op.target();
                }
                self.updated_ms = t.end_ms;
                self.transition = None;
            }
        }
    }

    /// `status`, `OS-EXT-STS:task_state`, `vm_state`, `power_state` as served.
    fn display(&self) -> (&'static str, Option<&'static str>, &'static str, i64) {
        match (self.power, self.transition.map(|t| t.op)) {
            (Power::Shutoff, Some(Op::Start)) => ("SHUTOFF", Some("powering-on"), "stopped", 4),
            (Power::Active, Some(Op::Stop)) => ("ACTIVE", Some("powering-off"), "active", 1),
            (Power::Active, Some(Op::Reboot(PowerType::Soft))) => {
                ("REBOOT", Some("rebooting"), "active", 1)
            }
            (Power::Active, Some(Op::Reboot(PowerType::Hard))) => {
                ("HARD_REBOOT", Some("rebooting_hard"), "active", 1)
            }
            (Power::Active, _) => ("ACTIVE", None, "active", 1),
            (Power::Shutoff, _) => ("SHUTOFF", None, "stopped", 4),
            (Power::Error, _) => ("ERROR", None, "error", 0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Fail(&'static str, &'static str),
}

#[derive(Debug)]
struct SubRec {
    server_id: Arc<str>,
    end_ms: u64,
    outcome: Outcome,
}

#[derive(Debug)]
struct JobRec {
    id: u128,
    op: Op,
    created_ms: u64,
    running_ms: u64,
    subs: Vec<SubRec>,
    never: bool,
}

impl JobRec {
    /// The end of the job, once every sub-job has ended.
    fn end_ms(&self, now: u64) -> Option<u64> {
        if self.never {
            return None;
        }
        let end = self
            .subs
            .iter()
            .map(|s| s.end_ms)
            .max()
            .unwrap_or(self.running_ms);
        (now >= end).then_some(end)
    }

    fn status(&self, now: u64, mode: PartialFailureParent) -> JobStatus {
        if now < self.running_ms {
            return JobStatus::Init;
        }
        if self.end_ms(now).is_none() {
            return JobStatus::Running;
        }
        let failed = self
            .subs
            .iter()
            .filter(|s| s.outcome != Outcome::Success)
            .count();
        if failed == 0 {
            JobStatus::Success
        } else if failed == self.subs.len() || mode == PartialFailureParent::Fail {
            JobStatus::Fail
        } else {
            JobStatus::Success
        }
    }
}

/// What a request sees of a job: the model, or that it was purged or never existed.
pub enum JobView {
    Found(Box<Job>),
    NotFound,
}

/// Counters for `/_sim/stats` that live with the state.
#[derive(Debug, Default)]
struct Counters {
    starts_total: u64,
    stops_total: u64,
    /// The latest end among purged jobs (live jobs are looked at directly).
    purged_last_end_ms: Option<u64>,
}

/// The whole simulated project, behind one lock; every method is short.
pub struct State {
    base: Instant,
    wall_base: OffsetDateTime,
    /// Added to the real elapsed time (`POST /_sim/clock/advance`).
    offset_ms: u64,
    servers: Vec<Server>,
    index: HashMap<Arc<str>, u32>,
    jobs: HashMap<u128, JobRec>,
    /// (ms, servers started) in the last rate window.
    start_window: VecDeque<(u64, u32)>,
    last_sweep_ms: u64,
    pub rng: StdRng,
    counters: Counters,
    /// The run-time knobs (bursts and `never_finish_jobs` count down here).
    pub knobs: Knobs,
}

impl State {
    pub fn new(knobs: Knobs) -> Self {
        Self {
            rng: StdRng::seed_from_u64(knobs.seed),
            knobs,
            base: Instant::now(),
            wall_base: OffsetDateTime::now_utc(),
            offset_ms: 0,
            servers: Vec::new(),
            index: HashMap::new(),
            jobs: HashMap::new(),
            start_window: VecDeque::new(),
            last_sweep_ms: 0,
            counters: Counters::default(),
        }
    }

    /// Milliseconds since the simulator started, plus any advance.
    pub fn now_ms(&self) -> u64 {
        (self.base.elapsed().as_millis() as u64).saturating_add(self.offset_ms)
    }

    pub fn advance(&mut self, ms: u64) {
        self.offset_ms = self.offset_ms.saturating_add(ms);
    }

    fn wall(&self, ms: u64) -> OffsetDateTime {
        self.wall_base + time::Duration::milliseconds(ms.min(i64::MAX as u64) as i64)
    }

    /// `2024-01-02T03:04:06.123Z`, the job time format.
    fn job_time(&self, ms: u64) -> String {
        self.wall(ms)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default()
    }

    /// `2019-05-22T03:30:52Z`, the server time format.
    fn server_time(&self, ms: u64) -> String {
        self.wall(ms)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default()
    }

    pub fn rfc3339(&self, ms: u64) -> Option<String> {
        self.wall(ms).format(&Rfc3339).ok()
    }

    // ---- servers -------------------------------------------------------------------------

    /// Creates `n` stopped servers with the deterministic ids `server_id_for_index(0..n)`.
    pub fn create_generated(&mut self, n: usize) -> Vec<String> {
        self.servers.reserve(n);
        self.index.reserve(n);
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let id = server_id_for_index(i);
            self.insert_server(&id, Some(format!("ecs-sim-{i}")), Power::Shutoff, false);
            ids.push(id);
        }
        ids
    }

    fn insert_server(
        &mut self,
        id: &str,
        name: Option<String>,
        power: Power,
        locked: bool,
    ) -> usize {
        if let Some(&i) = self.index.get(id) {
            let s = &mut self.servers[i as usize];
            s.power = power;
            s.locked = locked;
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
            transition: None,
            updated_ms: 0,
            start_count: 0,
            stop_count: 0,
        });
        self.index.insert(id, i as u32);
        i
    }

    /// Adds (or resets) servers from specs; with `replace`, every other server goes first.
    /// Returns the ids in the order given.
    pub fn load_servers(
        &mut self,
        specs: &[ServerSpec],
        replace: bool,
    ) -> Result<Vec<String>, String> {
        let knobs = self.knobs.clone();
        // Validate everything before changing anything.
        let mut parsed = Vec::with_capacity(specs.len());
        for s in specs {
            if s.id.trim().is_empty() {
                return Err("a server id is empty".into());
            }
            let power = Power::parse(&s.status).ok_or_else(|| {
                format!(
                    "server {}: status {:?} is not ACTIVE, SHUTOFF or ERROR",
                    s.id, s.status
                )
            })?;
            let op = match (s.task_state.as_deref(), power) {
                (None | Some(""), _) => None,
                (Some("powering-on"), Power::Shutoff) => Some(Op::Start),
                (Some("powering-off"), Power::Active) => Some(Op::Stop),
                (Some(t), _) => {
                    return Err(format!(
                        "server {}: task_state {t:?} with status {} is not supported \
                         (powering-on needs SHUTOFF, powering-off needs ACTIVE)",
                        s.id, s.status
                    ))
                }
            };
            parsed.push((s, power, op));
        }
        if replace {
            self.servers.clear();
            self.index.clear();
        }
        let now = self.now_ms();
        let mut ids = Vec::with_capacity(parsed.len());
        for (s, power, op) in parsed {
            let i = self.insert_server(&s.id, s.name.clone(), power, s.locked);
            if let Some(op) = op {
                let end = self.draw_end(op, now, &knobs, false);
                self.servers[i].transition = Some(Transition {
                    op,
                    end_ms: end,
                    fail: false,
                });
            }
            self.servers[i].updated_ms = now;
            ids.push(s.id.clone());
        }
        Ok(ids)
    }

    /// A random end for a transition of `op` starting at `now`.
    fn draw_end(&mut self, op: Op, now: u64, knobs: &Knobs, never: bool) -> u64 {
        if never {
            return NEVER;
        }
        let [lo, hi] = match op {
            Op::Stop => knobs.stop_duration_ms,
            Op::Start | Op::Reboot(_) => knobs.start_duration_ms,
        };
        let raw = if hi > lo {
            self.rng.gen_range(lo..=hi)
        } else {
            lo
        };
        let scaled = (raw as f64 * knobs.time_scale).round() as u64;
        now.saturating_add(scaled)
    }

    pub fn server_ids(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.id.to_string()).collect()
    }

    fn detail_of(&mut self, i: usize, now: u64) -> ServerDetail {
        self.servers[i].settle(now);
        let s = &self.servers[i];
        let (status, task, vm, power) = s.display();
        let fault = (s.power == Power::Error).then(|| ServerFault {
            code: Some(serde_json::json!(500)),
            message: Some("The server is in the ERROR state (simulated).".into()),
            details: None,
            created: Some(self.server_time(s.updated_ms)),
        });
        ServerDetail {
            id: s.id.to_string(),
            name: Some(s.name.to_string()),
            status: Some(status.into()),
            task_state: task.map(Into::into),
            vm_state: Some(vm.into()),
            power_state: Some(power),
            locked: Some(s.locked),
            fault,
            created: Some(self.server_time(0)),
            updated: Some(self.server_time(s.updated_ms)),
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
                Some(&i) => self.detail_of(i as usize, now),
                None => ServerDetail {
                    id: id.clone(),
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
                },
            })
            .collect()
    }

    /// A page of servers in creation order, optionally filtered by status and a name
    /// substring. `page` starts at 1. Returns (total matching, page).
    pub fn list_page(
        &mut self,
        limit: usize,
        page: usize,
        status: Option<&str>,
        name: Option<&str>,
    ) -> (u64, Vec<ServerDetail>) {
        let now = self.now_ms();
        let skip = page.saturating_sub(1).saturating_mul(limit);
        if status.is_none() && name.is_none() {
            let total = self.servers.len();
            let end = skip.saturating_add(limit).min(total);
            let items = (skip.min(total)..end)
                .map(|i| self.detail_of(i, now))
                .collect();
            return (total as u64, items);
        }
        let mut matching = Vec::new();
        for i in 0..self.servers.len() {
            self.servers[i].settle(now);
            let s = &self.servers[i];
            let ok_status = status.is_none_or(|st| s.display().0 == st);
            let ok_name = name.is_none_or(|n| s.name.contains(n));
            if ok_status && ok_name {
                matching.push(i);
            }
        }
        let total = matching.len() as u64;
        let items = matching
            .into_iter()
            .skip(skip)
            .take(limit)
            .map(|i| self.detail_of(i, now))
            .collect();
        (total, items)
    }

    /// (server as served, start count, stop count), for the admin API.
    pub fn server_admin(&mut self, id: &str) -> Option<(ServerDetail, u32, u32)> {
        let d = self.show_server(id)?;
        let i = *self.index.get(id)? as usize;
        Some((d, self.servers[i].start_count, self.servers[i].stop_count))
    }

    /// Servers per displayed status.
    pub fn server_counts(&mut self) -> HashMap<&'static str, u64> {
        let now = self.now_ms();
        let mut counts = HashMap::new();
        for s in &mut self.servers {
            s.settle(now);
            *counts.entry(s.display().0).or_insert(0) += 1;
        }
        counts
    }

    // ---- actions -------------------------------------------------------------------------

    /// Validates and carries out a batch action. Returns the new job's id.
    pub fn submit(&mut self, op: Op, ids: &[String]) -> Result<String, Failure> {
        let now = self.now_ms();
        let knobs = &self.knobs.clone();
        if ids.is_empty() {
            return Err(Failure::ecs(
                400,
                "Ecs.0118",
                "The number of ECSs in a batch is invalid: the servers list is empty.",
            ));
        }
        if ids.len() > crate::api::models::MAX_SERVERS_PER_ACTION {
            return Err(Failure::ecs(
                400,
                "Ecs.0118",
                format!(
                    "The number of ECSs exceeds the maximum allowed limit: {} > {}.",
                    ids.len(),
                    crate::api::models::MAX_SERVERS_PER_ACTION
                ),
            ));
        }
        let mut seen = HashSet::with_capacity(ids.len());
        let mut idx = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            if !seen.insert(id.as_str()) {
                return Err(Failure::ecs(
                    400,
                    "Ecs.0005",
                    format!("Invalid parameter: server id {id} appears more than once."),
                ));
            }
            match self.index.get(id.as_str()) {
                Some(&i) => idx.push(i as usize),
                None if !is_server_id(id) => {
                    return Err(Failure::ecs(
                        400,
                        "Ecs.0005",
                        format!("Invalid parameter: server id {id:?} is not a UUID."),
                    ))
                }
                None => missing.push((
                    "Ecs.0114".to_string(),
                    format!("The ECS {id} does not exist."),
                )),
            }
        }
        if !missing.is_empty() {
            return Err(Failure::ecs_with(
                404,
                "Ecs.0114",
                "The ECS does not exist.",
                missing,
            ));
        }
        let locked: Vec<_> = idx
            .iter()
            .filter(|&&i| self.servers[i].locked)
            .map(|&i| {
                (
                    "Ecs.0605".to_string(),
                    format!("The ECS {} is locked.", self.servers[i].id),
                )
            })
            .collect();
        if !locked.is_empty() {
            return Err(Failure::ecs_with(400, "Ecs.0605", "ECS locked.", locked));
        }
        // Classify each server.
        let mut plan = Vec::with_capacity(idx.len());
        let mut wrong = Vec::new();
        for &i in &idx {
            let s = &mut self.servers[i];
            s.settle(now);
            let step = match (s.transition, op, s.power) {
                (Some(t), _, _) if t.op.same_kind(op) => Step::Join(t.end_ms, t.fail),
                (Some(_), _, _) => Step::Conflict,
                (None, Op::Start, Power::Shutoff) => Step::Go,
                (None, Op::Stop, Power::Active) => Step::Go,
                (None, Op::Reboot(_), Power::Active) => Step::Go,
                (None, _, Power::Error) => Step::WrongState { may_succeed: false },
                (None, _, _) => Step::WrongState { may_succeed: true },
            };
            if matches!(step, Step::WrongState { .. }) {
                wrong.push((
                    "Ecs.0100".to_string(),
                    format!(
                        "The ECS {} status {} does not meet requirements.",
                        s.id,
                        s.display().0
                    ),
                ));
            }
            plan.push((i, step));
        }
        if !wrong.is_empty() && knobs.already_running_mode == AlreadyRunningMode::Sync400 {
            return Err(Failure::ecs_with(
                400,
                "Ecs.0100",
                "The ECS status does not meet requirements.",
                wrong,
            ));
        }
        if op == Op::Start {
            self.check_rate(now, ids.len() as u32, knobs)?;
        }
        // Accepted: build the job.
        let never = if knobs.never_finish {
            true
        } else if self.knobs.never_finish_jobs > 0 {
            self.knobs.never_finish_jobs -= 1;
            true
        } else {
            false
        };
        let running_ms = now + init_ms(knobs);
        let failing: HashSet<&str> = knobs.failing_servers.iter().map(String::as_str).collect();
        let mut subs = Vec::with_capacity(plan.len());
        for (i, step) in plan {
            let end_draw = self.draw_end(op, now, knobs, never).max(running_ms);
            let s = &mut self.servers[i];
            let (end_ms, outcome) = match step {
                Step::Go => {
                    let fail = op == Op::Start && failing.contains(&*s.id);
                    s.transition = Some(Transition {
                        op,
                        end_ms: end_draw,
                        fail,
                    });
                    s.updated_ms = now;
                    let outcome = if fail {
                        Outcome::Fail("Ecs.0226", "Failed to start the ECS (simulated failure).")
                    } else {
                        Outcome::Success
                    };
                    (end_draw, outcome)
                }
                Step::Join(end, fail) => {
                    let outcome = if fail {
                        Outcome::Fail("Ecs.0226", "Failed to start the ECS (simulated failure).")
                    } else {
                        Outcome::Success
                    };
                    (end, outcome)
                }
                Step::Conflict => (
                    running_ms,
                    Outcome::Fail(
                        "Ecs.0603",
                        "Other commands are being executed on the ECS. Try again later.",
                    ),
                ),
                Step::WrongState { may_succeed } => {
                    let end = if never { NEVER } else { running_ms };
                    if may_succeed && knobs.already_running_mode == AlreadyRunningMode::Success {
                        (end, Outcome::Success)
                    } else {
                        (
                            end,
                            Outcome::Fail("Ecs.0100", "The ECS status does not meet requirements."),
                        )
                    }
                }
            };
            match op {
                Op::Start => s.start_count += 1,
                Op::Stop => s.stop_count += 1,
                Op::Reboot(_) => {}
            }
            subs.push(SubRec {
                server_id: s.id.clone(),
                end_ms,
                outcome,
            });
        }
        match op {
            Op::Start => self.counters.starts_total += subs.len() as u64,
            Op::Stop => self.counters.stops_total += subs.len() as u64,
            Op::Reboot(_) => {}
        }
        let id = self.new_job_id();
        self.jobs.insert(
            id,
            JobRec {
                id,
                op,
                created_ms: now,
                running_ms,
                subs,
                never,
            },
        );
        self.sweep(now, knobs);
        Ok(format!("{id:032x}"))
    }

    fn new_job_id(&mut self) -> u128 {
        loop {
            // Low 16 bits zero: sub-job ids are the parent id + 1..=1000, so they never
            // collide with another job's.
            let id = self.rng.gen::<u128>() & !0xffff;
            if id != 0 && !self.jobs.contains_key(&id) {
                return id;
            }
        }
    }

    /// Counts `n` servers started against the rolling window, or refuses with 429.
    fn check_rate(&mut self, now: u64, n: u32, knobs: &Knobs) -> Result<(), Failure> {
        let limit = knobs.start_rate_limit_per_minute;
        if limit == 0 {
            return Ok(());
        }
        let window = knobs.start_rate_window_ms.max(1);
        while let Some(&(t, _)) = self.start_window.front() {
            if t + window <= now {
                self.start_window.pop_front();
            } else {
                break;
            }
        }
        let used: u64 = self.start_window.iter().map(|&(_, c)| c as u64).sum();
        if used + n as u64 <= limit as u64 {
            self.start_window.push_back((now, n));
            return Ok(());
        }
        // Seconds until enough of the window has expired to fit `n`.
        let retry_ms = if n > limit {
            window
        } else {
            let need = used + n as u64 - limit as u64;
            let mut freed = 0u64;
            let mut at = now + window;
            for &(t, c) in &self.start_window {
                freed += c as u64;
                if freed >= need {
                    at = t + window;
                    break;
                }
            }
            at.saturating_sub(now)
        };
        let secs = retry_ms.div_ceil(1000).max(1);
        let span = if window == 60_000 {
            "1 minute".to_string()
        } else {
            format!("{window} ms")
        };
        Err(Failure::Gateway {
            status: 429,
            code: "APIGW.0308",
            message: format!(
                "The throttling threshold has been reached: policy user over ratelimit,\
                 limit:{limit},time:{span} (servers started)"
            ),
            retry_after: Some(secs),
        })
    }

    // ---- jobs ----------------------------------------------------------------------------

    /// Purges finished jobs past their TTL, at most once a second.
    fn sweep(&mut self, now: u64, knobs: &Knobs) {
        if now < self.last_sweep_ms + 1000 && self.last_sweep_ms != 0 {
            return;
        }
        self.last_sweep_ms = now.max(1);
        let ttl = knobs.job_ttl_secs.saturating_mul(1000);
        let mut purged_last = self.counters.purged_last_end_ms;
        self.jobs.retain(|_, j| match j.end_ms(now) {
            Some(end) if now >= end.saturating_add(ttl) => {
                purged_last = Some(purged_last.map_or(end, |p| p.max(end)));
                false
            }
            _ => true,
        });
        self.counters.purged_last_end_ms = purged_last;
    }

    /// A job as served, or `NotFound` (unknown, or purged after its TTL).
    pub fn show_job(&mut self, job_id: &str) -> JobView {
        let now = self.now_ms();
        let knobs = &self.knobs;
        let Some(id) = parse_job_id(job_id) else {
            return JobView::NotFound;
        };
        let ttl = knobs.job_ttl_secs.saturating_mul(1000);
        let expired = match self.jobs.get(&id) {
            None => return JobView::NotFound,
            Some(j) => j
                .end_ms(now)
                .map(|end| (now >= end.saturating_add(ttl), end)),
        };
        if let Some((true, end)) = expired {
            self.jobs.remove(&id);
            let p = self.counters.purged_last_end_ms;
            self.counters.purged_last_end_ms = Some(p.map_or(end, |p| p.max(end)));
            return JobView::NotFound;
        }
        match self.jobs.get(&id) {
            Some(j) => JobView::Found(Box::new(self.render_job(j, now, &self.knobs))),
            None => JobView::NotFound,
        }
    }

    fn render_job(&self, j: &JobRec, now: u64, knobs: &Knobs) -> Job {
        let status = j.status(now, knobs.partial_failure_parent);
        let init = now < j.running_ms;
        let subs: Vec<SubJob> = j
            .subs
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let (status, end, code, reason) = if init {
                    (JobStatus::Init, None, None, None)
                } else if now < s.end_ms {
                    (JobStatus::Running, None, None, None)
                } else {
                    match s.outcome {
                        Outcome::Success => (JobStatus::Success, Some(s.end_ms), None, None),
                        Outcome::Fail(c, r) => (JobStatus::Fail, Some(s.end_ms), Some(c), Some(r)),
                    }
                };
                SubJob {
                    status: Some(status),
                    entities: Some(SubJobEntities {
                        server_id: Some(s.server_id.to_string()),
                        nic_id: None,
                        errorcode_message: reason.map(|r| format!("{}: {r}", code.unwrap_or(""))),
                    }),
                    job_id: Some(format!("{:032x}", j.id.wrapping_add(n as u128 + 1))),
                    job_type: Some(j.op.sub_job_type().into()),
                    begin_time: Some(self.job_time(j.created_ms)),
                    end_time: end.map(|e| self.job_time(e)),
                    error_code: code.map(Into::into),
                    fail_reason: reason.map(Into::into),
                }
            })
            .collect();
        let (error_code, fail_reason) = if status == JobStatus::Fail {
            subs.iter()
                .find(|s| s.status == Some(JobStatus::Fail))
                .map(|s| (s.error_code.clone(), s.fail_reason.clone()))
                .unwrap_or((None, None))
        } else {
            (None, None)
        };
        let status = match &knobs.job_status_override {
            Some(o) => JobStatus::from(o.clone()),
            None => status,
        };
        Job {
            status: Some(status),
            entities: Some(JobEntities {
                server_id: None,
                nic_id: None,
                sub_jobs_total: Some(subs.len() as u64),
                sub_jobs: Some(subs),
            }),
            job_id: Some(format!("{:032x}", j.id)),
            job_type: Some(j.op.job_type().into()),
            begin_time: Some(self.job_time(j.created_ms)),
            end_time: j.end_ms(now).map(|e| self.job_time(e)),
            error_code,
            fail_reason,
            code: None,
            message: None,
        }
    }

    /// Jobs per parent status (as computed, before any override).
    pub fn job_counts(&self) -> HashMap<String, u64> {
        let now = self.now_ms();
        let knobs = &self.knobs;
        let mut counts = HashMap::new();
        for j in self.jobs.values() {
            *counts
                .entry(j.status(now, knobs.partial_failure_parent).to_string())
                .or_insert(0) += 1;
        }
        counts
    }

    /// The latest end of any finished job, purged ones included.
    pub fn last_job_end_ms(&self) -> Option<u64> {
        let now = self.now_ms();
        self.jobs
            .values()
            .filter_map(|j| j.end_ms(now))
            .chain(self.counters.purged_last_end_ms)
            .max()
    }

    pub fn starts_total(&self) -> u64 {
        self.counters.starts_total
    }

    pub fn stops_total(&self) -> u64 {
        self.counters.stops_total
    }

    /// Zeroes the start/stop counters (per server too) and the last job end.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
        for s in &mut self.servers {
            s.start_count = 0;
            s.stop_count = 0;
        }
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }
}

enum Step {
    Go,
    Join(u64, bool),
    Conflict,
    WrongState { may_succeed: bool },
}

fn parse_job_id(s: &str) -> Option<u128> {
    if s.len() != 32
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}
