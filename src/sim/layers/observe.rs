//! The outermost layer: what every API request gets, whatever happens inside.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::sim::routes::{classify, Route};
use crate::sim::Sim;

/// What the inner layers and the handler know about a request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub route: Route,
    /// 32 hex digits: the `X-Request-Id` header, and `request_id` in gateway bodies.
    pub request_id: String,
    pub started: Instant,
}

/// Marks an answer whose connection is closed without it (an injected drop served
/// without a connection handle): it is counted as `dropped` where the drop is decided,
/// and gets no `X-Request-Id`.
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

/// Classifies the request and gives it its id; counts it in flight while it runs; then
/// counts its status per route, sets `X-Request-Id` and logs it at debug.
pub async fn observe(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let _in_flight = sim.stats.enter();
    let cx = RequestContext {
        route: classify(req.method(), req.uri().path()),
        request_id: uuid::Uuid::new_v4().simple().to_string(),
        started,
    };
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    req.extensions_mut().insert(cx.clone());
    let mut resp = next.run(req).await;
    if resp.extensions().get::<Dropped>().is_some() {
        return resp;
    }
    if let Ok(v) = HeaderValue::from_str(&cx.request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    sim.stats.record(cx.route.name(), &status.to_string());
    tracing::debug!(
        %method,
        %path,
        status,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %cx.request_id,
        "ecs-sim request"
    );
    resp
}
