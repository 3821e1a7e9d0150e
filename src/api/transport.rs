//! One attempt of a call: sign it, send it, and classify what came back (a 2xx, an error
//! answer, or a failure of the exchange) into an answer or an [`ApiError`]. Whether a failure
//! may then be retried is [`super::retry`]'s to say; this file reports what happened, asking
//! that file's rules which failures leave a request's outcome unknown.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use tokio::time::Instant;

use super::client::EcsClient;
use super::credentials::Credentials;
use super::endpoint::Base;
use super::error::{parse_error_body, truncate_lossy, ApiError, MAX_RAW_BODY};
use super::retry::{error_answer, is_idempotent, parse_retry_after, Answered};
use super::signer::RequestToSign;

/// `Content-Type` of the batch actions, lower-case `utf-8` as the SDK sends it.
pub const CONTENT_TYPE_JSON_UTF8: &str = "application/json;charset=utf-8";
/// `Content-Type` the SDK sends on ECS GETs.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// The most bytes read from one answer. Beyond it a 2xx is an `InvalidResponse` and an error
/// body is cut. A page of 1000 servers is a few MiB.
pub const MAX_RESPONSE_BODY: usize = 32 * 1024 * 1024;

const HEADER_REQUEST_ID: &str = "x-request-id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Service {
    Ecs,
    Iam,
}

/// One API call, before signing.
pub(super) struct Call {
    pub method: Method,
    pub service: Service,
    /// The API path (after the endpoint's prefix), its segments already percent-encoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Call {
    /// A `GET` of the ECS API.
    pub fn ecs_get(path: String, query: Vec<(String, String)>) -> Self {
        Self {
            method: Method::GET,
            service: Service::Ecs,
            path,
            query,
            body: Vec::new(),
        }
    }
}

/// A 2xx answer.
pub(super) struct Answer {
    pub status: u16,
    pub request_id: Option<String>,
    pub body: Vec<u8>,
}

/// What an answer says before its body: its status line and the headers we read.
struct Head {
    status: u16,
    request_id: Option<String>,
    retry_after: Option<Duration>,
}

/// A body as read: its bytes and whether they are all of it, or the error that cut it short.
type Body = Result<(Vec<u8>, bool), reqwest::Error>;

impl EcsClient {
    fn base(&self, service: Service) -> &Base {
        match service {
            Service::Ecs => &self.inner.ecs,
            Service::Iam => &self.inner.iam,
        }
    }

    /// The path as sent: the endpoint's prefix and the API path.
    pub(super) fn wire_path(&self, call: &Call) -> String {
        format!("{}{}", self.base(call.service).path_prefix, call.path)
    }

