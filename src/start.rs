//! `BatchStart`: starts a list of servers through the ECS API and reports what became of
//! each. It knows the API client, not Terraform: the `ecs_batch_start` resource turns its
//! [`StartReport`] into state and diagnostics.
//!
//! The steps, in order:
//! 1. read every server's state (at most 100 ids a call, a few calls at once) and sort them:
//!    already running → skipped; stopped → to start; start in progress → waited on;
//!    unknown id → error, nothing started; any other state → failed with the reason;
//! 2. submit the servers to start in batches of at most 1000 (and at most the start rate),
//!    paced by the shared [`StartPacer`], and begin waiting on each job as soon as it is
//!    accepted. A batch whose answer was lost, ambiguous (5xx) or had no job id is never
//!    re-sent blindly: the states are read, and only servers still stopped are sent again
//!    (once), with a warning;
//! 3. wait on every job until all are done, the deadline passes or the run is cancelled;
//! 4. walk every sub-job: SUCCESS → started, FAIL → failed with its code and reason, except a
//!    server that failed because it was already running and now reads ACTIVE: started.
//!
//! Whatever happens, the report holds every job id that the service returned.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::api::job_waiter::{JobReport, JobWaiter, PollPolicy, ServerOutcome, WaitEnd};
use crate::api::models::{server_status, JobStatus, ServerDetail, MAX_IDS_PER_LIST};
use crate::api::{ApiError, EcsClient};
use crate::pacer::{StartPacer, Ticket};

/// How many state reads run at once during the pre-check.
pub const READ_CONCURRENCY: usize = 4;
/// How long the final state read after a timeout may take.
pub const SETTLE_GRACE: Duration = Duration::from_secs(10);
/// The error code of "the server's state does not allow this" (already running).
pub const CODE_STATE_CONFLICT: &str = "Ecs.0100";

#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Wait for the jobs to finish (the resource's `wait`).
    pub wait: bool,
    pub deadline: Instant,
    pub poll: PollPolicy,
}

/// A server that could not be started, with the service's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedServer {
    pub server_id: String,
    pub code: String,
    pub reason: String,
}

/// What a run did. Lists of ids are sorted; `job_ids` are in submission order.
#[derive(Debug, Clone, Default)]
pub struct StartReport {
    pub job_ids: Vec<String>,
    pub started: Vec<String>,
    pub skipped: Vec<String>,
    pub failed: Vec<FailedServer>,
    /// Ids that do not exist (then nothing is started).
    pub missing: Vec<String>,
    /// Servers whose start was sent but not confirmed (deadline, interruption, lost job).
    pub unconfirmed: Vec<String>,
    /// Jobs still running when the wait ended.
    pub running_jobs: Vec<String>,
    /// Of `running_jobs`, those whose last status was one this provider does not know:
    /// (job id, status).
    pub unknown_status_jobs: Vec<(String, String)>,
    /// Of `unconfirmed`: servers whose start was already in progress at the pre-check (not
    /// sent again) and that were still starting when the wait ended.
    pub still_starting: Vec<String>,
    /// Of `unconfirmed`: servers never submitted (deadline or interrupt while pacing, or a
    /// fatal error on an earlier batch).
    pub not_submitted: Vec<String>,
    /// What went wrong but was resolved (a lost answer to a batch start, resolved by reading
    /// the states); shown as warnings.
    pub warnings: Vec<String>,
    pub timed_out: bool,
    pub interrupted: bool,
    /// Errors that stopped the run or a part of it.
    pub errors: Vec<String>,
}

impl StartReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
            && self.missing.is_empty()
            && self.unconfirmed.is_empty()
            && !self.timed_out
            && !self.interrupted
            && self.errors.is_empty()
    }

    fn finish(mut self) -> Self {
        for list in [
            &mut self.started,
            &mut self.skipped,
            &mut self.missing,
            &mut self.unconfirmed,
        ] {
            list.sort();
            list.dedup();
        }
        // Only what is still unconfirmed (a final state read may have confirmed some).
        let unconfirmed = &self.unconfirmed;
        for list in [&mut self.still_starting, &mut self.not_submitted] {
            list.retain(|id| unconfirmed.binary_search(id).is_ok());
            list.sort();
            list.dedup();
        }
        self.failed.sort_by(|a, b| a.server_id.cmp(&b.server_id));
        self.failed.dedup_by(|a, b| a.server_id == b.server_id);
        self
    }
}

