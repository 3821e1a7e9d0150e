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
//! - `servers/`: the `ecs_servers` data source (filters, listing, state);
//!
//! and what every resource shares:
//! - `attributes.rs`: schema attribute constructors, and the check that computed attributes
//!   are left unset;
//! - `ids.rs`: server id lists: the state type, their checks, and how diagnostics list ids;
//! - `timeouts.rs`: the `timeouts` block and its durations.

pub mod attributes;
pub mod batch;
pub mod batch_reboot;
pub mod batch_start;
pub mod batch_stop;
pub mod config;
mod ecs_provider;
pub mod ids;
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
