//! The job waiter against a stub that walks jobs through their statuses.

use std::time::Duration;

use serde_json::{json, Value};
use terraform_provider_ecs::api::models::JobStatus;
use terraform_provider_ecs::api::Limits;
use terraform_provider_ecs::api::{ApiError, JobWaiter, PollPolicy, WaitEnd};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::stub::*;

fn fast() -> PollPolicy {
    PollPolicy::fixed(Duration::from_millis(5), 1.5, Duration::from_millis(15))
}

fn waiter(url: &str, policy: PollPolicy) -> JobWaiter {
    JobWaiter::new(client(url), policy)
}

fn sub_job(server: &str, status: &str, error: Option<(&str, &str, &str)>) -> Value {
    let (code, reason, detail) = match error {
        Some((c, r, d)) => (json!(c), json!(r), json!(d)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    let mut entities = json!({"server_id": server});
    if !detail.is_null() {
        entities["errorcode_message"] = detail;
    }
    json!({"status": status, "entities": entities, "job_id": format!("sub-{server}"),
           "job_type": "startServer", "begin_time": "2024-01-02T03:04:06.123Z",
           "end_time": null, "error_code": code, "fail_reason": reason})
}

fn job(id: &str, status: &str, subs: Vec<Value>, error: Option<(&str, &str)>) -> Reply {
    let (code, reason) = match error {
        Some((c, r)) => (json!(c), json!(r)),
        None => (Value::Null, Value::Null),
    };
    Reply::json(
        200,
        json!({"status": status, "job_id": id, "job_type": "batchStartServers",
               "begin_time": "2024-01-02T03:04:05.789Z", "end_time": null,
               "error_code": code, "fail_reason": reason,
               "entities": {"sub_jobs_total": subs.len(), "sub_jobs": subs}}),
    )
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

#[tokio::test]
async fn walks_init_running_success() {
    let subs = || vec![sub_job("s1", "RUNNING", None), sub_job("s2", "INIT", None)];
    let stub = Stub::per_path(vec![(
        job_path("j1"),
        vec![
            job("j1", "INIT", vec![], None),
            job("j1", "RUNNING", subs(), None),
            job(
                "j1",
                "SUCCESS",
                vec![
                    sub_job("s1", "SUCCESS", None),
                    sub_job("s2", "SUCCESS", None),
                ],
                None,
            ),
            Reply::ecs_error(500, "x", "read after the end"),
        ],
    )])
    .await;
    let started = Instant::now();
    let report = waiter(&stub.url(), fast())
        .wait_one("j1", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::Finished), "{:?}", report.end);
    assert_eq!(report.reads, 3);
    assert_eq!(stub.count(), 3, "no read after SUCCESS");
    assert_eq!(report.status(), Some(&JobStatus::Success));
    let outcomes = report.server_outcomes();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o.status == JobStatus::Success));
    assert!(outcomes.iter().all(|o| o.error_code.is_none()));
    stub.assert_all_signed();
    // Gaps: 5 ms first, then 7.5 ms, 11.25 ms. Each read is due a gap after the previous
    // read began, and a read arrives no earlier than it began, so the sums are lower bounds
    // of the arrivals (the gaps between arrivals are not: one read may arrive late).
    let seen = stub.seen();
    assert!(seen[0].at - started >= Duration::from_millis(5));
    assert!(seen[1].at - started >= Duration::from_micros(12_500));
    assert!(seen[2].at - started >= Duration::from_micros(23_750));
}

#[tokio::test]
async fn partial_failure_with_parent_fail() {
    let stub = Stub::per_path(vec![(
        job_path("j2"),
        vec![
            job(
                "j2",
                "RUNNING",
                vec![
                    sub_job("s1", "RUNNING", None),
                    sub_job("s2", "RUNNING", None),
                ],
                None,
            ),
            job(
                "j2",
                "FAIL",
                vec![
                    sub_job("s1", "SUCCESS", None),
                    sub_job(
                        "s2",
                        "FAIL",
                        Some(("Ecs.0226", "start failed", "host is busy")),
                    ),
                ],
                Some(("Ecs.0226", "start failed")),
            ),
        ],
    )])
    .await;
    let report = waiter(&stub.url(), fast())
        .wait_one("j2", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::Finished));
    assert_eq!(report.reads, 2);
    let last = report.last.as_ref().expect("last read");
    assert_eq!(last.status, Some(JobStatus::Fail));
    assert_eq!(last.error_code.as_deref(), Some("Ecs.0226"));
    let outcomes = report.server_outcomes();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].server_id, "s1");
    assert_eq!(outcomes[0].status, JobStatus::Success);
    assert_eq!(outcomes[1].server_id, "s2");
    assert_eq!(outcomes[1].status, JobStatus::Fail);
    assert_eq!(outcomes[1].error_code.as_deref(), Some("Ecs.0226"));
    assert_eq!(outcomes[1].fail_reason.as_deref(), Some("start failed"));
    assert_eq!(
        outcomes[1].errorcode_message.as_deref(),
        Some("host is busy")
    );
}

