//! The Huawei Cloud ECS API: signing, wire models, a retrying client and the job waiter.
//! Nothing here knows about Terraform.
//!
//! One file, one concern:
//! - `client`: [`EcsClient`] and [`ClientConfig`]: building a client, the retry loop.
//! - `operations`: the API calls (`batch_start`, `show_job`, `list_servers_by_ids`, …).
//! - `listing`: listing servers by filter, page by page ([`ServerQuery`], [`ListedServer`]).
//! - `transport`: one attempt: signing, sending, classifying the answer or the failure.
//! - `retry`: which failures are retried, re-sent or resolved by reading ([`disposition`]),
//!   and the backoff ([`RetryPolicy`]).
//! - `endpoint`: [`Endpoints`] and the one endpoint URL check (validate and configure).
//! - `clock`: the [`Clock`] that dates signatures.
//! - `codes`: every error code, as constants.
//! - `error`: [`ApiError`], the one error type, and error-body parsing.
//! - `job_waiter`: polling a job until it ends ([`JobWaiter`]).
//! - `limits`: a run's deadline and interrupt, carried together ([`Limits`]).
//! - `read_window`: how many server reads a client keeps in flight, narrowed on 429
//!   ([`ReadWindow`]).
//! - `models`: the wire models, shared with ecs-sim.
//! - `credentials`, `secret`, `signer`: the keys (static, from a profile, the instance
//!   metadata or an assumed agency, refreshed before they expire), a redacting secret, and
//!   SDK-HMAC-SHA256.
//! - `options`: [`ClientOptions`], what a client may be given beyond [`ClientConfig`].
//! - `connection`, `trust`, `proxy`: how it connects (trusted CAs, client certificate,
//!   proxies).
//! - `renewal`: one more attempt after temporary keys were refused.

// `ApiError` is the crate's one error type (~170 bytes, with its strings); the public
// signatures return it by value, so that callers match on it without unboxing.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod clock;
pub mod codes;
pub mod connection;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod job_waiter;
pub mod limits;
pub mod listing;
pub mod models;
mod operations;
pub mod options;
pub mod proxy;
pub mod read_window;
mod renewal;
pub mod retry;
pub mod secret;
pub mod signer;
pub mod transport;
pub mod trust;

pub use client::{ClientConfig, EcsClient};
pub use clock::Clock;
pub use connection::Connection;
pub use credentials::{Chain, Credentials};
pub use endpoint::Endpoints;
pub use error::ApiError;
pub use job_waiter::{JobReport, JobWaiter, PollPolicy, ServerOutcome, WaitEnd};
pub use limits::{Limits, Stop};
pub use listing::{ListedServer, ServerPage, ServerQuery};
pub use options::ClientOptions;
pub use read_window::{ReadWindow, MAX_READS_IN_FLIGHT};
pub use retry::{disposition, Disposition, RetryPolicy};
pub use secret::Secret;
pub use signer::Signer;
