//! Read, step by step: the configured client (and the project, looked up when needed),
//! every page of the listing, kept or dropped server by server as each page comes, and the
//! state: `ids` sorted, `servers` in their order (or empty with `details = false`).

use std::time::Instant;

use tf_provider::Diagnostics;
use tracing::info;

use super::filters::Filters;
use super::state::{ServerRow, ServersState};
use super::ServersDataSource;
use crate::api::{ApiError, EcsClient};
use crate::provider::batch::look_up_project;
use crate::provider::ids::IdList;
use tf_provider::value::Value;

impl ServersDataSource {
    /// The servers `filters` select, as state built on `config`.
    pub(super) async fn list(
        &self,
        config: ServersState,
        filters: &Filters,
        diags: &mut Diagnostics,
    ) -> Option<ServersState> {
        let Some(configured) = self.shared.configured() else {
            diags.root_error_short("The ecs provider is not configured");
            return None;
        };
        look_up_project(&configured.client, diags).await?;
        let started = Instant::now();
        let interrupt = self.shared.interrupt.clone();
        let details = !matches!(config.details, Value::Value(false));
        let listing = tokio::select! {
            r = select(&configured.client, filters, details) => r,
            _ = interrupt.cancelled() => {
                diags.root_error_short("Interrupted while listing servers");
                return None;
            }
        };
        let selected = match listing {
            Ok(selected) => selected,
            Err(e) => {
                diags.root_error("Cannot list the servers", e.to_string());
                return None;
            }
        };
        info!(
            pages = selected.pages,
            selected = selected.ids.len(),
            details,
            secs = started.elapsed().as_secs_f64(),
            "ecs_servers: listed"
        );
        Some(into_state(config, selected))
    }
}

/// What a read selected: the ids, sorted, and with details the rows in the same order.
struct Selected {
    pages: u64,
    ids: Vec<String>,
    rows: Option<Vec<ServerRow>>,
}

/// Every page, each server kept (as a row with `details`, as its id without) or dropped
/// as it comes: the pages themselves are not kept.
async fn select(
    client: &EcsClient,
    filters: &Filters,
    details: bool,
) -> Result<Selected, ApiError> {
    let (mut ids, mut rows) = (Vec::new(), Vec::new());
    let pages = client
        .list_all_servers(&filters.query, |page| {
            let kept = page.into_iter().filter(|s| filters.keeps(s));
            if details {
                rows.extend(kept.map(ServerRow::from_listed));
            } else {
                ids.extend(kept.map(|s| s.id));
            }
        })
        .await?;
    if !details {
        ids.sort_unstable();
        ids.dedup();
        return Ok(Selected {
            pages,
            ids,
            rows: None,
        });
    }
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    rows.dedup_by(|a, b| a.id == b.id);
    let ids = rows.iter().map(|r| r.id.clone()).collect();
    Ok(Selected {
        pages,
        ids,
        rows: Some(rows),
    })
}

/// The state: `config` with `ids` and `servers` (empty without details).
fn into_state(config: ServersState, selected: Selected) -> ServersState {
    let ids: IdList = Value::Value(selected.ids.into_iter().map(Value::Value).collect());
    ServersState {
        ids,
        servers: Value::Value(selected.rows.unwrap_or_default()),
        ..config
    }
}
