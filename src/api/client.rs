//! The ECS/IAM HTTP client: signs every attempt, classifies errors, retries transient ones.
//!
//! CONTRACT (filled in by the client work; the provider and ecs-sim code against it):
//! * `EcsClient` is cheap to clone (an `Arc` inside) and `Send + Sync`.
//! * Every attempt is re-signed with a fresh `X-Sdk-Date` (from `Clock`), carries
//!   `X-Project-Id` (ECS calls) and `X-Security-Token` (when set), `Content-Type:
//!   application/json;charset=utf-8` on POST and `application/json` on ECS GETs, none on
//!   the IAM lookup. The wire query is the canonical query string.
//! * Each call is logged at debug with method, path, status, request id and duration; never a
//!   secret, a signature or an `Authorization` header.
//! * Retries follow `RetryPolicy` and never sleep past the deadline set with `with_deadline`.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::credentials::Credentials;
use super::error::ApiError;
use super::models::{Job, ListServersResponse, PowerType, ServerDetail};
use super::retry::RetryPolicy;

/// Where the ECS and IAM APIs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub ecs: Url,
    pub iam: Url,
}

impl Endpoints {
    /// `https://ecs.{region}.myhuaweicloud.com` and `https://iam.{region}.myhuaweicloud.com`,
    /// each replaced by its override when given. A default is always `https`; plain `http://`
    /// is accepted only as an explicit override. An override must be an absolute `http(s)`
    /// URL with a host and no query or fragment; a trailing `/` is ignored.
    pub fn for_region(
        region: &str,
        ecs_override: Option<&str>,
        iam_override: Option<&str>,
    ) -> Result<Self, ApiError> {
        let _ = (region, ecs_override, iam_override);
        todo!()
    }
}

/// Everything the client needs. `Debug` redacts the secrets (through `Credentials`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub region: String,
    /// `None` until looked up with [`EcsClient::lookup_project_id`].
    pub project_id: Option<String>,
    pub endpoints: Endpoints,
    /// Accept any TLS certificate (only when the user sets `insecure = true`).
    pub insecure: bool,
    pub retry: RetryPolicy,
    /// Per-attempt timeout for one HTTP exchange.
    pub request_timeout: Duration,
    pub user_agent: String,
}

/// A signed, retrying client for the ECS API (and the IAM project lookup).
#[derive(Clone)]
pub struct EcsClient {
    inner: Arc<()>,
    deadline: Option<Instant>,
}

impl std::fmt::Debug for EcsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcsClient").finish_non_exhaustive()
    }
}

impl EcsClient {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let _ = config;
        todo!()
    }

    /// The same client, whose calls (retries and their sleeps included) give up at `deadline`
    /// with `ApiError::DeadlineExceeded`.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(deadline),
        }
    }

    /// The project id in use (set in the config or found by the lookup).
    pub fn project_id(&self) -> Option<String> {
        todo!()
    }

    /// `GET {iam}/v3/projects?name={region}`: exactly one project → its id, which the client
    /// then uses; zero or several → `ApiError::ProjectLookup`.
    pub async fn lookup_project_id(&self) -> Result<String, ApiError> {
        todo!()
    }

    /// `POST /v1/{project_id}/cloudservers/action` with `os-start`; 1..=1000 ids, else
    /// `ApiError::Config`. Any 2xx with a non-empty `job_id` → the job id; a 2xx without one →
    /// `InvalidResponse`. Never re-sent once it may have reached the service
    /// (→ `OutcomeUnknown`).
    pub async fn batch_start(&self, server_ids: &[String]) -> Result<String, ApiError> {
        let _ = server_ids;
        todo!()
    }

    /// `os-stop`, same rules as `batch_start`; `power_type` `None` sends no `type` (SOFT).
    pub async fn batch_stop(
        &self,
        server_ids: &[String],
        power_type: Option<PowerType>,
    ) -> Result<String, ApiError> {
        let _ = (server_ids, power_type);
        todo!()
    }

    /// `reboot`, same rules as `batch_start`.
    pub async fn batch_reboot(
        &self,
        server_ids: &[String],
        power_type: PowerType,
    ) -> Result<String, ApiError> {
        let _ = (server_ids, power_type);
        todo!()
    }

    /// `GET /v1/{project_id}/jobs/{job_id}`.
    pub async fn show_job(&self, job_id: &str) -> Result<Job, ApiError> {
        let _ = job_id;
        todo!()
    }

    /// `GET /v1/{project_id}/cloudservers/detail?server_id=a,b,…` with 1..=100 ids (else
    /// `ApiError::Config`). Unknown ids come back as entries with `is_missing()`.
    pub async fn list_servers_by_ids(
        &self,
        server_ids: &[String],
    ) -> Result<Vec<ServerDetail>, ApiError> {
        let _ = server_ids;
        todo!()
    }

    /// `GET /v1/{project_id}/cloudservers/detail?limit=&offset=` (offset is a page number,
    /// from 1).
    pub async fn list_servers_page(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ListServersResponse, ApiError> {
        let _ = (limit, offset);
        todo!()
    }

    /// `GET /v1/{project_id}/cloudservers/{server_id}`.
    pub async fn show_server(&self, server_id: &str) -> Result<ServerDetail, ApiError> {
        let _ = server_id;
        todo!()
    }
}
