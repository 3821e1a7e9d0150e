//! The `ecs_servers` data source: selects servers by filter and returns their ids and
//! details, one method per lifecycle step. `state.rs` is its state, `schema.rs` its schema,
//! `filters.rs` what each filter checks and where it is applied (the API or here), and
//! `read.rs` the listing.
//!
//! It reads during `terraform plan` (its configuration is known then), so it is the one
//! part of this provider that calls the API at plan time.

mod filters;
mod read;
mod schema;
mod state;

use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{DataSource, Diagnostics};

use crate::provider::Shared;
pub use filters::{Filters, STATUSES};
pub use schema::{server_object_type, servers_schema};
pub use state::{ServerRow, ServersState};

pub struct ServersDataSource {
    shared: Arc<Shared>,
}

impl ServersDataSource {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait]
impl DataSource for ServersDataSource {
    type State<'a> = ServersState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(servers_schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        filters::check(&config, diags);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _provider_meta_state: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let filters = filters::resolve(&config, true, diags)?;
        self.list(config, &filters, diags).await
    }
}
