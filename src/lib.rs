//! terraform-provider-ecs: start fleets of Huawei Cloud ECS servers from `terraform apply`.
//!
//! Layers, top-down: [`provider`] (Terraform: schema, plan, diagnostics) → [`start`] (the
//! batch start procedure) → [`api`] (signed HTTP client, no Terraform). [`sim`] is ecs-sim,
//! the local ECS simulator; it shares only the wire models and the signer with the rest.

pub mod api;
pub mod pacer;
pub mod plugin;
pub mod provider;
pub mod sim;
pub mod start;
