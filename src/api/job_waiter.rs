//! Waits on ECS jobs until each is SUCCESS or FAIL, a deadline passes, or it is cancelled.
//!
//! CONTRACT (filled in by the client work):
//! * `JobWaiter::new(client, PollPolicy)`; `wait_one(job_id, deadline, cancel) -> JobReport`
//!   polls one job; `wait_all(job_ids, deadline, cancel) -> Vec<JobReport>` polls them all
//!   concurrently and returns the reports in the order given.
//! * Statuses other than SUCCESS/FAIL (INIT, RUNNING, unknown ones) keep polling (unknown
//!   ones logged). Transient read errors are retried by the client; a fatal read error (e.g.
//!   404 for a purged job, invalid JSON) ends that job's wait with `WaitEnd::Error`.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::EcsClient;
use super::error::ApiError;
use super::models::{Job, JobStatus};

/// How often jobs are read. See `Default` for the numbers and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    pub first_delay: Duration,
    pub factor: f64,
    pub max_delay: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(1),
            factor: 1.5,
            max_delay: Duration::from_secs(3),
        }
    }
}

/// How the wait on one job ended.
#[derive(Debug, Clone)]
pub enum WaitEnd {
    /// The job reached SUCCESS or FAIL.
    Finished,
    /// The deadline passed first.
    DeadlineReached,
    /// Cancelled from outside.
    Cancelled,
    /// Reading the job failed for good.
    Error(ApiError),
}

/// One server's outcome, from a sub-job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOutcome {
    pub server_id: String,
    pub status: JobStatus,
    pub error_code: Option<String>,
    pub fail_reason: Option<String>,
    pub errorcode_message: Option<String>,
}

/// The result of waiting on one job.
#[derive(Debug, Clone)]
pub struct JobReport {
    pub job_id: String,
    pub end: WaitEnd,
    /// The last successful read of the job, if any.
    pub last: Option<Job>,
    /// How many times the job was read.
    pub reads: u32,
}

impl JobReport {
    /// Per-server outcomes from the last read's `sub_jobs`, whatever the parent status says.
    pub fn server_outcomes(&self) -> Vec<ServerOutcome> {
        todo!()
    }
}

pub struct JobWaiter {
    client: EcsClient,
    policy: PollPolicy,
}

impl JobWaiter {
    pub fn new(client: EcsClient, policy: PollPolicy) -> Self {
        Self { client, policy }
    }

    pub async fn wait_one(
        &self,
        job_id: &str,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> JobReport {
        let _ = (job_id, deadline, cancel, &self.client, &self.policy);
        todo!()
    }

    pub async fn wait_all(
        &self,
        job_ids: &[String],
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Vec<JobReport> {
        let _ = (job_ids, deadline, cancel);
        todo!()
    }
}
