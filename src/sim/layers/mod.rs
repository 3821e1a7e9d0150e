//! The layers every API request passes through before the [handler](super::handlers),
//! outermost first:
//!
//! 1. [`observe`]: classifies the route, gives the request its id, counts it in flight,
//!    and afterwards counts its status in `/_sim/stats`, sets `X-Request-Id` and logs it.
//! 2. [`latency`]: waits `latency_ms`.
//! 3. [`known_routes`]: an unknown route gets the gateway's 404 here, unsigned and never a
//!    fault.
//! 4. [`authenticate`]: reads the body, checks the signature, the security token and the
//!    project (401 `APIGW.0301`, 400 `Ecs.0023`).
//! 5. [`faults`]: injects the chosen fault (429, 503, or a dropped connection, after or
//!    before the handler ran). Only requests that passed the signature check count down
//!    a burst.
//!
//! So when several apply, an unknown route wins over a bad signature, and a bad signature
//! over an injected fault.

pub mod authenticate;
pub mod faults;
pub mod known_routes;
pub mod latency;
pub mod observe;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;

pub use authenticate::MAX_BODY;
pub use observe::RequestContext;

use super::handlers;
use super::Sim;

/// The API: the handler inside its layers. `Router::layer` wraps what is already there,
/// so the innermost layer is added first.
pub fn api(sim: Arc<Sim>) -> Router {
    Router::new()
        .fallback(handlers::dispatch)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(from_fn_with_state(sim.clone(), faults::inject))
        .layer(from_fn_with_state(sim.clone(), authenticate::authenticate))
        .layer(from_fn(known_routes::known_routes))
        .layer(from_fn_with_state(sim.clone(), latency::latency))
        .layer(from_fn_with_state(sim.clone(), observe::observe))
        .with_state(sim)
}
