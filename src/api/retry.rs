//! Which failures may be tried again, and how long to wait before doing so.
//!
//! # Retry, resolve by reading, or give up
//!
//! [`disposition`] is the one table that decides what a failure allows. Reads (every method
//! but `POST`: jobs, servers, the IAM lookup) are idempotent, so every transient failure is
//! [`Disposition::Retry`]. A batch action (`POST`) is not: starting a batch twice submits two
//! jobs. It is re-sent only when it provably was not carried out (nothing was sent, or the
//! answer says it was refused before being acted on); when it may have been carried out, or
//! was accepted with an answer that cannot be used, or ran into a state conflict, the caller
//! must [`Disposition::ResolveByReading`] the servers' states instead. Everything else is
//! [`Disposition::Fatal`].
//!
//! # Backoff
//!
//! Exponential backoff with jitter, `Retry-After` honoured, bounded by a count and by the
//! caller's deadline. The delay before retry number `n` (0 for the first retry) is
//!
//! * `step = min(max_delay, base_delay × 2ⁿ)`, then *equal jitter*: a uniformly random value
//!   in `[step / 2, step]`, so that many clients that failed together do not retry together
//!   while each still waits at least half its step;
//! * at least the answer's `Retry-After` (delta-seconds or HTTP-date), even when that is
//!   longer than `max_delay`. A `Retry-After` longer than [`MAX_HONOURED_RETRY_AFTER`] is
//!   not waited for: the error is returned at once.
//!
//! A sleep that would end at or after the caller's deadline is not started: the call ends
//! with `ApiError::DeadlineExceeded` carrying the last error.

use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::codes;
use super::error::{ApiError, TRANSIENT_CODES};

/// The retries a client makes after the first attempt unless told otherwise (the provider's
/// `max_retries` default).
pub const DEFAULT_MAX_RETRIES: u32 = 5;

/// What a failed request allows its caller to do next (see [`disposition`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Safe to send again: a read, or a `POST` that provably was not carried out.
    Retry,
    /// A `POST` that may have been carried out, or whose answer cannot be used: never re-send
    /// it; read the servers' states to learn what happened.
    ResolveByReading,
    /// Neither retrying nor reading can help.
    Fatal,
}

/// The rules for every failure, by method (see the module documentation).
///
/// * `Connect` (nothing was sent) → `Retry` for any method;
/// * an error answer that proves the request was not acted on ([`Answered::NotActedOn`]: 429,
///   503, `Ecs.0603`, `APIGW.0308`) → `Retry` for any method;
/// * a read that got no answer, or an answer that may come after the backend acted
///   ([`Answered::MayHaveActed`]) → `Retry`; for a `POST` the same → `ResolveByReading`
///   (the transport reports it as `OutcomeUnknown`);
/// * a `POST` with `OutcomeUnknown`, `InvalidResponse`, or HTTP 400 `Ecs.0100` (a server's
///   state conflicts with the action) → `ResolveByReading`;
/// * anything else (other 4xx, certificates, invalid arguments, deadlines, …) → `Fatal`.
pub fn disposition(method: &Method, error: &ApiError) -> Disposition {
    let read = is_idempotent(method);
    match error {
        ApiError::Connect { .. } => Disposition::Retry,
        ApiError::Http { status, code, .. } => answer_disposition(read, *status, code),
        ApiError::NoAnswer { .. } if read => Disposition::Retry,
        ApiError::NoAnswer { .. }
        | ApiError::OutcomeUnknown { .. }
        | ApiError::InvalidResponse { .. }
            if !read =>
        {
            Disposition::ResolveByReading
        }
        _ => Disposition::Fatal,
    }
}

fn answer_disposition(read: bool, status: u16, code: &str) -> Disposition {
    match error_answer(status, code) {
        Answered::NotActedOn => Disposition::Retry,
        Answered::MayHaveActed if read => Disposition::Retry,
        Answered::MayHaveActed => Disposition::ResolveByReading,
        Answered::Refused if !read && status == 400 && code == codes::STATE_CONFLICT => {
            Disposition::ResolveByReading
        }
        Answered::Refused => Disposition::Fatal,
    }
}

