//! The integration tests, in one binary (as ripgrep's `tests/tests.rs`): one module per
//! topic, the helpers they share in [`support`]. Filter by topic:
//! `cargo test --test it client::`, `sim::`, `engine::` (the power engine below
//! Terraform, seconds), `e2e::` (real Terraform CLIs, minutes), `docs_schema`,
//! `signer_vectors`.
//!
//! `tests/client_logs.rs` is a second binary: it installs a tracing subscriber, which
//! needs a process of its own.

#[macro_use]
mod macros;

mod support;

mod client;
mod docs_schema;
mod e2e;
mod engine;
mod signer_vectors;
mod sim;
