//! Create and update: converge the drifted servers through the power engine, then read
//! every server once more to record where each ended. Servers that cannot be converged are
//! never sent; apply fails naming them after the rest converged. A failed, timed-out or
//! interrupted apply still returns its state, with the job ids.

use std::time::Duration;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};
use tokio::time::Instant;
use tracing::info;

use super::diagnostics::{report_errors, unconverged_error};
use super::observe::{observe, Observation};
use super::resource::{PowerStateResource, READ_TIMEOUT};
use super::{Declared, PowerStateState, TYPE_NAME};
use crate::api::job_waiter::PollPolicy;
use crate::api::Limits;
use crate::power::{Engine, PowerOptions, PowerReport};
use crate::provider::batch::{look_up_project, DEFAULT_CREATE_TIMEOUT};
use crate::provider::force_after;
use crate::provider::ids::{id_list, known_ids};
use crate::provider::timeouts::timeout_of;
use crate::provider::Configured;

/// One apply, resolved from the plan and the provider configuration.
struct Converge {
    configured: Configured,
    server_ids: Vec<String>,
    declared: Declared,
    options: PowerOptions,
    /// `timeouts.<create|update> (<value>)`, for messages.
    timeout: String,
}

impl PowerStateResource {
    /// Create or update (`timeout_name`): the state to save, `None` when the plan cannot
    /// be resolved (nothing was sent).
    pub(super) async fn converge(
        &self,
        planned: PowerStateState,
        timeout_name: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<PowerStateState> {
        let c = self.resolve(&planned, timeout_name, diags)?;
        look_up_project(&c.configured.client, diags).await?;
        let to_converge = match known_ids(&planned.converged_server_ids) {
            Some(ids) => ids,
            None => {
                let o = self
                    .read_now(&c.server_ids, Some(c.declared), diags)
                    .await?;
                o.convergeable
            }
        };
        let report = self.run(&c, &planned, &to_converge).await;
        let after = self.read_after(&c).await;
        report_errors(c.declared, &report, &c.timeout, diags);
        if let Some(o) = &after {
            unconverged_error(o, c.declared, &report, diags);
        }
        Some(record(planned, &to_converge, &report, after.as_ref()))
    }

    /// The configured client bound to the deadline, the ids, the declared state and the
    /// engine's options. Errors when something is not known or does not parse.
    fn resolve(
        &self,
        planned: &PowerStateState,
        timeout_name: &'static str,
        diags: &mut Diagnostics,
    ) -> Option<Converge> {
        let Some(mut configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        let (Some(server_ids), Some(declared)) =
            (known_ids(&planned.server_ids), Declared::of(&planned.state))
        else {
            diags.error_short(
                "server_ids and state must be known at apply",
                AttributePath::new("server_ids"),
            );
            return None;
        };
        let (text, timeout) = timeout_of(
            &planned.timeouts,
            timeout_name,
            DEFAULT_CREATE_TIMEOUT,
            diags,
        )?;
        let force_after = force_after::or_error(force_after::parse(&planned.force_after), diags)?;
        let deadline = Instant::now() + timeout;
        configured.client = configured.client.with_deadline(deadline);
        Some(Converge {
            configured,
            server_ids,
            declared,
            options: PowerOptions {
                wait: true,
                deadline,
                poll: PollPolicy::default(),
                force_after,
            },
            timeout: format!("timeouts.{timeout_name} ({text})"),
        })
    }

    /// Runs the engine on `ids` (nothing to run when empty).
    async fn run(&self, c: &Converge, planned: &PowerStateState, ids: &[String]) -> PowerReport {
        if ids.is_empty() {
            return PowerReport::default();
        }
        let action = c.declared.action(planned.forced());
        info!(
            servers = ids.len(),
            state = c.declared.as_str(),
            "{TYPE_NAME}: converging"
        );
        let started_at = std::time::Instant::now();
        let Configured { client, pacers } = c.configured.clone();
        let report = Engine::new(client, pacers, self.shared.interrupt.clone())
            .run(action, ids, &c.options)
            .await;
        info!(
            job_ids = ?report.job_ids,
            done = report.done.len(),
            failed = report.failed.len(),
            secs = started_at.elapsed().as_secs_f64(),
            "{TYPE_NAME}: done"
        );
        report
    }

    /// Every server's state after converging, read within its own short deadline (the
    /// apply's may have passed); `None` when it cannot be read (an interrupt).
    async fn read_after(&self, c: &Converge) -> Option<Observation> {
        let deadline = Instant::now() + READ_TIMEOUT.min(Duration::from_secs(60));
        let client = c.configured.client.with_deadline(deadline);
        let limits = Limits::new(deadline, self.shared.interrupt.clone());
        observe(&client, &c.server_ids, Some(c.declared), &limits)
            .await
            .ok()
    }
}

/// The state to save: the plan, with what this apply converged, its jobs and what the
/// servers read after it (null when they could not be read: the next refresh fills them).
fn record(
    mut state: PowerStateState,
    converged: &[String],
    report: &PowerReport,
    after: Option<&Observation>,
) -> PowerStateState {
    if !state.id.is_value() {
        state.id = Value::Value(uuid::Uuid::new_v4().to_string());
    }
    state.converged_server_ids = id_list(converged);
    state.job_ids = id_list(&report.job_ids);
    match after {
        Some(o) => o.record(&mut state),
        None => state.set_read(|| Value::Null),
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ids::fixtures::{ids, A, B};

    #[test]
    fn the_saved_state_keeps_the_plan_and_records_the_jobs_and_the_read() {
        let planned = PowerStateState {
            server_ids: ids(&[A, B]),
            state: Value::Value("running".into()),
            id: Value::Unknown,
            converged_server_ids: ids(&[B]),
            ..Default::default()
        };
        let report = PowerReport {
            job_ids: vec!["j1".into()],
            ..Default::default()
        };
        let after = Observation {
            running: vec![A.into(), B.into()],
            ..Default::default()
        };
        let s = record(planned.clone(), &[B.into()], &report, Some(&after));
        assert!(s.id.is_value());
        assert_eq!(s.state, planned.state);
        assert_eq!(s.converged_server_ids, planned.converged_server_ids);
        assert_eq!(s.job_ids, ids(&["j1"]));
        assert_eq!(s.running_server_ids, ids(&[A, B]));
        assert_eq!(s.drifted_server_ids, ids(&[]));
        let unread = record(planned, &[B.into()], &report, None);
        assert!(unread.running_server_ids.is_null() && unread.job_ids == ids(&["j1"]));
    }
}