/// One submitted batch and the wait on its job.
struct Submitted {
    job_id: String,
    servers: Vec<String>,
    wait: Option<JoinHandle<JobResult>>,
}

/// What the walk needs of a finished wait. The job itself (a kilobyte or so per sub-job) is
/// dropped as soon as its wait ends, not kept until every job is done.
struct JobResult {
    end: WaitEnd,
    status: Option<JobStatus>,
    outcomes: Vec<ServerOutcome>,
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

/// Starts servers in batches; see the module documentation.
pub struct BatchStart {
    client: EcsClient,
    pacer: Arc<StartPacer>,
    cancel: CancellationToken,
}

impl BatchStart {
    pub fn new(client: EcsClient, pacer: Arc<StartPacer>, cancel: CancellationToken) -> Self {
        Self {
            client,
            pacer,
            cancel,
        }
    }

    pub async fn run(&self, server_ids: &[String], opts: &StartOptions) -> StartReport {
        let client = self.client.with_deadline(opts.deadline);
        let mut report = StartReport::default();

        // 1. Pre-check.
        let states = match self.read_states(&client, server_ids, opts.deadline).await {
            Ok(states) => states,
            Err(e) => {
                self.record_stop(&mut report, &e, "reading the servers' states");
                return report.finish();
            }
        };
        let mut to_start = Vec::new();
        let mut in_progress = Vec::new();
        for id in server_ids {
            match states.get(&id.to_ascii_lowercase()) {
                None => report.missing.push(id.clone()),
                Some(class) => match class.clone() {
                    Class::Running => report.skipped.push(id.clone()),
                    Class::Stopped => to_start.push(id.clone()),
                    Class::Starting => in_progress.push(id.clone()),
                    Class::Other(code, reason) => report.failed.push(FailedServer {
                        server_id: id.clone(),
                        code,
                        reason,
                    }),
                },
            }
        }
        if !report.missing.is_empty() {
            return report.finish();
        }
        info!(
            to_start = to_start.len(),
            already_running = report.skipped.len(),
            in_progress = in_progress.len(),
            "pre-check done"
        );

        // 2. Submit, waiting on each job as soon as it is accepted.
        let waiter = Arc::new(JobWaiter::new(client.clone(), opts.poll.clone()));
        let mut submitted: Vec<Submitted> = Vec::new();
        let mut queue: Vec<Vec<String>> = to_start
            .chunks(self.pacer.max_batch())
            .map(<[String]>::to_vec)
            .collect();
        queue.reverse();
        let mut resubmitted = BTreeSet::new();
        let total_batches = queue.len();
        while let Some(batch) = queue.pop() {
            let Some(ticket) = self.paced(batch.len(), opts.deadline, &mut report).await else {
                let rest: Vec<String> = queue.drain(..).flatten().chain(batch).collect();
                report.not_submitted.extend(rest.iter().cloned());
                report.unconfirmed.extend(rest);
                break;
            };
            let answer = client.batch_start(&batch).await;
            if answer
                .as_ref()
                .map_or_else(is_recoverable_submit_error, |_| true)
            {
                // Accepted, or perhaps carried out: the service counted it by now at the latest.
                self.pacer.accepted(&ticket, Instant::now());
            }
            match answer {
                Ok(job_id) => {
                    info!(
                        job_id = %job_id,
                        servers = batch.len(),
                        batch = submitted.len() + 1,
                        of = total_batches,
                        "batch start accepted"
                    );
                    report.job_ids.push(job_id.clone());
                    let wait = opts.wait.then(|| {
                        let (waiter, job, cancel) =
                            (waiter.clone(), job_id.clone(), self.cancel.clone());
                        let deadline = opts.deadline;
                        tokio::spawn(async move {
                            JobResult::from(waiter.wait_one(&job, deadline, &cancel).await)
                        })
                    });
                    submitted.push(Submitted {
                        job_id,
                        servers: batch,
                        wait,
                    });
                }
                Err(e) if is_recoverable_submit_error(&e) => {
                    // The batch may or may not have been started (lost answer), or one of its
                    // servers changed state since the pre-check: find out, never re-send blindly.
                    warn!(error = %e, servers = batch.len(), "batch start not confirmed; re-reading states");
                    let states = match self.read_states(&client, &batch, opts.deadline).await {
                        Ok(s) => s,
                        Err(read_err) => {
                            let rest: Vec<String> = queue.drain(..).flatten().collect();
                            report.not_submitted.extend(rest.iter().cloned());
                            report.unconfirmed.extend(rest);
                            report.unconfirmed.extend(batch);
                            self.record_stop(&mut report, &e, "starting a batch");
                            self.record_stop(&mut report, &read_err, "re-reading states");
                            break;
                        }
                    };
                    let mut again = Vec::new();
                    let sent = batch.len();
                    for id in batch {
                        match states.get(&id.to_ascii_lowercase()).cloned() {
                            Some(Class::Running) => report.started.push(id),
                            Some(Class::Starting) => in_progress.push(id),
                            Some(Class::Stopped) if resubmitted.insert(id.clone()) => {
                                again.push(id)
                            }
                            Some(Class::Stopped) => report.failed.push(FailedServer {
                                server_id: id,
                                code: e.code().unwrap_or("unknown").to_string(),
                                reason: format!("still stopped after a retried start: {e}"),
                            }),
                            Some(Class::Other(code, reason)) => report.failed.push(FailedServer {
                                server_id: id,
                                code,
                                reason,
                            }),
                            None => report.missing.push(id),
                        }
                    }
                    if matches!(
                        e,
                        ApiError::OutcomeUnknown { .. } | ApiError::InvalidResponse { .. }
                    ) {
                        report.warnings.push(format!(
                            "A batch start of {sent} server(s) got no usable answer ({e}). It was not re-sent blindly: the servers' states were read instead, and {} still stopped were sent again.",
                            again.len()
                        ));
                    }
                    if !again.is_empty() {
                        queue.push(again);
                    }
                }
                Err(e) => {
                    let rest: Vec<String> = queue.drain(..).flatten().collect();
                    report.not_submitted.extend(rest.iter().cloned());
                    report.unconfirmed.extend(rest);
                    report.unconfirmed.extend(batch);
                    self.record_stop(&mut report, &e, "starting a batch");
                    break;
                }
            }
        }

        if !opts.wait {
            for s in submitted {
                report.started.extend(s.servers);
            }
            report.started.extend(in_progress);
            return report.finish();
        }

        // 3. Wait on every job, and on starts that were already in progress without a job.
        let (jobs, progressed) = tokio::join!(
            futures::future::join_all(submitted.into_iter().map(|s| async move {
                let report = match s.wait {
                    Some(handle) => handle.await.ok(),
                    None => None,
                };
                (s.job_id, s.servers, report)
            })),
            self.wait_for_states(&client, &in_progress, opts)
        );

        // 4. Walk the sub-jobs.
        let mut verify: Vec<(String, FailedServer)> = Vec::new();
        // A job that could not be read to its end (purged, malformed, errors past the retry
        // budget): its servers' states still tell which of them started.
        let mut job_unreadable = false;
        for (job_id, servers, job_report) in jobs {
            let Some(job_report) = job_report else {
                report
                    .errors
                    .push(format!("job {job_id}: the wait on it stopped unexpectedly"));
                report.unconfirmed.extend(servers);
                job_unreadable = true;
                continue;
            };
            // Sub-jobs name servers in the service's spelling; ours may differ in case.
            let by_key: HashMap<String, &String> = servers
                .iter()
                .map(|s| (s.to_ascii_lowercase(), s))
                .collect();
            let mut seen = BTreeSet::new();
            for o in &job_report.outcomes {
                let key = o.server_id.to_ascii_lowercase();
                let Some(&id) = by_key.get(&key) else {
                    continue;
                };
                match o.status {
                    JobStatus::Success => {
                        report.started.push(id.clone());
                        seen.insert(key);
                    }
                    JobStatus::Fail => {
                        let failed = FailedServer {
                            server_id: id.clone(),
                            code: o.error_code.clone().unwrap_or_else(|| "unknown".into()),
                            reason: o
                                .fail_reason
                                .clone()
                                .or(o.errorcode_message.clone())
                                .unwrap_or_else(|| "the sub-job failed".into()),
                        };
                        if failed.code == CODE_STATE_CONFLICT {
                            verify.push((id.clone(), failed));
                        } else {
                            report.failed.push(failed);
                        }
                        seen.insert(key);
                    }
                    _ => {}
                }
            }
            let rest = servers
                .iter()
                .filter(|s| !seen.contains(&s.to_ascii_lowercase()))
                .cloned();
            match &job_report.end {
                WaitEnd::Finished => {
                    // A finished job that says nothing of a server: its state decides.
                    verify.extend(rest.map(|id| {
                        let f = FailedServer {
                            server_id: id.clone(),
                            code: "unknown".into(),
                            reason: format!("job {job_id} finished without a sub-job for it"),
                        };
                        (id, f)
                    }));
                }
                WaitEnd::DeadlineReached => {
                    report.timed_out = true;
                    report.running_jobs.push(job_id.clone());
                    if let Some(status) = &job_report.status {
                        if !matches!(
                            status,
                            JobStatus::Init
                                | JobStatus::Running
                                | JobStatus::Success
                                | JobStatus::Fail
                        ) {
                            report
                                .unknown_status_jobs
                                .push((job_id.clone(), status.as_str().to_string()));
                        }
                    }
                    report.unconfirmed.extend(rest);
                }
                WaitEnd::Cancelled => {
                    report.interrupted = true;
                    report.running_jobs.push(job_id.clone());
                    report.unconfirmed.extend(rest);
                }
                WaitEnd::Error(e) => {
                    report
                        .errors
                        .push(format!("job {job_id}: reading it failed: {e}"));
                    report.unconfirmed.extend(rest);
                    job_unreadable = true;
                }
            }
        }
        match progressed {
            Ok(states) => {
                for id in in_progress {
                    match states.get(&id.to_ascii_lowercase()).cloned() {
                        Some(Class::Running) => report.started.push(id),
                        Some(Class::Starting) | None => {
                            // The wait on states ends with a start still under way only at
                            // an interrupt or the deadline.
                            if self.cancel.is_cancelled() {
                                report.interrupted = true;
                            } else {
                                report.timed_out = true;
                            }
                            report.still_starting.push(id.clone());
                            report.unconfirmed.push(id)
                        }
                        Some(Class::Stopped) => report.failed.push(FailedServer {
                            server_id: id,
                            code: "unknown".into(),
                            reason: "a start that was in progress ended with the server stopped"
                                .into(),
                        }),
                        Some(Class::Other(code, reason)) => report.failed.push(FailedServer {
                            server_id: id,
                            code,
                            reason,
                        }),
                    }
                }
            }
            Err(e) => {
                report.still_starting.extend(in_progress.iter().cloned());
                report.unconfirmed.extend(in_progress);
                self.record_stop(&mut report, &e, "waiting for starts already in progress");
            }
        }

        // The last poll may predate the deadline by up to one poll interval, and a job that
        // could not be read says nothing of its servers: one state read, with a short grace,
        // confirms the servers that are running. The error stays; only the outcomes settle.
        if (report.timed_out || job_unreadable)
            && !report.unconfirmed.is_empty()
            && !self.cancel.is_cancelled()
        {
            let grace = self.client.with_deadline(Instant::now() + SETTLE_GRACE);
            let ids = std::mem::take(&mut report.unconfirmed);
            match self
                .read_states(&grace, &ids, Instant::now() + SETTLE_GRACE)
                .await
            {
                Ok(states) => {
                    for id in ids {
                        match states.get(&id.to_ascii_lowercase()).cloned() {
                            Some(Class::Running) => report.started.push(id),
                            _ => report.unconfirmed.push(id),
                        }
                    }
                }
                Err(_) => report.unconfirmed = ids,
            }
        }

        // A server whose sub-job failed because it was already running counts as started.
        if !verify.is_empty() {
            let ids: Vec<String> = verify.iter().map(|(id, _)| id.clone()).collect();
            let states = self.read_states(&client, &ids, opts.deadline).await;
            for (id, failed) in verify {
                let running = states
                    .as_ref()
                    .ok()
                    .and_then(|s| s.get(&id.to_ascii_lowercase()))
                    .is_some_and(|c| *c == Class::Running);
                if running {
                    report.started.push(id);
                } else {
                    report.failed.push(failed);
                }
            }
            if let Err(e) = states {
                self.record_stop(&mut report, &e, "checking servers whose sub-job failed");
            }
        }
        report.finish()
    }

