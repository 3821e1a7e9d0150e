//! The ECS and IAM API: one handler classifies the route, applies latency, verifies the
//! signature and the project, injects faults, and dispatches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use time::OffsetDateTime;

use super::auth::{self, Received};
use super::config::{
    DropMode, ROUTE_ACTION, ROUTE_JOB, ROUTE_LIST, ROUTE_PROJECTS, ROUTE_SHOW, ROUTE_UNKNOWN,
};
use super::faults::{self, ConnKill, Fault};
use super::state::{Failure, JobView, Op};
use super::Sim;
use crate::api::credentials::HEADER_PROJECT_ID;
use crate::api::models::{
    BatchRebootBody, BatchStartBody, BatchStopBody, EcsErrorBody, EcsErrorDetail, EcsErrorItem,
    GatewayErrorBody, JobIdResponse, ListServersResponse, Project, ProjectList, ShowServerResponse,
    MAX_IDS_PER_LIST,
};
use crate::api::signer::{parse_query, Authorization};

/// Largest request body read (a 1000-server action is about 50 KB).
const MAX_BODY: usize = 4 << 20;
const JSON: &str = "application/json;charset=UTF-8";

/// A classified API route, with its path parameters (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Action { project: String },
    Job { project: String, job_id: String },
    List { project: String },
    Show { project: String, server_id: String },
    Projects,
    Unknown,
}

impl Route {
    fn name(&self) -> &'static str {
        match self {
            Route::Action { .. } => ROUTE_ACTION,
            Route::Job { .. } => ROUTE_JOB,
            Route::List { .. } => ROUTE_LIST,
            Route::Show { .. } => ROUTE_SHOW,
            Route::Projects => ROUTE_PROJECTS,
            Route::Unknown => ROUTE_UNKNOWN,
        }
    }

    fn project(&self) -> Option<&str> {
        match self {
            Route::Action { project }
            | Route::Job { project, .. }
            | Route::List { project }
            | Route::Show { project, .. } => Some(project),
            Route::Projects | Route::Unknown => None,
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn classify(method: &Method, path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').collect();
    match (method, segs.as_slice()) {
        (&Method::POST, ["", "v1", p, "cloudservers", "action"]) if !p.is_empty() => {
            Route::Action { project: decode(p) }
        }
        (&Method::GET, ["", "v1", p, "cloudservers", "detail"]) if !p.is_empty() => {
            Route::List { project: decode(p) }
        }
        (&Method::GET, ["", "v1", p, "cloudservers", id])
            if !p.is_empty() && !id.is_empty() && *id != "action" =>
        {
            Route::Show {
                project: decode(p),
                server_id: decode(id),
            }
        }
        (&Method::GET, ["", "v1", p, "jobs", id]) if !p.is_empty() && !id.is_empty() => {
            Route::Job {
                project: decode(p),
                job_id: decode(id),
            }
        }
        (&Method::GET, ["", "v3", "projects"]) => Route::Projects,
        _ => Route::Unknown,
    }
}

fn json_response<T: Serialize>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => raw_response(status, body),
        Err(e) => raw_response(500, format!("{{\"error\":\"{e}\"}}").into_bytes()),
    }
}

fn raw_response(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
}

