//! The `ecs_batch_start` resource: schema, validation, plan, and the apply that hands the
//! work to [`BatchStart`] and turns its report into state and diagnostics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tokio::time::Instant;
use tracing::info;

use super::{attr, Shared};
use crate::api::job_waiter::PollPolicy;
use crate::api::models::is_server_id;
use crate::power::{BatchStart, StartOptions, StartReport};

/// The most ids one resource takes. Terraform sends config, proposed and prior state in one
/// gRPC message and tf-provider keeps tonic's 4 MiB limit on it: about 38 bytes per id per
/// copy and up to five copies put the safe bound here. Larger fleets use `for_each`.
pub const MAX_SERVER_IDS: usize = 10_000;
pub const DEFAULT_CREATE_TIMEOUT: &str = "30m";
/// How many failed servers an error lists before it says "and N more".
pub const MAX_LISTED_FAILURES: usize = 20;

const COMPUTED_LISTS: [&str; 4] = [
    "job_ids",
    "started_server_ids",
    "skipped_server_ids",
    "failed_server_ids",
];

pub type IdList = Value<Vec<Value<String>>>;

/// One field per attribute and block of the schema, nothing else (tf-provider decodes
/// state by these names).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchStartState {
    pub id: Value<String>,
    pub server_ids: IdList,
    pub triggers: Value<BTreeMap<String, Value<String>>>,
    pub wait: Value<bool>,
    pub job_ids: IdList,
    pub started_server_ids: IdList,
    pub skipped_server_ids: IdList,
    pub failed_server_ids: IdList,
    /// `Value<Vec<_>>` and not `serde_as_vec`: the latter fails on an unknown block.
    pub timeouts: Value<Vec<Timeouts>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timeouts {
    pub create: Value<String>,
}

impl BatchStartState {
    fn computed_list(&self, name: &str) -> &IdList {
        match name {
            "job_ids" => &self.job_ids,
            "started_server_ids" => &self.started_server_ids,
            "skipped_server_ids" => &self.skipped_server_ids,
            _ => &self.failed_server_ids,
        }
    }

    fn set_computed_unknown(&mut self) {
        self.id = Value::Unknown;
        self.job_ids = Value::Unknown;
        self.started_server_ids = Value::Unknown;
        self.skipped_server_ids = Value::Unknown;
        self.failed_server_ids = Value::Unknown;
    }

    fn copy_computed_from(&mut self, prior: &BatchStartState) {
        self.id = prior.id.clone();
        self.job_ids = prior.job_ids.clone();
        self.started_server_ids = prior.started_server_ids.clone();
        self.skipped_server_ids = prior.skipped_server_ids.clone();
        self.failed_server_ids = prior.failed_server_ids.clone();
    }

    fn fill_defaults(&mut self) {
        if self.wait.is_null() {
            self.wait = Value::Value(true);
        }
    }

    fn create_timeout_text(&self) -> Option<&str> {
        self.timeouts
            .as_ref_option()?
            .first()?
            .create
            .as_deref_option()
    }

    /// `server_ids` as plain strings, when every one is known.
    fn known_server_ids(&self) -> Option<Vec<String>> {
        self.server_ids
            .as_ref_option()?
            .iter()
            .map(|v| v.as_ref_option().cloned())
            .collect()
    }
}

fn id_list(ids: &[String]) -> IdList {
    Value::Value(ids.iter().cloned().map(Value::Value).collect())
}

/// Terraform's duration strings, such as `30m`, `1h30m`, `90s` or `500ms`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("{s:?} is not a duration ({e}); write it like \"30m\", \"1h30m\" or \"90s\"")
    })?;
    if d.is_zero() {
        return Err(format!("{s:?} is zero; give a positive duration"));
    }
    Ok(d)
}

/// Multiset equality of two id lists, ignoring case and order; `None` while unknown.
fn same_members(a: &IdList, b: &IdList) -> Option<bool> {
    let norm = |l: &IdList| -> Option<Vec<String>> {
        let mut v: Vec<String> = l
            .as_ref_option()?
            .iter()
            .map(|s| s.as_ref_option().map(|s| s.to_ascii_lowercase()))
            .collect::<Option<_>>()?;
        v.sort();
        Some(v)
    };
    Some(norm(a)? == norm(b)?)
}