#[tokio::test]
async fn parent_success_with_a_failed_sub_job() {
    let stub = Stub::per_path(vec![(
        job_path("j3"),
        vec![job(
            "j3",
            "SUCCESS",
            vec![
                sub_job(
                    "s1",
                    "FAIL",
                    Some(("Ecs.0100", "wrong state", "already running")),
                ),
                sub_job("s2", "SUCCESS", None),
            ],
            None,
        )],
    )])
    .await;
    let report = waiter(&stub.url(), fast())
        .wait_one("j3", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::Finished));
    assert_eq!(report.status(), Some(&JobStatus::Success));
    let outcomes = report.server_outcomes();
    assert_eq!(outcomes[0].status, JobStatus::Fail);
    assert_eq!(outcomes[0].error_code.as_deref(), Some("Ecs.0100"));
    assert_eq!(
        outcomes[0].errorcode_message.as_deref(),
        Some("already running")
    );
    assert_eq!(outcomes[1].status, JobStatus::Success);
}

#[tokio::test]
async fn unknown_status_keeps_polling() {
    let stub = Stub::per_path(vec![(
        job_path("j4"),
        vec![
            job("j4", "PENDING_PAYMENT", vec![], None),
            job("j4", "SOMETHING_NEW", vec![], None),
            Reply::json(200, json!({"job_id": "j4"})), // no status at all
            job("j4", "SUCCESS", vec![], None),
        ],
    )])
    .await;
    let report = waiter(&stub.url(), fast())
        .wait_one("j4", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::Finished), "{:?}", report.end);
    assert_eq!(report.reads, 4);
}

#[tokio::test]
async fn transient_read_errors_are_retried_by_the_client() {
    let stub = Stub::per_path(vec![(
        job_path("j5"),
        vec![
            job("j5", "RUNNING", vec![], None),
            Reply::gateway_error(429, "APIGW.0308", "throttled"),
            Reply::text(502, "bad gateway"),
            job("j5", "SUCCESS", vec![], None),
        ],
    )])
    .await;
    let report = waiter(&stub.url(), fast())
        .wait_one("j5", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::Finished), "{:?}", report.end);
    assert_eq!(report.reads, 2, "the retries happen inside one read");
    assert_eq!(stub.count(), 4);
}

#[tokio::test]
async fn deadline_ends_the_wait() {
    let stub = Stub::per_path(vec![(
        job_path("j6"),
        vec![job("j6", "RUNNING", vec![], None)],
    )])
    .await;
    let started = Instant::now();
    let deadline = started + Duration::from_millis(150);
    let report = waiter(&stub.url(), fast())
        .wait_one("j6", &Limits::new(deadline, CancellationToken::new()))
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(report.end, WaitEnd::DeadlineReached),
        "{:?}",
        report.end
    );
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < PROMPTLY, "{elapsed:?}");
    assert!(report.reads >= 3, "{} reads", report.reads);
    assert_eq!(report.status(), Some(&JobStatus::Running));
    // A deadline already passed reads nothing.
    let report = waiter(&stub.url(), fast())
        .wait_one("j6", &Limits::new(Instant::now(), CancellationToken::new()))
        .await;
    assert!(matches!(report.end, WaitEnd::DeadlineReached));
    assert_eq!(report.reads, 0);
}

#[tokio::test]
async fn deadline_interrupts_a_slow_read() {
    let stub = Stub::per_path(vec![(
        job_path("j7"),
        vec![job("j7", "SUCCESS", vec![], None).after(Duration::from_secs(10))],
    )])
    .await;
    let started = Instant::now();
    let report = waiter(&stub.url(), fast())
        .wait_one(
            "j7",
            &Limits::new(
                started + Duration::from_millis(200),
                CancellationToken::new(),
            ),
        )
        .await;
    assert!(
        matches!(report.end, WaitEnd::DeadlineReached),
        "{:?}",
        report.end
    );
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(report.reads, 1);
    assert!(report.last.is_none());
}

#[tokio::test]
async fn cancel_interrupts_a_sleep() {
    let stub = Stub::per_path(vec![(
        job_path("j8"),
        vec![job("j8", "RUNNING", vec![], None)],
    )])
    .await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
    });
    let slow = PollPolicy {
        first_delay: Duration::from_secs(10),
        ..PollPolicy::default()
    };
    let started = Instant::now();
    let report = waiter(&stub.url(), slow)
        .wait_one("j8", &Limits::new(far(), cancel.clone()))
        .await;
    assert!(
        matches!(report.end, WaitEnd::Interrupted),
        "{:?}",
        report.end
    );
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(report.reads, 0);
    assert_eq!(stub.count(), 0);
}

