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
//!
//! # Which failures are retried
//!
//! Reads (every `GET`: jobs, servers, the IAM lookup) are idempotent, so every transient
//! error ([`ApiError::is_transient`]) is retried: HTTP 429 and 5xx, the codes `Ecs.0603`,
//! `APIGW.0201` and `APIGW.0308` whatever their status, connection failures, and requests
//! that got no complete answer (timeout, reset, truncated body).
//!
//! Batch actions (`POST …/cloudservers/action`) are **not** idempotent: starting a batch twice
//! submits two jobs. A `POST` is therefore re-sent only when the request provably was not
//! carried out:
//!
//! * the connection could not be established (`Connect`): nothing was sent;
//! * the answer was HTTP 429 or 503, or carried `Ecs.0603` ("other commands are being
//!   executed; retry in a minute", HTTP 501) or `APIGW.0308` (throttled): the gateway or the
//!   service refused the request before acting on it.
//!
//! A certificate that fails verification ([`ApiError::Certificate`]) is never retried, for
//! any method: no retry can fix it, and the error says to set `insecure = true` only for a
//! trusted test endpoint.
//!
//! Every other failure after the request may have left the machine is
//! [`ApiError::OutcomeUnknown`] and is returned at once, never re-sent: a timeout, a reset
//! connection, an unreadable body, and any other 5xx answer (500, 502, 504, `APIGW.0201`
//! backend timeout: the backend may have acted before failing). The caller resolves the
//! unknown by re-reading the servers' states, which is always safe. Other 4xx answers are
//! returned as [`ApiError::Http`] and are fatal.
//!
//! A 2xx answer with a non-empty `job_id` is a success; a 2xx without one (204, empty or
//! non-JSON body) is [`ApiError::InvalidResponse`]. Redirects are not followed (a signed
//! request must not go elsewhere); a 3xx is an `InvalidResponse` too.

// `ApiError` is the crate's one error type (~170 bytes, with its strings); the public
// signatures return it by value, as the contract fixes.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::time::Instant;
use url::Url;

use super::credentials::Credentials;
use super::error::{parse_error_body, truncate_lossy, ApiError, MAX_RAW_BODY};
use super::models::{
    BatchRebootBody, BatchRebootOption, BatchStartBody, BatchStartOption, BatchStopBody,
    BatchStopOption, Job, JobIdResponse, ListServersResponse, PowerType, ProjectList, ServerDetail,
    ServerRef, ShowServerResponse, MAX_IDS_PER_LIST, MAX_SERVERS_PER_ACTION,
};
use super::retry::{parse_retry_after, NextStep, RetryPolicy};
use super::signer::{encode_component, RequestToSign, Signer};

/// `Content-Type` of the batch actions, lower-case `utf-8` as the SDK sends it.
pub const CONTENT_TYPE_JSON_UTF8: &str = "application/json;charset=utf-8";
/// `Content-Type` the SDK sends on ECS GETs.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// The most bytes read from one answer. Beyond it a 2xx is an `InvalidResponse` and an error
/// body is cut. A page of 1000 servers is a few MiB.
pub const MAX_RESPONSE_BODY: usize = 32 * 1024 * 1024;
/// Longest wait for a TCP/TLS connection, within the per-attempt timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const HEADER_REQUEST_ID: &str = "x-request-id";

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
    ///
    /// An override may carry a path prefix (`https://gw.example/ecs`), which is put before
    /// every API path. An empty or blank override counts as not given.
    pub fn for_region(
        region: &str,
        ecs_override: Option<&str>,
        iam_override: Option<&str>,
    ) -> Result<Self, ApiError> {
        fn given(o: Option<&str>) -> Option<&str> {
            o.map(str::trim).filter(|o| !o.is_empty())
        }
        let ecs = match given(ecs_override) {
            Some(o) => parse_endpoint("ECS", o)?,
            None => default_endpoint("ecs", region)?,
        };
        let iam = match given(iam_override) {
            Some(o) => parse_endpoint("IAM", o)?,
            None => default_endpoint("iam", region)?,
        };
        Ok(Self { ecs, iam })
    }
}

