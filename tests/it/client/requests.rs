//! The client's requests as a (signature-checking) stub sees them: paths, wire queries,
//! headers, bodies, the IAM lookup, the handling of 2xx answers, configuration errors.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use terraform_provider_ecs::api::models::PowerType;
use terraform_provider_ecs::api::signer::canonical_query;
use terraform_provider_ecs::api::Clock;
use terraform_provider_ecs::api::{ApiError, ClientConfig, Credentials, EcsClient, Endpoints};
use time::macros::datetime;

use crate::support::stub::*;

fn job_json(status: &str) -> serde_json::Value {
    json!({"status": status, "job_id": "job-1", "job_type": "t",
           "begin_time": "2024-01-02T03:04:05.789Z", "end_time": null,
           "error_code": null, "fail_reason": null,
           "entities": {"sub_jobs_total": 0, "sub_jobs": []}})
}

#[tokio::test]
async fn batch_start_sends_the_sdk_request_signed() {
    let stub = Stub::sequence(vec![Reply::job_id("job-123").header("X-Request-Id", "r1")]).await;
    let client = client(&stub.url());
    let job = client
        .batch_start(&ids(&["616fb98f-46ca-475e-917e-2563e5a8cd19", "s2"]))
        .await
        .expect("accepted");
    assert_eq!(job, "job-123");
    stub.assert_all_signed();
    let seen = stub.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.method, "POST");
    assert_eq!(s.path, action_path());
    assert_eq!(s.raw_query, None);
    assert_eq!(
        s.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    assert_eq!(s.header("x-project-id"), Some(PROJECT));
    assert_eq!(s.header_count("user-agent"), 1);
    assert_eq!(s.header("user-agent"), Some(USER_AGENT));
    assert_eq!(s.header("host"), Some(stub.addr.to_string().as_str()));
    assert!(s.header("x-security-token").is_none());
    let auth = s.authorization().expect("authorization");
    assert_eq!(
        auth.signed_headers,
        vec![
            "content-type",
            "host",
            "user-agent",
            "x-project-id",
            "x-sdk-date"
        ]
    );
    assert_eq!(
        s.json(),
        json!({"os-start": {"servers": [{"id": "616fb98f-46ca-475e-917e-2563e5a8cd19"}, {"id": "s2"}]}})
    );
    assert_eq!(client.attempts_sent(), 1);
}

#[tokio::test]
async fn stop_and_reboot_bodies() {
    let stub = Stub::sequence(vec![Reply::job_id("j")]).await;
    let client = client(&stub.url());
    client
        .batch_stop(&ids(&["a"]), None)
        .await
        .expect("stop soft");
    client
        .batch_stop(&ids(&["a"]), Some(PowerType::Hard))
        .await
        .expect("stop hard");
    client
        .batch_reboot(&ids(&["a"]), PowerType::Soft)
        .await
        .expect("reboot");
    stub.assert_all_signed();
    let bodies: Vec<_> = stub.seen().iter().map(|s| s.json()).collect();
    assert_eq!(bodies[0], json!({"os-stop": {"servers": [{"id": "a"}]}}));
    assert_eq!(
        bodies[1],
        json!({"os-stop": {"servers": [{"id": "a"}], "type": "HARD"}})
    );
    assert_eq!(
        bodies[2],
        json!({"reboot": {"servers": [{"id": "a"}], "type": "SOFT"}})
    );
}

#[tokio::test]
async fn security_token_is_sent_and_signed() {
    let stub = Stub::sequence(vec![Reply::json(200, job_json("RUNNING"))]).await;
    let mut cfg = config(&stub.url());
    cfg.credentials = Credentials::new(AK, SK).with_security_token(TOKEN);
    let client = EcsClient::new(cfg).expect("client");
    client.show_job("job-1").await.expect("job");
    stub.assert_all_signed();
    let s = &stub.seen()[0];
    assert_eq!(s.header("x-security-token"), Some(TOKEN));
    let auth = s.authorization().expect("authorization");
    assert!(auth
        .signed_headers
        .contains(&"x-security-token".to_string()));
}

