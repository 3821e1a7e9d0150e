//! Everything the integration tests share, one concept per file (as axum's
//! `test_helpers/`). The fleet benchmark (`benches/fleet.rs`) mounts it too.
//!
//! * [`stub`]: a local stub of the ECS and IAM APIs, for the client tests;
//! * [`sim`]: ecs-sim in-process, async ([`sim::TestSim`], requests signed as the SDK
//!   signs them) or blocking on its own runtime ([`sim::Sim`], for the end-to-end tests);
//! * [`sim_admin`]: the one client of ecs-sim's admin API (`/_sim/...`) both use;
//! * [`terraform`]: real Terraform CLIs, workspaces with the built provider installed from
//!   a filesystem mirror, and the Terraform [`VERSIONS`](terraform::VERSIONS) that
//!   `on_both_versions!` runs each end-to-end scenario under;
//! * [`package`]: mirrors inside a workspace, release packaging, zip reading;
//! * [`process`]: Terraform in the background, signals, process trees;
//! * [`proxy`]: a tiny `CONNECT` proxy on loopback, for the proxy tests;
//! * [`secrets`]: secret scans that never print the secret, and redaction;
//! * [`tools`]: tools the tests need (Terraform, Huawei's Python SDK), installed when
//!   missing.
//!
//! Route names come from the crate (`terraform_provider_ecs::sim::ROUTE_*`), never
//! written here.

pub mod package;
pub mod process;
pub mod proxy;
pub mod secrets;
pub mod sim;
pub mod sim_admin;
pub mod stub;
pub mod terraform;
pub mod tools;
