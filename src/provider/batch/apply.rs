//! Create, step by step: resolve the plan and the provider configuration into one
//! [`Apply`], look up the project when needed, run the engine, and turn its report into
//! the state to save and the diagnostics to show.

use std::time::Duration;

use tf_provider::{AttributePath, Diagnostics};
use tokio::time::Instant;
use tracing::info;

use super::diagnostics::{report_diagnostics, state_from};
use super::plan::wait_or_default;
use super::resource::BatchResource;
use super::{BatchState, DEFAULT_CREATE_TIMEOUT};
use crate::api::job_waiter::PollPolicy;
use crate::api::EcsClient;
use crate::power::{Engine, PowerAction, PowerOptions, PowerReport};
use crate::provider::ids::known_ids;
use crate::provider::timeouts::create_timeout;
use crate::provider::Configured;

/// One create, resolved from the plan and the provider configuration.
struct Apply {
    /// The provider's client, bound to this create's deadline, and its pacers.
    configured: Configured,
    server_ids: Vec<String>,
    action: PowerAction,
    options: PowerOptions,
    /// `timeouts.create` as written (or its default), for messages.
    timeout_text: String,
}

impl<S: BatchState> BatchResource<S> {
    /// Create: the state to save, or `None` when nothing was submitted and apply failed
    /// (no state is left behind, so the next apply simply retries).
    pub(super) async fn apply(&self, planned: S, diags: &mut Diagnostics) -> Option<S> {
        let apply = self.resolve(&planned, diags)?;
        look_up_project(&apply.configured.client, diags).await?;
        let report = self.run(&apply).await;
        into_state(&planned, &report, &apply.timeout_text, diags)
    }

    /// Create's first step: the configured client bound to the deadline, the ids, the
    /// operation and its options. Errors when the provider is not configured, or an id or
    /// a duration is unknown or does not parse.
    fn resolve(&self, planned: &S, diags: &mut Diagnostics) -> Option<Apply> {
        let Some(mut configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        let Some(server_ids) = known_ids(planned.server_ids()) else {
            diags.error_short(
                "server_ids is not known at apply",
                AttributePath::new("server_ids"),
            );
            return None;
        };
        let (timeout_text, timeout) =
            create_timeout(planned.timeouts(), DEFAULT_CREATE_TIMEOUT, diags)?;
        let force_after = resolve_force_after(planned, diags)?;
        let deadline = Instant::now() + timeout;
        configured.client = configured.client.with_deadline(deadline);
        let options = PowerOptions {
            wait: wait_or_default(planned),
            deadline,
            poll: PollPolicy::default(),
            force_after,
        };
        Some(Apply {
            configured,
            server_ids,
            action: planned.action(),
            options,
            timeout_text,
        })
    }

    /// Runs the engine, logging what it was asked and what it did.
    async fn run(&self, apply: &Apply) -> PowerReport {
        let names = S::NAMES;
        info!(
            servers = apply.server_ids.len(),
            wait = apply.options.wait,
            timeout = %apply.timeout_text,
            force_after = ?apply.options.force_after,
            "{}: {}", names.type_name, names.gerund()
        );
        let started_at = std::time::Instant::now();
        let Configured { client, pacers } = apply.configured.clone();
        let report = Engine::new(client, pacers, self.shared.interrupt.clone())
            .run(apply.action, &apply.server_ids, &apply.options)
            .await;
        info!(
            job_ids = ?report.job_ids,
            done = report.done.len(),
            forced = report.forced.len(),
            skipped = report.skipped.len(),
            failed = report.failed.len(),
            secs = started_at.elapsed().as_secs_f64(),
            "{}: done", names.type_name
        );
        report
    }
}

/// `force_after` as a duration; an error at `force_after` when it does not parse.
fn resolve_force_after<S: BatchState>(
    planned: &S,
    diags: &mut Diagnostics,
) -> Option<Option<Duration>> {
    match planned.force_after() {
        Ok(d) => Some(d),
        Err(msg) => {
            diags.error(
                "Invalid force_after",
                msg,
                AttributePath::new("force_after"),
            );
            None
        }
    }
}

/// Fills in the project id through IAM when the provider block and environment left it out.
pub(crate) async fn look_up_project(client: &EcsClient, diags: &mut Diagnostics) -> Option<()> {
    if client.project_id().is_some() {
        return Some(());
    }
    if let Err(e) = client.lookup_project_id().await {
        diags.root_error(
            "Cannot find the project id",
            format!("project_id is not set, and looking it up through IAM failed: {e}. Set project_id or HW_PROJECT_ID."),
        );
        return None;
    }
    Some(())
}

/// The state to save and the diagnostics to show. `None` when the run failed before any job
/// was submitted: no state is left behind, so the next apply simply retries.
fn into_state<S: BatchState>(
    planned: &S,
    report: &PowerReport,
    timeout_text: &str,
    diags: &mut Diagnostics,
) -> Option<S> {
    report_diagnostics(&S::NAMES, report, timeout_text, diags);
    if report.job_ids.is_empty() && !diags.errors.is_empty() {
        return None;
    }
    Some(state_from(planned, report))
}
