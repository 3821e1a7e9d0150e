//! Step 4: turn what the waits found into each server's outcome: the sub-jobs first, then the
//! starts that were already in progress, then the reads that settle what is still open.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use super::report::FailedServer;
use super::states::{read_states, Class, States};
use super::wait::{Waited, WaitedJob};
use super::Run;
use crate::api::codes;
use crate::api::models::JobStatus;
use crate::api::{ApiError, ServerOutcome, WaitEnd};

/// How long the final state read after a timeout may take.
pub const SETTLE_GRACE: Duration = Duration::from_secs(10);

impl Run<'_> {
    pub(super) async fn settle(&mut self, waited: Waited) {
        // Servers whose sub-job failed because their state did not allow a start: running
        // ones were started by someone else, and count as started.
        let mut conflicts = Vec::new();
        // A job that could not be read to its end (purged, malformed, errors past the retry
        // budget) says nothing of its servers: their states will tell.
        let mut unreadable = false;
        for job in waited.jobs {
            unreadable |= self.walk_job(job, &mut conflicts);
        }
        self.settle_in_progress(waited.in_progress);
        if (self.report.timed_out || unreadable)
            && !self.report.unconfirmed.is_empty()
            && !self.limits.is_interrupted()
        {
            self.confirm_running_after_timeout().await;
        }
        self.confirm_conflicts(conflicts).await;
    }

    /// Records one job's outcomes; true when the job could not be read to its end.
    fn walk_job(&mut self, job: WaitedJob, conflicts: &mut Vec<FailedServer>) -> bool {
        let WaitedJob {
            job_id,
            servers,
            result,
        } = job;
        let Some(result) = result else {
            let error = format!("job {job_id}: the wait on it stopped unexpectedly");
            self.report.errors.push(error);
            self.report.unconfirmed.extend(servers);
            return true;
        };
        let rest = self.record_outcomes(&servers, &result.outcomes, conflicts);
        match result.end {
            // A finished job that says nothing of a server: its state decides.
            WaitEnd::Finished => conflicts.extend(rest.into_iter().map(|id| FailedServer {
                server_id: id,
                code: "unknown".into(),
                reason: format!("job {job_id} finished without a sub-job for it"),
            })),
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

    /// Records the finished sub-jobs of `servers` (matched case-insensitively: sub-jobs name
    /// servers in the service's spelling); returns the servers without one.
    fn record_outcomes(
        &mut self,
        servers: &[String],
        outcomes: &[ServerOutcome],
        conflicts: &mut Vec<FailedServer>,
    ) -> Vec<String> {
        let by_key: HashMap<String, &String> = servers
            .iter()
            .map(|s| (s.to_ascii_lowercase(), s))
            .collect();
        let mut seen = HashSet::new();
        for o in outcomes {
            let key = o.server_id.to_ascii_lowercase();
            let Some(&id) = by_key.get(&key) else {
                continue;
            };
            match o.status {
                JobStatus::Success => self.report.started.push(id.clone()),
                JobStatus::Fail => match failed_from(id, o) {
                    f if f.code == codes::STATE_CONFLICT => conflicts.push(f),
                    f => self.report.failed.push(f),
                },
                _ => continue,
            }
            seen.insert(key);
        }
        servers
            .iter()
            .filter(|s| !seen.contains(&s.to_ascii_lowercase()))
            .cloned()
            .collect()
    }

    /// Records the starts that were in progress at the pre-check, from their last states.
    fn settle_in_progress(&mut self, states: Result<States, ApiError>) {
        let ids = std::mem::take(&mut self.in_progress);
        let states = match states {
            Ok(states) => states,
            Err(e) => {
                self.report.still_starting.extend(ids.iter().cloned());
                self.report.unconfirmed.extend(ids);
                self.report
                    .record_error(&e, "waiting for starts already in progress");
                return;
            }
        };
        for id in ids {
            match states.class_of(&id) {
                Some(Class::Running) => self.report.started.push(id),
                // The wait on states ends with a start still under way only at an interrupt
                // or the deadline.
                Some(Class::Starting) | None => {
                    if self.limits.is_interrupted() {
                        self.report.interrupted = true;
                    } else {
                        self.report.timed_out = true;
                    }
                    self.report.still_starting.push(id.clone());
                    self.report.unconfirmed.push(id);
                }
                Some(Class::Stopped) => self.report.fail(
                    id,
                    "unknown",
                    "a start that was in progress ended with the server stopped",
                ),
                Some(Class::Refused { code, reason }) => self.report.fail(id, code, reason),
            }
        }
    }

    /// The last poll may predate the deadline by up to one poll interval, and a job that
    /// could not be read says nothing of its servers: one state read, with a short grace,
    /// confirms the servers that are running. The error stays; only the outcomes settle.
    async fn confirm_running_after_timeout(&mut self) {
        let grace = self.limits.with_deadline(Instant::now() + SETTLE_GRACE);
        let client = self.engine.client.with_deadline(grace.deadline);
        let ids = std::mem::take(&mut self.report.unconfirmed);
        match read_states(&client, &ids, &grace).await {
            Ok(states) => {
                for id in ids {
                    match states.class_of(&id) {
                        Some(Class::Running) => self.report.started.push(id),
                        _ => self.report.unconfirmed.push(id),
                    }
                }
            }
            Err(_) => self.report.unconfirmed = ids,
        }
    }

    /// A server whose sub-job failed because of its state counts as started if it now runs.
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
            if class == Some(&Class::Running) {
                self.report.started.push(failed.server_id);
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
