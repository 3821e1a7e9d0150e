//! Who is asking: the body is read (the signature covers it), the signature is kept for
//! `/_sim/signatures` and verified ([`auth::verify`]), then the project of the path is
//! checked against `X-Project-Id` and the configured project. The handler gets the
//! [`Caller`] (who signed), and the request is counted for its principal.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;
use time::OffsetDateTime;

use super::RequestContext;
use crate::api::codes::{INVALID_PARAMETER, PROJECT_MISMATCH};
use crate::api::credentials::HEADER_PROJECT_ID;
use crate::api::signer::Authorization;
use crate::sim::answer;
use crate::sim::auth::{self, Received};
use crate::sim::failure::Failure;
use crate::sim::identities::Caller;
use crate::sim::routes::Route;
use crate::sim::Sim;

/// Largest request body read (a 1000-server action is about 50 KB).
pub const MAX_BODY: usize = 4 << 20;

pub async fn authenticate(
    State(sim): State<Arc<Sim>>,
    Extension(cx): Extension<RequestContext>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        let f = Failure::ecs(
            400,
            INVALID_PARAMETER,
            "The request body could not be read or is too large.",
        );
        return answer::failure(&f, &cx.request_id);
    };
    keep_signature(&sim, &parts);
    let checked = verify_signature(&sim, &parts, &body)
        .and_then(|caller| check_project(&sim, &cx.route, &parts).map(|()| caller));
    let caller = match checked {
        Ok(caller) => caller,
        Err(f) => return answer::failure(&f, &cx.request_id),
    };
    sim.identities.count_request(&caller.principal);
    let mut req = Request::from_parts(parts, Body::from(body));
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// Keeps the request's signature, whatever the outcome, when its `Authorization` parses.
fn keep_signature(sim: &Sim, parts: &Parts) {
    let signature = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Authorization::parse(v.trim()))
        .map(|a| a.signature);
    if let Some(signature) = signature {
        sim.signatures.push(signature);
    }
}

/// The signature and the security token, against ecs-sim's clock shifted by
/// `clock_offset_secs`, within `clock_skew_tolerance_secs`.
fn verify_signature(sim: &Sim, parts: &Parts, body: &[u8]) -> Result<Caller, Failure> {
    let (tolerance, offset) = {
        let state = sim.lock();
        let knobs = &state.knobs;
        (knobs.clock_skew_tolerance_secs, knobs.clock_offset_secs)
    };
    let received = Received {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let now = OffsetDateTime::now_utc() + time::Duration::seconds(offset);
    auth::verify(&sim.config, &sim.identities, &received, now, tolerance)
}

/// 400 `Ecs.0023` when `X-Project-Id` differs from the path's project, or that project is
/// not the configured one.
fn check_project(sim: &Sim, route: &Route, parts: &Parts) -> Result<(), Failure> {
    let Some(project) = route.project() else {
        return Ok(());
    };
    if let Some(h) = parts.headers.get(HEADER_PROJECT_ID) {
        if String::from_utf8_lossy(h.as_bytes()).trim() != project {
            return Err(Failure::ecs(
                400,
                PROJECT_MISMATCH,
                "The project_id in the token (X-Project-Id) mismatches the project_id \
                 in the URL.",
            ));
        }
    }
    if project != sim.config.project_id {
        return Err(Failure::ecs(
            400,
            PROJECT_MISMATCH,
            format!("The project {project} is unknown or not available to this key."),
        ));
    }
    Ok(())
}
