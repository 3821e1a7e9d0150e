//! Step 2: send the servers in paced batches, and start waiting on each job as soon as the
//! service accepts its batch. A batch whose answer was lost is resolved by reading the
//! states, never by sending it again blindly.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use reqwest::Method;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{info, warn};

use super::action::Fate;
use super::pacer::Ticket;
use super::states::{read_states, States};
use super::wait::JobResult;
use super::Run;
use crate::api::retry::{disposition, Disposition};
use crate::api::{ApiError, JobWaiter, Stop};

/// One submitted batch and the wait on its job (none when the run does not wait).
pub(super) struct Submitted {
    pub(super) job_id: String,
    pub(super) servers: Vec<String>,
    /// When the wait on the job gives up: the run's deadline, or earlier for a graceful
    /// stop that turns forced.
    pub(super) wait_deadline: Instant,
    pub(super) wait: Option<JoinHandle<JobResult>>,
}

/// What reading the states of a batch whose answer was lost found.
#[derive(Default)]
struct Resolved {
    /// Still where they were, to send once more.
    again: Vec<String>,
    /// Still where they were, but not to be sent again (a reboot): unconfirmed.
    not_resent: usize,
}

impl Run<'_> {
    /// Sends `to_send` in batches of at most the pacer's batch size, each when the pacer
    /// allows; returns the batches the service accepted. Stops at the deadline, an interrupt
    /// or an error it cannot resolve, recording the servers left unsent.
    pub(super) async fn submit(&mut self, to_send: Vec<String>) -> Vec<Submitted> {
        let waiter = Arc::new(JobWaiter::new(self.client.clone(), self.opts.poll.clone()));
        let mut queue: VecDeque<Vec<String>> = to_send
            .chunks(self.pacer().max_batch())
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
                    // "batch start accepted job_id=…": users grep for it when a state was lost.
                    info!(job_id = %job_id, servers = batch.len(), batch = submitted.len() + 1, of = total, "batch {} accepted", self.action.verb());
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
                    self.report.record_error(&e, &self.doing());
                    break;
                }
            }
        }
        submitted
    }

    /// "starting a batch", "stopping a batch", "rebooting a batch".
    fn doing(&self) -> String {
        format!("{} a batch", self.action.gerund())
    }

    /// Waits for the pacer; `None` when the deadline or an interrupt comes first.
    async fn paced(&mut self, n: usize) -> Option<Ticket> {
        let pacer = self.pacer();
        let ticket = pacer.reserve(n, Instant::now());
        if !ticket.wait.is_zero() {
            info!(
                action = self.action.verb(),
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
        let answer = self.action.send(&self.client, batch).await;
        if answer.as_ref().map_or_else(resolve_by_reading, |_| true) {
            self.pacer().accepted(ticket, Instant::now());
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
        let wait_deadline = self.wait_deadline(Instant::now());
        let wait = self.opts.wait.then(|| {
            let (waiter, job) = (waiter.clone(), job_id.clone());
            let limits = self.limits.with_deadline(wait_deadline);
            tokio::spawn(async move { JobResult::from(waiter.wait_one(&job, &limits).await) })
        });
        Submitted {
            job_id,
            servers,
            wait_deadline,
            wait,
        }
    }

    /// A batch that may or may not have been carried out (lost answer), or one of whose
    /// servers changed state since the pre-check: reads its states and sorts its servers.
    /// Returns the servers to send once more (a server is re-sent at most once, and never
    /// for a reboot); `None` when the states could not be read (then the run stops).
    async fn resolve_unconfirmed(
        &mut self,
        batch: Vec<String>,
        e: &ApiError,
        resent: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        warn!(error = %e, servers = batch.len(), "batch {} not confirmed; re-reading states", self.action.verb());
        let states = match read_states(&self.client, &batch, &self.limits).await {
            Ok(states) => states,
            Err(read_err) => {
                self.report.unconfirmed.extend(batch);
                self.report.record_error(e, &self.doing());
                self.report.record_error(&read_err, "re-reading states");
                return None;
            }
        };
        let sent = batch.len();
        let resolved = self.sort_after_lost_answer(batch, &states, e, resent);
        if matches!(
            e,
            ApiError::OutcomeUnknown { .. } | ApiError::InvalidResponse { .. }
        ) {
            self.report
                .warnings
                .push(self.lost_answer_warning(sent, e, &resolved));
        }
        Some(resolved.again)
    }

    fn sort_after_lost_answer(
        &mut self,
        batch: Vec<String>,
        states: &States,
        e: &ApiError,
        resent: &mut BTreeSet<String>,
    ) -> Resolved {
        let mut resolved = Resolved::default();
        for id in batch {
            let Some(class) = states.class_of(&id) else {
                self.report.missing.push(id);
                continue;
            };
            if self.action.confirmed_by_state(class) {
                self.report.done.push(id);
                continue;
            }
            match self.action.fate(class) {
                Fate::Wait => self.in_progress.push(id),
                Fate::Send | Fate::Skip if !self.action.may_resend() => {
                    resolved.not_resent += 1;
                    self.report.unconfirmed.push(id);
                }
                Fate::Send | Fate::Skip if resent.insert(id.clone()) => resolved.again.push(id),
                Fate::Send | Fate::Skip => {
                    let (from, verb) = (self.action.from_where(), self.action.verb());
                    let reason = format!("still {from} after a retried {verb}: {e}");
                    self.report.fail(id, e.code().unwrap_or("unknown"), reason);
                }
                Fate::Fail { code, reason } => self.report.fail(id, &code, reason),
            }
        }
        resolved
    }

    fn lost_answer_warning(&self, sent: usize, e: &ApiError, resolved: &Resolved) -> String {
        let (verb, from) = (self.action.verb(), self.action.from_where());
        let head = format!("A batch {verb} of {sent} server(s) got no usable answer ({e}). It was not re-sent blindly: the servers' states were read instead");
        if self.action.may_resend() {
            format!(
                "{head}, and {} still {from} were sent again.",
                resolved.again.len()
            )
        } else {
            format!("{head}, and {} still {from} were not sent again: a {verb} is not repeated when it may have happened already, so they are reported as not confirmed.", resolved.not_resent)
        }
    }
}

/// Errors on a batch that reading the states resolves: the answer was lost or ambiguous
/// (the batch may have been carried out), an answer without a job id (accepted, but there
/// is no job to wait on), or a state conflict.
fn resolve_by_reading(e: &ApiError) -> bool {
    disposition(&Method::POST, e) == Disposition::ResolveByReading
}
