#![doc = include_str!("../../docs/ecs-sim.md")]

pub mod admin;
pub mod answer;
pub mod auth;
pub mod config;
pub mod failure;
pub mod faults;
pub mod handlers;
pub mod knobs;
pub mod layers;
pub mod routes;
pub mod server;
pub mod signatures;
pub mod state;
pub mod stats;
pub mod tls;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;

pub use config::{
    server_id_for_index, ServerSpec, ServersFile, SimConfig, ALL_ROUTES, ROUTE_ACTION, ROUTE_JOB,
    ROUTE_LIST, ROUTE_PROJECTS, ROUTE_SHOW, ROUTE_UNKNOWN,
};
pub use knobs::{AlreadyRunningMode, DropMode, Knobs, PartialFailureParent};
pub use server::SimServer;

use signatures::SignatureRing;
use state::State;
use stats::Stats;

/// What the handlers share.
pub struct Sim {
    pub config: SimConfig,
    state: Mutex<State>,
    pub stats: Arc<Stats>,
    /// The signatures of the last signed API requests (`/_sim/signatures`).
    pub signatures: SignatureRing,
}

impl Sim {
    /// The state lock. Handlers hold it only for short, synchronous work.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router: `/_sim/*` admin routes (unsigned, not counted), everything else to the API
/// in its [layers].
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .nest("/_sim", admin::router())
        .with_state(sim.clone())
        .fallback_service(layers::api(sim))
}