fn same_triggers(a: &BatchStartState, b: &BatchStartState) -> bool {
    let norm = |s: &BatchStartState| match &s.triggers {
        Value::Null => Value::Value(BTreeMap::new()),
        other => other.clone(),
    };
    let (a, b) = (norm(a), norm(b));
    !a.is_unknown() && a == b
}

pub fn batch_start_schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
    use AttributeType::{Bool, List, Map, String};
    let list = || List(Box::new(String));
    Schema {
        version: 0,
        block: Block {
            version: 0,
            attributes: map! {
                "id" => attr(String, Computed, false,
                    "Identifier of this start, a random UUID chosen at create."),
                "server_ids" => attr(list(), Required, false,
                    "Ids (UUIDs) of the servers to start: 1 to 10,000 of them, without duplicates (compared case-insensitively). Changing the members re-runs the start; reordering them changes nothing."),
                "triggers" => attr(Map(Box::new(String)), Optional, false,
                    "Arbitrary strings; any change re-runs the start (for example a release version)."),
                "wait" => attr(Bool, OptionalComputed, false,
                    "Wait until every start job finishes, and report per-server outcomes. Default `true`. With `false`, apply returns once the batches are accepted and `started_server_ids` lists the servers submitted."),
                "job_ids" => attr(list(), Computed, false,
                    "Ids of the start jobs, one per batch of at most 1000 servers, in submission order. Kept in state even when apply fails or is interrupted."),
                "started_server_ids" => attr(list(), Computed, false,
                    "Servers started by this resource, or found starting or already running after a failed sub-job (sorted)."),
                "skipped_server_ids" => attr(list(), Computed, false,
                    "Servers already running at the pre-check, not sent (sorted)."),
                "failed_server_ids" => attr(list(), Computed, false,
                    "Servers that failed to start (sorted). The apply error gives each one's error code and reason.")
            },
            blocks: map! {
                "timeouts" => NestedBlock::Optional(Block {
                    version: 0,
                    attributes: map! {
                        "create" => attr(String, Optional, false,
                            "How long apply waits for the start jobs, such as `30m` or `1h`. Default `30m`.")
                    },
                    blocks: HashMap::new(),
                    description: Description::markdown("Operation timeouts."),
                    deprecated: false,
                })
            },
            description: Description::markdown(
                "Starts a list of ECS servers through the batch start API, in batches of at most 1000 paced to the provider's `start_rate_limit`, waits on the jobs, and records the job ids and per-server outcomes.",
            ),
            deprecated: false,
        },
    }
}

/// Every plan-time check of one configuration. Unknown values are left for later.
pub fn validate_config(config: &BatchStartState, diags: &mut Diagnostics) {
    if let Value::Value(ids) = &config.server_ids {
        let path = || AttributePath::new("server_ids");
        if ids.is_empty() {
            diags.error(
                "No servers to start",
                "`server_ids` is empty; list at least one server id.",
                path(),
            );
        }
        if ids.len() > MAX_SERVER_IDS {
            diags.error(
                "Too many server ids for one resource",
                format!(
                    "`server_ids` has {} ids; one ecs_batch_start takes at most {MAX_SERVER_IDS} (Terraform's plugin messages are limited to 4 MiB). Spread a larger fleet over several resources, which share the provider's start-rate pacing:\n\n  resource \"ecs_batch_start\" \"fleet\" {{\n    for_each   = {{ for i, c in chunklist(local.server_ids, {MAX_SERVER_IDS}) : i => c }}\n    server_ids = each.value\n  }}",
                    ids.len()
                ),
                path(),
            );
        }
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        let mut bad = 0usize;
        for (i, v) in ids.iter().enumerate() {
            let Value::Value(id) = v else { continue };
            let at = || AttributePath::new("server_ids").index(i as i64);
            if !is_server_id(id) {
                bad += 1;
                if bad <= MAX_LISTED_FAILURES {
                    diags.error(
                        "Invalid server id",
                        format!("server_ids[{i}] is {id:?}, which is not a server id: ECS server ids are UUIDs such as \"616fb98f-46ca-475e-917e-2563e5a8cd19\"."),
                        at(),
                    );
                }
                continue;
            }
            if let Some(first) = first_seen.insert(id.to_ascii_lowercase(), i) {
                first_seen.insert(id.to_ascii_lowercase(), first);
                diags.error(
                    "Duplicate server id",
                    format!("server_ids[{i}] is {id:?}, the same server as server_ids[{first}] (ids are compared case-insensitively). List each server once, for example with distinct(lower(...))."),
                    at(),
                );
            }
        }
        if bad > MAX_LISTED_FAILURES {
            diags.error(
                "Invalid server ids",
                format!(
                    "{} more entries of server_ids are not server ids.",
                    bad - MAX_LISTED_FAILURES
                ),
                AttributePath::new("server_ids"),
            );
        }
    }
    if !config.id.is_null() {
        diags.error(
            "Computed attribute set",
            "`id` is set by the provider and cannot be set in configuration.",
            AttributePath::new("id"),
        );
    }
    for name in COMPUTED_LISTS {
        if !config.computed_list(name).is_null() {
            diags.error(
                "Computed attribute set",
                format!("`{name}` is set by the provider and cannot be set in configuration."),
                AttributePath::new(name),
            );
        }
    }
    if let Value::Value(blocks) = &config.timeouts {
        for (i, t) in blocks.iter().enumerate() {
            if let Value::Value(s) = &t.create {
                if let Err(msg) = parse_timeout(s) {
                    diags.error(
                        "Invalid timeout",
                        format!("timeouts.create: {msg}."),
                        AttributePath::new("timeouts")
                            .index(i as i64)
                            .attribute("create"),
                    );
                }
            }
        }
    }
}

