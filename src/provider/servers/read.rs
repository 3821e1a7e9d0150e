//! Read, step by step: the configured client (and the project, looked up when needed),
//! every page of the listing, kept or dropped server by server as each page comes, and the
//! state in the order of `ids`.

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
        let listing = tokio::select! {
            r = select(&configured.client, filters) => r,
            _ = interrupt.cancelled() => {
                diags.root_error_short("Interrupted while listing servers");
                return None;
            }
        };
        let (pages, rows) = match listing {
            Ok(found) => found,
            Err(e) => {
                diags.root_error("Cannot list the servers", e.to_string());
                return None;
            }
        };
        info!(
            pages,
            selected = rows.len(),
            secs = started.elapsed().as_secs_f64(),
            "ecs_servers: listed"
        );
        Some(into_state(config, rows))
    }
}

/// Every page, each server kept as a row or dropped as it comes: the pages themselves are
/// not kept. Returns the pages read and the rows, sorted by id.
async fn select(client: &EcsClient, filters: &Filters) -> Result<(u64, Vec<ServerRow>), ApiError> {
    let mut rows = Vec::new();
    let pages = client
        .list_all_servers(&filters.query, |page| {
            let kept = page.into_iter().filter(|s| filters.keeps(s));
            rows.extend(kept.map(ServerRow::from_listed));
        })
        .await?;
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    rows.dedup_by(|a, b| a.id == b.id);
    Ok((pages, rows))
}

fn into_state(config: ServersState, rows: Vec<ServerRow>) -> ServersState {
    let ids: IdList = Value::Value(rows.iter().map(|r| Value::Value(r.id.clone())).collect());
    ServersState {
        ids,
        servers: Value::Value(rows),
        ..config
    }
}