    /// Waits for the pacer; `None` when the deadline or a cancellation comes first.
    async fn paced(&self, n: usize, deadline: Instant, report: &mut StartReport) -> Option<Ticket> {
        let ticket = self.pacer.reserve(n, Instant::now());
        let wait = ticket.wait;
        if wait.is_zero() {
            return (!self.cancel.is_cancelled()).then_some(ticket);
        }
        info!(
            wait_secs = wait.as_secs_f64(),
            rate_per_minute = self.pacer.rate_per_minute(),
            "pacing the next batch"
        );
        if Instant::now() + wait > deadline {
            report.timed_out = true;
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => Some(ticket),
            _ = self.cancel.cancelled() => { report.interrupted = true; None }
        }
    }

    fn record_stop(&self, report: &mut StartReport, e: &ApiError, doing: &str) {
        match e {
            ApiError::Cancelled(_) => report.interrupted = true,
            ApiError::DeadlineExceeded { .. } => {
                report.timed_out = true;
                report.errors.push(format!("{doing}: {e}"));
            }
            _ => report.errors.push(format!("{doing}: {e}{}", hint(e))),
        }
    }

    /// Reads the states of `ids`, at most 100 a call and [`READ_CONCURRENCY`] calls at once,
    /// and classifies them, keyed by lower-case id. Ids that do not exist are left out. Only
    /// the class is kept: a whole `ServerDetail` per server would cost kilobytes each at
    /// 10,000 servers a resource.
    async fn read_states(
        &self,
        client: &EcsClient,
        ids: &[String],
        deadline: Instant,
    ) -> Result<HashMap<String, Class>, ApiError> {
        let calls: Vec<_> = ids
            .chunks(MAX_IDS_PER_LIST)
            .map(|chunk| {
                let (client, chunk) = (client.clone(), chunk.to_vec());
                async move { client.list_servers_by_ids(&chunk).await }
            })
            .collect();
        let mut results = stream::iter(calls).buffer_unordered(READ_CONCURRENCY);
        let mut out = HashMap::with_capacity(ids.len());
        loop {
            let next = tokio::select! {
                next = results.next() => next,
                _ = self.cancel.cancelled() => return Err(ApiError::Cancelled("reading server states".into())),
                _ = tokio::time::sleep_until(deadline) => return Err(ApiError::DeadlineExceeded { what: "reading server states".into(), last_error: None }),
            };
            match next {
                None => break,
                Some(Ok(servers)) => {
                    for s in servers.iter().filter(|s| !s.is_missing()) {
                        out.insert(s.id.to_ascii_lowercase(), classify(s));
                    }
                }
                Some(Err(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Polls the states of servers whose start was already in progress (no job of ours)
    /// until none is `powering-on`, the deadline passes or the run is cancelled (then some
    /// may still read `powering-on`, or have no state read at all).
    async fn wait_for_states(
        &self,
        client: &EcsClient,
        ids: &[String],
        opts: &StartOptions,
    ) -> Result<HashMap<String, Class>, ApiError> {
        let mut states = HashMap::new();
        if ids.is_empty() {
            return Ok(states);
        }
        let mut delay = opts.poll.first_delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return Ok(states),
                _ = tokio::time::sleep_until(opts.deadline) => return Ok(states),
            }
            states = self.read_states(client, ids, opts.deadline).await?;
            if !states.values().any(|c| *c == Class::Starting) {
                return Ok(states);
            }
            delay = next_delay(delay, &opts.poll);
        }
    }
}

fn next_delay(delay: Duration, poll: &PollPolicy) -> Duration {
    delay.mul_f64(poll.factor).min(poll.max_delay)
}

/// What to check after an error, when the error alone does not say.
fn hint(e: &ApiError) -> &'static str {
    match e.status() {
        Some(401) => ". The API gateway refused the credentials: check the access key, the secret key and, for temporary credentials, the security token (it expires), and that this machine's clock is right (a request dated more than 15 minutes off is refused)",
        _ => "",
    }
}

/// Errors on a batch start that re-reading the states can resolve: the answer was lost or
/// ambiguous (the batch may have been carried out), an answer without a job id (accepted,
/// but there is no job to wait on), or a state conflict.
fn is_recoverable_submit_error(e: &ApiError) -> bool {
    match e {
        ApiError::OutcomeUnknown { .. } | ApiError::InvalidResponse { .. } => true,
        ApiError::Http { status, code, .. } => *status == 400 && code == CODE_STATE_CONFLICT,
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Class {
    Running,
    Stopped,
    Starting,
    /// Any state a start cannot apply to: (code, reason).
    Other(String, String),
}

fn classify(s: &ServerDetail) -> Class {
    let status = s.status.as_deref().unwrap_or("");
    match (status, s.task_state()) {
        (server_status::ACTIVE, None) => Class::Running,
        (server_status::SHUTOFF, None) => Class::Stopped,
        (server_status::SHUTOFF, Some(server_status::POWERING_ON)) => Class::Starting,
        (server_status::ERROR, _) => {
            let (code, message) = s
                .fault
                .as_ref()
                .map(|f| {
                    (
                        f.code
                            .as_ref()
                            .map(|c| c.to_string().trim_matches('"').to_string()),
                        f.message.clone(),
                    )
                })
                .unwrap_or((None, None));
            Class::Other(
                code.unwrap_or_else(|| "ERROR".into()),
                format!(
                    "the server is in status ERROR{}",
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            )
        }
        (status, task) => Class::Other(
            "state".into(),
            format!(
                "the server is in status {}{}, which a start does not apply to",
                if status.is_empty() { "unknown" } else { status },
                task.map(|t| format!(" (task {t})")).unwrap_or_default()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: &str, task: Option<&str>) -> ServerDetail {
        serde_json::from_value(serde_json::json!({
            "id": "a", "status": status, "OS-EXT-STS:task_state": task
        }))
        .expect("valid server")
    }

    #[test]
    fn classifies_as_the_design_table_says() {
        assert_eq!(classify(&server("ACTIVE", None)), Class::Running);
        assert_eq!(classify(&server("ACTIVE", Some(""))), Class::Running);
        assert_eq!(classify(&server("SHUTOFF", None)), Class::Stopped);
        assert_eq!(
            classify(&server("SHUTOFF", Some("powering-on"))),
            Class::Starting
        );
        assert!(matches!(
            classify(&server("ACTIVE", Some("powering-off"))),
            Class::Other(..)
        ));
        assert!(matches!(
            classify(&server("ERROR", None)),
            Class::Other(c, _) if c == "ERROR"
        ));
    }

    #[test]
    fn poll_backoff_is_capped() {
        let p = PollPolicy::default();
        let mut d = p.first_delay;
        for _ in 0..10 {
            d = next_delay(d, &p);
        }
        assert_eq!(d, p.max_delay);
    }
}