fn default_endpoint(service: &str, region: &str) -> Result<Url, ApiError> {
    let region = region.trim();
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if !valid {
        return Err(ApiError::Config(format!(
            "region {region:?} is not a valid region name (letters, digits and '-'), so no \
             default {} endpoint can be built; set the region or an explicit endpoint",
            service.to_uppercase()
        )));
    }
    let raw = format!("https://{service}.{region}.myhuaweicloud.com");
    Url::parse(&raw).map_err(|e| {
        ApiError::Config(format!(
            "default {} endpoint {raw:?} is invalid: {e}",
            service.to_uppercase()
        ))
    })
}

fn parse_endpoint(which: &str, raw: &str) -> Result<Url, ApiError> {
    let bad = |why: &str| ApiError::Config(format!("{which} endpoint {raw:?} {why}"));
    let mut url = Url::parse(raw).map_err(|e| bad(&format!("is not an absolute URL: {e}")))?;
    check_endpoint_url(&url).map_err(|why| bad(&why))?;
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(url)
}

fn check_endpoint_url(url: &Url) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must use http:// or https://, not {}://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_string());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_string());
    }
    if url.query().is_some() {
        return Err("must not have a query string".to_string());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_string());
    }
    Ok(())
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

/// Where the client reads the time for `X-Sdk-Date` (and for `Retry-After` HTTP-dates).
/// The system clock by default; tests and the simulator may supply their own.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(OffsetDateTime::now_utc))
    }

    pub fn from_fn(f: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn now(&self) -> OffsetDateTime {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// An endpoint split into what requests need.
#[derive(Debug, Clone)]
struct Base {
    /// `scheme://authority`, without a trailing `/`.
    origin: String,
    /// The URL authority (`host[:port]`), the value of `Host`.
    host: String,
    /// The endpoint's own path, without a trailing `/` (usually empty).
    path_prefix: String,
}

impl Base {
    fn of(which: &str, url: &Url) -> Result<Self, ApiError> {
        check_endpoint_url(url).map_err(|why| {
            ApiError::Config(format!("{which} endpoint {:?} {why}", url.as_str()))
        })?;
        let host_name = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host_name}:{port}"),
            None => host_name.to_string(),
        };
        Ok(Self {
            origin: format!("{}://{host}", url.scheme()),
            host,
            path_prefix: url.path().trim_end_matches('/').to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Ecs,
    Iam,
}

/// One API call, before signing.
struct Call {
    method: Method,
    service: Service,
    /// The API path (after the endpoint's prefix), its segments already percent-encoded.
    path: String,
    query: Vec<(String, String)>,
    body: Vec<u8>,
}

/// A 2xx answer.
struct Answer {
    status: u16,
    request_id: Option<String>,
    body: Vec<u8>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    signer: Signer,
    region: String,
    project_id: RwLock<Option<String>>,
    endpoints: Endpoints,
    ecs: Base,
    iam: Base,
    retry: RetryPolicy,
    request_timeout: Duration,
    user_agent: String,
    clock: Clock,
    attempts: AtomicU64,
}

/// A signed, retrying client for the ECS API (and the IAM project lookup).
#[derive(Clone)]
pub struct EcsClient {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
}

impl fmt::Debug for EcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsClient")
            .field("access_key", &self.inner.credentials.access_key)
            .field("region", &self.inner.region)
            .field("project_id", &self.project_id())
            .field("ecs", &self.inner.endpoints.ecs.as_str())
            .field("iam", &self.inner.endpoints.iam.as_str())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl EcsClient {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        Self::new_with_clock(config, Clock::system())
    }

    /// As [`EcsClient::new`], with the clock that dates each signature.
    pub fn new_with_clock(config: ClientConfig, clock: Clock) -> Result<Self, ApiError> {
        if config.credentials.access_key.trim().is_empty() {
            return Err(ApiError::Config("the access key is empty".into()));
        }
        if config.credentials.secret_key.is_empty() {
            return Err(ApiError::Config("the secret key is empty".into()));
        }
        if config.request_timeout.is_zero() {
            return Err(ApiError::Config(
                "the request timeout must be longer than zero".into(),
            ));
        }
        HeaderValue::from_str(config.user_agent.trim()).map_err(|_| {
            ApiError::Config(format!(
                "user agent {:?} is not a valid header value",
                config.user_agent
            ))
        })?;
        let project_id = config
            .project_id
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        let ecs = Base::of("ECS", &config.endpoints.ecs)?;
        let iam = Base::of("IAM", &config.endpoints.iam)?;
        // No default headers (reqwest adds no User-Agent of its own), no redirects: a signed
        // request goes exactly where it was signed for.
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(config.insecure)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(config.request_timeout))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                signer: config.credentials.signer(),
                credentials: config.credentials,
                region: config.region,
                project_id: RwLock::new(project_id),
                endpoints: config.endpoints,
                ecs,
                iam,
                retry: config.retry,
                request_timeout: config.request_timeout,
                user_agent: config.user_agent.trim().to_string(),
                clock,
                attempts: AtomicU64::new(0),
            }),
            deadline: None,
        })
    }

    /// The same client, whose calls (retries and their sleeps included) give up at `deadline`
    /// with `ApiError::DeadlineExceeded`.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(deadline),
        }
    }

    /// The deadline set with [`EcsClient::with_deadline`], if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The project id in use (set in the config or found by the lookup).
    pub fn project_id(&self) -> Option<String> {
        match self.inner.project_id.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// How many HTTP attempts this client (and its clones) has sent so far, retries included.
    pub fn attempts_sent(&self) -> u64 {
        self.inner.attempts.load(Ordering::Relaxed)
    }

    /// `GET {iam}/v3/projects?name={region}`: exactly one project → its id, which the client
    /// then uses; zero or several → `ApiError::ProjectLookup`.
    pub async fn lookup_project_id(&self) -> Result<String, ApiError> {
        let region = self.inner.region.trim().to_string();
        if region.is_empty() {
            return Err(ApiError::Config(
                "cannot look up the project id: the region is empty".into(),
            ));
        }
        let call = Call {
            method: Method::GET,
            service: Service::Iam,
            path: "/v3/projects".to_string(),
            query: vec![("name".to_string(), region.clone())],
            body: Vec::new(),
        };
        let answer = self.execute(&call).await?;
        let list: ProjectList = self.parse_json(&call, &answer)?;
        let ids: Vec<String> = list.projects.into_iter().map(|p| p.id).collect();
        match ids.as_slice() {
            [] => Err(ApiError::ProjectLookup {
                region,
                message: "IAM knows no project with this name; check the region or set \
                          project_id"
                    .into(),
            }),
            [id] if id.trim().is_empty() => Err(ApiError::ProjectLookup {
                region,
                message: "IAM returned a project with an empty id".into(),
            }),
            [id] => {
                let id = id.trim().to_string();
                match self.inner.project_id.write() {
                    Ok(mut p) => *p = Some(id.clone()),
                    Err(poisoned) => *poisoned.into_inner() = Some(id.clone()),
                }
                tracing::debug!(region = %region, project_id = %id, "project id looked up");
                Ok(id)
            }
            several => Err(ApiError::ProjectLookup {
                region,
                message: format!(
                    "IAM returned {} projects ({}); set project_id to choose one",
                    several.len(),
                    several.join(", ")
                ),
            }),
        }
    }

    /// `POST /v1/{project_id}/cloudservers/action` with `os-start`; 1..=1000 ids, else
    /// `ApiError::Config`. Any 2xx with a non-empty `job_id` → the job id; a 2xx without one →
    /// `InvalidResponse`. Never re-sent once it may have reached the service
    /// (→ `OutcomeUnknown`).
    pub async fn batch_start(&self, server_ids: &[String]) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchStartBody {
            os_start: BatchStartOption {
                servers: ServerRef::list(server_ids),
            },
        };
        self.batch_action(&body).await
    }

    /// `os-stop`, same rules as `batch_start`; `power_type` `None` sends no `type` (SOFT).
    pub async fn batch_stop(
        &self,
        server_ids: &[String],
        power_type: Option<PowerType>,
    ) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchStopBody {
            os_stop: BatchStopOption {
                servers: ServerRef::list(server_ids),
                power_type,
            },
        };
        self.batch_action(&body).await
    }

    /// `reboot`, same rules as `batch_start`.
    pub async fn batch_reboot(
        &self,
        server_ids: &[String],
        power_type: PowerType,
    ) -> Result<String, ApiError> {
        check_ids(server_ids, MAX_SERVERS_PER_ACTION, "a batch action")?;
        let body = BatchRebootBody {
            reboot: BatchRebootOption {
                servers: ServerRef::list(server_ids),
                power_type,
            },
        };
        self.batch_action(&body).await
    }

    /// `GET /v1/{project_id}/jobs/{job_id}`.
    pub async fn show_job(&self, job_id: &str) -> Result<Job, ApiError> {
        if job_id.trim().is_empty() {
            return Err(ApiError::Config("the job id is empty".into()));
        }
        let path = format!("{}/jobs/{}", self.project_path()?, encode_component(job_id));
        let call = self.get(path, Vec::new());
        let answer = self.execute(&call).await?;
        self.parse_json(&call, &answer)
    }

    /// `GET /v1/{project_id}/cloudservers/detail?server_id=a,b,…` with 1..=100 ids (else
    /// `ApiError::Config`). Unknown ids come back as entries with `is_missing()`.
    pub async fn list_servers_by_ids(
        &self,
        server_ids: &[String],
    ) -> Result<Vec<ServerDetail>, ApiError> {
        check_ids(server_ids, MAX_IDS_PER_LIST, "a server list")?;
        let path = format!("{}/cloudservers/detail", self.project_path()?);
        let call = self.get(path, vec![("server_id".to_string(), server_ids.join(","))]);
        let answer = self.execute(&call).await?;
        let list: ListServersResponse = self.parse_json(&call, &answer)?;
        Ok(list.servers)
    }

    /// `GET /v1/{project_id}/cloudservers/detail?limit=&offset=` (offset is a page number,
    /// from 1).
    pub async fn list_servers_page(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ListServersResponse, ApiError> {
        let path = format!("{}/cloudservers/detail", self.project_path()?);
        let call = self.get(
            path,
            vec![
                ("limit".to_string(), limit.to_string()),
                ("offset".to_string(), offset.to_string()),
            ],
        );
        let answer = self.execute(&call).await?;
        self.parse_json(&call, &answer)
    }

    /// `GET /v1/{project_id}/cloudservers/{server_id}`.
    pub async fn show_server(&self, server_id: &str) -> Result<ServerDetail, ApiError> {
        if server_id.trim().is_empty() {
            return Err(ApiError::Config("the server id is empty".into()));
        }
        let path = format!(
            "{}/cloudservers/{}",
            self.project_path()?,
            encode_component(server_id)
        );
        let call = self.get(path, Vec::new());
        let answer = self.execute(&call).await?;
        let show: ShowServerResponse = self.parse_json(&call, &answer)?;
        Ok(show.server)
    }

    // ----- internals -----

    /// `/v1/{project_id}`, encoded; `Config` when no project id is known.
    fn project_path(&self) -> Result<String, ApiError> {
        match self.project_id() {
            Some(p) => Ok(format!("/v1/{}", encode_component(&p))),
            None => Err(ApiError::Config(
                "no project id: set project_id or look it up from the region first".into(),
            )),
        }
    }

    fn get(&self, path: String, query: Vec<(String, String)>) -> Call {
        Call {
            method: Method::GET,
            service: Service::Ecs,
            path,
            query,
            body: Vec::new(),
        }
    }

    async fn batch_action<B: serde::Serialize>(&self, body: &B) -> Result<String, ApiError> {
        let path = format!("{}/cloudservers/action", self.project_path()?);
        let body = serde_json::to_vec(body)
            .map_err(|e| ApiError::Config(format!("cannot encode the action body: {e}")))?;
        let call = Call {
            method: Method::POST,
            service: Service::Ecs,
            path,
            query: Vec::new(),
            body,
        };
        let answer = self.execute(&call).await?;
        let invalid = |message: String| ApiError::InvalidResponse {
            method: call.method.to_string(),
            path: self.wire_path(&call),
            message,
            request_id: answer.request_id.clone(),
        };
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid(format!(
                "HTTP {} with an empty body: no job_id",
                answer.status
            )));
        }
        let parsed: JobIdResponse = json_object(&answer.body).map_err(|e| {
            invalid(format!(
                "HTTP {} with a body that is not a job answer ({e}): {}",
                answer.status,
                truncate_lossy(&answer.body, MAX_RAW_BODY)
            ))
        })?;
        match parsed.job_id.map(|j| j.trim().to_string()) {
            Some(job_id) if !job_id.is_empty() => Ok(job_id),
            _ => Err(invalid(format!(
                "HTTP {} without a job_id: {}",
                answer.status,
                truncate_lossy(&answer.body, MAX_RAW_BODY)
            ))),
        }
    }

    fn base(&self, service: Service) -> &Base {
        match service {
            Service::Ecs => &self.inner.ecs,
            Service::Iam => &self.inner.iam,
        }
    }

    /// The path as sent: the endpoint's prefix and the API path.
    fn wire_path(&self, call: &Call) -> String {
        format!("{}{}", self.base(call.service).path_prefix, call.path)
    }

    fn parse_json<T: DeserializeOwned>(&self, call: &Call, answer: &Answer) -> Result<T, ApiError> {
        json_object(&answer.body).map_err(|e| ApiError::InvalidResponse {
            method: call.method.to_string(),
            path: self.wire_path(call),
            message: format!(
                "HTTP {} with a body that is not the expected JSON ({e}): {}",
                answer.status,
                truncate_lossy(&answer.body, MAX_RAW_BODY)
            ),
            request_id: answer.request_id.clone(),
        })
    }

    /// Runs `call` with retries (see the module documentation for which failures are retried).
    async fn execute(&self, call: &Call) -> Result<Answer, ApiError> {
        let what = format!("{} {}", call.method, self.wire_path(call));
        let mut retries = 0u32;
        // The error that led to the retry sleep just ended: a sleep may overshoot its end
        // on a busy machine and cross the deadline, and the deadline error must still say
        // what went wrong before it.
        let mut previous: Option<ApiError> = None;
        loop {
            let timeout = match self.deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(ApiError::DeadlineExceeded {
                            what,
                            last_error: previous.map(Box::new),
                        });
                    }
                    left.min(self.inner.request_timeout)
                }
                None => self.inner.request_timeout,
            };
            let error = match self.attempt(call, retries + 1, timeout).await {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            if !may_retry(&call.method, &error) {
                return Err(error);
            }
            let sleep =
                match self
                    .inner
                    .retry
                    .next_step(retries, &error, Instant::now(), self.deadline)
                {
                    NextStep::Retry(sleep) => sleep,
                    NextStep::GiveUp => return Err(error),
                    NextStep::PastDeadline => {
                        return Err(ApiError::DeadlineExceeded {
                            what,
                            last_error: Some(Box::new(error)),
                        })
                    }
                };
            tracing::debug!(
                call = %what,
                retry = retries + 1,
                sleep_ms = sleep.as_millis() as u64,
                "retrying after a transient error"
            );
            tokio::time::sleep(sleep).await;
            previous = Some(error);
            retries += 1;
        }
    }

    /// One signed attempt. Errors come out classified for `call.method`.
    async fn attempt(
        &self,
        call: &Call,
        attempt: u32,
        timeout: Duration,
    ) -> Result<Answer, ApiError> {
        let base = self.base(call.service);
        let path = self.wire_path(call);
        let method = call.method.to_string();
        let is_post = call.method == Method::POST;

        let mut headers: Vec<(String, String)> = Vec::with_capacity(8);
        if is_post {
            headers.push(("Content-Type".into(), CONTENT_TYPE_JSON_UTF8.into()));
        } else if call.service == Service::Ecs {
            headers.push(("Content-Type".into(), CONTENT_TYPE_JSON.into()));
        }
        if !self.inner.user_agent.is_empty() {
            headers.push(("User-Agent".into(), self.inner.user_agent.clone()));
        }
        let project = match call.service {
            Service::Ecs => self.project_id(),
            Service::Iam => None,
        };
        headers.extend(self.inner.credentials.identity_headers(project.as_deref()));
        let mut req = RequestToSign {
            method: method.clone(),
            host: base.host.clone(),
            path: path.clone(),
            query: call.query.clone(),
            headers,
            body: call.body.clone(),
        };
        // A fresh X-Sdk-Date on every attempt.
        let signing = self.inner.signer.sign(&mut req, self.inner.clock.now());

        let mut header_map = HeaderMap::with_capacity(req.headers.len());
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ApiError::Config(format!("{name:?} is not a valid header name")))?;
            // The values are ours (config, credentials): never echo them, they may be secret.
            let value = HeaderValue::from_str(value).map_err(|_| {
                ApiError::Config(format!(
                    "the value of header {name} is not a valid header value"
                ))
            })?;
            header_map.append(name, value);
        }
        let mut url = format!("{}{}", base.origin, path);
        if !signing.canonical_query.is_empty() {
            url.push('?');
            url.push_str(&signing.canonical_query);
        }

        let mut builder = self
            .inner
            .http
            .request(call.method.clone(), url)
            .headers(header_map)
            .timeout(timeout);
        if !req.body.is_empty() {
            builder = builder.body(req.body);
        }

        self.inner.attempts.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = self.transport_error(call, base, &e, false);
                tracing::debug!(
                    method = %method, path = %path, attempt,
                    duration_ms = started.elapsed().as_millis() as u64,
                    error = %error, "ECS API call failed"
                );
                return Err(error);
            }
        };
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get(HEADER_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.inner.clock.now()));
        let body = read_body(&mut response).await;
        tracing::debug!(
            method = %method, path = %path, status, request_id = request_id.as_deref().unwrap_or(""),
            duration_ms = started.elapsed().as_millis() as u64, attempt, "ECS API call"
        );

        let success = (200..300).contains(&status);
        let body = match body {
            Ok((body, complete)) => {
                if success && !complete {
                    return Err(ApiError::InvalidResponse {
                        method,
                        path,
                        message: format!(
                            "HTTP {status} with a body longer than {MAX_RESPONSE_BODY} bytes"
                        ),
                        request_id,
                    });
                }
                body
            }
            Err(e) if success => return Err(self.transport_error(call, base, &e, true)),
            // An error status came through; its body did not. The status still tells.
            Err(e) => format!("(error body unreadable: {})", error_chain(&e)).into_bytes(),
        };

        if success {
            return Ok(Answer {
                status,
                request_id,
                body,
            });
        }
        if status < 400 {
            return Err(ApiError::InvalidResponse {
                method,
                path,
                message: format!(
                    "unexpected HTTP {status} (redirects are not followed): {}",
                    truncate_lossy(&body, MAX_RAW_BODY)
                ),
                request_id,
            });
        }
        let (code, message) = parse_error_body(status, &body);
        let request_id = request_id.or_else(|| body_request_id(&body));
        if is_post && !post_not_processed(status, &code) && (status >= 500 || code == "APIGW.0201")
        {
            let id = request_id
                .map(|id| format!(" (request id {id})"))
                .unwrap_or_default();
            return Err(ApiError::OutcomeUnknown {
                method,
                path,
                message: format!(
                    "the service answered HTTP {status}, {code}: {message}{id}; it may have \
                     acted on it, so it is not re-sent"
                ),
            });
        }
        Err(ApiError::Http {
            method,
            path,
            status,
            code,
            message,
            request_id,
            retry_after,
        })
    }

    /// Classifies a failure of the exchange itself. `after_status`: the answer's status line
    /// had arrived (so the request certainly reached the other end).
    fn transport_error(
        &self,
        call: &Call,
        base: &Base,
        e: &reqwest::Error,
        after_status: bool,
    ) -> ApiError {
        let method = call.method.to_string();
        let path = self.wire_path(call);
        let message = error_chain(e);
        if !after_status {
            if let Some(why) = certificate_error(e) {
                return ApiError::Certificate {
                    method,
                    path,
                    endpoint: base.origin.clone(),
                    message: why,
                };
            }
        }
        if !after_status && e.is_connect() {
            return ApiError::Connect {
                method,
                path,
                endpoint: base.origin.clone(),
                message,
            };
        }
        let message = if e.is_timeout() {
            format!("timed out ({message})")
        } else {
            message
        };
        if call.method == Method::POST {
            ApiError::OutcomeUnknown {
                method,
                path,
                message: format!("no complete answer came: {message}"),
            }
        } else {
            ApiError::NoAnswer {
                method,
                path,
                message,
            }
        }
    }
}

