#![doc = include_str!("../../docs/ecs-sim.md")]

pub mod admin;
pub mod agencies;
pub mod answer;
pub mod auth;
pub mod config;
pub mod failure;
pub mod faults;
pub mod handlers;
pub mod identities;
pub mod knobs;
pub mod layers;
pub mod metadata;
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
pub use config::{ROUTE_ASSUME_AGENCY, ROUTE_ASSUME_ROLE};
pub use knobs::{AlreadyRunningMode, DropMode, Knobs, MetadataToken, PartialFailureParent};
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
    /// Temporary keys issued, and who signed what (`/_sim/credentials`).
    pub identities: identities::Identities,
}

impl Sim {
    /// The state lock. Handlers hold it only for short, synchronous work.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router: `/_sim/*` admin routes (unsigned, not counted), the instance [metadata]
/// (unsigned), everything else to the API in its [layers].
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .nest("/_sim", admin::router())
        .merge(metadata::router())
        .with_state(sim.clone())
        .fallback_service(layers::api(sim))
}
