//! ecs-sim driven by the crate's own `EcsClient` (and `JobWaiter`): project lookup, batch
//! start/stop/reboot, job reads, listing by ids and by page, show, and how the client sees
//! the simulator's errors and faults.

use std::time::Duration;

use serde_json::json;
use terraform_provider_ecs::api::models::{JobStatus, PowerType};
use terraform_provider_ecs::api::Limits;
use terraform_provider_ecs::api::{
    ApiError, ClientConfig, Credentials, EcsClient, JobWaiter, PollPolicy, RetryPolicy,
};
use terraform_provider_ecs::sim::{Knobs, SimConfig, ROUTE_ACTION, ROUTE_JOB};
use tokio_util::sync::CancellationToken;

use crate::support::sim::{fast_knobs, slow_knobs, TestSim, PROJECT};

fn client_config(sim: &TestSim) -> ClientConfig {
    ClientConfig {
        credentials: {
            let c = &sim.config;
            Credentials::new(c.access_key.clone(), c.secret_key.expose())
        },
        retry: RetryPolicy::none(),
        ..sim.client_config()
    }
}

fn client_with(sim: &TestSim, project: Option<&str>, creds: Credentials) -> EcsClient {
    EcsClient::new(ClientConfig {
        credentials: creds,
        project_id: project.map(str::to_string),
        ..sim.client_config()
    })
    .expect("client")
}

fn client(sim: &TestSim) -> EcsClient {
    EcsClient::new(sim.client_config()).expect("client")
}