/// Whether sending a request twice is the same as sending it once. Every call but the batch
/// actions (`POST …/cloudservers/action`) is a read.
pub fn is_idempotent(method: &Method) -> bool {
    *method != Method::POST
}

/// What an error answer (HTTP status 400 or more, and its code) proves about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// Refused before it was acted on: throttled (429, `APIGW.0308`), unavailable (503), or
    /// busy (`Ecs.0603`, "retry in a minute").
    NotActedOn,
    /// Failed past the gateway (any other 5xx, `APIGW.0201` backend timeout): the backend may
    /// have acted before failing.
    MayHaveActed,
    /// Turned down by the service (any other 4xx): the same request gets the same answer.
    Refused,
}

/// Classifies an error answer (see [`Answered`]).
pub fn error_answer(status: u16, code: &str) -> Answered {
    if status == 429 || status == 503 || code == codes::BUSY || code == codes::THROTTLED {
        Answered::NotActedOn
    } else if status >= 500 || TRANSIENT_CODES.contains(&code) {
        Answered::MayHaveActed
    } else {
        Answered::Refused
    }
}

/// The longest `Retry-After` the client waits for; beyond it the error is returned at once
/// (a server asking for a pause this long is not going to be outwaited by a Terraform run).
pub const MAX_HONOURED_RETRY_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the provider's `max_retries`,
    /// default [`DEFAULT_MAX_RETRIES`]).
    pub max_retries: u32,
    /// First backoff.
    pub base_delay: Duration,
    /// Longest backoff between two attempts (a `Retry-After` longer than this is still honoured).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries at all: one attempt per call.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The un-jittered step before retry number `retry` (0-based):
    /// `min(max_delay, base_delay × 2^retry)`.
    pub fn step(&self, retry: u32) -> Duration {
        let factor = 2u32.checked_pow(retry.min(31)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The jittered backoff before retry number `retry`: uniform in `[step/2, step]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let step = self.step(retry);
        let half = step / 2;
        let spread = step.saturating_sub(half);
        if spread.is_zero() {
            return step;
        }
        let extra =
            rand::thread_rng().gen_range(0..=spread.as_nanos().min(u64::MAX as u128) as u64);
        half + Duration::from_nanos(extra)
    }

    /// The delay before retry number `retry`: the backoff, but never shorter than
    /// `retry_after`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.backoff(retry);
        match retry_after {
            Some(ra) => backoff.max(ra),
            None => backoff,
        }
    }

    /// Decides what follows the failed attempt that `last` describes, when `retries_done`
    /// retries have already been made. The caller has already decided that `last` is
    /// retryable, and builds the error it returns from `last`.
    ///
    /// * `retries_done >= max_retries`, or a `Retry-After` beyond
    ///   [`MAX_HONOURED_RETRY_AFTER`] → [`NextStep::GiveUp`];
    /// * the sleep would end at or after `deadline` → [`NextStep::PastDeadline`];
    /// * otherwise [`NextStep::Retry`] after the sleep.
    pub fn next_step(
        &self,
        retries_done: u32,
        last: &ApiError,
        now: Instant,
        deadline: Option<Instant>,
    ) -> NextStep {
        if retries_done >= self.max_retries {
            return NextStep::GiveUp;
        }
        let retry_after = last.retry_after();
        if retry_after.is_some_and(|ra| ra > MAX_HONOURED_RETRY_AFTER) {
            return NextStep::GiveUp;
        }
        let sleep = self.delay(retries_done, retry_after);
        match deadline {
            Some(deadline) if now + sleep >= deadline => NextStep::PastDeadline,
            _ => NextStep::Retry(sleep),
        }
    }
}

/// What follows a retryable failure (see [`RetryPolicy::next_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Sleep this long, then try again.
    Retry(Duration),
    /// Return the error as it is: retries exhausted, or the server asks for too long a pause.
    GiveUp,
    /// The sleep would cross the caller's deadline: return `ApiError::DeadlineExceeded`.
    PastDeadline,
}

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Sun, 06 Nov 1994 08:49:37 GMT"`, read as RFC 2822, which covers the IMF-fixdate form).
/// A date in the past gives zero. Anything else gives `None`.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate rather than fail.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let wait = at - now;
    if wait.is_negative() {
        return Some(Duration::ZERO);
    }
    Duration::try_from(wait).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        }
    }

    fn http_error(retry_after: Option<Duration>) -> ApiError {
        ApiError::Http {
            method: "GET".into(),
            path: "/x".into(),
            status: 503,
            code: "503".into(),
            message: "busy".into(),
            request_id: None,
            retry_after,
        }
    }

    #[test]
    fn steps_double_and_cap() {
        let p = policy();
        let steps: Vec<u128> = (0..6).map(|n| p.step(n).as_millis()).collect();
        assert_eq!(steps, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.step(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn backoff_has_equal_jitter() {
        let p = policy();
        for n in 0..8 {
            for _ in 0..50 {
                let d = p.backoff(n);
                assert!(d >= p.step(n) / 2 && d <= p.step(n), "{n}: {d:?}");
            }
        }
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..policy()
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_a_floor_even_beyond_max_delay() {
        let p = policy();
        let d = p.delay(0, Some(Duration::from_secs(7)));
        assert_eq!(d, Duration::from_secs(7));
        assert!(p.delay(0, Some(Duration::ZERO)) <= Duration::from_millis(100));
    }

    #[test]
    fn parses_delta_seconds_and_http_dates() {
        let now = datetime!(1994-11-06 08:49:30 UTC);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert!(parse_retry_after("99999999999999999999999", now).is_some());
    }

    #[test]
    fn next_step_counts_retries() {
        let p = policy();
        let now = Instant::now();
        let e = http_error(None);
        assert!(matches!(p.next_step(0, &e, now, None), NextStep::Retry(_)));
        assert!(matches!(p.next_step(2, &e, now, None), NextStep::Retry(_)));
        assert_eq!(p.next_step(3, &e, now, None), NextStep::GiveUp);
    }

    #[test]
    fn next_step_never_crosses_the_deadline() {
        let p = policy();
        let now = Instant::now();
        let e = http_error(None);
        // The first backoff is at least 50 ms: past a deadline 40 ms away.
        let near = now + Duration::from_millis(40);
        assert_eq!(p.next_step(0, &e, now, Some(near)), NextStep::PastDeadline);
        let far = now + Duration::from_secs(60);
        assert!(matches!(
            p.next_step(0, &e, now, Some(far)),
            NextStep::Retry(_)
        ));
        // A Retry-After that would cross the deadline also stops.
        let e = http_error(Some(Duration::from_secs(61)));
        assert_eq!(p.next_step(0, &e, now, Some(far)), NextStep::PastDeadline);
    }

    #[test]
    fn unreasonable_retry_after_gives_up() {
        let p = policy();
        let e = http_error(Some(MAX_HONOURED_RETRY_AFTER + Duration::from_secs(1)));
        assert_eq!(p.next_step(0, &e, Instant::now(), None), NextStep::GiveUp);
    }

    fn http(status: u16, code: &str) -> ApiError {
        ApiError::Http {
            method: "POST".into(),
            path: "/p".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            retry_after: None,
        }
    }

    /// One error of each kind that is not an HTTP answer.
    fn failure(kind: &str) -> ApiError {
        let (method, path, message, endpoint) = (
            "POST".to_string(),
            "/p".to_string(),
            String::new(),
            "http://x".to_string(),
        );
        match kind {
            "connect" => ApiError::Connect {
                method,
                path,
                endpoint,
                message,
            },
            "certificate" => ApiError::Certificate {
                method,
                path,
                endpoint,
                message,
            },
            "no answer" => ApiError::NoAnswer {
                method,
                path,
                message,
            },
            "outcome unknown" => ApiError::OutcomeUnknown {
                method,
                path,
                message,
            },
            "invalid response" => ApiError::InvalidResponse {
                method,
                path,
                message,
                request_id: None,
            },
            "invalid argument" => ApiError::InvalidArgument(message),
            "project lookup" => ApiError::ProjectLookup {
                region: path,
                message,
            },
            "deadline after a lost answer" => ApiError::DeadlineExceeded {
                what: path,
                last_error: Some(Box::new(failure("outcome unknown"))),
            },
            "cancelled" => ApiError::Cancelled(path),
            other => unreachable!("no sample failure {other:?}"),
        }
    }

    /// One row per kind of failure: what a read (GET) and a batch action (POST) may do next.
    #[test]
    fn disposition_table() {
        use Disposition::{Fatal, ResolveByReading as Read, Retry};
        #[rustfmt::skip]
        let rows = [
            ("throttled 429", http(429, codes::THROTTLED), Retry, Retry),
            ("429 without a code", http(429, "429"), Retry, Retry),
            ("unavailable 503", http(503, "503"), Retry, Retry),
            ("busy Ecs.0603 at 501", http(501, codes::BUSY), Retry, Retry),
            ("throttled code at 400", http(400, codes::THROTTLED), Retry, Retry),
            ("500", http(500, "500"), Retry, Read),
            ("502", http(502, "502"), Retry, Read),
            ("504 backend timeout", http(504, codes::BACKEND_TIMEOUT), Retry, Read),
            ("backend timeout at 400", http(400, codes::BACKEND_TIMEOUT), Retry, Read),
            ("state conflict 400", http(400, codes::STATE_CONFLICT), Fatal, Read),
            ("state conflict at 409", http(409, codes::STATE_CONFLICT), Fatal, Fatal),
            ("bad request", http(400, codes::REQUEST_ERROR), Fatal, Fatal),
            ("not found", http(404, codes::SERVER_NOT_FOUND), Fatal, Fatal),
            ("auth failed", http(401, codes::AUTH_FAILED), Fatal, Fatal),
            ("connect", failure("connect"), Retry, Retry),
            // A POST's lost answer is reported as `OutcomeUnknown`; the row keeps the table whole.
            ("no answer", failure("no answer"), Retry, Read),
            ("outcome unknown", failure("outcome unknown"), Fatal, Read),
            ("invalid response", failure("invalid response"), Fatal, Read),
            ("certificate", failure("certificate"), Fatal, Fatal),
            ("invalid argument", failure("invalid argument"), Fatal, Fatal),
            ("project lookup", failure("project lookup"), Fatal, Fatal),
            ("deadline after a lost answer", failure("deadline after a lost answer"), Fatal, Fatal),
            ("cancelled", failure("cancelled"), Fatal, Fatal),
        ];
        for (what, error, get, post) in rows {
            assert_eq!(disposition(&Method::GET, &error), get, "GET, {what}");
            assert_eq!(disposition(&Method::POST, &error), post, "POST, {what}");
            assert_eq!(error.is_transient(), get == Retry, "is_transient, {what}");
        }
    }

    #[test]
    fn post_resend_rule() {
        let may_retry =
            |method: &Method, e: &ApiError| disposition(method, e) == Disposition::Retry;
        assert!(may_retry(&Method::POST, &http(429, codes::THROTTLED)));
        assert!(may_retry(&Method::POST, &http(503, "503")));
        assert!(may_retry(&Method::POST, &http(501, codes::BUSY)));
        assert!(!may_retry(&Method::POST, &http(400, codes::REQUEST_ERROR)));
        assert!(!may_retry(&Method::POST, &failure("outcome unknown")));
        assert!(may_retry(&Method::POST, &failure("connect")));
        assert!(may_retry(&Method::GET, &http(502, "502")));
        assert!(!may_retry(
            &Method::GET,
            &http(404, codes::SERVER_NOT_FOUND)
        ));
    }
}
