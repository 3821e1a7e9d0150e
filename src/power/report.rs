//! [`PowerReport`]: what a run did to each server, and how a run records what stopped it.

use crate::api::ApiError;

/// A server the operation failed on, with the service's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedServer {
    pub server_id: String,
    pub code: String,
    pub reason: String,
}

/// What a run did. Lists of ids are sorted; `job_ids` are in submission order.
#[derive(Debug, Clone, Default)]
pub struct PowerReport {
    pub job_ids: Vec<String>,
    /// Servers the operation was carried out on (started, stopped or rebooted), including
    /// those found already on their way there.
    pub done: Vec<String>,
    /// Of `done`: servers stopped with `HARD` after a graceful stop did not stop them
    /// within `force_after`.
    pub forced: Vec<String>,
    /// Servers already where the operation leads at the pre-check (running for a start,
    /// stopped for a stop): not sent.
    pub skipped: Vec<String>,
    pub failed: Vec<FailedServer>,
    /// Ids that do not exist (then nothing is sent).
    pub missing: Vec<String>,
    /// Servers whose operation was sent but not confirmed (deadline, interruption, lost
    /// job, a reboot whose answer was lost).
    pub unconfirmed: Vec<String>,
    /// Jobs still running when the wait ended.
    pub running_jobs: Vec<String>,
    /// Of `running_jobs`, those whose last status was one this provider does not know:
    /// (job id, status).
    pub unknown_status_jobs: Vec<(String, String)>,
    /// Of `unconfirmed`: servers already on their way at the pre-check (not sent again) and
    /// still on their way when the wait ended.
    pub still_in_progress: Vec<String>,
    /// Of `unconfirmed`: servers never submitted (deadline or interrupt while pacing, or a
    /// fatal error on an earlier batch).
    pub not_submitted: Vec<String>,
    /// What went wrong but was resolved (a lost answer to a batch, resolved by reading the
    /// states); shown as warnings.
    pub warnings: Vec<String>,
    pub timed_out: bool,
    pub interrupted: bool,
    /// Errors that stopped the run or a part of it.
    pub errors: Vec<String>,
}

impl PowerReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty()
            && self.missing.is_empty()
            && self.unconfirmed.is_empty()
            && !self.timed_out
            && !self.interrupted
            && self.errors.is_empty()
    }

    /// Records a failed server.
    pub(super) fn fail(&mut self, server_id: String, code: &str, reason: impl Into<String>) {
        self.failed.push(FailedServer {
            server_id,
            code: code.to_string(),
            reason: reason.into(),
        });
    }

    /// Servers that will not be sent (deadline, interrupt or an error on an earlier batch):
    /// never submitted, so not confirmed.
    pub(super) fn give_up_on(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            self.not_submitted.push(id.clone());
            self.unconfirmed.push(id);
        }
    }

    /// Records the error that stopped the run, or a part of it, while `doing` something.
    pub(super) fn record_error(&mut self, e: &ApiError, doing: &str) {
        match e {
            ApiError::Cancelled(_) => self.interrupted = true,
            ApiError::DeadlineExceeded { .. } => {
                self.timed_out = true;
                self.errors.push(format!("{doing}: {e}"));
            }
            _ => self.errors.push(format!("{doing}: {e}{}", hint(e))),
        }
    }

    /// Sorts every list and keeps in `still_in_progress` and `not_submitted` only what is still
    /// unconfirmed (a final state read may have confirmed some).
    pub(super) fn finish(mut self) -> Self {
        for list in [
            &mut self.done,
            &mut self.forced,
            &mut self.skipped,
            &mut self.missing,
            &mut self.unconfirmed,
        ] {
            list.sort();
            list.dedup();
        }
        let unconfirmed = &self.unconfirmed;
        for list in [&mut self.still_in_progress, &mut self.not_submitted] {
            list.retain(|id| unconfirmed.binary_search(id).is_ok());
            list.sort();
            list.dedup();
        }
        self.failed.sort_by(|a, b| a.server_id.cmp(&b.server_id));
        self.failed.dedup_by(|a, b| a.server_id == b.server_id);
        self
    }
}

/// What to check after an error, when the error alone does not say.
fn hint(e: &ApiError) -> &'static str {
    match e.status() {
        Some(401) => ". The API gateway refused the credentials: check the access key, the secret key and, for temporary credentials, the security token (it expires), and that this machine's clock is right (a request dated more than 15 minutes off is refused)",
        _ => "",
    }
}
