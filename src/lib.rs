//! terraform-provider-ecs: start fleets of Huawei Cloud ECS servers from `terraform apply`.
//!
//! Layers, top-down: [`provider`] (Terraform: schema, plan, diagnostics) → [`power`] (the
//! engine that carries out batch power operations) → [`api`] (signed HTTP client, no
//! Terraform). [`sim`] is ecs-sim, the local ECS simulator; it shares only the wire models,
//! the error codes and the signer with the rest. [`plugin`] is the plugin process around
//! them: handshake, logging and interrupts.

pub mod api;
pub mod plugin;
pub mod power;
pub mod provider;
pub mod sim;
