//! End to end: the built provider under real Terraform CLIs (every scenario on both
//! [`VERSIONS`](crate::support::terraform::VERSIONS)) against ecs-sim, the registry docs and
//! examples checked through the CLI, and release packaging. Minutes long; filter with
//! `cargo test --test it e2e::`.

mod batch_reboot;
mod batch_start;
mod batch_stop;
mod credentials;
mod docs;
mod examples;
mod faults;
mod package;
mod power_state;
mod servers;
