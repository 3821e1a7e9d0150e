//! Step 3: wait on every submitted job, and on servers already on their way without a job of
//! ours, until all are done, the deadline passes or the run is interrupted.

use crate::api::models::JobStatus;
use crate::api::{ApiError, JobReport, ServerOutcome, WaitEnd};

use tokio::time::Instant;

use super::action::Fate;
use super::states::{read_states, States};
use super::submit::Submitted;
use super::Run;

/// What settling needs of a finished wait. The job itself (a kilobyte or so per sub-job) is
/// dropped as soon as its wait ends, not kept until every job is done.
pub(super) struct JobResult {
    pub(super) end: WaitEnd,
    pub(super) status: Option<JobStatus>,
    pub(super) outcomes: Vec<ServerOutcome>,
}

impl From<JobReport> for JobResult {
    fn from(r: JobReport) -> Self {
        JobResult {
            status: r.status().cloned(),
            outcomes: r.server_outcomes(),
            end: r.end,
        }
    }
}

/// A submitted batch and how the wait on its job ended; `result` is `None` when the wait
/// task itself died.
pub(super) struct WaitedJob {
    pub(super) job_id: String,
    pub(super) servers: Vec<String>,
    pub(super) wait_deadline: Instant,
    pub(super) result: Option<JobResult>,
}

/// Everything the waits found.
pub(super) struct Waited {
    pub(super) jobs: Vec<WaitedJob>,
    /// The last states of the servers that were in progress.
    pub(super) in_progress: Result<States, ApiError>,
}

impl Run<'_> {
    pub(super) async fn wait(&self, submitted: Vec<Submitted>) -> Waited {
        let (jobs, in_progress) = tokio::join!(
            futures::future::join_all(submitted.into_iter().map(WaitedJob::of)),
            self.wait_for_states()
        );
        Waited { jobs, in_progress }
    }

    /// Polls the states of the servers in progress until none is still on its way, the
    /// deadline passes or the run is interrupted (then some may still be on their way, or
    /// have no state read at all).
    async fn wait_for_states(&self) -> Result<States, ApiError> {
        let mut states = States::default();
        if self.in_progress.is_empty() {
            return Ok(states);
        }
        let mut delay = self.opts.poll.first_delay;
        loop {
            if self.limits.sleep(delay).await.is_err() {
                return Ok(states);
            }
            states = read_states(&self.client, &self.in_progress, &self.limits).await?;
            if !states.any(|c| self.action.fate(c) == Fate::Wait) {
                return Ok(states);
            }
            delay = self.opts.poll.next_gap(delay);
        }
    }

    /// Without waiting, every accepted server and every server on its way counts as done.
    pub(super) fn count_accepted_as_done(&mut self, submitted: Vec<Submitted>) {
        for s in submitted {
            self.report.done.extend(s.servers);
        }
        self.report.done.append(&mut self.in_progress);
    }
}

impl WaitedJob {
    async fn of(s: Submitted) -> WaitedJob {
        let result = match s.wait {
            Some(handle) => handle.await.ok(),
            None => None,
        };
        WaitedJob {
            job_id: s.job_id,
            servers: s.servers,
            wait_deadline: s.wait_deadline,
            result,
        }
    }
}