/// Turns a run's report into the state to save and the diagnostics to show.
pub fn report_to_state(
    planned: &BatchStartState,
    report: &StartReport,
    create_timeout: &str,
    diags: &mut Diagnostics,
) -> BatchStartState {
    let mut state = planned.clone();
    state.id = Value::Value(uuid::Uuid::new_v4().to_string());
    state.job_ids = id_list(&report.job_ids);
    state.started_server_ids = id_list(&report.started);
    state.skipped_server_ids = id_list(&report.skipped);
    let failed: Vec<String> = report.failed.iter().map(|f| f.server_id.clone()).collect();
    state.failed_server_ids = id_list(&failed);

    let saved = if report.job_ids.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nThe {} job id(s) submitted are saved in state (job_ids): {}. Terraform marks the resource tainted; the next apply starts only the servers still stopped.",
            report.job_ids.len(),
            report.job_ids.join(", ")
        )
    };
    if !report.missing.is_empty() {
        diags.error(
            "Servers not found",
            format!(
                "{} of the server_ids do not exist in this project: {}. Nothing was started.",
                report.missing.len(),
                shorten(&report.missing)
            ),
            AttributePath::new("server_ids"),
        );
    }
    if !report.failed.is_empty() {
        let mut lines: Vec<String> = report
            .failed
            .iter()
            .take(MAX_LISTED_FAILURES)
            .map(|f| format!("  - {}: {}: {}", f.server_id, f.code, f.reason))
            .collect();
        if report.failed.len() > MAX_LISTED_FAILURES {
            lines.push(format!(
                "  … and {} more (all in failed_server_ids)",
                report.failed.len() - MAX_LISTED_FAILURES
            ));
        }
        diags.root_error(
            format!("{} server(s) failed to start", report.failed.len()),
            format!("{}{saved}", lines.join("\n")),
        );
    }
    if report.timed_out {
        let mut what = Vec::new();
        if !report.running_jobs.is_empty() {
            let jobs: Vec<String> = report
                .running_jobs
                .iter()
                .map(|job| {
                    match report.unknown_status_jobs.iter().find(|(j, _)| j == job) {
                        Some((_, status)) => format!(
                            "{job} (status {status:?}, which this provider does not know, so it polled on)"
                        ),
                        None => job.clone(),
                    }
                })
                .collect();
            what.push(format!("with job(s) still running: {}", jobs.join(", ")));
        }
        if !report.still_starting.is_empty() {
            what.push(format!(
                "while {} server(s) whose start was already in progress at the pre-check (not sent again) were still starting: {}",
                report.still_starting.len(),
                shorten(&report.still_starting)
            ));
        }
        if !report.not_submitted.is_empty() {
            what.push(format!(
                "before {} server(s) could be submitted",
                report.not_submitted.len()
            ));
        }
        if what.is_empty() {
            what.push("before the servers' states could be read".to_string());
        }
        diags.root_error(
            "Timed out waiting for the start jobs",
            format!(
                "timeouts.create ({create_timeout}) passed {}; {} server(s) not confirmed started.{saved}",
                what.join("; "),
                report.unconfirmed.len()
            ),
        );
    }
    if report.interrupted {
        diags.root_error(
            "Interrupted",
            format!(
                "The provider received an interrupt and stopped {}; {} server(s) not confirmed started.{saved}",
                if report.running_jobs.is_empty() {
                    "submitting".to_string()
                } else {
                    format!("waiting on job(s) {}", report.running_jobs.join(", "))
                },
                report.unconfirmed.len()
            ),
        );
    }
    for e in &report.errors {
        diags.root_error("ECS API error", format!("{e}{saved}"));
    }
    if !report.unconfirmed.is_empty()
        && !report.timed_out
        && !report.interrupted
        && report.errors.is_empty()
    {
        // Never a silent success: whatever left servers unconfirmed is named here.
        diags.root_error(
            "Servers not confirmed started",
            format!(
                "{} server(s) were not confirmed started: {}.{saved}",
                report.unconfirmed.len(),
                shorten(&report.unconfirmed)
            ),
        );
    }
    for w in &report.warnings {
        diags.root_warning("Batch start answer lost", w.clone());
    }
    state
}

