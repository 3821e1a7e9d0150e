//! Step 1: read every server's state and sort the servers by what a start would do to them.

use tracing::info;

use super::states::{read_states, Class};
use super::Run;

impl Run<'_> {
    /// Sorts `server_ids` into skipped, failed, missing and in progress, and returns the
    /// servers to start; `None` when nothing may be started (an id does not exist, or the
    /// states could not be read).
    pub(super) async fn precheck(&mut self, server_ids: &[String]) -> Option<Vec<String>> {
        let states = match read_states(&self.client, server_ids, &self.limits).await {
            Ok(states) => states,
            Err(e) => {
                self.report.record_error(&e, "reading the servers' states");
                return None;
            }
        };
        let mut to_start = Vec::new();
        for id in server_ids {
            let id = id.clone();
            match states.class_of(&id) {
                None => self.report.missing.push(id),
                Some(Class::Running) => self.report.skipped.push(id),
                Some(Class::Stopped) => to_start.push(id),
                Some(Class::Starting) => self.in_progress.push(id),
                Some(Class::Refused { code, reason }) => self.report.fail(id, code, reason),
            }
        }
        if !self.report.missing.is_empty() {
            return None;
        }
        info!(
            to_start = to_start.len(),
            already_running = self.report.skipped.len(),
            in_progress = self.in_progress.len(),
            "pre-check done"
        );
        Some(to_start)
    }
}
