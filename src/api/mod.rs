//! The Huawei Cloud ECS API: signing, wire models, a retrying client and the job waiter.
//! Nothing here knows about Terraform.

pub mod client;
pub mod codes;
pub mod credentials;
pub mod error;
pub mod job_waiter;
pub mod limits;
pub mod models;
pub mod retry;
pub mod secret;
pub mod signer;

pub use client::{ClientConfig, EcsClient, Endpoints};
pub use credentials::Credentials;
pub use error::ApiError;
pub use job_waiter::{JobReport, JobWaiter, PollPolicy, ServerOutcome, WaitEnd};
pub use limits::{Limits, Stop};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use signer::Signer;