async fn wait(client: &EcsClient, job: &str) -> terraform_provider_ecs::api::models::Job {
    for _ in 0..500 {
        let j = client.show_job(job).await.expect("job read");
        if j.status.as_ref().is_some_and(JobStatus::is_terminal) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {job} did not finish");
}

#[tokio::test]
async fn client_full_cycle_against_the_sim() {
    let sim = TestSim::start(5, slow_knobs()).await;
    let ids = sim.ids();
    // Project lookup through IAM.
    let c = &sim.config;
    let looked = client_with(
        &sim,
        None,
        Credentials::new(c.access_key.clone(), c.secret_key.expose()),
    );
    assert_eq!(looked.lookup_project_id().await.expect("lookup"), PROJECT);
    assert_eq!(looked.project_id().as_deref(), Some(PROJECT));

    // State read, start, job, state read.
    let mut asked = ids[..3].to_vec();
    asked.push("00000000-0000-4000-8000-0000000dead0".into());
    let before = looked.list_servers_by_ids(&asked).await.expect("list");
    assert_eq!(before.len(), 4);
    assert!(before[3].is_missing());
    assert!(before[..3]
        .iter()
        .all(|s| s.status.as_deref() == Some("SHUTOFF")));

    let job = looked.batch_start(&ids[..3]).await.expect("start");
    let during = looked.show_server(&ids[0]).await.expect("show");
    assert_eq!(during.task_state(), Some("powering-on"));
    let done = wait(&looked, &job).await;
    assert_eq!(done.status, Some(JobStatus::Success));
    assert_eq!(done.sub_jobs().len(), 3);
    let after = looked.list_servers_by_ids(&ids[..3]).await.expect("list");
    assert!(after
        .iter()
        .all(|s| s.status.as_deref() == Some("ACTIVE") && s.task_state().is_none()));

    // Pages.
    let p1 = looked.list_servers_page(2, 1).await.expect("page");
    assert_eq!(p1.count, Some(5));
    assert_eq!(p1.servers.len(), 2);
    let p3 = looked.list_servers_page(2, 3).await.expect("page");
    assert_eq!(p3.servers.len(), 1);
    assert_eq!(p3.servers[0].id, ids[4]);

    // Stop and reboot.
    let stop = looked
        .batch_stop(&ids[..1], Some(PowerType::Hard))
        .await
        .expect("stop");
    assert_eq!(wait(&looked, &stop).await.status, Some(JobStatus::Success));
    assert_eq!(
        looked
            .show_server(&ids[0])
            .await
            .expect("show")
            .status
            .as_deref(),
        Some("SHUTOFF")
    );
    let reboot = looked
        .batch_reboot(&ids[1..2], PowerType::Soft)
        .await
        .expect("reboot");
    assert_eq!(
        wait(&looked, &reboot).await.status,
        Some(JobStatus::Success)
    );
    assert_eq!(sim.start_count(&ids[0]).await, 1);
}

#[tokio::test]
async fn client_sees_both_error_shapes() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    let client = client(&sim);
    let err = client
        .batch_start(&["00000000-0000-4000-8000-00000000beef".to_string()])
        .await
        .expect_err("unknown server");
    match &err {
        ApiError::Http {
            status,
            code,
            request_id,
            ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(code, "Ecs.0114");
            assert!(request_id.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = client
        .show_server("00000000-0000-4000-8000-00000000beef")
        .await;
    assert!(matches!(err, Err(ApiError::Http { status: 404, .. })));

    let c = &sim.config;
    let wrong = client_with(
        &sim,
        Some(PROJECT),
        Credentials::new(c.access_key.clone(), "not-the-secret"),
    );
    match wrong.show_server(&ids[0]).await {
        Err(ApiError::Http {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!(status, 401);
            assert_eq!(code, "APIGW.0301");
            assert!(message.contains("verify aksk signature fail"));
            assert!(!message.contains("not-the-secret"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Wrong project id in the client → Ecs.0023.
    let other = client_with(
        &sim,
        Some("ffffffffffffffffffffffffffffffff"),
        Credentials::new(c.access_key.clone(), c.secret_key.expose()),
    );
    match other.list_servers_by_ids(&ids).await {
        Err(ApiError::Http { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "Ecs.0023"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Purged job → 404.
    sim.knobs(json!({"job_ttl_secs": 0})).await;
    let job = client.batch_start(&ids[..1]).await.expect("start");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(matches!(
        client.show_job(&job).await,
        Err(ApiError::Http { status: 404, .. })
    ));
}

#[tokio::test]
async fn client_retries_sim_faults_and_never_resends_a_dropped_post() {
    let sim = TestSim::start(3, fast_knobs()).await;
    let ids = sim.ids();
    let client = client(&sim);
    let job = client.batch_start(&ids[..1]).await.expect("start");
    // Two 503s then the answer: retried.
    sim.knobs(json!({"fault_5xx_burst": 2, "fault_routes": [ROUTE_JOB]}))
        .await;
    client
        .show_job(&job)
        .await
        .expect("retried through the burst");
    // 429 with Retry-After: retried.
    sim.knobs(json!({"fault_429_burst": 1, "retry_after_secs": 1, "fault_routes": []}))
        .await;
    let t = std::time::Instant::now();
    client
        .show_server(&ids[0])
        .await
        .expect("retried after 429");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After honoured"
    );
    // A dropped POST: outcome unknown, not re-sent; the start happened exactly once.
    sim.knobs(json!({"fault_drop_burst": 1, "fault_routes": [ROUTE_ACTION]}))
        .await;
    match client.batch_start(&ids[1..2]).await {
        Err(ApiError::OutcomeUnknown { .. }) => {}
        other => panic!("expected OutcomeUnknown, got {other:?}"),
    }
    assert_eq!(sim.start_count(&ids[1]).await, 1);
    let st = sim.stats().await;
    assert_eq!(st["requests"][ROUTE_ACTION]["dropped"], 1);
    assert_eq!(st["requests"][ROUTE_ACTION]["200"], 1);
    // The rate limit is seen as a 429 with Retry-After (a client without retries, or it
    // would honour the ~60 s Retry-After).
    sim.knobs(json!({"start_rate_limit_per_minute": 1})).await;
    client
        .batch_start(&ids[2..])
        .await
        .expect("fits the window");
    let no_retry = EcsClient::new(ClientConfig {
        retry: RetryPolicy::none(),
        ..client_config(&sim)
    })
    .expect("client");
    match no_retry.batch_start(&ids[..1]).await {
        Err(ApiError::Http {
            status,
            code,
            retry_after,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (429, "APIGW.0308"));
            let secs = retry_after.expect("Retry-After").as_secs();
            assert!((55..=60).contains(&secs), "{secs}");
        }
        other => panic!("expected a 429, got {other:?}"),
    }
}

#[tokio::test]
async fn job_waiter_reports_a_partial_failure() {
    let sim = TestSim::start(3, fast_knobs()).await;
    let ids = sim.ids();
    sim.knobs(json!({"failing_servers": [ids[2]]})).await;
    let client = client(&sim);
    let job = client.batch_start(&ids).await.expect("start");
    let waiter = JobWaiter::new(
        client.clone(),
        PollPolicy::fixed(Duration::from_millis(10), 1.5, Duration::from_millis(30)),
    );
    let report = waiter
        .wait_one(
            &job,
            &Limits::new(
                tokio::time::Instant::now() + Duration::from_secs(10),
                CancellationToken::new(),
            ),
        )
        .await;
    assert_eq!(report.status(), Some(&JobStatus::Fail));
    let outcomes = report.server_outcomes();
    assert_eq!(outcomes.len(), 3);
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.status == JobStatus::Fail)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].server_id, ids[2]);
    assert_eq!(failed[0].error_code.as_deref(), Some("Ecs.0226"));
}

#[tokio::test]
async fn client_with_security_token() {
    let sim = TestSim::start_with(SimConfig {
        servers: 1,
        knobs: Knobs {
            start_rate_limit_per_minute: 0,
            ..fast_knobs()
        },
        security_token: Some("sts-token".into()),
        ..SimConfig::default()
    })
    .await;
    let ids = sim.ids();
    let ok = client(&sim);
    ok.show_server(&ids[0]).await.expect("token accepted");
    let c = &sim.config;
    let expired = client_with(
        &sim,
        Some(PROJECT),
        Credentials::new(c.access_key.clone(), c.secret_key.expose())
            .with_security_token("old-token"),
    );
    match expired.show_server(&ids[0]).await {
        Err(ApiError::Http {
            status, message, ..
        }) => {
            assert_eq!(status, 401);
            assert!(message.contains("invalid or expired"), "{message}");
            assert!(!message.contains("old-token"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// The graceful-then-forced stop as the engine sends it: a SOFT stop a guest ignores, then
/// a HARD stop of the same server, both through the crate's client; and a reboot of the
/// stopped server answered as the state conflict it is.
#[tokio::test]
async fn client_forces_a_stop_a_guest_ignores() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    sim.sim_admin().set_active(&ids).await;
    sim.knobs(json!({"ignore_soft_stop": [ids[0]], "soft_stop_timeout_ms": 60_000}))
        .await;
    let c = client(&sim);
    let soft = c
        .batch_stop(&ids, Some(PowerType::Soft))
        .await
        .expect("soft stop");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let states = c.list_servers_by_ids(&ids).await.expect("list");
    assert_eq!(states[0].task_state.as_deref(), Some("powering-off"));
    assert_eq!(states[1].status.as_deref(), Some("SHUTOFF"));
    let hard = c
        .batch_stop(&ids[..1], Some(PowerType::Hard))
        .await
        .expect("hard stop");
    assert_eq!(wait(&c, &hard).await.status, Some(JobStatus::Success));
    // The soft stop ends with the forced one instead of after its 60 s timeout.
    assert_eq!(wait(&c, &soft).await.status, Some(JobStatus::Success));
    let reboot = c
        .batch_reboot(&ids[..1], PowerType::Hard)
        .await
        .expect("reboot");
    let refused = wait(&c, &reboot).await;
    assert_eq!(
        refused.sub_jobs()[0].error_code.as_deref(),
        Some("Ecs.0100")
    );
    let shown = c.show_server(&ids[0]).await.expect("show");
    assert_eq!(shown.status.as_deref(), Some("SHUTOFF"));
}
