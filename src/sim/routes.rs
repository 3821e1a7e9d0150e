//! The API's routes: which one a request is, by method and path (percent-decoded path
//! parameters), and its name in `/_sim/stats` and `fault_routes` (`config::ROUTE_*`).

use axum::http::Method;
use percent_encoding::percent_decode_str;

use super::config::{
    ROUTE_ACTION, ROUTE_ASSUME_AGENCY, ROUTE_ASSUME_ROLE, ROUTE_JOB, ROUTE_LIST, ROUTE_PROJECTS,
    ROUTE_SHOW, ROUTE_UNKNOWN,
};
use super::failure::Failure;
use crate::api::codes::API_NOT_FOUND;

/// A classified API route, with its path parameters (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Action {
        project: String,
    },
    Job {
        project: String,
        job_id: String,
    },
    List {
        project: String,
    },
    Show {
        project: String,
        server_id: String,
    },
    Projects,
    Unknown,
    /// IAM v3 `securitytokens` (`assume_role`).
    AssumeRole,
    /// STS v5 `agencies/assume`.
    AssumeAgency,
}

impl Route {
    pub fn name(&self) -> &'static str {
        match self {
            Route::Action { .. } => ROUTE_ACTION,
            Route::Job { .. } => ROUTE_JOB,
            Route::List { .. } => ROUTE_LIST,
            Route::Show { .. } => ROUTE_SHOW,
            Route::Projects => ROUTE_PROJECTS,
            Route::Unknown => ROUTE_UNKNOWN,
            Route::AssumeRole => ROUTE_ASSUME_ROLE,
            Route::AssumeAgency => ROUTE_ASSUME_AGENCY,
        }
    }

    pub fn project(&self) -> Option<&str> {
        match self {
            Route::Action { project }
            | Route::Job { project, .. }
            | Route::List { project }
            | Route::Show { project, .. } => Some(project),
            Route::Projects | Route::Unknown | Route::AssumeRole | Route::AssumeAgency => None,
        }
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The route of a request.
pub fn classify(method: &Method, path: &str) -> Route {
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
        (&Method::POST, ["", "v3.0", "OS-CREDENTIAL", "securitytokens"]) => Route::AssumeRole,
        (&Method::POST, ["", "v5", "agencies", "assume"]) => Route::AssumeAgency,
        _ => Route::Unknown,
    }
}

/// 404 `APIGW.0101`, the gateway's answer for a path it does not serve.
pub fn not_found(method: &Method, path: &str) -> Failure {
    Failure::gateway(
        404,
        API_NOT_FOUND,
        format!(
            "The API does not exist or has not been published in the environment: {method} {path}"
        ),
    )
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