/// Whether a failed attempt may be made again (see the module documentation).
fn may_retry(method: &Method, error: &ApiError) -> bool {
    if *method == Method::POST {
        match error {
            ApiError::Connect { .. } => true,
            ApiError::Http { status, code, .. } => post_not_processed(*status, code),
            _ => false,
        }
    } else {
        error.is_transient()
    }
}

/// Answers that prove a POST was refused before being acted on: 429 / `APIGW.0308`
/// (throttled at the gateway), 503 (unavailable) and `Ecs.0603` (busy, retry later).
fn post_not_processed(status: u16, code: &str) -> bool {
    status == 429 || status == 503 || code == "Ecs.0603" || code == "APIGW.0308"
}

fn check_ids(ids: &[String], max: usize, what: &str) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > max {
        return Err(ApiError::Config(format!(
            "{what} takes 1 to {max} server ids, got {}",
            ids.len()
        )));
    }
    if let Some(i) = ids.iter().position(|id| id.trim().is_empty()) {
        return Err(ApiError::Config(format!(
            "{what}: server id number {} is empty",
            i + 1
        )));
    }
    Ok(())
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes; the flag says whether the body was complete.
async fn read_body(response: &mut reqwest::Response) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE_BODY {
            let room = MAX_RESPONSE_BODY - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, true))
}

