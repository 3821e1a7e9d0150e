//! Step 5, only for a graceful stop with `force_after`: the servers a soft stop did not stop
//! in time (their job still running at `force_after`, or their sub-job failed, as it does
//! for a guest that ignores the shutdown request) are stopped again with `HARD`.

use std::collections::HashSet;

use tracing::info;

use super::report::FailedServer;
use super::states::{read_states, Class};
use super::{PowerAction, Run};
use crate::api::models::PowerType;

impl Run<'_> {
    pub(super) async fn force(&mut self, candidates: Vec<FailedServer>) {
        if candidates.is_empty() {
            return;
        }
        let Some(to_force) = self.still_running(candidates).await else {
            return;
        };
        if to_force.is_empty() {
            return;
        }
        info!(
            servers = to_force.len(),
            "forcing the stop of servers a graceful stop did not stop"
        );
        let mut hard = Run {
            action: PowerAction::Stop(PowerType::Hard),
            report: std::mem::take(&mut self.report),
            in_progress: Vec::new(),
            client: self.client.clone(),
            limits: self.limits.clone(),
            ..*self
        };
        let submitted = hard.submit(to_force.clone()).await;
        let waited = hard.wait(submitted).await;
        hard.settle(waited).await;
        self.report = hard.report;
        let done: HashSet<&String> = self.report.done.iter().collect();
        let forced: Vec<String> = to_force
            .into_iter()
            .filter(|id| done.contains(id))
            .collect();
        self.report.forced.extend(forced);
    }

    /// Of the servers a graceful stop did not stop in time, those still running (or still
    /// stopping): the others stopped meanwhile (done) or are in a state a stop does not
    /// apply to (failed, with what the graceful stop said). `None` when the states could not
    /// be read.
    async fn still_running(&mut self, candidates: Vec<FailedServer>) -> Option<Vec<String>> {
        let ids: Vec<String> = candidates.iter().map(|f| f.server_id.clone()).collect();
        let states = match read_states(&self.client, &ids, &self.limits).await {
            Ok(states) => states,
            Err(e) => {
                self.report.unconfirmed.extend(ids);
                self.report
                    .record_error(&e, "reading the states of servers to stop with HARD");
                return None;
            }
        };
        let mut to_force = Vec::new();
        for failed in candidates {
            match states.class_of(&failed.server_id) {
                Some(Class::Stopped) => self.report.done.push(failed.server_id),
                Some(Class::Running | Class::Stopping) => to_force.push(failed.server_id),
                _ => self.report.failed.push(failed),
            }
        }
        Some(to_force)
    }
}
