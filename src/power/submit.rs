//! Step 2: send the servers to start in paced batches, and start waiting on each job as soon
//! as the service accepts its batch. A batch whose answer was lost is resolved by reading the
//! states, never by sending it again blindly.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use reqwest::Method;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use super::pacer::Ticket;
use super::states::{read_states, Class};
use super::wait::JobResult;
use super::Run;
use crate::api::{disposition, ApiError, Disposition, JobWaiter, Stop};

/// One submitted batch and the wait on its job (none when the run does not wait).
pub(super) struct Submitted {
    pub(super) job_id: String,
    pub(super) servers: Vec<String>,
    pub(super) wait: Option<JoinHandle<JobResult>>,
}

impl Run<'_> {
    /// Sends `to_start` in batches of at most the pacer's batch size, each when the pacer
    /// allows; returns the batches the service accepted. Stops at the deadline, an interrupt
    /// or an error it cannot resolve, recording the servers left unsent.
    pub(super) async fn submit(&mut self, to_start: Vec<String>) -> Vec<Submitted> {
        let waiter = Arc::new(JobWaiter::new(self.client.clone(), self.opts.poll.clone()));
        let mut queue: VecDeque<Vec<String>> = to_start
            .chunks(self.engine.pacer.max_batch())
            .map(<[String]>::to_vec)
            .collect();
        let total = queue.len();
        let mut submitted = Vec::new();
        let mut resent = BTreeSet::new();
        while let Some(batch) = queue.pop_front() {
            let Some(ticket) = self.paced(batch.len()).await else {
                self.report
                    .give_up_on(queue.drain(..).flatten().chain(batch));
                break;
            };
            match self.send(&batch, &ticket).await {
                Ok(job_id) => {
                    info!(job_id = %job_id, servers = batch.len(), batch = submitted.len() + 1, of = total, "batch start accepted");
                    submitted.push(self.accepted(job_id, batch, &waiter));
                }
                Err(e) if resolve_by_reading(&e) => {
                    match self.resolve_unconfirmed(batch, &e, &mut resent).await {
                        Some(again) if !again.is_empty() => queue.push_front(again),
                        Some(_) => {}
                        None => {
                            self.report.give_up_on(queue.drain(..).flatten());
                            break;
                        }
                    }
                }
                Err(e) => {
                    self.report.give_up_on(queue.drain(..).flatten());
                    self.report.unconfirmed.extend(batch);
                    self.report.record_error(&e, "starting a batch");
                    break;
                }
            }
        }
        submitted
    }

    /// Waits for the pacer; `None` when the deadline or an interrupt comes first.
    async fn paced(&mut self, n: usize) -> Option<Ticket> {
        let pacer = &self.engine.pacer;
        let ticket = pacer.reserve(n, Instant::now());
        if !ticket.wait.is_zero() {
            info!(
                wait_secs = ticket.wait.as_secs_f64(),
                rate_per_minute = pacer.rate_per_minute(),
                "pacing the next batch"
            );
            if self.limits.outlasts(ticket.wait) {
                self.report.timed_out = true;
                return None;
            }
        }
        match self.limits.sleep(ticket.wait).await {
            Ok(()) => Some(ticket),
            Err(Stop::Interrupted) => {
                self.report.interrupted = true;
                None
            }
            Err(Stop::DeadlineReached) => {
                self.report.timed_out = true;
                None
            }
        }
    }

    /// Sends one batch. The pacer counts it from when the service answered, unless the
    /// answer proves the batch was not carried out.
    async fn send(&self, batch: &[String], ticket: &Ticket) -> Result<String, ApiError> {
        let answer = self.client.batch_start(batch).await;
        if answer.as_ref().map_or_else(resolve_by_reading, |_| true) {
            self.engine.pacer.accepted(ticket, Instant::now());
        }
        answer
    }

    /// Records an accepted batch's job id and, when the run waits, starts waiting on it.
    fn accepted(
        &mut self,
        job_id: String,
        servers: Vec<String>,
        waiter: &Arc<JobWaiter>,
    ) -> Submitted {
        self.report.job_ids.push(job_id.clone());
        let wait = self.opts.wait.then(|| {
            let (waiter, job, limits) = (waiter.clone(), job_id.clone(), self.limits.clone());
            tokio::spawn(async move { JobResult::from(waiter.wait_one(&job, &limits).await) })
        });
        Submitted {
            job_id,
            servers,
            wait,
        }
    }

    /// A batch that may or may not have been started (lost answer), or one of whose servers
    /// changed state since the pre-check: reads its states and sorts its servers. Returns
    /// the servers still stopped, to send once more (a server is re-sent at most once);
    /// `None` when the states could not be read (then the run stops).
    async fn resolve_unconfirmed(
        &mut self,
        batch: Vec<String>,
        e: &ApiError,
        resent: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        warn!(error = %e, servers = batch.len(), "batch start not confirmed; re-reading states");
        let states = match read_states(&self.client, &batch, &self.limits).await {
            Ok(states) => states,
            Err(read_err) => {
                self.report.unconfirmed.extend(batch);
                self.report.record_error(e, "starting a batch");
                self.report.record_error(&read_err, "re-reading states");
                return None;
            }
        };
        let sent = batch.len();
        let mut again = Vec::new();
        for id in batch {
            match states.class_of(&id) {
                None => self.report.missing.push(id),
                Some(Class::Running) => self.report.started.push(id),
                Some(Class::Starting) => self.in_progress.push(id),
                Some(Class::Stopped) if resent.insert(id.clone()) => again.push(id),
                Some(Class::Stopped) => {
                    let reason = format!("still stopped after a retried start: {e}");
                    self.report.fail(id, e.code().unwrap_or("unknown"), reason);
                }
                Some(Class::Refused { code, reason }) => self.report.fail(id, code, reason),
            }
        }
        if matches!(
            e,
            ApiError::OutcomeUnknown { .. } | ApiError::InvalidResponse { .. }
        ) {
            self.report.warnings.push(format!(
                "A batch start of {sent} server(s) got no usable answer ({e}). It was not re-sent blindly: the servers' states were read instead, and {} still stopped were sent again.",
                again.len()
            ));
        }
        Some(again)
    }
}

/// Errors on a batch start that reading the states resolves: the answer was lost or
/// ambiguous (the batch may have been carried out), an answer without a job id (accepted,
/// but there is no job to wait on), or a state conflict.
fn resolve_by_reading(e: &ApiError) -> bool {
    disposition(&Method::POST, e) == Disposition::ResolveByReading
}
