//! Jobs: one per accepted action, one sub-job per server; their phases (INIT → RUNNING →
//! SUCCESS/FAIL), how they are served, and their purge after `job_ttl_secs`.

use std::collections::HashMap;
use std::sync::Arc;

use rand::Rng;

use super::power_action::PowerAction;
use super::State;
use crate::api::models::{Job, JobEntities, JobStatus, PowerType, SubJob, SubJobEntities};
use crate::sim::knobs::{Knobs, PartialFailureParent};

/// A job's INIT phase: 10% of the shortest start or stop time (scaled), at most 1 s.
pub(super) fn init_ms(knobs: &Knobs) -> u64 {
    let min = knobs.start_duration_ms[0].min(knobs.stop_duration_ms[0]) as f64;
    ((min * knobs.time_scale * 0.1) as u64).min(1000)
}

/// How a sub-job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    /// `(error_code, fail_reason)`.
    Fail(&'static str, &'static str),
}

/// A SOFT stop overridden by a HARD one on one server: the SOFT stop's sub-jobs on it
/// (those ending at `old_end_ms`, the transition's end) end with the HARD stop instead.
pub(super) struct Superseded {
    pub server_id: Arc<str>,
    pub old_end_ms: u64,
    pub new_end_ms: u64,
    pub outcome: Outcome,
}

/// One server's part of a job.
#[derive(Debug)]
pub(super) struct SubJobRecord {
    pub server_id: Arc<str>,
    pub end_ms: u64,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub(super) struct JobRecord {
    pub id: u128,
    pub action: PowerAction,
    pub created_ms: u64,
    /// When INIT turns into RUNNING.
    pub running_ms: u64,
    pub subs: Vec<SubJobRecord>,
    /// The job never finishes (`never_finish`, `never_finish_jobs`).
    pub never: bool,
}

impl JobRecord {
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

/// A job id as served (32 lower-case hex digits), or `None`.
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

impl State {
    /// Stores a new job and returns its id as served.
    pub(super) fn insert_job(
        &mut self,
        action: PowerAction,
        created_ms: u64,
        running_ms: u64,
        subs: Vec<SubJobRecord>,
        never: bool,
    ) -> String {
        let id = self.new_job_id();
        self.jobs.insert(
            id,
            JobRecord {
                id,
                action,
                created_ms,
                running_ms,
                subs,
                never,
            },
        );
        self.sweep(created_ms);
        format!("{id:032x}")
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

    /// Makes the sub-jobs of the SOFT stops that HARD stops overrode end with them, as the
    /// server did. One pass over the SOFT stop jobs, whatever the number overridden.
    pub(super) fn supersede(&mut self, superseded: &[Superseded]) {
        if superseded.is_empty() {
            return;
        }
        let by_server: HashMap<&str, &Superseded> =
            superseded.iter().map(|s| (&*s.server_id, s)).collect();
        let soft_stops = self
            .jobs
            .values_mut()
            .filter(|j| j.action == PowerAction::Stop(PowerType::Soft));
        for job in soft_stops {
            for sub in &mut job.subs {
                match by_server.get(&*sub.server_id) {
                    Some(s) if sub.end_ms == s.old_end_ms => {
                        sub.end_ms = s.new_end_ms;
                        sub.outcome = s.outcome;
                    }
                    _ => {}
                }
            }
        }
    }

    /// Remembers the end of a purged job for `last_job_end`.
    fn note_purged(&mut self, end: u64) {
        let p = self.counters.purged_last_end_ms;
        self.counters.purged_last_end_ms = Some(p.map_or(end, |p| p.max(end)));
    }

    /// Purges finished jobs past their TTL, at most once a second.
    fn sweep(&mut self, now: u64) {
        if now < self.last_sweep_ms + 1000 && self.last_sweep_ms != 0 {
            return;
        }
        self.last_sweep_ms = now.max(1);
        let ttl = self.knobs.job_ttl_secs.saturating_mul(1000);
        let mut purged = Vec::new();
        self.jobs.retain(|_, j| match j.end_ms(now) {
            Some(end) if now >= end.saturating_add(ttl) => {
                purged.push(end);
                false
            }
            _ => true,
        });
        for end in purged {
            self.note_purged(end);
        }
    }

    /// A job as served, or `NotFound` (unknown, or purged after its TTL).
    pub fn show_job(&mut self, job_id: &str) -> JobView {
        let now = self.now_ms();
        let Some(id) = parse_job_id(job_id) else {
            return JobView::NotFound;
        };
        let ttl = self.knobs.job_ttl_secs.saturating_mul(1000);
        let Some(job) = self.jobs.get(&id) else {
            return JobView::NotFound;
        };
        match job.end_ms(now) {
            Some(end) if now >= end.saturating_add(ttl) => {
                self.jobs.remove(&id);
                self.note_purged(end);
                JobView::NotFound
            }
            _ => JobView::Found(Box::new(self.render_job(job, now))),
        }
    }

    fn render_job(&self, j: &JobRecord, now: u64) -> Job {
        let status = j.status(now, self.knobs.partial_failure_parent);
        let subs: Vec<SubJob> = j
            .subs
            .iter()
            .enumerate()
            .map(|(n, s)| self.render_sub_job(j, n, s, now))
            .collect();
        let (error_code, fail_reason) = if status == JobStatus::Fail {
            subs.iter()
                .find(|s| s.status == Some(JobStatus::Fail))
                .map(|s| (s.error_code.clone(), s.fail_reason.clone()))
                .unwrap_or((None, None))
        } else {
            (None, None)
        };
        let status = match &self.knobs.job_status_override {
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
            job_type: Some(j.action.job_type().into()),
            begin_time: Some(self.job_time(j.created_ms)),
            end_time: j.end_ms(now).map(|e| self.job_time(e)),
            error_code,
            fail_reason,
            code: None,
            message: None,
        }
    }

    /// Sub-job `n` (0-based) of job `j`; its id is the parent's + n + 1.
    fn render_sub_job(&self, j: &JobRecord, n: usize, s: &SubJobRecord, now: u64) -> SubJob {
        let (status, end, code, reason) = if now < j.running_ms {
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
            job_type: Some(j.action.sub_job_type().into()),
            begin_time: Some(self.job_time(j.created_ms)),
            end_time: end.map(|e| self.job_time(e)),
            error_code: code.map(Into::into),
            fail_reason: reason.map(Into::into),
        }
    }

    /// Jobs per parent status (as computed, before any override).
    pub fn job_counts(&self) -> HashMap<String, u64> {
        let now = self.now_ms();
        let mut counts = HashMap::new();
        for j in self.jobs.values() {
            *counts
                .entry(j.status(now, self.knobs.partial_failure_parent).to_string())
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
}