#[tokio::test]
async fn show_job_get_headers_and_parsing() {
    let stub = Stub::sequence(vec![Reply::json(
        200,
        json!({"status": "FAIL", "job_id": "job-1", "error_code": "Ecs.0226", "fail_reason": "r",
               "entities": {"sub_jobs_total": 1, "sub_jobs": [
                   {"status": "FAIL", "entities": {"server_id": "s1", "errorcode_message": "m"},
                    "error_code": "Ecs.0226", "fail_reason": "r"}]}}),
    )])
    .await;
    let client = client(&stub.url());
    let job = client.show_job("job-1").await.expect("job");
    assert_eq!(job.error_code.as_deref(), Some("Ecs.0226"));
    assert_eq!(job.sub_jobs()[0].server_id(), Some("s1"));
    assert_eq!(job.sub_jobs()[0].errorcode_message(), Some("m"));
    stub.assert_all_signed();
    let s = &stub.seen()[0];
    assert_eq!(s.method, "GET");
    assert_eq!(s.path, job_path("job-1"));
    assert_eq!(s.raw_query, None);
    assert_eq!(s.header("content-type"), Some("application/json"));
    assert_eq!(s.header("x-project-id"), Some(PROJECT));
    assert!(s.body.is_empty());
}

#[tokio::test]
async fn path_segments_are_percent_encoded() {
    let stub = Stub::sequence(vec![Reply::json(200, job_json("RUNNING"))]).await;
    let client = client(&stub.url());
    client.show_job("odd id:1").await.expect("job");
    client
        .show_server("srv:1")
        .await
        .expect_err("stub answers a job, not a server");
    stub.assert_all_signed();
    let seen = stub.seen();
    assert_eq!(seen[0].path, format!("/v1/{PROJECT}/jobs/odd%20id%3A1"));
    assert_eq!(seen[1].path, format!("/v1/{PROJECT}/cloudservers/srv%3A1"));
}

#[tokio::test]
async fn wire_query_is_exactly_the_canonical_query() {
    let stub = Stub::sequence(vec![Reply::json(
        200,
        json!({"count": 2, "servers": [
            {"id": "b-2", "status": "SHUTOFF", "OS-EXT-STS:task_state": null},
            {"id": "a 1", "status": null, "fault": {"code": 404, "message": "not found"}}]}),
    )])
    .await;
    let client = client(&stub.url());
    let list = client
        .list_servers_by_ids(&ids(&["b-2", "a 1", "c/é"]))
        .await
        .expect("list");
    assert_eq!(list.len(), 2);
    assert!(!list[0].is_missing());
    assert!(list[1].is_missing());
    client.list_servers_page(50, 2).await.expect("page");
    stub.assert_all_signed();
    let seen = stub.seen();
    let expected = canonical_query(&[("server_id".to_string(), "b-2,a 1,c/é".to_string())]);
    assert_eq!(expected, "server_id=b-2%2Ca%201%2Cc%2F%C3%A9");
    assert_eq!(seen[0].raw_query.as_deref(), Some(expected.as_str()));
    assert_eq!(seen[0].path, format!("/v1/{PROJECT}/cloudservers/detail"));
    assert_eq!(seen[1].raw_query.as_deref(), Some("limit=50&offset=2"));
}

#[tokio::test]
async fn show_server_unwraps_the_server() {
    let stub = Stub::sequence(vec![Reply::json(
        200,
        json!({"server": {"id": "s1", "status": "ACTIVE", "OS-EXT-STS:task_state": ""}}),
    )])
    .await;
    let server = client(&stub.url()).show_server("s1").await.expect("server");
    assert_eq!(server.id, "s1");
    assert_eq!(server.status.as_deref(), Some("ACTIVE"));
    stub.assert_all_signed();
}

#[tokio::test]
async fn endpoint_path_prefix_is_kept_and_signed() {
    let stub = Stub::sequence(vec![Reply::json(200, job_json("INIT"))]).await;
    let mut cfg = config(&stub.url());
    cfg.endpoints =
        Endpoints::for_region(REGION, Some(&format!("{}/gateway/ecs/", stub.url())), None)
            .expect("endpoints");
    EcsClient::new(cfg)
        .expect("client")
        .show_job("j")
        .await
        .expect("job");
    stub.assert_all_signed();
    assert_eq!(
        stub.seen()[0].path,
        format!("/gateway/ecs/v1/{PROJECT}/jobs/j")
    );
}

#[tokio::test]
async fn every_attempt_is_re_signed_with_a_fresh_date() {
    let stub = Stub::sequence(vec![
        Reply::gateway_error(429, "APIGW.0308", "throttled"),
        Reply::ecs_error(503, "503", "unavailable"),
        Reply::job_id("job-9"),
    ])
    .await;
    // A clock that moves one minute per reading.
    let minutes = Arc::new(AtomicI64::new(0));
    let clock = Clock::from_fn(move || {
        datetime!(2024-01-02 03:04:05 UTC)
            + time::Duration::minutes(minutes.fetch_add(1, Ordering::SeqCst))
    });
    let client = EcsClient::new_with_clock(config(&stub.url()), clock).expect("client");
    assert_eq!(
        client.batch_start(&ids(&["a"])).await.expect("job"),
        "job-9"
    );
    stub.assert_all_signed();
    let seen = stub.seen();
    assert_eq!(seen.len(), 3);
    let dates: Vec<_> = seen.iter().map(|s| s.header("x-sdk-date")).collect();
    assert!(dates.iter().all(Option::is_some));
    assert_ne!(dates[0], dates[1]);
    assert_ne!(dates[1], dates[2]);
    assert_ne!(
        seen[0].header("authorization"),
        seen[1].header("authorization")
    );
    assert!(seen.iter().all(|s| s.body == seen[0].body));
}

