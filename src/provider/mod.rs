//! The Terraform layer: the `ecs` provider and its resources. It owns what Terraform sees:
//! schemas, validation, plans, state and diagnostics. Every API call goes through
//! [`crate::power::Engine`] and [`crate::api`]; nothing below this layer knows Terraform.
//!
//! - `ecs_provider.rs`: the provider block ([`ProviderConfig`], [`provider_schema`]),
//!   `configure`, and [`Shared`], what every resource reads from it (the configured client
//!   and pacers, the interrupt token);
//! - `config.rs`: the provider block's checks, and its merge with the `HW_*` environment;
//! - `batch/`: what the batch power resources share: the lifecycle, plan, checks and
//!   diagnostics, written once over [`batch::BatchState`];
//! - `batch_start.rs`, `batch_stop/`, `batch_reboot.rs`: `ecs_batch_start`,
//!   `ecs_batch_stop` and `ecs_batch_reboot`, each its state, schema and words;
//! - `power_state/`: `ecs_power_state`, a fleet's declared power state, refreshed and
//!   converged (not a batch action: its own lifecycle over the same engine);
//! - `servers/`: the `ecs_servers` data source (filters, listing, state);
//!
//! and what every resource shares:
//! - `attributes.rs`: schema attribute constructors, and the check that computed attributes
//!   are left unset;
//! - `force_after.rs`: the graceful-then-forced stop's checks and duration;
//! - `ids.rs`: server id lists: the state type, their checks, and how diagnostics list ids;
//! - `timeouts.rs`: the `timeouts` block and its durations.

pub mod attributes;
pub mod batch;
pub mod batch_reboot;
pub mod batch_start;
pub mod batch_stop;
pub mod config;
pub mod credentials;
mod ecs_provider;
pub mod force_after;
pub mod ids;
pub mod power_state;
pub mod servers;
pub mod timeouts;

pub use ecs_provider::{provider_schema, Configured, EcsProvider, ProviderConfig, Shared};

/// The provider's type name: resources are `ecs_<name>`.
pub const PROVIDER_NAME: &str = "ecs";

/// The errors of `d`, one `summary | detail` line each: what the unit tests of this layer
/// assert on.
#[cfg(test)]
pub(crate) fn error_text(d: &tf_provider::Diagnostics) -> String {
    d.errors
        .iter()
        .map(|e| format!("{} | {}", e.summary, e.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The warnings of `d`, one `summary | detail` line each.
#[cfg(test)]
pub(crate) fn warning_text(d: &tf_provider::Diagnostics) -> String {
    d.warnings
        .iter()
        .map(|w| format!("{} | {}", w.summary, w.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts that a state struct and its schema name the same attributes and blocks:
/// tf-provider decodes state by field name.
#[cfg(test)]
pub(crate) fn assert_fields_match_schema<S: serde::Serialize>(
    state: &S,
    schema: &tf_provider::schema::Schema,
    what: &str,
) {
    use std::collections::BTreeSet;
    let json = serde_json::to_value(state).expect("state serializes");
    let fields: BTreeSet<String> = json.as_object().expect("object").keys().cloned().collect();
    let declared: BTreeSet<String> = schema
        .block
        .attributes
        .keys()
        .chain(schema.block.blocks.keys())
        .cloned()
        .collect();
    assert_eq!(fields, declared, "{what}");
}
