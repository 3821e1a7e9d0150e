//! terraform-provider-ecs: the power lifecycle of Huawei Cloud ECS fleets from `terraform apply`.
//!
//! Layers, top-down: [`provider`] (Terraform: schema, plan, diagnostics) → [`power`] (the
//! engine that carries out batch power operations) → [`api`] (signed HTTP client, no
//! Terraform). [`sim`] is ecs-sim, the local ECS simulator; it shares only the wire models,
//! the error codes and the signer with the rest. [`plugin`] is the plugin process around
//! them: handshake, logging and interrupts.

// The knob table test's `json!` of every ecs-sim knob is deeper than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod plugin;
pub mod power;
pub mod provider;
pub mod sim;
