//! Step 2: send the servers in paced batches, each as soon as the pacer allows (without
//! pacing, all at once), and start waiting on each job as soon as the service accepts its
//! batch. A batch whose answer was lost is resolved by reading the
//! states, never by sending it again blindly.

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};

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

/// The batches of one submission: those still to send, those the service accepted (with
/// the order they were sent in), and the servers already sent once more.
struct Batches {
    queue: VecDeque<Vec<String>>,
    sent: usize,
    total: usize,
    accepted: Vec<(usize, Submitted)>,
    resent: BTreeSet<String>,
    waiter: Arc<JobWaiter>,
}

/// A batch's answer, and when it came.
struct Posted {
    /// Which batch it was, in the order they were sent (from 1).
    seq: usize,
    batch: Vec<String>,
    answer: Result<String, ApiError>,
    answered: Instant,
}

impl Run<'_> {
    /// Sends `to_send` in batches of at most the pacer's batch size, each as soon as the
    /// pacer allows; returns the batches the service accepted, in the order they were sent.
    ///
    /// Without pacing every batch goes at once, without waiting for the answers before it:
    /// at a real round trip, ten batches one after another would cost ten. With pacing the
    /// next batch is spaced from the previous one's acceptance, which only its answer tells,
    /// so it is reserved once that answer came (the interval is far longer than a round
    /// trip). Stops sending at the deadline, an interrupt or an error it cannot resolve,
    /// recording the servers left unsent; batches already on their way are answered and
    /// recorded all the same.
    pub(super) async fn submit(&mut self, to_send: Vec<String>) -> Vec<Submitted> {
        let queue: VecDeque<Vec<String>> = to_send
            .chunks(self.pacer().max_batch())
            .map(<[String]>::to_vec)
            .collect();
        let mut batches = Batches {
            total: queue.len(),
            queue,
            sent: 0,
            accepted: Vec::new(),
            resent: BTreeSet::new(),
            waiter: Arc::new(JobWaiter::new(self.client.clone(), self.opts.poll.clone())),
        };
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.is_empty() || self.pacer().rate_per_minute() == 0 {
                let Some(batch) = batches.queue.pop_front() else {
                    break;
                };
                let Some(ticket) = self.paced(batch.len()).await else {
                    let unsent = batches.queue.drain(..).flatten().chain(batch);
                    self.report.give_up_on(unsent);
                    break;
                };
                batches.sent += 1;
                in_flight.push(self.post(batches.sent, batch, ticket));
            }
            let Some(posted) = in_flight.next().await else {
                break;
            };
            if !self.answered(posted, &mut batches).await {
                self.report.give_up_on(batches.queue.drain(..).flatten());
            }
        }
        batches.accepted.sort_by_key(|&(seq, _)| seq);
        let jobs = batches.accepted.iter().map(|(_, s)| s.job_id.clone());
        self.report.job_ids.extend(jobs);
        batches.accepted.into_iter().map(|(_, s)| s).collect()
    }

    /// Sends one batch in a task of its own, so that its answer is taken, and the pacer
    /// told, when it comes, whatever the run does meanwhile. The pacer counts the batch from
    /// its answer, unless the answer proves the batch was not carried out.
    fn post(
        &self,
        seq: usize,
        batch: Vec<String>,
        ticket: Ticket,
    ) -> impl Future<Output = Posted> + Send + 'static {
        let (client, action) = (self.client.clone(), self.action);
        let (pacers, ids) = (self.engine.pacers.clone(), batch.clone());
        let task = tokio::spawn(async move {
            let answer = action.send(&client, &ids).await;
            if answer.as_ref().map_or_else(resolve_by_reading, |_| true) {
                pacers.for_action(action).accepted(&ticket, Instant::now());
            }
            (answer, Instant::now())
        });
        async move {
            let (answer, answered) = task
                .await
                .unwrap_or_else(|e| (Err(sender_lost(&e)), Instant::now()));
            Posted {
                seq,
                batch,
                answer,
                answered,
            }
        }
    }

    /// Takes one batch's answer: an accepted batch is waited on; one whose answer was lost,
    /// ambiguous or unusable is resolved by reading, and what is still to send goes first in
    /// the queue. False when nothing more may be sent.
    async fn answered(&mut self, posted: Posted, batches: &mut Batches) -> bool {
        let Posted {
            seq, batch, answer, ..
        } = posted;
        match answer {
            Ok(job_id) => {
                // "batch start accepted job_id=…": users grep for it when a state was lost.
                info!(job_id = %job_id, servers = batch.len(), batch = seq, of = batches.total, "batch {} accepted", self.action.verb());
                let submitted = self.accepted(job_id, batch, posted.answered, &batches.waiter);
                batches.accepted.push((seq, submitted));
                true
            }
            Err(e) if resolve_by_reading(&e) => {
                match self
                    .resolve_unconfirmed(batch, &e, &mut batches.resent)
                    .await
                {
                    Some(again) if !again.is_empty() => {
                        batches.total += 1;
                        batches.queue.push_front(again);
                        true
                    }
                    Some(_) => true,
                    None => false,
                }
            }
            Err(e) => {
                self.report.unconfirmed.extend(batch);
                self.report.record_error(&e, &self.doing());
                false
            }
        }
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

    /// An accepted batch (answered at `at`): when the run waits, the wait on its job
    /// starts now.
    fn accepted(
        &mut self,
        job_id: String,
        servers: Vec<String>,
        at: Instant,
        waiter: &Arc<JobWaiter>,
    ) -> Submitted {
        let wait_deadline = self.wait_deadline(at);
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

/// The task that sent a batch ended without its answer: the batch may have gone out, so it
/// is resolved by reading, as a lost answer is.
fn sender_lost(e: &tokio::task::JoinError) -> ApiError {
    ApiError::OutcomeUnknown {
        method: "POST".into(),
        path: "the batch action".into(),
        message: format!("the task sending it ended without its answer: {e}"),
    }
}

/// Errors on a batch that reading the states resolves: the answer was lost or ambiguous
/// (the batch may have been carried out), an answer without a job id (accepted, but there
/// is no job to wait on), or a state conflict.
fn resolve_by_reading(e: &ApiError) -> bool {
    disposition(&Method::POST, e) == Disposition::ResolveByReading
}