#[tokio::test]
async fn cancel_interrupts_an_in_flight_read() {
    let stub = Stub::per_path(vec![(
        job_path("j9"),
        vec![job("j9", "SUCCESS", vec![], None).after(Duration::from_secs(10))],
    )])
    .await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let report = waiter(&stub.url(), fast())
        .wait_one("j9", &Limits::new(far(), cancel.clone()))
        .await;
    assert!(
        matches!(report.end, WaitEnd::Interrupted),
        "{:?}",
        report.end
    );
    assert!(started.elapsed() < PROMPTLY);
    assert_eq!(report.reads, 1);
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn purged_job_ends_with_an_error() {
    let stub = Stub::per_path(vec![(
        job_path("gone"),
        vec![Reply::ecs_error(404, "Ecs.0114", "job not found").header("X-Request-Id", "r404")],
    )])
    .await;
    let report = waiter(&stub.url(), fast())
        .wait_one("gone", &Limits::new(far(), CancellationToken::new()))
        .await;
    match &report.end {
        WaitEnd::Error(ApiError::Http {
            status, request_id, ..
        }) => {
            assert_eq!(*status, 404);
            assert_eq!(request_id.as_deref(), Some("r404"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(report.reads, 1);
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn invalid_job_json_ends_with_an_error() {
    let stub = Stub::per_path(vec![(job_path("bad"), vec![Reply::text(200, "not json")])]).await;
    let report = waiter(&stub.url(), fast())
        .wait_one("bad", &Limits::new(far(), CancellationToken::new()))
        .await;
    assert!(
        matches!(report.end, WaitEnd::Error(ApiError::InvalidResponse { .. })),
        "{:?}",
        report.end
    );
}

#[tokio::test]
async fn wait_all_runs_concurrently_and_keeps_the_order() {
    let slow_walk = |id: &str| {
        let mut v: Vec<Reply> = (0..6).map(|_| job(id, "RUNNING", vec![], None)).collect();
        v.push(job(
            id,
            "SUCCESS",
            vec![sub_job(&format!("{id}-s"), "SUCCESS", None)],
            None,
        ));
        v
    };
    let stub = Stub::per_path(vec![
        (job_path("a"), slow_walk("a")),
        (
            job_path("b"),
            vec![job("b", "FAIL", vec![], Some(("Ecs.0226", "r")))],
        ),
        (job_path("c"), slow_walk("c")),
        (
            job_path("gone"),
            vec![Reply::ecs_error(404, "Ecs.0114", "not found")],
        ),
    ])
    .await;
    let policy = PollPolicy::fixed(Duration::from_millis(20), 1.0, Duration::from_millis(20));
    let started = Instant::now();
    let reports = waiter(&stub.url(), policy)
        .wait_all(
            &ids(&["c", "gone", "a", "b"]),
            &Limits::new(far(), CancellationToken::new()),
        )
        .await;
    let elapsed = started.elapsed();
    let order: Vec<&str> = reports.iter().map(|r| r.job_id.as_str()).collect();
    assert_eq!(order, vec!["c", "gone", "a", "b"]);
    assert!(matches!(reports[0].end, WaitEnd::Finished));
    assert!(matches!(reports[1].end, WaitEnd::Error(_)));
    assert!(matches!(reports[2].end, WaitEnd::Finished));
    assert!(matches!(reports[3].end, WaitEnd::Finished));
    assert_eq!(reports[0].reads, 7);
    assert_eq!(reports[3].reads, 1);
    assert_eq!(reports[0].server_outcomes()[0].server_id, "c-s");
    // Concurrent, not one after the other: the reads of `a` and `c` interleave.
    let seen = stub.seen();
    let reads_of = |id: &str| -> Vec<Instant> {
        seen.iter()
            .filter(|s| s.path == job_path(id))
            .map(|s| s.at)
            .collect()
    };
    let (a, c) = (reads_of("a"), reads_of("c"));
    assert!(
        a[0] < c[6] && c[0] < a[6],
        "the waits ran one after the other"
    );
    // 7 reads 20 ms apart, both waits together: about 140 ms, not 280 ms.
    assert!(elapsed >= Duration::from_millis(140), "{elapsed:?}");
    stub.assert_all_signed();
}

#[tokio::test]
async fn wait_all_cancel_stops_every_wait() {
    let stub = Stub::per_path(vec![
        (job_path("a"), vec![job("a", "RUNNING", vec![], None)]),
        (job_path("b"), vec![job("b", "RUNNING", vec![], None)]),
    ])
    .await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let reports = waiter(&stub.url(), fast())
        .wait_all(&ids(&["a", "b"]), &Limits::new(far(), cancel.clone()))
        .await;
    assert!(started.elapsed() < PROMPTLY);
    assert!(reports
        .iter()
        .all(|r| matches!(r.end, WaitEnd::Interrupted)));
    assert!(reports.iter().all(|r| r.reads >= 1));
}
