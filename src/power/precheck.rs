//! Step 1: read every server's state and sort the servers by what the operation would do to
//! them.

use tracing::info;

use super::action::Fate;
use super::states::read_states;
use super::Run;

impl Run<'_> {
    /// Sorts `server_ids` into skipped, failed, missing and in progress, and returns the
    /// servers to send; `None` when nothing may be sent (an id does not exist, or the states
    /// could not be read).
    pub(super) async fn precheck(&mut self, server_ids: &[String]) -> Option<Vec<String>> {
        let states = match read_states(&self.client, server_ids, &self.limits).await {
            Ok(states) => states,
            Err(e) => {
                self.report.record_error(&e, "reading the servers' states");
                return None;
            }
        };
        let mut to_send = Vec::new();
        for id in server_ids {
            let id = id.clone();
            let Some(class) = states.class_of(&id) else {
                self.report.missing.push(id);
                continue;
            };
            match self.action.fate(class) {
                Fate::Skip => self.report.skipped.push(id),
                Fate::Send => to_send.push(id),
                Fate::Wait => self.in_progress.push(id),
                Fate::Fail { code, reason } => self.report.fail(id, &code, reason),
            }
        }
        if !self.report.missing.is_empty() {
            return None;
        }
        info!(
            action = self.action.verb(),
            to_send = to_send.len(),
            skipped = self.report.skipped.len(),
            in_progress = self.in_progress.len(),
            "pre-check done"
        );
        Some(to_send)
    }
}
