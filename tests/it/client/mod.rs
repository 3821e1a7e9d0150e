//! The API client (`terraform_provider_ecs::api`) against a local, signature-checking stub
//! of the ECS and IAM APIs ([`support::stub`](crate::support::stub)).

mod job_waiter;
mod listing;
mod requests;
mod retries;
