//! ecs-sim: its HTTP API, knobs and admin API, its binary, and the crate's own client and
//! Huawei's official Python SDK driving it.

mod api;
mod cli;
mod credentials;
mod knobs;
mod listing;
mod sdk;
mod with_client;
