//! Error parsing, transient/fatal classification, retries, `Retry-After`, the deadline, and
//! the rule that a batch action is never re-sent once it may have been carried out.

use std::time::Duration;

use serde_json::json;
use terraform_provider_ecs::api::error::MAX_RAW_BODY;
use terraform_provider_ecs::api::Clock;
use terraform_provider_ecs::api::{ApiError, EcsClient, RetryPolicy};
use time::format_description::well_known::Rfc2822;
use time::macros::datetime;
use tokio::time::Instant;

use crate::support::stub::*;

fn job_ok() -> Reply {
    Reply::json(200, json!({"status": "SUCCESS", "job_id": "j"}))
}

fn client_with(url: &str, retry: RetryPolicy) -> EcsClient {
    let mut cfg = config(url);
    cfg.retry = retry;
    EcsClient::new(cfg).expect("client")
}

// ----- error bodies -----

#[tokio::test]
async fn ecs_error_shape_with_request_id_header() {
    let stub = Stub::sequence(vec![Reply::ecs_error(
        404,
        "Ecs.0114",
        "The ECS does not exist.",
    )
    .header("X-Request-Id", "req-42")])
    .await;
    let err = client(&stub.url())
        .show_server("s1")
        .await
        .expect_err("404");
    match &err {
        ApiError::Http {
            method,
            path,
            status,
            code,
            message,
            request_id,
            retry_after,
        } => {
            assert_eq!(method, "GET");
            assert_eq!(path, &format!("/v1/{PROJECT}/cloudservers/s1"));
            assert_eq!(*status, 404);
            assert_eq!(code, "Ecs.0114");
            assert_eq!(message, "The ECS does not exist.");
            assert_eq!(request_id.as_deref(), Some("req-42"));
            assert_eq!(*retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_transient());
    assert!(err.to_string().contains("req-42"), "{err}");
    assert_eq!(stub.count(), 1, "a 404 is not retried");
}

#[tokio::test]
async fn gateway_error_shape_takes_precedence_and_body_request_id() {
    let stub = Stub::sequence(vec![Reply::json(
        401,
        json!({"error_msg": "Incorrect IAM authentication information: ak XXXX not exist",
               "error_code": "APIGW.0301", "request_id": "8080d377bffeb6d519b0567c09cebe6b",
               "error": {"code": "Ecs.9999", "message": "nested, lower precedence"}}),
    )])
    .await;
    match client(&stub.url()).batch_start(&ids(&["a"])).await {
        Err(ApiError::Http {
            status,
            code,
            message,
            request_id,
            ..
        }) => {
            assert_eq!(status, 401);
            assert_eq!(code, "APIGW.0301");
            assert!(message.starts_with("Incorrect IAM"), "{message}");
            assert_eq!(
                request_id.as_deref(),
                Some("8080d377bffeb6d519b0567c09cebe6b")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn non_json_error_body_falls_back_to_status_and_truncated_text() {
    let page = format!("<html>{}</html>", "x".repeat(4000));
    let stub = Stub::sequence(vec![Reply::text(400, &page)]).await;
    match client(&stub.url()).show_job("j").await {
        Err(ApiError::Http {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!(status, 400);
            assert_eq!(code, "400");
            assert!(message.starts_with("<html>xxx"), "{message}");
            assert!(message.len() <= MAX_RAW_BODY + '…'.len_utf8());
            assert!(message.ends_with('…'));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 1);
}

// ----- classification (GET) -----

#[tokio::test]
async fn transient_answers_are_retried_on_get() {
    let transient = [
        Reply::gateway_error(429, "APIGW.0308", "throttled"),
        Reply::text(500, "oops"),
        Reply::text(502, "bad gateway"),
        Reply::ecs_error(503, "503", "unavailable"),
        Reply::gateway_error(504, "APIGW.0201", "backend timeout"),
        Reply::ecs_error(501, "Ecs.0603", "other commands are being executed"),
        // A transient code counts whatever its status.
        Reply::gateway_error(400, "APIGW.0201", "backend timeout"),
    ];
    for reply in transient {
        let shown = format!("{} {}", reply.status, String::from_utf8_lossy(&reply.body));
        let stub = Stub::sequence(vec![reply, job_ok()]).await;
        let job = client(&stub.url()).show_job("j").await;
        assert!(job.is_ok(), "{shown}: {job:?}");
        assert_eq!(stub.count(), 2, "{shown}");
        stub.assert_all_signed();
    }
}

#[tokio::test]
async fn fatal_answers_are_not_retried() {
    let fatal = [
        Reply::ecs_error(400, "Ecs.0000", "bad request"),
        Reply::ecs_error(400, "Ecs.0002", "failed to submit the task"),
        Reply::ecs_error(400, "Ecs.1000", "nova says no"),
        Reply::gateway_error(401, "APIGW.0301", "bad signature"),
        Reply::ecs_error(403, "Ecs.0003", "no permission"),
        Reply::ecs_error(404, "Ecs.0114", "no such server"),
        Reply::gateway_error(404, "APIGW.0101", "no such API"),
    ];
    for reply in fatal {
        let shown = format!("{} {}", reply.status, String::from_utf8_lossy(&reply.body));
        let stub = Stub::sequence(vec![reply.clone(), reply.clone(), job_ok()]).await;
        let get = client(&stub.url()).show_job("j").await;
        match &get {
            Err(e @ ApiError::Http { status, .. }) => {
                assert_eq!(*status, reply.status);
                assert!(!e.is_transient());
            }
            other => panic!("{shown}: unexpected {other:?}"),
        }
        assert_eq!(stub.count(), 1, "{shown}: GET not retried");
        let post = client(&stub.url()).batch_start(&ids(&["a"])).await;
        assert!(
            matches!(post, Err(ApiError::Http { .. })),
            "{shown}: {post:?}"
        );
        assert_eq!(stub.count(), 2, "{shown}: POST not retried");
    }
}

#[tokio::test]
async fn max_retries_bounds_the_attempts() {
    let stub = Stub::sequence(vec![Reply::text(500, "always down")]).await;
    let client = client_with(&stub.url(), fast_retry(3));
    match client.show_job("j").await {
        Err(ApiError::Http { status: 500, .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 4, "1 attempt + 3 retries");
    assert_eq!(client.attempts_sent(), 4);
    stub.assert_all_signed();

    let stub = Stub::sequence(vec![Reply::text(503, "down")]).await;
    let client = client_with(&stub.url(), fast_retry(0));
    assert!(client.show_job("j").await.is_err());
    assert_eq!(stub.count(), 1, "max_retries 0: one attempt");
}

#[tokio::test]
async fn get_without_answer_is_retried() {
    for mode in [Misbehave::HangUp, Misbehave::TruncatedBody] {
        let raw = RawStub::start(mode).await;
        let client = client_with(&raw.url(), fast_retry(2));
        match client.show_job("j").await {
            Err(e @ ApiError::NoAnswer { .. }) => assert!(e.is_transient()),
            other => panic!("{mode:?}: unexpected {other:?}"),
        }
        assert_eq!(raw.requests().len(), 3, "{mode:?}: 1 attempt + 2 retries");
    }
}

#[tokio::test]
async fn connection_refused_is_retried_for_get_and_post() {
    let url = refused_url().await;
    let client = client_with(&url, fast_retry(2));
    match client.show_job("j").await {
        Err(e @ ApiError::Connect { .. }) => assert!(e.is_transient()),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.attempts_sent(), 3);
    match client.batch_start(&ids(&["a"])).await {
        Err(ApiError::Connect { endpoint, .. }) => assert_eq!(endpoint, url),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        client.attempts_sent(),
        6,
        "a POST that never left is re-sent"
    );
}

// ----- the no-resend rule for batch actions -----

#[tokio::test]
async fn post_with_ambiguous_5xx_is_not_re_sent() {
    let ambiguous = [
        Reply::text(502, "bad gateway"),
        Reply::text(500, "internal error"),
        Reply::gateway_error(504, "APIGW.0201", "backend timeout"),
        Reply::gateway_error(400, "APIGW.0201", "backend timeout"),
    ];
    for reply in ambiguous {
        let shown = format!("{} {}", reply.status, String::from_utf8_lossy(&reply.body));
        let stub = Stub::sequence(vec![
            reply.clone().header("X-Request-Id", "rid-7"),
            Reply::job_id("j"),
        ])
        .await;
        match client(&stub.url()).batch_start(&ids(&["a"])).await {
            Err(e @ ApiError::OutcomeUnknown { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&reply.status.to_string()), "{text}");
                assert!(text.contains("rid-7"), "{text}");
                assert!(!e.is_transient());
            }
            other => panic!("{shown}: unexpected {other:?}"),
        }
        assert_eq!(stub.count(), 1, "{shown}: exactly one POST");
    }
}

#[tokio::test]
async fn post_refused_before_processing_is_re_sent() {
    let refusals = [
        Reply::gateway_error(429, "APIGW.0308", "throttled"),
        Reply::ecs_error(503, "503", "unavailable"),
        Reply::ecs_error(501, "Ecs.0603", "other commands are being executed"),
    ];
    for reply in refusals {
        let shown = format!("{} {}", reply.status, String::from_utf8_lossy(&reply.body));
        let stub = Stub::sequence(vec![reply.clone(), reply, Reply::job_id("job-ok")]).await;
        let job = client(&stub.url()).batch_start(&ids(&["a", "b"])).await;
        assert_eq!(job.expect(&shown), "job-ok");
        assert_eq!(stub.count(), 3, "{shown}");
        stub.assert_all_signed();
    }
}

#[tokio::test]
async fn post_whose_answer_never_came_is_not_re_sent() {
    for mode in [Misbehave::HangUp, Misbehave::TruncatedBody] {
        let raw = RawStub::start(mode).await;
        let client = client_with(&raw.url(), fast_retry(5));
        match client.batch_start(&ids(&["a"])).await {
            Err(ApiError::OutcomeUnknown { method, path, .. }) => {
                assert_eq!(method, "POST");
                assert_eq!(path, action_path());
            }
            other => panic!("{mode:?}: unexpected {other:?}"),
        }
        let requests = raw.requests();
        assert_eq!(requests.len(), 1, "{mode:?}: exactly one POST");
        assert!(requests[0].starts_with("POST "), "{}", requests[0]);
    }
}

#[tokio::test]
async fn post_timeout_is_outcome_unknown_get_timeout_is_retried() {
    let stub = Stub::sequence(vec![Reply::job_id("late").after(Duration::from_secs(10))]).await;
    let mut cfg = config(&stub.url());
    cfg.request_timeout = Duration::from_millis(150);
    cfg.retry = fast_retry(2);
    let client = EcsClient::new(cfg).expect("client");
    let started = Instant::now();
    match client.batch_start(&ids(&["a"])).await {
        Err(ApiError::OutcomeUnknown { message, .. }) => {
            assert!(message.contains("timed out"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(stub.count(), 1, "exactly one POST");
    match client.show_job("j").await {
        Err(ApiError::NoAnswer { .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 4, "one POST, then a GET and its 2 retries");
}

// ----- Retry-After and the deadline -----

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let stub = Stub::sequence(vec![
        Reply::gateway_error(429, "APIGW.0308", "throttled").header("Retry-After", "1"),
        job_ok(),
    ])
    .await;
    client(&stub.url()).show_job("j").await.expect("second try");
    let seen = stub.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(990), "waited only {gap:?}");
    assert!(gap < PROMPTLY, "waited {gap:?}");
}

#[tokio::test]
async fn retry_after_past_the_deadline_stops_at_once() {
    // With a fixed clock, an HTTP-date 30 s ahead means 30 s; so does "30".
    let now = datetime!(2024-01-02 03:04:05 UTC);
    let date = (now + time::Duration::seconds(30))
        .format(&Rfc2822)
        .expect("formats");
    for value in ["30".to_string(), date] {
        let stub = Stub::sequence(vec![
            Reply::gateway_error(429, "APIGW.0308", "throttled").header("Retry-After", &value)
        ])
        .await;
        let client = EcsClient::new_with_clock(config(&stub.url()), Clock::from_fn(move || now))
            .expect("client");
        let started = Instant::now();
        let deadline = started + Duration::from_secs(20);
        match client.with_deadline(deadline).show_job("j").await {
            Err(ApiError::DeadlineExceeded {
                what,
                last_error: Some(last),
            }) => {
                assert_eq!(what, format!("GET {}", job_path("j")));
                assert_eq!(last.status(), Some(429));
                assert_eq!(last.retry_after(), Some(Duration::from_secs(30)));
            }
            other => panic!("{value}: unexpected {other:?}"),
        }
        assert!(started.elapsed() < PROMPTLY, "{value}: did not sleep");
        assert_eq!(stub.count(), 1, "{value}");
    }
}

#[tokio::test]
async fn unreasonable_retry_after_returns_the_error() {
    let stub = Stub::sequence(vec![
        Reply::gateway_error(429, "APIGW.0308", "throttled").header("Retry-After", "86400")
    ])
    .await;
    let started = Instant::now();
    match client(&stub.url()).show_job("j").await {
        Err(ApiError::Http { status: 429, .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn deadline_bounds_retries_and_their_sleeps() {
    let stub = Stub::sequence(vec![Reply::ecs_error(503, "503", "unavailable")]).await;
    let client = client_with(
        &stub.url(),
        RetryPolicy {
            max_retries: 1000,
            base_delay: Duration::from_millis(40),
            max_delay: Duration::from_millis(40),
        },
    );
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    match client.with_deadline(deadline).show_job("j").await {
        Err(ApiError::DeadlineExceeded {
            last_error: Some(last),
            ..
        }) => {
            // The last attempt may have been cut short by the deadline itself.
            assert!(
                last.status() == Some(503) || matches!(*last, ApiError::NoAnswer { .. }),
                "{last:?}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed <= Duration::from_millis(300) + PROMPTLY,
        "{elapsed:?}"
    );
    let n = stub.count();
    assert!(
        (2..=16).contains(&n),
        "{n} attempts in 300 ms with 20-40 ms sleeps"
    );
    // The client without deadline is unaffected; a passed deadline sends nothing.
    match client.with_deadline(Instant::now()).show_job("j").await {
        Err(ApiError::DeadlineExceeded {
            last_error: None, ..
        }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), n);
}

#[tokio::test]
async fn deadline_bounds_a_slow_attempt() {
    let stub = Stub::sequence(vec![job_ok().after(Duration::from_secs(10))]).await;
    let mut cfg = config(&stub.url());
    cfg.request_timeout = Duration::from_secs(30);
    let client = EcsClient::new(cfg).expect("client");
    let started = Instant::now();
    match client
        .with_deadline(started + Duration::from_millis(200))
        .show_job("j")
        .await
    {
        Err(ApiError::DeadlineExceeded {
            last_error: Some(last),
            ..
        }) => assert!(matches!(*last, ApiError::NoAnswer { .. }), "{last:?}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < PROMPTLY);
    // A POST cut short by the deadline may have been carried out: outcome unknown.
    match client
        .with_deadline(Instant::now() + Duration::from_millis(200))
        .batch_start(&ids(&["a"]))
        .await
    {
        Err(ApiError::OutcomeUnknown { .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < 2 * PROMPTLY);
}