/// The error answer in its real shape.
fn failure_response(f: &Failure, request_id: &str) -> Response {
    match f {
        Failure::Ecs {
            status,
            code,
            message,
            details,
        } => json_response(
            *status,
            &EcsErrorBody {
                error: EcsErrorDetail {
                    code: code.to_string(),
                    message: message.clone(),
                    details: (!details.is_empty()).then(|| {
                        details
                            .iter()
                            .map(|(c, m)| EcsErrorItem {
                                code: c.clone(),
                                message: m.clone(),
                            })
                            .collect()
                    }),
                },
            },
        ),
        Failure::Gateway {
            status,
            code,
            message,
            retry_after,
        } => {
            let mut r = json_response(
                *status,
                &GatewayErrorBody {
                    error_code: code.to_string(),
                    error_msg: message.clone(),
                    request_id: request_id.to_string(),
                },
            );
            if let Some(secs) = retry_after {
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            r
        }
    }
}

/// The fallback handler: everything that is not `/_sim/`.
pub async fn api(AxState(sim): AxState<Arc<Sim>>, req: Request) -> Response {
    let started = Instant::now();
    let _in_flight = sim.stats.enter();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let (parts, body) = req.into_parts();
    let route = classify(&parts.method, parts.uri.path());
    let latency = sim.lock().knobs.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let outcome = match route {
        Route::Unknown => Err(Failure::gateway(
            404,
            "APIGW.0101",
            format!(
                "The API does not exist or has not been published in the environment: {} {}",
                parts.method,
                parts.uri.path()
            ),
        )),
        _ => match axum::body::to_bytes(body, MAX_BODY).await {
            Err(_) => Err(Failure::ecs(
                400,
                "Ecs.0005",
                "The request body could not be read or is too large.",
            )),
            Ok(bytes) => {
                let checked = check_identity(&sim, &route, &parts, &bytes);
                match checked {
                    Err(f) => Err(f),
                    Ok(()) => {
                        let (fault, drop_mode) = {
                            let mut state = sim.lock();
                            let f = faults::decide(&mut state, route.name());
                            (f, state.knobs.fault_drop_mode)
                        };
                        match fault {
                            Some(Fault::Drop) => {
                                if drop_mode == DropMode::After {
                                    // Carried out; only the answer is lost.
                                    let _ = dispatch(&sim, &route, parts.uri.query(), &bytes);
                                }
                                return drop_connection(&sim, &parts, route.name(), started).await;
                            }
                            Some(Fault::TooMany(secs)) => Err(Failure::Gateway {
                                status: 429,
                                code: "APIGW.0308",
                                message: "The throttling threshold has been reached: \
                                          policy user over ratelimit (injected fault)"
                                    .into(),
                                retry_after: Some(secs),
                            }),
                            Some(Fault::Unavailable) => Err(Failure::gateway(
                                503,
                                "APIGW.0202",
                                "Backend unavailable (injected fault)",
                            )),
                            None => dispatch(&sim, &route, parts.uri.query(), &bytes),
                        }
                    }
                }
            }
        },
    };
    let mut resp = match outcome {
        Ok(r) => r,
        Err(f) => failure_response(&f, &request_id),
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    sim.stats.record(route.name(), &status.to_string());
    tracing::debug!(
        method = %parts.method,
        path = %parts.uri.path(),
        status,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        request_id = %request_id,
        "ecs-sim request"
    );
    resp
}

/// Closes the connection without an answer: the connection task drops hyper's connection
/// (and so the socket) as soon as the token is cancelled; this future never completes.
/// Without a connection handle (a router served some other way) the answer is a 200 whose
/// body fails at once, which hyper turns into a closed connection before the head is
/// flushed.
async fn drop_connection(
    sim: &Sim,
    parts: &axum::http::request::Parts,
    route: &'static str,
    started: Instant,
) -> Response {
    sim.stats.record(route, "dropped");
    tracing::debug!(
        method = %parts.method,
        path = %parts.uri.path(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "ecs-sim request dropped (injected fault)"
    );
    if let Some(ConnKill(token)) = parts.extensions.get::<ConnKill>() {
        token.cancel();
        std::future::pending::<()>().await;
    }
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected dropped connection"))
    });
    Response::new(Body::from_stream(stream))
}

/// Signature, security token, then the project of the path against `X-Project-Id` and the
/// configured project.
fn check_identity(
    sim: &Sim,
    route: &Route,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), Failure> {
    let (tolerance, offset) = {
        let state = sim.lock();
        (
            state.knobs.clock_skew_tolerance_secs,
            state.knobs.clock_offset_secs,
        )
    };
    if let Some(signature) = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Authorization::parse(v.trim()))
        .map(|a| a.signature)
    {
        sim.stats.record_signature(signature);
    }
    auth::verify(
        &sim.config,
        &Received {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query(),
            headers: &parts.headers,
            body,
        },
        OffsetDateTime::now_utc() + time::Duration::seconds(offset),
        tolerance,
    )?;
    if let Some(project) = route.project() {
        if let Some(h) = parts.headers.get(HEADER_PROJECT_ID) {
            let h = String::from_utf8_lossy(h.as_bytes());
            if h.trim() != project {
                return Err(Failure::ecs(
                    400,
                    "Ecs.0023",
                    "The project_id in the token (X-Project-Id) mismatches the project_id \
                     in the URL.",
                ));
            }
        }
        if project != sim.config.project_id {
            return Err(Failure::ecs(
                400,
                "Ecs.0023",
                format!("The project {project} is unknown or not available to this key."),
            ));
        }
    }
    Ok(())
}

fn dispatch(
    sim: &Sim,
    route: &Route,
    query: Option<&str>,
    body: &[u8],
) -> Result<Response, Failure> {
    match route {
        Route::Action { .. } => action(sim, body),
        Route::Job { job_id, .. } => job(sim, job_id),
        Route::List { .. } => list(sim, query),
        Route::Show { server_id, .. } => match sim.lock().show_server(server_id) {
            Some(server) => Ok(json_response(200, &ShowServerResponse { server })),
            None => Err(Failure::ecs(
                404,
                "Ecs.0114",
                format!("Instance[{server_id}] could not be found."),
            )),
        },
        Route::Projects => projects(sim, query),
        Route::Unknown => Err(Failure::gateway(404, "APIGW.0101", "API not found")),
    }
}

fn bad_body(why: impl std::fmt::Display) -> Failure {
    Failure::ecs(400, "Ecs.0005", format!("Invalid request body: {why}"))
}

