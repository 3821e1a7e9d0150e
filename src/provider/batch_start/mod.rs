//! The `ecs_batch_start` resource. Starting servers is an action, not an object: create
//! hands the ids to the power [`Engine`] and records what it did; read, update and destroy make
//! no API call.
//!
//! - `state.rs`: [`BatchStartState`] and the schema that declares the same attributes;
//! - `validate.rs`: the plan-time checks of a configuration;
//! - `plan.rs`: which changes replace the resource (and start again) and which do not;
//! - `diagnostics.rs`: the report of a run turned into the state to save and one diagnostic
//!   per kind of outcome;
//! - this file: the [`Resource`] impl, one method per lifecycle step, and the steps of create.

mod diagnostics;
mod plan;
mod state;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{AttributePath, Diagnostics, Resource};
use tokio::time::Instant;
use tracing::info;

use super::timeouts::create_timeout;
use super::{Configured, Shared};
use crate::api::job_waiter::PollPolicy;
use crate::api::EcsClient;
use crate::power::{Engine, PowerAction, PowerOptions, PowerReport};
use diagnostics::{report_diagnostics, state_from};
pub use state::{batch_start_schema, BatchStartState, DEFAULT_CREATE_TIMEOUT};
pub use validate::validate_config;

pub struct BatchStartResource {
    shared: Arc<Shared>,
}

impl BatchStartResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

/// One create, resolved from the plan and the provider configuration.
struct Apply {
    /// The provider's client, bound to this create's deadline, and its pacer.
    configured: Configured,
    server_ids: Vec<String>,
    options: PowerOptions,
    /// `timeouts.create` as written (or its default), for messages.
    timeout_text: String,
}

#[async_trait]
impl Resource for BatchStartResource {
    type State<'a> = BatchStartState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(batch_start_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate_config(&config, diags);
        Some(())
    }

    /// No API call: jobs are purged a day after they finish, and a start is an action, not
    /// an object to refresh. The state is what the last apply recorded.
    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((plan::plan_create(proposed_state), ValueEmpty::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let (planned, replace) = plan::plan_update(&prior_state, proposed_state);
        Some((planned, ValueEmpty::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(ValueEmpty::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let apply = self.resolve(&planned_state, diags)?;
        look_up_project(&apply.configured.client, diags).await?;
        let report = self.run(&apply).await;
        let state = into_state(&planned_state, &report, &apply.timeout_text, diags)?;
        Some((state, ValueEmpty::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        // Only reorderings, `wait` and `timeouts` reach here: nothing to start.
        Some((planned_state, ValueEmpty::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        diags.root_warning(
            "Servers left running",
            "Destroying ecs_batch_start only removes it from state: no API call is made, and the servers it started keep running.",
        );
        Some(())
    }
}

impl BatchStartResource {
    /// Create's first step: the configured client bound to the deadline, the ids and the
    /// options. Errors when the provider is not configured, an id is unknown or the timeout
    /// does not parse.
    fn resolve(&self, planned: &BatchStartState, diags: &mut Diagnostics) -> Option<Apply> {
        let Some(mut configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        let Some(server_ids) = planned.known_server_ids() else {
            diags.error_short(
                "server_ids is not known at apply",
                AttributePath::new("server_ids"),
            );
            return None;
        };
        let (timeout_text, timeout) =
            create_timeout(&planned.timeouts, DEFAULT_CREATE_TIMEOUT, diags)?;
        let deadline = Instant::now() + timeout;
        configured.client = configured.client.with_deadline(deadline);
        let options = PowerOptions {
            wait: planned.wait(),
            deadline,
            poll: PollPolicy::default(),
            force_after: None,
        };
        Some(Apply {
            configured,
            server_ids,
            options,
            timeout_text,
        })
    }

    /// Runs the engine, logging what it was asked and what it did.
    async fn run(&self, apply: &Apply) -> PowerReport {
        info!(
            servers = apply.server_ids.len(),
            wait = apply.options.wait,
            timeout = %apply.timeout_text,
            "ecs_batch_start: starting"
        );
        let started_at = std::time::Instant::now();
        let Configured { client, pacers } = apply.configured.clone();
        let report = Engine::new(client, pacers, self.shared.interrupt.clone())
            .run(PowerAction::Start, &apply.server_ids, &apply.options)
            .await;
        info!(
            job_ids = ?report.job_ids,
            started = report.done.len(),
            skipped = report.skipped.len(),
            failed = report.failed.len(),
            secs = started_at.elapsed().as_secs_f64(),
            "ecs_batch_start: done"
        );
        report
    }
}

/// Fills in the project id through IAM when the provider block and environment left it out.
async fn look_up_project(client: &EcsClient, diags: &mut Diagnostics) -> Option<()> {
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
fn into_state(
    planned: &BatchStartState,
    report: &PowerReport,
    timeout_text: &str,
    diags: &mut Diagnostics,
) -> Option<BatchStartState> {
    report_diagnostics(report, timeout_text, diags);
    if report.job_ids.is_empty() && !diags.errors.is_empty() {
        return None;
    }
    Some(state_from(planned, report))
}
