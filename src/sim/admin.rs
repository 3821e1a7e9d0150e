//! The unsigned admin API under `/_sim/`, for tests and benchmarks. Its calls are not
//! counted in the stats.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::config::ServersFile;
use super::knobs::Knobs;
use super::state::JobView;
use super::Sim;

pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/signatures", get(signatures))
        .route("/credentials", get(credentials))
        .route("/credentials/expire", post(expire_credentials))
        .route("/knobs", get(get_knobs).put(put_knobs))
        .route("/servers", post(post_servers))
        .route("/servers/power", post(post_power))
        .route("/servers/:id", get(get_server))
        .route("/jobs/:job_id", get(get_job))
        .route("/clock/advance", post(advance_clock))
        .route("/health", get(|| async { "ok" }))
}

fn admin_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Resident memory of this process in bytes (Linux), for the scale numbers.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

async fn stats(AxState(sim): AxState<Arc<Sim>>) -> Response {
    let (requests, max, current) = sim.stats.snapshot();
    let (conns, max_conns) = sim.stats.connections();
    let mut state = sim.lock();
    let servers = state.server_counts();
    let jobs = state.job_counts();
    let last = state.last_job_end_ms().and_then(|ms| state.rfc3339(ms));
    let (servers_read, max_reads_of_a_server) = state.read_counts();
    let body = json!({
        "requests": requests,
        "servers": servers,
        "servers_total": servers.values().sum::<u64>(),
        "max_concurrent_requests": max,
        "current_requests": current,
        "open_connections": conns,
        "max_open_connections": max_conns,
        "starts_total": state.starts_total(),
        "stops_total": state.stops_total(),
        "reboots_total": state.reboots_total(),
        "jobs": jobs,
        "last_job_end": last,
        "rss_bytes": rss_bytes(),
        "servers_read": servers_read,
        "max_reads_of_a_server": max_reads_of_a_server,
    });
    drop(state);
    Json(body).into_response()
}

/// The signatures of the last 1000 signed API requests (kept whatever their outcome), for
/// tests that check no signature leaks. Not cleared by a stats reset.
async fn signatures(AxState(sim): AxState<Arc<Sim>>) -> Response {
    Json(json!({"signatures": sim.signatures.all()})).into_response()
}

async fn reset_stats(AxState(sim): AxState<Arc<Sim>>) -> Response {
    sim.stats.reset();
    sim.lock().reset_counters();
    Json(json!({"reset": true})).into_response()
}

async fn get_knobs(AxState(sim): AxState<Arc<Sim>>) -> Response {
    let knobs = sim.lock().knobs.clone();
    Json(knobs).into_response()
}

async fn put_knobs(AxState(sim): AxState<Arc<Sim>>, body: Bytes) -> Response {
    let patch: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("not JSON: {e}")),
    };
    let mut state = sim.lock();
    let merged: Knobs = match state.knobs.merged(&patch) {
        Ok(k) => k,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, e),
    };
    if patch.get("seed").is_some() {
        state.reseed(merged.seed);
    }
    state.knobs = merged.clone();
    drop(state);
    tracing::info!(patch = %patch, "ecs-sim knobs changed");
    Json(merged).into_response()
}

async fn post_servers(AxState(sim): AxState<Arc<Sim>>, body: Bytes) -> Response {
    let file: ServersFile = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("bad servers body: {e}")),
    };
    let mut state = sim.lock();
    match state.load_servers(&file.servers, file.replace) {
        Ok(ids) => {
            let total = state.server_ids().len();
            Json(json!({"loaded": ids.len(), "servers_total": total})).into_response()
        }
        Err(e) => admin_error(StatusCode::BAD_REQUEST, e),
    }
}

/// `{"server_ids": [...], "status": "SHUTOFF"}`: an out-of-band power change (see
/// [`State::set_power`](super::state::State::set_power)).
async fn post_power(AxState(sim): AxState<Arc<Sim>>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct PowerChange {
        server_ids: Vec<String>,
        status: String,
    }
    let change: PowerChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("bad power body: {e}")),
    };
    match sim.lock().set_power(&change.server_ids, &change.status) {
        Ok(n) => Json(json!({"changed": n})).into_response(),
        Err(e) if e.starts_with("no server") => admin_error(StatusCode::NOT_FOUND, e),
        Err(e) => admin_error(StatusCode::BAD_REQUEST, e),
    }
}

async fn get_server(AxState(sim): AxState<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.lock().server_record(&id) {
        Some(record) => Json(record).into_response(),
        None => admin_error(StatusCode::NOT_FOUND, format!("no server {id}")),
    }
}

async fn get_job(AxState(sim): AxState<Arc<Sim>>, Path(job_id): Path<String>) -> Response {
    let view = sim.lock().show_job(&job_id);
    match view {
        JobView::Found(job) => Json(*job).into_response(),
        JobView::NotFound => admin_error(StatusCode::NOT_FOUND, format!("no job {job_id}")),
    }
}

async fn advance_clock(AxState(sim): AxState<Arc<Sim>>, body: Bytes) -> Response {
    let ms = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("ms").and_then(Value::as_u64));
    let Some(ms) = ms else {
        return admin_error(StatusCode::BAD_REQUEST, "expected {\"ms\": <u64>}");
    };
    let mut state = sim.lock();
    state.advance(ms);
    Json(json!({"now_ms": state.now_ms()})).into_response()
}

/// Temporary keys issued and signed requests, per principal ([`super::identities`]).
async fn credentials(AxState(sim): AxState<Arc<Sim>>) -> Response {
    Json(sim.identities.counts()).into_response()
}

/// Ends every temporary key now: the next request signed with one gets 401.
async fn expire_credentials(AxState(sim): AxState<Arc<Sim>>) -> Response {
    sim.identities.expire_all();
    Json(json!({"expired": true})).into_response()
}