    /// One attempt (number `attempt`, from 1), signed with `keys`. Errors come out
    /// classified for `call.method`.
    pub(super) async fn attempt(
        &self,
        call: &Call,
        attempt: u32,
        timeout: Duration,
        keys: &Credentials,
    ) -> Result<Answer, ApiError> {
        let request = self.signed_request(call, timeout, keys)?;
        self.inner.attempts.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let error = self.exchange_error(call, &e, false);
                tracing::debug!(
                    method = %call.method, path = %self.wire_path(call), attempt,
                    duration_ms = started.elapsed().as_millis() as u64,
                    error = %error, "ECS API call failed"
                );
                return Err(error);
            }
        };
        let head = self.head_of(&response);
        let body = read_body(&mut response).await;
        tracing::debug!(
            method = %call.method, path = %self.wire_path(call), status = head.status,
            request_id = head.request_id.as_deref().unwrap_or(""),
            duration_ms = started.elapsed().as_millis() as u64, attempt, "ECS API call"
        );
        self.classify(call, head, body)
    }

    /// The request for `call`, signed now (a fresh `X-Sdk-Date` on every attempt).
    fn signed_request(
        &self,
        call: &Call,
        timeout: Duration,
        keys: &Credentials,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let base = self.base(call.service);
        let path = self.wire_path(call);
        let mut req = RequestToSign {
            method: call.method.to_string(),
            host: base.host.clone(),
            path: path.clone(),
            query: call.query.clone(),
            headers: self.unsigned_headers(call, keys),
            body: call.body.clone(),
        };
        let signing = keys.signer().sign(&mut req, self.inner.clock.now());
        let mut url = format!("{}{}", base.origin, path);
        if !signing.canonical_query.is_empty() {
            url.push('?');
            url.push_str(&signing.canonical_query);
        }
        let builder = self
            .inner
            .http
            .request(call.method.clone(), url)
            .headers(header_map(&req.headers)?)
            .timeout(timeout);
        if req.body.is_empty() {
            Ok(builder)
        } else {
            Ok(builder.body(req.body))
        }
    }

    /// The headers the SDK sends for `call`, before the signer adds its own.
    fn unsigned_headers(&self, call: &Call, keys: &Credentials) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = Vec::with_capacity(8);
        if call.method == Method::POST {
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
        headers.extend(keys.identity_headers(project.as_deref()));
        headers
    }

    fn head_of(&self, response: &reqwest::Response) -> Head {
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        Head {
            status: response.status().as_u16(),
            request_id: header(HEADER_REQUEST_ID)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            retry_after: header(reqwest::header::RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(v, self.inner.clock.now())),
        }
    }

    /// A 2xx with its whole body is an [`Answer`]; anything else is an error.
    fn classify(&self, call: &Call, head: Head, body: Body) -> Result<Answer, ApiError> {
        if !(200..300).contains(&head.status) {
            let body = body.map_or_else(
                // An error status came through; its body did not. The status still tells.
                |e| format!("(error body unreadable: {})", error_chain(&e)).into_bytes(),
                |(body, _complete)| body,
            );
            return Err(self.error_of_answer(call, head, &body));
        }
        match body {
            Ok((body, true)) => Ok(Answer {
                status: head.status,
                request_id: head.request_id,
                body,
            }),
            Ok((_, false)) => Err(self.invalid_answer(
                call,
                format!(
                    "HTTP {} with a body longer than {MAX_RESPONSE_BODY} bytes",
                    head.status
                ),
                head.request_id,
            )),
            Err(e) => Err(self.exchange_error(call, &e, true)),
        }
    }

    /// The error a non-2xx answer stands for. For a `POST`, an answer after which the service
    /// may have acted ([`Answered::MayHaveActed`]) leaves its outcome unknown.
    fn error_of_answer(&self, call: &Call, head: Head, body: &[u8]) -> ApiError {
        let status = head.status;
        if status < 400 {
            let message = format!(
                "unexpected HTTP {status} (redirects are not followed): {}",
                truncate_lossy(body, MAX_RAW_BODY)
            );
            return self.invalid_answer(call, message, head.request_id);
        }
        let (code, message) = parse_error_body(status, body);
        let request_id = head.request_id.or_else(|| body_request_id(body));
        let (method, path) = (call.method.to_string(), self.wire_path(call));
        if !is_idempotent(&call.method) && error_answer(status, &code) == Answered::MayHaveActed {
            let id = request_id
                .map(|id| format!(" (request id {id})"))
                .unwrap_or_default();
            let message = format!(
                "the service answered HTTP {status}, {code}: {message}{id}; it may have acted \
                 on it, so it is not re-sent"
            );
            return ApiError::OutcomeUnknown {
                method,
                path,
                message,
            };
        }
        ApiError::Http {
            method,
            path,
            status,
            code,
            message,
            request_id,
            retry_after: head.retry_after,
        }
    }

    /// An `InvalidResponse` to `call`.
    pub(super) fn invalid_answer(
        &self,
        call: &Call,
        message: String,
        request_id: Option<String>,
    ) -> ApiError {
        ApiError::InvalidResponse {
            method: call.method.to_string(),
            path: self.wire_path(call),
            message,
            request_id,
        }
    }

    /// Classifies a failure of the exchange itself. `after_status`: the answer's status line
    /// had arrived (so the request certainly reached the other end). Only a failure to
    /// connect proves nothing was sent; after that, a lost answer leaves a request that is
    /// not idempotent with an unknown outcome.
    fn exchange_error(&self, call: &Call, e: &reqwest::Error, after_status: bool) -> ApiError {
        let method = call.method.to_string();
        let path = self.wire_path(call);
        let endpoint = || self.shown_endpoint(self.base(call.service));
        let message = error_chain(e);
        if !after_status {
            if let Some(why) = certificate_error(e) {
                return ApiError::Certificate {
                    method,
                    path,
                    endpoint: endpoint(),
                    message: why,
                };
            }
            if e.is_connect() {
                return ApiError::Connect {
                    method,
                    path,
                    endpoint: endpoint(),
                    message,
                };
            }
        }
        let message = if e.is_timeout() {
            format!("timed out ({message})")
        } else {
            message
        };
        if is_idempotent(&call.method) {
            return ApiError::NoAnswer {
                method,
                path,
                message,
            };
        }
        let message = format!("no complete answer came: {message}");
        ApiError::OutcomeUnknown {
            method,
            path,
            message,
        }
    }
}

/// The signed headers as a `HeaderMap`. The values are ours (config, credentials): an error
/// never echoes them, they may be secret.
pub(crate) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, ApiError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ApiError::InvalidArgument(format!("{name:?} is not a valid header name"))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            ApiError::InvalidArgument(format!(
                "the value of header {name} is not a valid header value"
            ))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

/// Reads at most [`MAX_RESPONSE_BODY`] bytes; the flag says whether the body was complete.
async fn read_body(response: &mut reqwest::Response) -> Body {
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
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
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
