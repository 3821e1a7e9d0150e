//! [`PowerStateResource`]: the [`Resource`] impl, one method per lifecycle step. Read and
//! plan read the servers' states (`observe.rs`); create and update converge
//! (`converge.rs`); destroy forgets.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};
use tokio::time::Instant;

use super::diagnostics::{plan_warnings, DESTROY_WARNING};
use super::observe::{observe, Observation};
use super::plan::{converging, source, with_defaults, Source};
use super::validate::validate_config;
use super::{power_state_schema, Declared, DeclaredPrivate, PowerStateState};
use crate::api::Limits;
use crate::provider::batch::look_up_project;
use crate::provider::ids::{id_list, known_ids};
use crate::provider::Shared;

/// How long a refresh, or a plan's read, may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(300);

pub struct PowerStateResource {
    pub(super) shared: Arc<Shared>,
}

impl PowerStateResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Reads `ids` relative to `declared` within [`READ_TIMEOUT`]; an error naming what
    /// failed otherwise.
    pub(super) async fn read_now(
        &self,
        ids: &[String],
        declared: Option<Declared>,
        diags: &mut Diagnostics,
    ) -> Option<Observation> {
        let Some(configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        let deadline = Instant::now() + READ_TIMEOUT;
        let client = configured.client.with_deadline(deadline);
        look_up_project(&client, diags).await?;
        let limits = Limits::new(deadline, self.shared.interrupt.clone());
        match observe(&client, ids, declared, &limits).await {
            Ok(o) => Some(o),
            Err(e) => {
                diags.root_error(
                    "Cannot read the servers' states",
                    format!(
                        "Reading the power state of {} server(s) failed: {e}",
                        ids.len()
                    ),
                );
                None
            }
        }
    }

    /// The planned state of a change (`prior` none for a new resource), with its warnings.
    async fn plan(
        &self,
        prior: Option<(&PowerStateState, &DeclaredPrivate)>,
        proposed: PowerStateState,
        diags: &mut Diagnostics,
    ) -> Option<PowerStateState> {
        let planned = with_defaults(proposed);
        let prior_id = prior.map(|(p, _)| &p.id);
        // Terraform plans again during apply and requires every value known in the first
        // plan to be planned the same: only what the refreshed prior state records is
        // stable between the two, so a fresh read only names the servers in warnings.
        let (observed, known) = match source(prior, &planned) {
            Source::Unchanged => return Some(planned),
            Source::Unknown => (None, false),
            Source::Recorded(o) => (Some(o), true),
            Source::Read(declared, ids) => (
                Some(self.read_now(&ids, Some(declared), diags).await?),
                false,
            ),
        };
        if let (Some(o), Some(declared)) = (&observed, Declared::of(&planned.state)) {
            plan_warnings(o, declared, diags);
        }
        let stable = observed.as_ref().filter(|_| known);
        Some(converging(planned, prior_id, stable))
    }
}

/// The declared state in private state.
fn private_of(declared: Option<Declared>) -> DeclaredPrivate {
    declared.map_or(Value::Null, |d| Value::Value(d.as_str().to_string()))
}

#[async_trait]
impl Resource for PowerStateResource {
    type State<'a> = PowerStateState;
    type PrivateState<'a> = DeclaredPrivate;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(power_state_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate_config(&config, diags);
        Some(())
    }

    /// Reads every server's state and records where each is; `state` becomes `mixed` when
    /// one drifted.
    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        mut state: Self::State<'a>,
        private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let declared = state.declared(&private_state);
        let Some(ids) = known_ids(&state.server_ids) else {
            return Some((state, private_state));
        };
        // On a failed read the error fails the refresh; the state is returned unchanged,
        // since `None` would tell Terraform the resource is gone.
        let Some(observed) = self.read_now(&ids, declared, diags).await else {
            return Some((state, private_state));
        };
        observed.record(&mut state);
        state.state = Value::Value(observed.state(declared));
        Some((state, private_of(declared)))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let declared = Declared::of(&proposed_state.state);
        let planned = self.plan(None, proposed_state, diags).await?;
        Some((planned, private_of(declared)))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior_state: Self::State<'a>,
        proposed_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let declared = Declared::of(&proposed_state.state);
        let prior = Some((&prior_state, &prior_private_state));
        let planned = self.plan(prior, proposed_state, diags).await?;
        let private = match declared {
            Some(d) => private_of(Some(d)),
            None => prior_private_state,
        };
        // Changing the state or the members converges in place: never a replacement.
        Some((planned, private, Vec::new()))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _prior_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let state = self.converge(planned_state, "create", diags).await?;
        Some((state, planned_private_state))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        planned_state: Self::State<'a>,
        _config_state: Self::State<'a>,
        planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let state = self.converge(planned_state, "update", diags).await?;
        Some((state, planned_private_state))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior_state: Self::State<'a>,
        _planned_private_state: Self::PrivateState<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let (summary, detail) = DESTROY_WARNING;
        diags.root_warning(summary, detail);
        Some(())
    }

    /// `terraform import ecs_power_state.x running:<id>,<id>,…`: the declared state and the
    /// members; the refresh that follows reads the rest.
    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let Some((declared, ids)) = parse_import_id(&id) else {
            diags.root_error(
                "Invalid import id",
                format!("{id:?} is not <state>:<server id>,<server id>,…, such as \"running:616fb98f-46ca-475e-917e-2563e5a8cd19,6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77\" (state running or stopped)."),
            );
            return None;
        };
        let state = PowerStateState {
            id: Value::Value(uuid::Uuid::new_v4().to_string()),
            server_ids: id_list(&ids),
            state: Value::Value(declared.as_str().to_string()),
            force: Value::Value(false),
            converged_server_ids: id_list(&[]),
            job_ids: id_list(&[]),
            ..Default::default()
        };
        Some((state, private_of(Some(declared))))
    }
}

/// `<state>:<id>,<id>,…` as the declared state and the ids.
fn parse_import_id(id: &str) -> Option<(Declared, Vec<String>)> {
    let (state, ids) = id.split_once(':')?;
    let declared = Declared::parse(state.trim())?;
    let ids: Vec<String> = ids
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    (!ids.is_empty()).then_some((declared, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_id_is_the_state_and_the_members() {
        assert_eq!(
            parse_import_id("stopped: a, b"),
            Some((Declared::Stopped, vec!["a".to_string(), "b".to_string()]))
        );
        assert_eq!(parse_import_id("mixed:a"), None);
        assert_eq!(parse_import_id("running:"), None);
        assert_eq!(parse_import_id("a,b"), None);
    }
}
