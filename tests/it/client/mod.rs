//! The API client (`terraform_provider_ecs::api`) against a local, signature-checking stub
//! of the ECS and IAM APIs ([`support::stub`](crate::support::stub)), and against ecs-sim
//! where it needs what only the simulator serves (temporary keys, metadata, TLS).

mod connection;
mod credentials;
mod job_waiter;
mod listing;
mod requests;
mod retries;
