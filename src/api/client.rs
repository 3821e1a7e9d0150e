//! The ECS/IAM HTTP client: its configuration, and the retry loop around each call.
//!
//! * `EcsClient` is cheap to clone (an `Arc` inside) and `Send + Sync`.
//! * Every attempt is re-signed with a fresh `X-Sdk-Date` (from [`Clock`]), carries
//!   `X-Project-Id` (ECS calls) and `X-Security-Token` (when set), `Content-Type:
//!   application/json;charset=utf-8` on POST and `application/json` on ECS GETs, none on
//!   the IAM lookup. The wire query is the canonical query string.
//! * Each call is logged at debug with method, path, status, request id and duration; never a
//!   secret, a signature or an `Authorization` header.
//! * The keys come from a [`super::credentials::Source`] asked before every attempt: static
//!   keys, or temporary ones refreshed before they expire ([`ClientOptions`] says which);
//!   temporary keys the gateway refuses are renewed once and the attempt sent again
//!   (`renewal.rs`).
//! * Retries follow `RetryPolicy` and never sleep past the deadline set with `with_deadline`.
//!
//! # Which failures are retried
//!
//! The table is [`super::retry::disposition`]. Reads (every `GET`: jobs, servers, the IAM
//! lookup) are idempotent, so every transient error ([`ApiError::is_transient`]) is retried:
//! HTTP 429 and 5xx, the codes `Ecs.0603`, `APIGW.0201` and `APIGW.0308` whatever their
//! status, connection failures, and requests that got no complete answer (timeout, reset,
//! truncated body).
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

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::HeaderValue;
use tokio::time::Instant;

use super::clock::Clock;
use super::credentials::{Credentials, Source};
use super::endpoint::{Base, Endpoints};
use super::error::ApiError;
use super::options::ClientOptions;
use super::proxy::Proxies;
use super::read_window::ReadWindow;
use super::retry::{disposition, Disposition, NextStep, RetryPolicy};
use super::transport::{Answer, Call};

/// Longest wait for a TCP/TLS connection, within the per-attempt timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the client needs. `Debug` redacts the secrets (through `Credentials`).
/// Where keys come from otherwise, and how to connect, are [`ClientOptions`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The keys, unless [`ClientOptions::chain`] says where they come from.
    pub credentials: Credentials,
    pub region: String,
    /// `None` until looked up with [`EcsClient::lookup_project_id`].
    pub project_id: Option<String>,
    pub endpoints: Endpoints,
    /// Accept any TLS certificate, and plain `http` to any host (only when the user sets
    /// `insecure = true`).
    pub insecure: bool,
    pub retry: RetryPolicy,
    /// Per-attempt timeout for one HTTP exchange.
    pub request_timeout: Duration,
    pub user_agent: String,
}

pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    /// The keys for each attempt.
    pub(super) source: Source,
    pub(super) proxies: Proxies,
    pub(super) region: String,
    pub(super) project_id: RwLock<Option<String>>,
    pub(super) endpoints: Endpoints,
    pub(super) ecs: Base,
    pub(super) iam: Base,
    pub(super) retry: RetryPolicy,
    pub(super) request_timeout: Duration,
    pub(super) user_agent: String,
    pub(super) clock: Clock,
    pub(super) attempts: AtomicU64,
    pub(super) read_window: ReadWindow,
}

/// A signed, retrying client for the ECS API (and the IAM project lookup).
#[derive(Clone)]
pub struct EcsClient {
    pub(super) inner: Arc<Inner>,
    deadline: Option<Instant>,
}

impl fmt::Debug for EcsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcsClient")
            .field("credentials", &self.inner.source)
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
        Self::new_with_options(config, ClientOptions::with_clock(clock))
    }

    /// As [`EcsClient::new`], with where the keys come from and how to connect.
    pub fn new_with_options(
        config: ClientConfig,
        options: ClientOptions,
    ) -> Result<Self, ApiError> {
        check_config(&config, options.chain.is_none())?;
        let connect_timeout = CONNECT_TIMEOUT.min(config.request_timeout);
        let http = options.api_client(config.insecure, connect_timeout)?;
        let source = options.source(&config, &http)?;
        let project_id = config
            .project_id
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        let ecs = Base::of("ECS", &config.endpoints.ecs, config.insecure)?;
        let iam = Base::of("IAM", &config.endpoints.iam, config.insecure)?;
        let clock = options.clock;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                source,
                proxies: options.connection.proxies,
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
                read_window: ReadWindow::default(),
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

    pub(super) fn set_project_id(&self, id: String) {
        match self.inner.project_id.write() {
            Ok(mut p) => *p = Some(id),
            Err(poisoned) => *poisoned.into_inner() = Some(id),
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

    /// Runs `call`, retrying what [`disposition`] allows, as [`RetryPolicy::next_step`] paces.
    pub(super) async fn execute(&self, call: &Call) -> Result<Answer, ApiError> {
        let what = format!("{} {}", call.method, self.wire_path(call));
        let mut retries = 0u32;
        // The error that led to the retry sleep just ended: a sleep may overshoot its end
        // on a busy machine and cross the deadline, and the deadline error must still say
        // what went wrong before it.
        let mut previous: Option<ApiError> = None;
        loop {
            let Some(timeout) = self.attempt_timeout() else {
                return Err(past_deadline(what, previous));
            };
            let error = match self.attempt_in_window(call, retries + 1, timeout).await {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            if disposition(&call.method, &error) != Disposition::Retry {
                return Err(error);
            }
            let now = Instant::now();
            let sleep = match self
                .inner
                .retry
                .next_step(retries, &error, now, self.deadline)
            {
                NextStep::Retry(sleep) => sleep,
                NextStep::GiveUp => return Err(error),
                NextStep::PastDeadline => return Err(past_deadline(what, Some(error))),
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

    /// The time the next attempt may take: the per-attempt timeout, cut to what is left
    /// before the deadline; `None` when the deadline has passed.
    fn attempt_timeout(&self) -> Option<Duration> {
        let Some(deadline) = self.deadline else {
            return Some(self.inner.request_timeout);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        (!left.is_zero()).then(|| left.min(self.inner.request_timeout))
    }
}

fn past_deadline(what: String, last_error: Option<ApiError>) -> ApiError {
    ApiError::DeadlineExceeded {
        what,
        last_error: last_error.map(Box::new),
    }
}

/// `static_keys`: the config's keys are the ones used (no [`ClientOptions::chain`]).
fn check_config(config: &ClientConfig, static_keys: bool) -> Result<(), ApiError> {
    let invalid = |message: String| Err(ApiError::InvalidArgument(message));
    if static_keys {
        check_keys(&config.credentials)?;
    }
    if config.request_timeout.is_zero() {
        return invalid("the request timeout must be longer than zero".into());
    }
    if HeaderValue::from_str(config.user_agent.trim()).is_err() {
        return invalid(format!(
            "user agent {:?} is not a valid header value",
            config.user_agent
        ));
    }
    Ok(())
}

/// Keys that can sign: an access key and a secret key.
pub(super) fn check_keys(keys: &Credentials) -> Result<(), ApiError> {
    let invalid = |message: &str| Err(ApiError::InvalidArgument(message.into()));
    if keys.access_key.trim().is_empty() {
        return invalid("the access key is empty");
    }
    if keys.secret_key.is_empty() {
        return invalid("the secret key is empty");
    }
    Ok(())
}
