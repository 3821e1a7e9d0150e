//! `latency_ms`: a delay before every API answer, unknown routes included.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::sim::Sim;

pub async fn latency(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let ms = sim.lock().knobs.latency_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    next.run(req).await
}
