//! Step 4: turn what the waits found into each server's outcome: the sub-jobs first, then the
//! servers that were already on their way, then the reads that settle what is still open.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use super::action::Fate;
use super::report::FailedServer;
use super::states::{read_states, States};
use super::wait::{Waited, WaitedJob};
use super::Run;
use crate::api::codes;
use crate::api::models::JobStatus;
use crate::api::{ApiError, ServerOutcome, WaitEnd};

/// How long the final state read after a timeout may take.
pub const SETTLE_GRACE: Duration = Duration::from_secs(10);

impl Run<'_> {
    /// Records every server's outcome; returns the servers a graceful stop did not stop in
    /// time, to stop with `HARD` (empty unless the run forces).
    pub(super) async fn settle(&mut self, waited: Waited) -> Vec<FailedServer> {
        // Servers whose sub-job failed because of their state: those that now read where
        // the operation leads got there anyway.
        let mut conflicts = Vec::new();
        let mut to_force = Vec::new();
        // A job that could not be read to its end (purged, malformed, errors past the retry
        // budget) says nothing of its servers: their states will tell.
        let mut unreadable = false;
        for job in waited.jobs {
            unreadable |= self.walk_job(job, &mut conflicts, &mut to_force);
        }
        self.settle_in_progress(waited.in_progress);
        if (self.report.timed_out || unreadable)
            && !self.report.unconfirmed.is_empty()
            && !self.limits.is_interrupted()
        {
            self.confirm_by_state_after_timeout().await;
        }
        self.confirm_conflicts(conflicts).await;
        to_force
    }

    /// Whether this run stops gracefully and then forces.
    fn forces(&self) -> bool {
        self.force_after().is_some()
    }

    /// Records one job's outcomes; true when the job could not be read to its end.
    fn walk_job(
        &mut self,
        job: WaitedJob,
        conflicts: &mut Vec<FailedServer>,
        to_force: &mut Vec<FailedServer>,
    ) -> bool {
        let WaitedJob {
            job_id,
            servers,
            wait_deadline,
            result,
        } = job;
        let Some(result) = result else {
            let error = format!("job {job_id}: the wait on it stopped unexpectedly");
            self.report.errors.push(error);
            self.report.unconfirmed.extend(servers);
            return true;
        };
        let (rest, failed) = self.record_outcomes(&servers, &result.outcomes);
        for f in failed {
            match f {
                f if f.code == codes::STATE_CONFLICT => conflicts.push(f),
                // A graceful stop that failed (a guest that ignores it) is forced.
                f if self.forces() => to_force.push(f),
                f => self.report.failed.push(f),
            }
        }
        match result.end {
            // A finished job that says nothing of a server: its state decides.
            WaitEnd::Finished => conflicts.extend(rest.into_iter().map(|id| FailedServer {
                server_id: id,
                code: "unknown".into(),
                reason: format!("job {job_id} finished without a sub-job for it"),
            })),
            WaitEnd::DeadlineReached if self.forces() && wait_deadline < self.limits.deadline => {
                to_force.extend(rest.into_iter().map(|id| self.not_stopped_in_time(id)));
            }
            WaitEnd::DeadlineReached => {
                self.report.timed_out = true;
                if let Some(status) = result.status.filter(is_unknown_status) {
                    let status = status.as_str().to_string();
                    self.report
                        .unknown_status_jobs
                        .push((job_id.clone(), status));
                }
                self.report.running_jobs.push(job_id);
                self.report.unconfirmed.extend(rest);
            }
            WaitEnd::Interrupted => {
                self.report.interrupted = true;
                self.report.running_jobs.push(job_id);
                self.report.unconfirmed.extend(rest);
            }
            WaitEnd::Error(e) => {
                let error = format!("job {job_id}: reading it failed: {e}");
                self.report.errors.push(error);
                self.report.unconfirmed.extend(rest);
                return true;
            }
        }
        false
    }
}

