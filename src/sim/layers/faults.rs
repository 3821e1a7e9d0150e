//! Injected faults, as [chosen](crate::sim::faults::decide): a 429 or 503 instead of the
//! answer, or a connection closed with no answer at all, after the handler ran
//! (`fault_drop_mode = after`: only the answer is lost) or before.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;

use super::observe::{Dropped, RequestContext};
use crate::api::codes::BACKEND_UNAVAILABLE;
use crate::sim::answer;
use crate::sim::failure::Failure;
use crate::sim::faults::{decide, Fault};
use crate::sim::knobs::DropMode;
use crate::sim::server::ConnKill;
use crate::sim::Sim;

pub async fn inject(
    State(sim): State<Arc<Sim>>,
    Extension(cx): Extension<RequestContext>,
    req: Request,
    next: Next,
) -> Response {
    let (fault, drop_mode) = {
        let mut state = sim.lock();
        let fault = decide(&mut state, cx.route.name());
        (fault, state.knobs.fault_drop_mode)
    };
    let failure = match fault {
        None => return next.run(req).await,
        Some(Fault::Drop) => {
            let (method, uri) = (req.method().clone(), req.uri().clone());
            let kill = req.extensions().get::<ConnKill>().cloned();
            if drop_mode == DropMode::After {
                // Carried out; only the answer is lost.
                let _ = next.run(req).await;
            }
            return drop_connection(&sim, &cx, &method, &uri, kill).await;
        }
        Some(Fault::TooMany(secs)) => Failure::throttled(
            "The throttling threshold has been reached: policy user over ratelimit \
             (injected fault)",
            secs,
        ),
        Some(Fault::Unavailable) => Failure::gateway(
            503,
            BACKEND_UNAVAILABLE,
            "Backend unavailable (injected fault)",
        ),
    };
    answer::failure(&failure, &cx.request_id)
}

/// Closes the connection without an answer: the connection task drops hyper's connection
/// (and so the socket) as soon as the token is cancelled; this future never completes.
/// Without a connection handle (a router served some other way) the answer is a 200 whose
/// body fails at once, which hyper turns into a closed connection before the head is
/// flushed.
async fn drop_connection(
    sim: &Sim,
    cx: &RequestContext,
    method: &Method,
    uri: &Uri,
    kill: Option<ConnKill>,
) -> Response {
    sim.stats.record(cx.route.name(), "dropped");
    tracing::debug!(
        %method,
        path = %uri.path(),
        duration_ms = cx.started.elapsed().as_secs_f64() * 1000.0,
        "ecs-sim request dropped (injected fault)"
    );
    if let Some(ConnKill(token)) = kill {
        token.cancel();
        std::future::pending::<()>().await;
    }
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected dropped connection"))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.extensions_mut().insert(Dropped);
    resp
}