fn action(sim: &Sim, body: &[u8]) -> Result<Response, Failure> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad_body(format!("not valid JSON ({e})")))?;
    let Some(obj) = value.as_object() else {
        return Err(bad_body("expected a JSON object"));
    };
    if obj.len() != 1 {
        return Err(bad_body(
            "expected exactly one of \"os-start\", \"os-stop\", \"reboot\"",
        ));
    }
    let (op, ids) = if obj.contains_key("os-start") {
        let b: BatchStartBody = serde_json::from_value(value).map_err(bad_body)?;
        (Op::Start, b.os_start.servers)
    } else if obj.contains_key("os-stop") {
        let b: BatchStopBody = serde_json::from_value(value).map_err(bad_body)?;
        (Op::Stop, b.os_stop.servers)
    } else if obj.contains_key("reboot") {
        let b: BatchRebootBody = serde_json::from_value(value).map_err(bad_body)?;
        (Op::Reboot(b.reboot.power_type), b.reboot.servers)
    } else {
        return Err(bad_body(
            "expected exactly one of \"os-start\", \"os-stop\", \"reboot\"",
        ));
    };
    let ids: Vec<String> = ids.into_iter().map(|r| r.id).collect();
    let mut state = sim.lock();
    let job_id = state.submit(op, &ids)?;
    if state.knobs.omit_job_id {
        return Ok(raw_response(200, b"{}".to_vec()));
    }
    Ok(json_response(
        200,
        &JobIdResponse {
            job_id: Some(job_id),
        },
    ))
}

fn job(sim: &Sim, job_id: &str) -> Result<Response, Failure> {
    let mut state = sim.lock();
    if state.knobs.malformed_job_json {
        return Ok(raw_response(
            200,
            br#"{"status": "RUNNING", "entities": {"sub_jobs": [{"status": "#.to_vec(),
        ));
    }
    match state.show_job(job_id) {
        JobView::Found(job) => {
            drop(state);
            Ok(json_response(200, &*job))
        }
        JobView::NotFound => Err(Failure::ecs(
            404,
            "Ecs.0000",
            format!("The job {job_id} does not exist or has been purged."),
        )),
    }
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn list(sim: &Sim, query: Option<&str>) -> Result<Response, Failure> {
    let q = query.map(parse_query).unwrap_or_default();
    let ids: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "server_id")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !ids.is_empty() {
        if ids.len() > MAX_IDS_PER_LIST {
            return Err(Failure::ecs(
                400,
                "Ecs.0005",
                format!(
                    "Invalid parameter server_id: {} ids, at most {MAX_IDS_PER_LIST}.",
                    ids.len()
                ),
            ));
        }
        let servers = sim.lock().list_by_ids(&ids);
        return Ok(json_response(
            200,
            &ListServersResponse {
                count: Some(servers.len() as u64),
                servers,
            },
        ));
    }
    let limit = match param(&q, "limit") {
        None => 25,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(Failure::ecs(
                    400,
                    "Ecs.0005",
                    format!("Invalid parameter limit: {v:?} (1 to 1000)."),
                ))
            }
        },
    };
    let page = match param(&q, "offset") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => n.max(1),
            Err(_) => {
                return Err(Failure::ecs(
                    400,
                    "Ecs.0005",
                    format!("Invalid parameter offset: {v:?} (a page number from 1)."),
                ))
            }
        },
    };
    let (count, servers) = sim.lock().list_page(
        limit,
        page,
        param(&q, "status").filter(|s| !s.is_empty()),
        param(&q, "name").filter(|s| !s.is_empty()),
    );
    Ok(json_response(
        200,
        &ListServersResponse {
            count: Some(count),
            servers,
        },
    ))
}

fn projects(sim: &Sim, query: Option<&str>) -> Result<Response, Failure> {
    let q = query.map(parse_query).unwrap_or_default();
    let region = &sim.config.region;
    let projects = match param(&q, "name") {
        Some(name) if name != region => Vec::new(),
        _ => vec![Project {
            id: sim.config.project_id.clone(),
            name: Some(region.clone()),
            domain_id: Some(super::config::DEMO_DOMAIN_ID.into()),
            enabled: Some(true),
        }],
    };
    Ok(json_response(200, &ProjectList { projects }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_classified() {
        let p = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            classify(&Method::POST, &format!("/v1/{p}/cloudservers/action")).name(),
            ROUTE_ACTION
        );
        assert_eq!(
            classify(&Method::GET, &format!("/v1/{p}/cloudservers/action")).name(),
            ROUTE_UNKNOWN
        );
        assert_eq!(
            classify(&Method::GET, &format!("/v1/{p}/cloudservers/detail")).name(),
            ROUTE_LIST
        );
        assert_eq!(
            classify(&Method::GET, &format!("/v1/{p}/cloudservers/abc")),
            Route::Show {
                project: p.into(),
                server_id: "abc".into()
            }
        );
        assert_eq!(
            classify(&Method::GET, &format!("/v1/{p}/jobs/j1")).name(),
            ROUTE_JOB
        );
        assert_eq!(
            classify(&Method::GET, "/v3/projects").name(),
            ROUTE_PROJECTS
        );
        assert_eq!(classify(&Method::GET, "/v2/x").name(), ROUTE_UNKNOWN);
        assert_eq!(
            classify(&Method::GET, &format!("/v1/{p}/jobs/")).name(),
            ROUTE_UNKNOWN
        );
    }
}