impl Run<'_> {
    /// Records the successful sub-jobs of `servers` (matched case-insensitively: sub-jobs
    /// name servers in the service's spelling); returns the servers without a finished
    /// sub-job, and the failed ones.
    fn record_outcomes(
        &mut self,
        servers: &[String],
        outcomes: &[ServerOutcome],
    ) -> (Vec<String>, Vec<FailedServer>) {
        let by_key: HashMap<String, &String> = servers
            .iter()
            .map(|s| (s.to_ascii_lowercase(), s))
            .collect();
        let mut seen = HashSet::new();
        let mut failed = Vec::new();
        for o in outcomes {
            let key = o.server_id.to_ascii_lowercase();
            let Some(&id) = by_key.get(&key) else {
                continue;
            };
            match o.status {
                JobStatus::Success => self.report.done.push(id.clone()),
                JobStatus::Fail => failed.push(failed_from(id, o)),
                _ => continue,
            }
            seen.insert(key);
        }
        let rest = servers
            .iter()
            .filter(|s| !seen.contains(&s.to_ascii_lowercase()))
            .cloned()
            .collect();
        (rest, failed)
    }

    /// A server a graceful stop did not stop within `force_after`.
    fn not_stopped_in_time(&self, id: String) -> FailedServer {
        let after = self.force_after().unwrap_or_default();
        FailedServer {
            server_id: id,
            code: "timeout".into(),
            reason: format!(
                "a graceful stop did not stop it within force_after ({})",
                humantime::format_duration(after)
            ),
        }
    }

    /// Records the servers that were already on their way at the pre-check (or after a lost
    /// answer), from their last states.
    fn settle_in_progress(&mut self, states: Result<States, ApiError>) {
        let ids = std::mem::take(&mut self.in_progress);
        let states = match states {
            Ok(states) => states,
            Err(e) => {
                self.report.still_in_progress.extend(ids.iter().cloned());
                self.report.unconfirmed.extend(ids);
                let doing = format!("waiting for servers already {}", self.action.gerund());
                self.report.record_error(&e, &doing);
                return;
            }
        };
        for id in ids {
            let Some(class) = states.class_of(&id) else {
                self.still_on_its_way(id);
                continue;
            };
            if self.action.reached(class) {
                self.report.done.push(id);
                continue;
            }
            match self.action.fate(class) {
                Fate::Wait => self.still_on_its_way(id),
                Fate::Fail { code, reason } => self.report.fail(id, &code, reason),
                Fate::Send | Fate::Skip => {
                    let (verb, from) = (self.action.verb(), self.action.from_where());
                    let reason =
                        format!("a {verb} that was in progress ended with the server {from}");
                    self.report.fail(id, "unknown", reason);
                }
            }
        }
    }

    /// The wait on states ends with a server still on its way only at an interrupt or the
    /// deadline.
    fn still_on_its_way(&mut self, id: String) {
        if self.limits.is_interrupted() {
            self.report.interrupted = true;
        } else {
            self.report.timed_out = true;
        }
        self.report.still_in_progress.push(id.clone());
        self.report.unconfirmed.push(id);
    }

    /// The last poll may predate the deadline by up to one poll interval, and a job that
    /// could not be read says nothing of its servers: one state read, with a short grace,
    /// confirms the servers that got where the operation leads (not after a reboot, whose
    /// end state is its start state). The error stays; only the outcomes settle.
    async fn confirm_by_state_after_timeout(&mut self) {
        let grace = self.limits.with_deadline(Instant::now() + SETTLE_GRACE);
        let client = self.engine.client.with_deadline(grace.deadline);
        let ids = std::mem::take(&mut self.report.unconfirmed);
        match read_states(&client, &ids, &grace).await {
            Ok(states) => {
                for id in ids {
                    match states.class_of(&id) {
                        Some(c) if self.action.confirmed_by_state(c) => self.report.done.push(id),
                        _ => self.report.unconfirmed.push(id),
                    }
                }
            }
            Err(_) => self.report.unconfirmed = ids,
        }
    }

    /// A server whose sub-job failed because of its state counts as done if it now reads
    /// where the operation leads (someone else got it there).
    async fn confirm_conflicts(&mut self, conflicts: Vec<FailedServer>) {
        if conflicts.is_empty() {
            return;
        }
        let ids: Vec<String> = conflicts.iter().map(|f| f.server_id.clone()).collect();
        let states = read_states(&self.client, &ids, &self.limits).await;
        for failed in conflicts {
            let class = states
                .as_ref()
                .ok()
                .and_then(|s| s.class_of(&failed.server_id));
            if class.is_some_and(|c| self.action.confirmed_by_state(c)) {
                self.report.done.push(failed.server_id);
            } else {
                self.report.failed.push(failed);
            }
        }
        if let Err(e) = states {
            self.report
                .record_error(&e, "checking servers whose sub-job failed");
        }
    }
}

/// A failed sub-job as the report shows it: the service's code and its most specific words.
fn failed_from(id: &str, o: &ServerOutcome) -> FailedServer {
    FailedServer {
        server_id: id.to_string(),
        code: o.error_code.clone().unwrap_or_else(|| "unknown".into()),
        reason: o
            .fail_reason
            .clone()
            .or(o.errorcode_message.clone())
            .unwrap_or_else(|| "the sub-job failed".into()),
    }
}

/// A job status this provider does not know (it polled on until the deadline).
fn is_unknown_status(status: &JobStatus) -> bool {
    !matches!(
        status,
        JobStatus::Init | JobStatus::Running | JobStatus::Success | JobStatus::Fail
    )
}