#[tokio::test]
async fn accepted_answers_need_a_job_id() {
    let cases: Vec<(Reply, Option<&str>)> = vec![
        (Reply::job_id("j200"), Some("j200")),
        (Reply::json(202, json!({"job_id": "j202"})), Some("j202")),
        (Reply::empty(204), None),
        (Reply::empty(200), None),
        (Reply::json(200, json!({})), None),
        (Reply::json(200, json!({"job_id": ""})), None),
        (Reply::json(200, json!({"job_id": null})), None),
        (Reply::text(200, "<html>hello</html>"), None),
        (Reply::json(200, json!(["job_id"])), None),
    ];
    for (reply, expected) in cases {
        let shown = format!(
            "{} {:?}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        let stub = Stub::sequence(vec![reply]).await;
        let result = client(&stub.url()).batch_start(&ids(&["a"])).await;
        match (expected, result) {
            (Some(want), Ok(got)) => assert_eq!(got, want),
            (None, Err(ApiError::InvalidResponse { method, path, .. })) => {
                assert_eq!(method, "POST");
                assert_eq!(path, action_path());
            }
            (_, other) => panic!("{shown}: unexpected {other:?}"),
        }
        assert_eq!(stub.count(), 1, "{shown}: never re-sent");
    }
}

#[tokio::test]
async fn non_json_2xx_on_get_is_invalid_and_not_retried() {
    let stub = Stub::sequence(vec![Reply::text(200, "<html>maintenance</html>")]).await;
    let client = client(&stub.url());
    match client.show_job("j").await {
        Err(ApiError::InvalidResponse { message, .. }) => {
            assert!(message.contains("maintenance"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
    match client.list_servers_by_ids(&ids(&["a"])).await {
        Err(ApiError::InvalidResponse { .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let stub = Stub::sequence(vec![
        Reply::empty(302).header("location", "http://127.0.0.1:1/elsewhere")
    ])
    .await;
    match client(&stub.url()).show_job("j").await {
        Err(ApiError::InvalidResponse { message, .. }) => assert!(message.contains("302")),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn id_counts_are_checked_before_sending() {
    let stub = Stub::sequence(vec![Reply::job_id("j")]).await;
    let client = client(&stub.url());
    let many: Vec<String> = (0..1001).map(|i| format!("s{i}")).collect();
    assert!(matches!(
        client.batch_start(&[]).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.batch_start(&many).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.batch_reboot(&many, PowerType::Soft).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.list_servers_by_ids(&many[..101]).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.list_servers_by_ids(&[]).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.show_job("").await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert_eq!(stub.count(), 0);
    client.batch_start(&many[..1000]).await.expect("1000 ids");
    assert_eq!(
        stub.seen()[0].json()["os-start"]["servers"]
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
}

#[tokio::test]
async fn ecs_calls_need_a_project_id() {
    let stub = Stub::sequence(vec![Reply::job_id("j")]).await;
    let mut cfg = config(&stub.url());
    cfg.project_id = None;
    let client = EcsClient::new(cfg).expect("client");
    assert_eq!(client.project_id(), None);
    match client.batch_start(&ids(&["a"])).await {
        Err(ApiError::InvalidArgument(m)) => assert!(m.contains("project id"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        client.show_job("j").await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert_eq!(stub.count(), 0);
}

fn projects(list: &[&str]) -> Reply {
    let projects: Vec<_> = list
        .iter()
        .map(|id| json!({"id": id, "name": REGION, "domain_id": "d", "enabled": true}))
        .collect();
    Reply::json(200, json!({"projects": projects, "links": {"self": "x"}}))
}

fn lookup_client(url: &str, token: bool) -> EcsClient {
    let mut cfg = config(url);
    cfg.project_id = None;
    if token {
        cfg.credentials = Credentials::new(AK, SK).with_security_token(TOKEN);
    }
    EcsClient::new(cfg).expect("client")
}

#[tokio::test]
async fn iam_lookup_with_one_project_sets_the_project() {
    let stub = Stub::per_path(vec![
        ("/v3/projects".into(), vec![projects(&["p-found"])]),
        (
            "/v1/p-found/jobs/j".into(),
            vec![Reply::json(200, job_json("SUCCESS"))],
        ),
    ])
    .await;
    let client = lookup_client(&stub.url(), false);
    let clone = client.clone();
    assert_eq!(client.lookup_project_id().await.expect("found"), "p-found");
    assert_eq!(client.project_id().as_deref(), Some("p-found"));
    // Clones share it.
    assert_eq!(clone.project_id().as_deref(), Some("p-found"));
    clone
        .show_job("j")
        .await
        .expect("job under the found project");
    stub.assert_all_signed();
    let seen = stub.seen();
    let iam = &seen[0];
    assert_eq!(iam.method, "GET");
    assert_eq!(iam.path, "/v3/projects");
    assert_eq!(iam.raw_query.as_deref(), Some("name=cn-north-4"));
    assert!(iam.header("content-type").is_none());
    assert!(iam.header("x-project-id").is_none());
    assert_eq!(iam.header("user-agent"), Some(USER_AGENT));
    assert_eq!(
        iam.authorization().expect("auth").signed_headers,
        vec!["host", "user-agent", "x-sdk-date"]
    );
    assert_eq!(seen[1].header("x-project-id"), Some("p-found"));
}

#[tokio::test]
async fn iam_lookup_with_a_token_sends_no_project_header() {
    let stub = Stub::sequence(vec![projects(&["p1"])]).await;
    let client = lookup_client(&stub.url(), true);
    client.lookup_project_id().await.expect("found");
    stub.assert_all_signed();
    let s = &stub.seen()[0];
    assert_eq!(s.header("x-security-token"), Some(TOKEN));
    assert!(s.header("x-project-id").is_none());
    assert!(s.header("content-type").is_none());
}

#[tokio::test]
async fn iam_lookup_with_zero_or_two_projects_fails() {
    let stub = Stub::sequence(vec![projects(&[])]).await;
    let client = lookup_client(&stub.url(), false);
    match client.lookup_project_id().await {
        Err(ApiError::ProjectLookup { region, message }) => {
            assert_eq!(region, REGION);
            assert!(message.contains("no project"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.project_id(), None);

    let stub = Stub::sequence(vec![projects(&["p1", "p2"])]).await;
    let client = lookup_client(&stub.url(), false);
    match client.lookup_project_id().await {
        Err(e @ ApiError::ProjectLookup { .. }) => {
            let text = e.to_string();
            assert!(text.contains("2 projects"), "{text}");
            assert!(text.contains("p1") && text.contains("p2"), "{text}");
            assert!(text.contains(REGION), "{text}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(client.project_id(), None);
}

#[tokio::test]
async fn iam_lookup_errors_are_api_errors() {
    let stub = Stub::sequence(vec![Reply::gateway_error(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information",
    )])
    .await;
    match lookup_client(&stub.url(), false).lookup_project_id().await {
        Err(ApiError::Http { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "APIGW.0301"))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(stub.count(), 1);
}

#[test]
fn debug_output_holds_no_secret() {
    let mut cfg: ClientConfig = config("http://127.0.0.1:9");
    cfg.credentials = Credentials::new(AK, SK).with_security_token(TOKEN);
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(SK), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains(AK));
    let client = EcsClient::new(cfg).expect("client");
    let shown = format!(
        "{client:?} {:?}",
        client.with_deadline(tokio::time::Instant::now())
    );
    assert!(!shown.contains(SK), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains(PROJECT));
}

#[test]
fn bad_configuration_is_rejected() {
    let mut cfg = config("http://127.0.0.1:9");
    cfg.credentials = Credentials::new("", SK);
    assert!(matches!(
        EcsClient::new(cfg),
        Err(ApiError::InvalidArgument(_))
    ));
    let mut cfg = config("http://127.0.0.1:9");
    cfg.credentials = Credentials::new(AK, "");
    assert!(matches!(
        EcsClient::new(cfg),
        Err(ApiError::InvalidArgument(_))
    ));
    let mut cfg = config("http://127.0.0.1:9");
    cfg.request_timeout = Duration::ZERO;
    assert!(matches!(
        EcsClient::new(cfg),
        Err(ApiError::InvalidArgument(_))
    ));
    let mut cfg = config("http://127.0.0.1:9");
    cfg.user_agent = "bad\nagent".into();
    assert!(matches!(
        EcsClient::new(cfg),
        Err(ApiError::InvalidArgument(_))
    ));
    let mut cfg = config("http://127.0.0.1:9");
    cfg.endpoints.ecs = url::Url::parse("ftp://x").expect("url");
    match EcsClient::new(cfg) {
        Err(ApiError::InvalidArgument(m)) => assert!(m.contains("ftp://x"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
}