/// Parses a body that must be a JSON object (serde would also fill a struct from an array).
fn json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value @ serde_json::Value::Object(_)) => {
            serde_json::from_value(value).map_err(|e| e.to_string())
        }
        Ok(_) => Err("not a JSON object".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// `request_id` of an API-gateway error body, for answers without `X-Request-Id`.
fn body_request_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("request_id")?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The certificate verification failure inside `e`, if that is what it is. No retry can
/// fix it. rustls reports it as a `rustls::Error::InvalidCertificate`, which reaches us
/// inside nested `io::Error`s (whose `source()` skips the error it wraps, so each one is
/// opened by hand); the text is the fallback.
fn certificate_error(e: &reqwest::Error) -> Option<String> {
    fn probe(e: &(dyn std::error::Error + 'static), depth: u8) -> Option<String> {
        if depth > 8 {
            return None;
        }
        if let Some(r @ rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            return probe(inner, depth + 1);
        }
        None
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(found) = probe(s, 0) {
            return Some(found);
        }
        source = s.source();
    }
    let text = error_chain(e);
    text.find("invalid peer certificate")
        .map(|at| text[at..].to_string())
}

/// An error and its causes, `: `-separated (reqwest's own message is terse).
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoints_are_https() {
        let e = Endpoints::for_region("cn-north-4", None, None).expect("valid");
        assert_eq!(e.ecs.as_str(), "https://ecs.cn-north-4.myhuaweicloud.com/");
        assert_eq!(e.iam.as_str(), "https://iam.cn-north-4.myhuaweicloud.com/");
    }

    #[test]
    fn overrides_may_be_http_with_port_and_prefix() {
        let e = Endpoints::for_region(
            "cn-north-4",
            Some("http://127.0.0.1:8080/"),
            Some("https://gw.example/iam/"),
        )
        .expect("valid");
        assert_eq!(e.ecs.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(e.iam.as_str(), "https://gw.example/iam");
        let b = Base::of("IAM", &e.iam).expect("valid");
        assert_eq!(b.origin, "https://gw.example");
        assert_eq!(b.host, "gw.example");
        assert_eq!(b.path_prefix, "/iam");
        let b = Base::of("ECS", &e.ecs).expect("valid");
        assert_eq!(b.host, "127.0.0.1:8080");
        assert_eq!(b.path_prefix, "");
        // Blank override = not given.
        let e = Endpoints::for_region("r1", Some("  "), None).expect("valid");
        assert_eq!(e.ecs.as_str(), "https://ecs.r1.myhuaweicloud.com/");
    }

    #[test]
    fn bad_endpoints_are_named_in_the_error() {
        for bad in [
            "ecs.example.com",
            "ftp://ecs.example.com",
            "https://ecs.example.com/?a=b",
            "https://ecs.example.com/#x",
            "https://user:pw@ecs.example.com",
            "file:///etc/passwd",
        ] {
            match Endpoints::for_region("cn-north-4", Some(bad), None) {
                Err(ApiError::Config(m)) => {
                    assert!(m.contains("ECS endpoint"), "{m}");
                    assert!(m.contains(bad), "{m}");
                }
                other => panic!("{bad}: expected a Config error, got {other:?}"),
            }
        }
        match Endpoints::for_region("bad region!", None, Some("http://iam")) {
            Err(ApiError::Config(m)) => assert!(m.contains("bad region!"), "{m}"),
            other => panic!("expected a Config error, got {other:?}"),
        }
        match Endpoints::for_region("", Some("http://ecs"), None) {
            Err(ApiError::Config(m)) => assert!(m.contains("IAM"), "{m}"),
            other => panic!("expected a Config error, got {other:?}"),
        }
        assert!(Endpoints::for_region("", Some("http://ecs"), Some("http://iam")).is_ok());
    }

    #[test]
    fn post_resend_rule() {
        let http = |status: u16, code: &str| ApiError::Http {
            method: "POST".into(),
            path: "/p".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            retry_after: None,
        };
        assert!(may_retry(&Method::POST, &http(429, "APIGW.0308")));
        assert!(may_retry(&Method::POST, &http(503, "503")));
        assert!(may_retry(&Method::POST, &http(501, "Ecs.0603")));
        assert!(!may_retry(&Method::POST, &http(400, "Ecs.0000")));
        let unknown = ApiError::OutcomeUnknown {
            method: "POST".into(),
            path: "/p".into(),
            message: String::new(),
        };
        assert!(!may_retry(&Method::POST, &unknown));
        let connect = ApiError::Connect {
            method: "POST".into(),
            path: "/p".into(),
            endpoint: "http://x".into(),
            message: String::new(),
        };
        assert!(may_retry(&Method::POST, &connect));
        assert!(may_retry(&Method::GET, &http(502, "502")));
        assert!(!may_retry(&Method::GET, &http(404, "Ecs.0114")));
    }

    #[test]
    fn ids_are_bounded() {
        assert!(check_ids(&[], 10, "x").is_err());
        assert!(check_ids(&["a".to_string()], 10, "x").is_ok());
        assert!(check_ids(&vec!["a".to_string(); 11], 10, "x").is_err());
        assert!(check_ids(&["a".to_string(), " ".to_string()], 10, "x").is_err());
    }
}
