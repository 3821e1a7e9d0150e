//! The one error type of the API client. Which errors are retried, re-sent or resolved by
//! reading is decided in [`super::retry`], not here.

use std::time::Duration;

use reqwest::Method;

use super::codes;
use super::retry::{disposition, Disposition};

/// Error codes that mean "try again later" whatever their HTTP status.
pub const TRANSIENT_CODES: &[&str] = &[codes::BUSY, codes::BACKEND_TIMEOUT, codes::THROTTLED];

/// Longest raw body kept in an error when the body is not a JSON error.
pub const MAX_RAW_BODY: usize = 512;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The service answered with a status of 400 or more.
    #[error("{method} {path}: HTTP {status}, {code}: {message}{}", request_id_suffix(.request_id))]
    Http {
        method: String,
        path: String,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        /// From `Retry-After`, when the answer had one.
        retry_after: Option<Duration>,
    },
    /// The request never reached the service (DNS, refused, a TLS handshake that failed for
    /// another reason than the certificate, …): safe to retry.
    #[error("{method} {path}: could not connect to {endpoint}: {message}")]
    Connect {
        method: String,
        path: String,
        endpoint: String,
        message: String,
    },
    /// The endpoint's TLS certificate failed verification (unknown issuer, expired, wrong
    /// name, …). Not transient: no retry can fix it.
    #[error("{method} {path}: the TLS certificate of {endpoint} is not trusted ({message}); use an endpoint whose certificate a trusted CA signed, and set insecure = true only for a trusted test endpoint")]
    Certificate {
        method: String,
        path: String,
        endpoint: String,
        message: String,
    },
    /// A GET was sent but no complete answer came (timeout, reset): safe to retry.
    #[error("{method} {path}: no answer: {message}")]
    NoAnswer {
        method: String,
        path: String,
        message: String,
    },
    /// A POST was sent but its answer never came, or came as an ambiguous 5xx: it may or may
    /// not have been carried out, so it is never re-sent blindly. The caller re-reads the
    /// servers' states to find out.
    #[error("{method} {path}: outcome unknown, the request was sent but {message}")]
    OutcomeUnknown {
        method: String,
        path: String,
        message: String,
    },
    /// A 2xx whose body is not what the API documents (not JSON, no `job_id`, …).
    #[error("{method} {path}: unexpected response: {message}{}", request_id_suffix(.request_id))]
    InvalidResponse {
        method: String,
        path: String,
        message: String,
        request_id: Option<String>,
    },
    /// The IAM project lookup found zero or several projects for the region.
    #[error("project lookup for region {region:?}: {message}")]
    ProjectLookup { region: String, message: String },
    /// A value given to the client cannot be used: its configuration (endpoint, credentials,
    /// timeout) or a call's arguments (server ids, job id). Found before anything is sent.
    #[error("{0}")]
    InvalidArgument(String),
    /// No keys could be had: none configured and no instance metadata, or a metadata read
    /// or an agency call that failed. The text never holds a secret.
    #[error("{0}")]
    Credentials(String),
    /// The caller's deadline passed before an answer could be had.
    #[error("{what}: deadline reached{}", last_error_suffix(.last_error))]
    DeadlineExceeded {
        what: String,
        last_error: Option<Box<ApiError>>,
    },
    /// Cancelled from outside (interrupt).
    #[error("{0}: cancelled")]
    Cancelled(String),
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

fn last_error_suffix(e: &Option<Box<ApiError>>) -> String {
    e.as_ref()
        .map(|e| format!("; last error: {e}"))
        .unwrap_or_default()
}

impl ApiError {
    /// Transient errors are worth retrying on a read: 429, 5xx, [`TRANSIENT_CODES`], connect
    /// errors and unanswered GETs. Every other 4xx is fatal, and so are unknown POST outcomes,
    /// invalid responses and invalid arguments. (The table in [`super::retry`] decides.)
    pub fn is_transient(&self) -> bool {
        disposition(&Method::GET, self) == Disposition::Retry
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Http { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Code and message of an error body, with the SDK's precedence
/// (`DefaultExceptionHandler`): `error_code`/`error_msg`, then `errorCode`/`errorMsg`, then
/// `code`/`message`, then the same inside any nested object (which is how
/// `{"error": {"code", "message"}}` is reached). When nothing matches, the code is the HTTP
/// status and the message the raw body, truncated to [`MAX_RAW_BODY`] bytes.
pub fn parse_error_body(status: u16, body: &[u8]) -> (String, String) {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(found) = find_code_message(&map) {
            return found;
        }
    }
    (status.to_string(), truncate_lossy(body, MAX_RAW_BODY))
}

fn find_code_message(map: &serde_json::Map<String, serde_json::Value>) -> Option<(String, String)> {
    const PAIRS: [(&str, &str); 3] = [
        ("error_code", "error_msg"),
        ("errorCode", "errorMsg"),
        ("code", "message"),
    ];
    for (c, m) in PAIRS {
        if let Some(code) = map.get(c).and_then(value_text) {
            let message = map.get(m).and_then(value_text).unwrap_or_default();
            return Some((code, message));
        }
    }
    map.values().find_map(|v| match v {
        serde_json::Value::Object(inner) => find_code_message(inner),
        _ => None,
    })
}

fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// At most `max` bytes of `body` as text, cut on a character boundary, with `…` when cut.
pub fn truncate_lossy(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= max {
        return text.into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
