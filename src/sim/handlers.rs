//! The API handler: it only dispatches the classified route to the state. Everything that
//! applies to every request (latency, the signature, faults, counting) is a
//! [layer](super::layers) around it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::Extension;

use super::agencies;
use super::answer;
use super::config::DEMO_DOMAIN_ID;
use super::failure::Failure;
use super::identities::Caller;
use super::layers::RequestContext;
use super::routes::{self, Route};
use super::state::{parse_action_body, JobView, ListFilter, Paging};
use super::Sim;
use crate::api::codes::{INVALID_PARAMETER, REQUEST_ERROR, SERVER_NOT_FOUND};
use crate::api::models::{
    JobIdResponse, ListServersResponse, Project, ProjectList, ShowServerResponse, MAX_IDS_PER_LIST,
};
use crate::api::signer::parse_query;

/// Answers one API request on its route.
pub async fn dispatch(
    AxState(sim): AxState<Arc<Sim>>,
    Extension(cx): Extension<RequestContext>,
    caller: Option<Extension<Caller>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let query = uri.query();
    let outcome = match &cx.route {
        Route::Action { .. } => action(&sim, &body),
        Route::Job { job_id, .. } => job(&sim, job_id),
        Route::List { .. } => list(&sim, query),
        Route::Show { server_id, .. } => show(&sim, server_id),
        Route::Projects => Ok(projects(&sim, query)),
        Route::AssumeRole | Route::AssumeAgency => {
            let caller = caller.map(|Extension(c)| c);
            agencies::assume(&sim, &cx.route, caller, &body)
        }
        Route::Unknown => Err(routes::not_found(&method, uri.path())),
    };
    outcome.unwrap_or_else(|f| answer::failure(&f, &cx.request_id))
}

fn action(sim: &Sim, body: &[u8]) -> Result<Response, Failure> {
    let (action, ids) = parse_action_body(body)?;
    let mut state = sim.lock();
    let job_id = state.submit(action, &ids)?;
    if state.knobs.omit_job_id {
        return Ok(answer::raw(200, b"{}".to_vec()));
    }
    let job_id = Some(job_id);
    Ok(answer::json(200, &JobIdResponse { job_id }))
}

fn job(sim: &Sim, job_id: &str) -> Result<Response, Failure> {
    let mut state = sim.lock();
    if state.knobs.malformed_job_json {
        return Ok(answer::raw(
            200,
            br#"{"status": "RUNNING", "entities": {"sub_jobs": [{"status": "#.to_vec(),
        ));
    }
    match state.show_job(job_id) {
        JobView::Found(job) => {
            drop(state);
            Ok(answer::json(200, &*job))
        }
        JobView::NotFound => Err(Failure::ecs(
            404,
            REQUEST_ERROR,
            format!("The job {job_id} does not exist or has been purged."),
        )),
    }
}

fn show(sim: &Sim, server_id: &str) -> Result<Response, Failure> {
    match sim.lock().show_server(server_id) {
        Some(server) => Ok(answer::json(200, &ShowServerResponse { server })),
        None => Err(Failure::ecs(
            404,
            SERVER_NOT_FOUND,
            format!("Instance[{server_id}] could not be found."),
        )),
    }
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn invalid(message: String) -> Failure {
    Failure::ecs(400, INVALID_PARAMETER, message)
}

/// `server_id=a,b` (at most [`MAX_IDS_PER_LIST`], one entry each, in order), or a page of
/// `limit` servers matching the filters ([`list_filter`]), after `marker` or on page
/// `offset`.
fn list(sim: &Sim, query: Option<&str>) -> Result<Response, Failure> {
    let q = query.map(parse_query).unwrap_or_default();
    let ids = listed_ids(&q);
    if !ids.is_empty() {
        if ids.len() > MAX_IDS_PER_LIST {
            return Err(invalid(format!(
                "Invalid parameter server_id: {} ids, at most {MAX_IDS_PER_LIST}.",
                ids.len()
            )));
        }
        let servers = sim.lock().list_by_ids(&ids);
        let count = Some(servers.len() as u64);
        return Ok(answer::json(200, &ListServersResponse { count, servers }));
    }
    let limit = limit(&q)?;
    let paging = match param(&q, "marker").filter(|m| !m.is_empty()) {
        Some(marker) => Paging::After(marker.to_string()),
        None => Paging::Page(page(&q)?),
    };
    let (count, servers) = sim
        .lock()
        .list_servers(&list_filter(&q), limit, &paging)
        .map_err(invalid)?;
    let count = Some(count);
    Ok(answer::json(200, &ListServersResponse { count, servers }))
}

/// The filters of a listing; empty values are ignored, as absent ones.
fn list_filter(q: &[(String, String)]) -> ListFilter {
    let one = |name: &str| param(q, name).filter(|v| !v.is_empty()).map(str::to_string);
    let all = |name: &str| -> Vec<String> {
        q.iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    };
    ListFilter {
        name: one("name"),
        status: one("status"),
        tags: all("tags"),
        not_tags: all("not-tags"),
        enterprise_project_id: one("enterprise_project_id"),
        flavor: one("flavor"),
        ip: one("ip"),
        ip_eq: one("ip_eq"),
        reservation_id: one("reservation_id"),
    }
}

/// Every `server_id=` value, split on commas, blanks dropped.
fn listed_ids(q: &[(String, String)]) -> Vec<String> {
    q.iter()
        .filter(|(k, _)| k == "server_id")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `limit`: 1 to 1000, 25 when absent.
fn limit(q: &[(String, String)]) -> Result<usize, Failure> {
    match param(q, "limit") {
        None => Ok(25),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(invalid(format!(
                "Invalid parameter limit: {v:?} (1 to 1000)."
            ))),
        },
    }
}

/// `offset`: the page number, from 1 (0 counts as 1).
fn page(q: &[(String, String)]) -> Result<usize, Failure> {
    match param(q, "offset") {
        None => Ok(1),
        Some(v) => v.parse::<usize>().map(|n| n.max(1)).map_err(|_| {
            invalid(format!(
                "Invalid parameter offset: {v:?} (a page number from 1)."
            ))
        }),
    }
}

/// The one project, for `?name=` the region or no name; `[]` for another name.
fn projects(sim: &Sim, query: Option<&str>) -> Response {
    let q = query.map(parse_query).unwrap_or_default();
    let region = &sim.config.region;
    let projects = match param(&q, "name") {
        Some(name) if name != region => Vec::new(),
        _ => vec![Project {
            id: sim.config.project_id.clone(),
            name: Some(region.clone()),
            domain_id: Some(DEMO_DOMAIN_ID.into()),
            enabled: Some(true),
        }],
    };
    answer::json(200, &ProjectList { projects })
}
