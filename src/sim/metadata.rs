//! The ECS instance metadata, as an instance with an agency attached serves it (unsigned,
//! outside the API's layers, not counted in `/_sim/stats`; counted in `/_sim/credentials`):
//!
//! - `PUT /meta-data/latest/api/token` answers a session token, or 404 when the
//!   `metadata_token` knob is `unsupported`;
//! - `GET /openstack/latest/securitykey` answers new temporary keys for the principal
//!   `instance agency`, as `{"credential": {"access", "secret", "securitytoken",
//!   "expires_at"}}`; with `metadata_token = required` a read without a valid
//!   `X-Metadata-Token` gets 401. A token sent that ecs-sim never issued gets 401 too.
//!
//! Lifetime: the `credential_lifetime_secs` knob, 3600 s when it is 0.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::identities::INSTANCE_AGENCY;
use super::knobs::MetadataToken;
use super::Sim;
use crate::api::credentials::metadata::{HEADER_TOKEN, PATH_SECURITY_KEY, PATH_TOKEN};

/// Metadata keys live this long when the knob does not say.
const DEFAULT_LIFETIME_SECS: u64 = 3600;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route(PATH_TOKEN, put(token))
        .route(PATH_SECURITY_KEY, get(security_key))
}

async fn token(State(sim): State<Arc<Sim>>) -> Response {
    if sim.lock().knobs.metadata_token == MetadataToken::Unsupported {
        return (StatusCode::NOT_FOUND, "404 Not Found").into_response();
    }
    sim.identities.new_metadata_token().into_response()
}

async fn security_key(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let (mode, knob) = {
        let state = sim.lock();
        (
            state.knobs.metadata_token,
            state.knobs.credential_lifetime_secs,
        )
    };
    let sent = headers.get(HEADER_TOKEN).and_then(|v| v.to_str().ok());
    let valid = sent.is_some_and(|t| sim.identities.is_metadata_token(t));
    let needed = sent.is_some() || mode == MetadataToken::Required;
    if needed && !valid {
        return (
            StatusCode::UNAUTHORIZED,
            "401 Unauthorized: a valid X-Metadata-Token is required",
        )
            .into_response();
    }
    sim.identities.count_metadata_read(valid);
    let lifetime = if knob > 0 {
        knob
    } else {
        DEFAULT_LIFETIME_SECS
    };
    let key = sim.identities.issue(INSTANCE_AGENCY, lifetime);
    Json(json!({"credential": {
        "access": key.access_key,
        "secret": key.secret_key.expose(),
        "securitytoken": key.token,
        "expires_at": key.expires_at.format(&Rfc3339).unwrap_or_default(),
    }}))
    .into_response()
}