fn shorten(ids: &[String]) -> String {
    let mut s = ids
        .iter()
        .take(MAX_LISTED_FAILURES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > MAX_LISTED_FAILURES {
        s.push_str(&format!(" … and {} more", ids.len() - MAX_LISTED_FAILURES));
    }
    s
}

pub struct BatchStartResource {
    shared: Arc<Shared>,
}

impl BatchStartResource {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
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
        let mut planned = proposed_state;
        planned.set_computed_unknown();
        planned.fill_defaults();
        Some((planned, ValueEmpty::Null))
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
        let mut planned = proposed_state;
        planned.fill_defaults();
        let mut replace = Vec::new();
        if same_members(&prior_state.server_ids, &planned.server_ids) != Some(true) {
            replace.push(AttributePath::new("server_ids"));
        }
        if !same_triggers(&prior_state, &planned) {
            replace.push(AttributePath::new("triggers"));
        }
        if replace.is_empty() {
            // Reordered ids, `wait` or `timeouts`: an in-place update that starts nothing.
            planned.copy_computed_from(&prior_state);
        } else {
            planned.set_computed_unknown();
        }
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
        let Some(configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        let Some(server_ids) = planned_state.known_server_ids() else {
            diags.error_short(
                "server_ids is not known at apply",
                AttributePath::new("server_ids"),
            );
            return None;
        };
        let timeout_text = planned_state
            .create_timeout_text()
            .unwrap_or(DEFAULT_CREATE_TIMEOUT)
            .to_string();
        let timeout = match parse_timeout(&timeout_text) {
            Ok(d) => d,
            Err(msg) => {
                diags.error(
                    "Invalid timeout",
                    msg,
                    AttributePath::new("timeouts").index(0).attribute("create"),
                );
                return None;
            }
        };
        let deadline = Instant::now() + timeout;
        let client = configured.client.with_deadline(deadline);
        if client.project_id().is_none() {
            if let Err(e) = client.lookup_project_id().await {
                diags.root_error(
                    "Cannot find the project id",
                    format!("project_id is not set, and looking it up through IAM failed: {e}. Set project_id or HW_PROJECT_ID."),
                );
                return None;
            }
        }
        let wait = planned_state.wait.as_ref_option().copied().unwrap_or(true);
        info!(
            servers = server_ids.len(),
            wait,
            timeout = %timeout_text,
            "ecs_batch_start: starting"
        );
        let started_at = std::time::Instant::now();
        let report = BatchStart::new(client, configured.pacer, self.shared.interrupt.clone())
            .run(
                &server_ids,
                &StartOptions {
                    wait,
                    deadline,
                    poll: PollPolicy::default(),
                },
            )
            .await;
        info!(
            job_ids = ?report.job_ids,
            started = report.started.len(),
            skipped = report.skipped.len(),
            failed = report.failed.len(),
            secs = started_at.elapsed().as_secs_f64(),
            "ecs_batch_start: done"
        );
        let nothing_sent = report.job_ids.is_empty();
        let state = report_to_state(&planned_state, &report, &timeout_text, diags);
        if nothing_sent && !diags.errors.is_empty() {
            // Nothing was started: leave no state behind, so the next apply simply retries.
            return None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> IdList {
        Value::Value(v.iter().map(|s| Value::Value(s.to_string())).collect())
    }

    const A: &str = "616fb98f-46ca-475e-917e-2563e5a8cd19";
    const B: &str = "6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77";

    fn errors(config: &BatchStartState) -> Vec<String> {
        let mut d = Diagnostics::default();
        validate_config(config, &mut d);
        d.errors
            .iter()
            .map(|e| format!("{:?} {} {}", e.attribute, e.summary, e.detail))
            .collect()
    }

    #[test]
    fn good_config_passes() {
        let c = BatchStartState {
            server_ids: ids(&[A, B]),
            ..Default::default()
        };
        assert!(errors(&c).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        let c = BatchStartState {
            server_ids: ids(&[A, "not-a-uuid", &B.to_uppercase(), B]),
            job_ids: ids(&[]),
            timeouts: Value::Value(vec![Timeouts {
                create: Value::Value("soon".into()),
            }]),
            ..Default::default()
        };
        let e = errors(&c).join("\n");
        assert!(e.contains("server_ids[1] is \"not-a-uuid\""), "{e}");
        assert!(
            e.contains("server_ids[3]") && e.contains("server_ids[2]") && e.contains("distinct"),
            "{e}"
        );
        assert!(e.contains("`job_ids` is set by the provider"), "{e}");
        assert!(e.contains("timeouts.create: \"soon\""), "{e}");
        let empty = BatchStartState {
            server_ids: ids(&[]),
            ..Default::default()
        };
        assert!(errors(&empty).join("").contains("is empty"));
    }

    #[test]
    fn too_many_ids_shows_the_for_each_pattern() {
        let many: Vec<String> = (0..=MAX_SERVER_IDS)
            .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
            .collect();
        let c = BatchStartState {
            server_ids: Value::Value(many.into_iter().map(Value::Value).collect()),
            ..Default::default()
        };
        let e = errors(&c);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("10001 ids") && e[0].contains("chunklist"),
            "{e:?}"
        );
    }

    #[test]
    fn timeouts_parse_like_terraform() {
        assert_eq!(parse_timeout("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_timeout("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_timeout("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("-1m").is_err());
        assert!(parse_timeout("").is_err());
    }

    fn report_errors(report: &StartReport) -> String {
        let mut d = Diagnostics::default();
        report_to_state(&BatchStartState::default(), report, "3s", &mut d);
        crate::provider::error_text(&d)
    }

    #[test]
    fn unconfirmed_servers_are_never_a_silent_success() {
        let report = StartReport {
            job_ids: vec!["j1".into()],
            unconfirmed: vec![A.into()],
            ..Default::default()
        };
        let e = report_errors(&report);
        assert!(e.contains("Servers not confirmed started"), "{e}");
        assert!(e.contains(A) && e.contains("j1"), "{e}");
    }

    #[test]
    fn a_timeout_names_what_it_was_waiting_for() {
        let report = StartReport {
            job_ids: vec!["j1".into(), "j2".into()],
            running_jobs: vec!["j1".into(), "j2".into()],
            unknown_status_jobs: vec![("j2".into(), "WEIRD".into())],
            unconfirmed: vec![A.into(), B.into()],
            still_starting: vec![A.into()],
            not_submitted: vec![B.into()],
            timed_out: true,
            ..Default::default()
        };
        let e = report_errors(&report);
        assert!(
            e.contains("with job(s) still running: j1, j2 (status \"WEIRD\""),
            "{e}"
        );
        assert!(
            e.contains(&format!("1 server(s) whose start was already in progress at the pre-check (not sent again) were still starting: {A}")),
            "{e}"
        );
        assert!(e.contains("before 1 server(s) could be submitted"), "{e}");
        assert!(e.contains("2 server(s) not confirmed started"), "{e}");
        assert!(
            !e.contains("Servers not confirmed started"),
            "one error: {e}"
        );
    }

    #[test]
    fn reorder_is_same_members_and_case_is_ignored() {
        assert_eq!(same_members(&ids(&[A, B]), &ids(&[B, A])), Some(true));
        assert_eq!(
            same_members(&ids(&[A]), &ids(&[&A.to_uppercase()])),
            Some(true)
        );
        assert_eq!(same_members(&ids(&[A]), &ids(&[A, B])), Some(false));
        assert_eq!(same_members(&ids(&[A]), &Value::Unknown), None);
    }
}
