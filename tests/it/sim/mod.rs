//! ecs-sim: its HTTP API, knobs and admin API, its binary, and the crate's own client
//! driving it.

mod api;
mod cli;
mod knobs;
mod with_client;
