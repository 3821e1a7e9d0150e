//! ecs-sim over HTTP: every route, both error shapes, signature checks, pagination, the
//! unknown-id entry and the job lifecycle. Requests are signed with the crate's signer.

use serde_json::{json, Value};
use terraform_provider_ecs::api::models::{JobStatus, ListServersResponse, ProjectList};
use terraform_provider_ecs::sim::{Knobs, SimConfig};
use time::OffsetDateTime;

use crate::support::sim::{ecs_code, fast_knobs, gw_code, slow_knobs, Opts, TestSim, PROJECT};

fn is_job_time(s: &str) -> bool {
    // 2024-01-02T03:04:06.123Z
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[23] == b'Z'
        && time::PrimitiveDateTime::parse(
            &s[..23],
            time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
            ),
        )
        .is_ok()
}

#[tokio::test]
async fn iam_project_lookup_by_region() {
    let sim = TestSim::start(0, fast_knobs()).await;
    let (s, h, v) = sim
        .call("GET", "/v3/projects", &[("name", "cn-north-4")], None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(h.get("x-request-id").is_some());
    let list: ProjectList = serde_json::from_value(v).expect("ProjectList");
    assert_eq!(list.projects.len(), 1);
    assert_eq!(list.projects[0].id, PROJECT);
    assert_eq!(list.projects[0].name.as_deref(), Some("cn-north-4"));
    let (s, _, v) = sim
        .call("GET", "/v3/projects", &[("name", "eu-west-0")], None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["projects"], json!([]));
}

#[tokio::test]
async fn batch_start_job_lifecycle_and_server_states() {
    let sim = TestSim::start(3, slow_knobs()).await;
    let ids = sim.ids();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], "ec5e5e00-0000-4000-8000-000000000000");
    let before = sim.server(&ids[0]).await;
    assert_eq!(before["status"], "SHUTOFF");
    assert_eq!(before["OS-EXT-STS:task_state"], Value::Null);
    assert_eq!(before["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(before["OS-EXT-STS:power_state"], 4);
    assert_eq!(before["name"], "ecs-sim-0");
    assert_eq!(before["locked"], false);

    let job_id = sim.start_servers(&ids).await;
    assert_eq!(job_id.len(), 32);
    assert!(job_id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    // Right after: starting, and the job not finished.
    let during = sim.server(&ids[1]).await;
    assert_eq!(during["status"], "SHUTOFF");
    assert_eq!(during["OS-EXT-STS:task_state"], "powering-on");
    let (s, v) = sim.job(&job_id).await;
    assert_eq!(s, 200);
    assert!(
        v["status"] == "INIT" || v["status"] == "RUNNING",
        "fresh job is {}",
        v["status"]
    );
    assert_eq!(v["end_time"], Value::Null);
    assert!(is_job_time(v["begin_time"].as_str().expect("begin_time")));

    let job = sim.wait_job(&job_id).await;
    assert_eq!(job.status, Some(JobStatus::Success));
    assert_eq!(job.job_id.as_deref(), Some(job_id.as_str()));
    assert!(is_job_time(job.end_time.as_deref().expect("end_time")));
    assert_eq!(job.error_code, None);
    let ent = job.entities.as_ref().expect("entities");
    assert_eq!(ent.sub_jobs_total, Some(3));
    let mut seen: Vec<&str> = job
        .sub_jobs()
        .iter()
        .filter_map(|s| s.server_id())
        .collect();
    seen.sort();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(seen, want);
    for sj in job.sub_jobs() {
        assert_eq!(sj.status, Some(JobStatus::Success));
        assert!(is_job_time(sj.end_time.as_deref().expect("sub end")));
        assert_eq!(sj.job_id.as_ref().map(String::len), Some(32));
        assert_eq!(sj.error_code, None);
    }
    for id in &ids {
        let s = sim.server(id).await;
        assert_eq!(s["status"], "ACTIVE");
        assert_eq!(s["OS-EXT-STS:task_state"], Value::Null);
        assert_eq!(s["OS-EXT-STS:vm_state"], "active");
        assert_eq!(s["OS-EXT-STS:power_state"], 1);
        assert_eq!(sim.start_count(id).await, 1);
    }
    // The raw JSON has null error fields, as the real API.
    let (_, raw) = sim.job(&job_id).await;
    assert!(raw.as_object().expect("object").contains_key("error_code"));
    assert_eq!(raw["error_code"], Value::Null);
}

#[tokio::test]
async fn stop_and_reboot_lifecycles() {
    let sim = TestSim::start(2, slow_knobs()).await;
    let ids = sim.ids();
    let job = sim.start_servers(&ids).await;
    sim.wait_job(&job).await;

    let (s, v) = sim
        .action("os-stop", &ids[..1], Some(("type", "HARD")))
        .await;
    assert_eq!(s, 200, "{v}");
    let stop_job = v["job_id"].as_str().expect("job").to_string();
    let during = sim.server(&ids[0]).await;
    assert_eq!(during["status"], "ACTIVE");
    assert_eq!(during["OS-EXT-STS:task_state"], "powering-off");
    let j = sim.wait_job(&stop_job).await;
    assert_eq!(j.status, Some(JobStatus::Success));
    let after = sim.server(&ids[0]).await;
    assert_eq!(after["status"], "SHUTOFF");
    assert_eq!(after["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(after["OS-EXT-STS:power_state"], 4);

    // A stop without `type` (SOFT by default) is accepted too.
    let (s, _) = sim.action("os-stop", &ids[1..], None).await;
    assert_eq!(s, 200);

    // Reboot needs `type`.
    let (s, v) = sim.action("reboot", &ids[..1], None).await;
    assert_eq!(s, 400);
    assert_eq!(ecs_code(&v), "Ecs.0005");
    let job = sim.start_servers(&ids[..1]).await;
    sim.wait_job(&job).await;
    let (s, v) = sim
        .action("reboot", &ids[..1], Some(("type", "SOFT")))
        .await;
    assert_eq!(s, 200, "{v}");
    let during = sim.server(&ids[0]).await;
    assert_eq!(during["status"], "REBOOT");
    assert_eq!(during["OS-EXT-STS:task_state"], "rebooting");
    let j = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert_eq!(j.status, Some(JobStatus::Success));
    assert_eq!(sim.server(&ids[0]).await["status"], "ACTIVE");
}

#[tokio::test]
async fn partial_failure_under_both_parent_modes() {
    for (mode, parent) in [("fail", JobStatus::Fail), ("success", JobStatus::Success)] {
        let sim = TestSim::start(3, fast_knobs()).await;
        let ids = sim.ids();
        sim.knobs(json!({"failing_servers": [ids[1]], "partial_failure_parent": mode}))
            .await;
        let job_id = sim.start_servers(&ids).await;
        let job = sim.wait_job(&job_id).await;
        assert_eq!(job.status, Some(parent.clone()), "mode {mode}");
        if parent == JobStatus::Fail {
            assert_eq!(job.error_code.as_deref(), Some("Ecs.0226"));
            assert!(job.fail_reason.is_some());
        } else {
            assert_eq!(job.error_code, None);
        }
        for sj in job.sub_jobs() {
            let sid = sj.server_id().expect("server id");
            if sid == ids[1] {
                assert_eq!(sj.status, Some(JobStatus::Fail));
                assert_eq!(sj.error_code.as_deref(), Some("Ecs.0226"));
                assert!(sj.fail_reason.is_some());
                assert!(sj.errorcode_message().is_some());
            } else {
                assert_eq!(sj.status, Some(JobStatus::Success));
            }
        }
        // The failed server is back to SHUTOFF with no task; the others run.
        let failed = sim.server(&ids[1]).await;
        assert_eq!(failed["status"], "SHUTOFF");
        assert_eq!(failed["OS-EXT-STS:task_state"], Value::Null);
        assert_eq!(sim.server(&ids[0]).await["status"], "ACTIVE");
    }
}

#[tokio::test]
async fn every_failed_sub_job_fails_the_parent_even_in_success_mode() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let ids = sim.ids();
    sim.knobs(json!({"failing_servers": [ids[0]], "partial_failure_parent": "success"}))
        .await;
    let job = sim.wait_job(&sim.start_servers(&ids).await).await;
    assert_eq!(job.status, Some(JobStatus::Fail));
}

#[tokio::test]
async fn already_running_modes() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    let first = sim.start_servers(&ids[..1]).await;
    sim.wait_job(&first).await;

    // Default: the running server's sub-job FAILs with Ecs.0100, the other starts.
    let job = sim.wait_job(&sim.start_servers(&ids).await).await;
    assert_eq!(job.status, Some(JobStatus::Fail));
    let sub = |id: &str| {
        job.sub_jobs()
            .iter()
            .find(|s| s.server_id() == Some(id))
            .cloned()
            .expect("sub-job")
    };
    assert_eq!(sub(&ids[0]).status, Some(JobStatus::Fail));
    assert_eq!(sub(&ids[0]).error_code.as_deref(), Some("Ecs.0100"));
    assert_eq!(sub(&ids[1]).status, Some(JobStatus::Success));

    // sync_400: the whole POST is refused, nothing started.
    sim.knobs(json!({"already_running_mode": "sync_400"})).await;
    let (s, v) = sim.action("os-start", &ids, None).await;
    assert_eq!(s, 400);
    assert_eq!(ecs_code(&v), "Ecs.0100");
    assert!(v["error"]["details"].is_array());

    // success: the sub-job succeeds and the server stays ACTIVE.
    sim.knobs(json!({"already_running_mode": "success"})).await;
    let job = sim.wait_job(&sim.start_servers(&ids).await).await;
    assert_eq!(job.status, Some(JobStatus::Success));
    assert!(job
        .sub_jobs()
        .iter()
        .all(|s| s.status == Some(JobStatus::Success)));
    assert_eq!(sim.server(&ids[0]).await["status"], "ACTIVE");
}

#[tokio::test]
async fn list_by_ids_with_unknown_entry_and_limits() {
    let sim = TestSim::start(3, fast_knobs()).await;
    let ids = sim.ids();
    let unknown = "00000000-1111-4222-8333-444444444444";
    let joined = format!("{},{},{}", ids[2], unknown, ids[0]);
    let (s, _, v) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[("server_id", &joined)],
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let entry = &v["servers"][1];
    assert_eq!(entry["id"], unknown);
    assert_eq!(entry["fault"]["code"], 404);
    assert!(entry["fault"]["message"].is_string());
    for field in [
        "name",
        "status",
        "OS-EXT-STS:task_state",
        "OS-EXT-STS:vm_state",
        "OS-EXT-STS:power_state",
        "locked",
    ] {
        assert_eq!(entry[field], Value::Null, "{field}");
    }
    let list: ListServersResponse = serde_json::from_value(v).expect("parses");
    assert_eq!(list.count, Some(3));
    assert_eq!(list.servers[0].id, ids[2]);
    assert!(list.servers[1].is_missing());
    assert_eq!(list.servers[2].status.as_deref(), Some("SHUTOFF"));

    // 101 ids: refused.
    let many: Vec<String> = (0..101)
        .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
        .collect();
    let (s, _, v) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[("server_id", &many.join(","))],
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(ecs_code(&v), "Ecs.0005");
    // 100 is fine.
    let (s, _, v) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[("server_id", &many[..100].join(","))],
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["servers"].as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn pagination_by_page_number() {
    let sim = TestSim::start(30, fast_knobs()).await;
    let ids = sim.ids();
    let path = format!("/v1/{PROJECT}/cloudservers/detail");
    let page = |v: &Value| -> Vec<String> {
        v["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect()
    };
    let (s, _, v) = sim.call("GET", &path, &[], None).await;
    assert_eq!(s, 200);
    assert_eq!(v["count"], 30);
    assert_eq!(page(&v), ids[..25].to_vec());
    let (_, _, v) = sim
        .call("GET", &path, &[("offset", "2"), ("limit", "25")], None)
        .await;
    assert_eq!(v["count"], 30);
    assert_eq!(page(&v), ids[25..].to_vec());
    let (_, _, v) = sim
        .call("GET", &path, &[("offset", "0"), ("limit", "10")], None)
        .await;
    assert_eq!(page(&v), ids[..10].to_vec(), "offset 0 is page 1");
    let (_, _, v) = sim
        .call("GET", &path, &[("offset", "3"), ("limit", "10")], None)
        .await;
    assert_eq!(page(&v), ids[20..30].to_vec());
    let (_, _, v) = sim
        .call("GET", &path, &[("offset", "9"), ("limit", "10")], None)
        .await;
    assert_eq!(page(&v), Vec::<String>::new());
    assert_eq!(v["count"], 30);
    for bad in ["0", "1001", "x"] {
        let (s, _, v) = sim.call("GET", &path, &[("limit", bad)], None).await;
        assert_eq!(s, 400, "limit {bad}");
        assert_eq!(ecs_code(&v), "Ecs.0005");
    }
    let (s, _, _) = sim.call("GET", &path, &[("limit", "1000")], None).await;
    assert_eq!(s, 200);
    // Status filter: count is the number matching.
    let job = sim.start_servers(&ids[..4]).await;
    sim.wait_job(&job).await;
    let (_, _, v) = sim
        .call("GET", &path, &[("status", "ACTIVE"), ("limit", "3")], None)
        .await;
    assert_eq!(v["count"], 4);
    assert_eq!(page(&v), ids[..3].to_vec());
    // Special characters in the query are signed and checked byte for byte.
    let (s, _, v) = sim
        .call(
            "GET",
            &path,
            &[("name", "ecs-sim-1 α/+&=*~"), ("limit", "5")],
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 0);
}

#[tokio::test]
async fn show_server_and_unknown_server() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let id = sim.ids()[0].clone();
    let s = sim.server(&id).await;
    assert_eq!(s["id"], id.as_str());
    assert!(s["created"].is_string());
    assert!(s["updated"].is_string());
    let (st, h, v) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/00000000-0000-4000-8000-00000000abcd"),
            &[],
            None,
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(ecs_code(&v), "Ecs.0114");
    assert!(v["error"]["message"].is_string());
    assert!(h.get("x-request-id").is_some());
}

#[tokio::test]
async fn action_body_errors_in_the_ecs_shape() {
    let sim = TestSim::start(3, fast_knobs()).await;
    let ids = sim.ids();
    let path = sim.action_path();
    let raw = |b: &'static [u8]| {
        let sim = &sim;
        let path = path.clone();
        async move {
            let r = sim
                .send("POST", &path, &[], Some(b), Opts::default())
                .await
                .expect("answered");
            let s = r.status().as_u16();
            let rid = r.headers().get("x-request-id").is_some();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (s, v, rid)
        }
    };
    for body in [
        &b"{not json"[..],
        b"[]",
        b"{}",
        b"{\"os-start\": {}}",
        b"{\"os-start\": {\"servers\": \"x\"}}",
        b"{\"os-start\": {\"servers\": []}, \"os-stop\": {\"servers\": []}}",
        b"{\"os-launch\": {\"servers\": []}}",
    ] {
        let (s, v, rid) = raw(body).await;
        let text = String::from_utf8_lossy(body);
        assert_eq!(s, 400, "{text}");
        assert_eq!(ecs_code(&v), "Ecs.0005", "{text}: {v}");
        assert!(v["error"]["message"].is_string());
        assert!(rid);
    }
    let (s, v) = sim.action("os-start", &[], None).await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0118"));
    let too_many: Vec<String> = (0..1001)
        .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
        .collect();
    let (s, v) = sim.action("os-start", &too_many, None).await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0118"));
    let unknown = vec![
        ids[0].clone(),
        "00000000-0000-4000-8000-0000000fffff".into(),
    ];
    let (s, v) = sim.action("os-start", &unknown, None).await;
    assert_eq!((s, ecs_code(&v)), (404, "Ecs.0114"));
    assert_eq!(sim.start_count(&ids[0]).await, 0, "nothing started");
    let (s, v) = sim
        .action("os-start", &["not-a-uuid".to_string()], None)
        .await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0005"));
    let dup = vec![ids[0].clone(), ids[0].clone()];
    let (s, v) = sim.action("os-start", &dup, None).await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0005"));
    // Locked.
    let (st, _) = sim
        .admin(
            "POST",
            "/servers",
            Some(json!({"servers": [{"id": ids[2], "status": "SHUTOFF", "locked": true}]})),
        )
        .await;
    assert_eq!(st, 200);
    let (s, v) = sim.action("os-start", &ids[1..], None).await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0605"));
    assert_eq!(sim.server(&ids[2]).await["locked"], true);
}

#[tokio::test]
async fn unknown_routes_get_the_gateway_shape() {
    let sim = TestSim::start(0, fast_knobs()).await;
    for (m, p) in [
        ("GET", "/v2/nothing".to_string()),
        ("GET", format!("/v1/{PROJECT}/cloudservers/action")),
        ("DELETE", format!("/v1/{PROJECT}/cloudservers/detail")),
        ("GET", "/".to_string()),
    ] {
        let r = sim
            .send(m, &p, &[], None, Opts::default())
            .await
            .expect("answered");
        assert_eq!(r.status().as_u16(), 404, "{m} {p}");
        let rid = r
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .expect("x-request-id");
        let v: Value = r.json().await.expect("json");
        assert_eq!(gw_code(&v), "APIGW.0101");
        assert!(v["error_msg"].is_string());
        assert_eq!(v["request_id"], rid.as_str());
    }
}

async fn expect_401(sim: &TestSim, opts: Opts, needle: &str) {
    let path = format!("/v1/{PROJECT}/cloudservers/detail");
    let r = sim
        .send("GET", &path, &[("limit", "1")], None, opts)
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 401, "expected 401 for {needle}");
    assert!(r.headers().get("x-request-id").is_some());
    let v: Value = r.json().await.expect("json");
    assert_eq!(gw_code(&v), "APIGW.0301", "{v}");
    let msg = v["error_msg"].as_str().expect("error_msg");
    assert!(
        msg.starts_with("Incorrect IAM authentication information"),
        "{msg}"
    );
    assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
    let text = v.to_string();
    assert!(!text.contains(sim.config.secret_key.expose()));
    if let Some(t) = &sim.config.security_token {
        assert!(!text.contains(t.as_str()));
    }
}

#[tokio::test]
async fn signature_rejections() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let ok = sim
        .send(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[("limit", "1")],
            None,
            Opts::default(),
        )
        .await
        .expect("answered");
    assert_eq!(ok.status().as_u16(), 200);

    expect_401(
        &sim,
        Opts {
            secret_key: Some("wrong-secret".into()),
            ..Opts::default()
        },
        "verify aksk signature fail",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            access_key: Some("UNKNOWNAK00000000000".into()),
            ..Opts::default()
        },
        "ak UNKNOWNAK00000000000 not exist",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            date: Some(OffsetDateTime::now_utc() - time::Duration::minutes(20)),
            ..Opts::default()
        },
        "x-sdk-date expired",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            date: Some(OffsetDateTime::now_utc() + time::Duration::minutes(16)),
            ..Opts::default()
        },
        "x-sdk-date expired",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            authorization: Some(None),
            ..Opts::default()
        },
        "missing",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            authorization: Some(Some("Bearer abc".into())),
            ..Opts::default()
        },
        "malformed",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            unsign: vec!["host".into()],
            ..Opts::default()
        },
        "host must be a signed header",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            unsign: vec!["x-sdk-date".into()],
            ..Opts::default()
        },
        "x-sdk-date must be a signed header",
    )
    .await;
    // A signed header changed after signing.
    expect_401(
        &sim,
        Opts {
            unsigned_headers: vec![("User-Agent".into(), "tampered".into())],
            ..Opts::default()
        },
        "verify aksk signature fail",
    )
    .await;
    // A body changed after signing.
    let r = sim
        .send(
            "POST",
            &sim.action_path(),
            &[],
            Some(br#"{"os-start": {"servers": []}}"#),
            Opts {
                send_body: Some(br#"{"os-start": {"servers": [{"id": "x"}]}}"#.to_vec()),
                ..Opts::default()
            },
        )
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 401);
    // 14 minutes of skew is still accepted.
    let r = sim
        .send(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[],
            None,
            Opts {
                date: Some(OffsetDateTime::now_utc() - time::Duration::minutes(14)),
                ..Opts::default()
            },
        )
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 200);
    // The tolerance is a knob.
    sim.knobs(json!({"clock_skew_tolerance_secs": 60})).await;
    expect_401(
        &sim,
        Opts {
            date: Some(OffsetDateTime::now_utc() - time::Duration::minutes(2)),
            ..Opts::default()
        },
        "x-sdk-date expired",
    )
    .await;
    let st = sim.stats().await;
    assert!(st["requests"]["GET /v1/{project_id}/cloudservers/detail"]["401"].as_u64() >= Some(10));
}

#[tokio::test]
async fn security_token_is_required_when_configured() {
    let sim = TestSim::start_with(SimConfig {
        servers: 1,
        knobs: fast_knobs(),
        security_token: Some("sts-token-value-123".into()),
        ..SimConfig::default()
    })
    .await;
    // The helper sends the configured token: accepted.
    let (s, _, _) = sim
        .call(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[],
            None,
        )
        .await;
    assert_eq!(s, 200);
    expect_401(
        &sim,
        Opts {
            token: Some("another-token".into()),
            ..Opts::default()
        },
        "security token is invalid or expired",
    )
    .await;
    expect_401(
        &sim,
        Opts {
            no_token: true,
            ..Opts::default()
        },
        "security token is missing",
    )
    .await;
}

#[tokio::test]
async fn project_mismatch_is_ecs_0023() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let other = "ffffffffffffffffffffffffffffffff";
    let r = sim
        .send(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[],
            None,
            Opts {
                project_header: Some(Some(other.into())),
                ..Opts::default()
            },
        )
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(ecs_code(&v), "Ecs.0023");
    // An unknown project in the path (header agreeing) is refused the same way.
    let (s, _, v) = sim
        .call(
            "GET",
            &format!("/v1/{other}/cloudservers/detail"),
            &[],
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(ecs_code(&v), "Ecs.0023");
    // No X-Project-Id at all is fine (the path decides).
    let r = sim
        .send(
            "GET",
            &format!("/v1/{PROJECT}/cloudservers/detail"),
            &[],
            None,
            Opts {
                project_header: Some(None),
                ..Opts::default()
            },
        )
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn custom_identity_from_config() {
    let sim = TestSim::start_with(SimConfig {
        access_key: "OTHERAK".into(),
        secret_key: terraform_provider_ecs::api::Secret::new("other-secret"),
        project_id: "abcdefabcdefabcdefabcdefabcdef12".into(),
        region: "ap-southeast-1".into(),
        knobs: Knobs::default(),
        ..SimConfig::default()
    })
    .await;
    let (s, _, v) = sim
        .call("GET", "/v3/projects", &[("name", "ap-southeast-1")], None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["projects"][0]["id"], "abcdefabcdefabcdefabcdefabcdef12");
}

/// POSTs a raw action body; (status, JSON answer).
async fn post_raw(sim: &TestSim, body: &str) -> (u16, Value) {
    let r = sim
        .send(
            "POST",
            &sim.action_path(),
            &[],
            Some(body.as_bytes()),
            Opts::default(),
        )
        .await
        .expect("answered");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn stop_and_reboot_type_is_validated_as_the_service_does() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let ids = sim.ids();
    sim.sim_admin().set_active(&ids).await;
    let servers = json!([{"id": ids[0]}]);
    // A reboot without `type`: 400 naming the missing field.
    let (s, v) = post_raw(&sim, &json!({"reboot": {"servers": servers}}).to_string()).await;
    assert_eq!((s, ecs_code(&v)), (400, "Ecs.0005"), "{v}");
    let message = v["error"]["message"].as_str().expect("message");
    assert!(message.contains("type"), "{message}");
    // Any `type` but SOFT or HARD, on either action.
    for bad in [
        json!("soft"),
        json!("hard"),
        json!("FORCE"),
        json!(""),
        json!(1),
    ] {
        for key in ["os-stop", "reboot"] {
            let body = json!({key: {"servers": servers, "type": bad}}).to_string();
            let (s, v) = post_raw(&sim, &body).await;
            assert_eq!((s, ecs_code(&v)), (400, "Ecs.0005"), "{body}: {v}");
        }
    }
    let body = json!({"reboot": {"servers": servers, "type": null}}).to_string();
    assert_eq!(post_raw(&sim, &body).await.0, 400, "{body}");
    // Nothing was done.
    assert_eq!(sim.stats().await["stops_total"], 0);
    assert_eq!(sim.stats().await["reboots_total"], 0);
    assert_eq!(
        sim.server(&ids[0]).await["OS-EXT-STS:task_state"],
        Value::Null
    );
    // A stop without `type` is a SOFT stop: a guest that ignores SOFT stops ignores it.
    sim.knobs(json!({"ignore_soft_stop": [ids[0]], "soft_stop_timeout_ms": 50}))
        .await;
    let (s, v) = post_raw(&sim, &json!({"os-stop": {"servers": servers}}).to_string()).await;
    assert_eq!(s, 200, "{v}");
    let job = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert_eq!(job.error_code.as_deref(), Some("Ecs.0228"));
    assert_eq!(sim.server(&ids[0]).await["status"], "ACTIVE");
    // Both types are accepted on both actions.
    for (key, t) in [("os-stop", "HARD"), ("reboot", "SOFT"), ("reboot", "HARD")] {
        sim.sim_admin().set_active(&ids).await;
        let body = json!({key: {"servers": servers, "type": t}}).to_string();
        let (s, v) = post_raw(&sim, &body).await;
        assert_eq!(s, 200, "{body}: {v}");
        sim.wait_job(v["job_id"].as_str().expect("job")).await;
    }
}

#[tokio::test]
async fn a_locked_server_refuses_every_operation() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    for status in ["ACTIVE", "SHUTOFF"] {
        sim.sim_admin()
            .set_servers(json!([{"id": ids[1], "status": status, "locked": true}]))
            .await;
        for (key, t) in [
            ("os-start", None),
            ("os-stop", None),
            ("os-stop", Some(("type", "SOFT"))),
            ("os-stop", Some(("type", "HARD"))),
            ("reboot", Some(("type", "SOFT"))),
            ("reboot", Some(("type", "HARD"))),
        ] {
            let (s, v) = sim.action(key, &ids, t).await;
            assert_eq!((s, ecs_code(&v)), (400, "Ecs.0605"), "{key} {t:?} {status}");
            assert_eq!(v["error"]["details"][0]["code"], "Ecs.0605");
            assert!(v["error"]["details"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(&ids[1])));
        }
    }
    let stats = sim.stats().await;
    let totals = ["starts_total", "stops_total", "reboots_total"].map(|k| stats[k].clone());
    assert_eq!(totals, [json!(0), json!(0), json!(0)], "nothing was done");
}

#[tokio::test]
async fn states_while_a_hard_reboot_and_a_soft_stop_run() {
    let sim = TestSim::start(2, slow_knobs()).await;
    let ids = sim.ids();
    sim.sim_admin().set_active(&ids).await;
    let (s, v) = sim
        .action("reboot", &ids[..1], Some(("type", "HARD")))
        .await;
    assert_eq!(s, 200, "{v}");
    let reboot = v["job_id"].as_str().expect("job").to_string();
    let (s, v) = sim
        .action("os-stop", &ids[1..], Some(("type", "SOFT")))
        .await;
    assert_eq!(s, 200, "{v}");
    let stop = v["job_id"].as_str().expect("job").to_string();
    let rebooting = sim.server(&ids[0]).await;
    assert_eq!(rebooting["status"], "HARD_REBOOT");
    assert_eq!(rebooting["OS-EXT-STS:task_state"], "rebooting_hard");
    assert_eq!(rebooting["OS-EXT-STS:vm_state"], "active");
    assert_eq!(rebooting["OS-EXT-STS:power_state"], 1);
    let stopping = sim.server(&ids[1]).await;
    assert_eq!(stopping["status"], "ACTIVE");
    assert_eq!(stopping["OS-EXT-STS:task_state"], "powering-off");
    let job = sim.wait_job(&reboot).await;
    assert_eq!(job.status, Some(JobStatus::Success));
    assert_eq!(job.job_type.as_deref(), Some("batchRebootServers"));
    assert_eq!(job.sub_jobs()[0].job_type.as_deref(), Some("rebootServer"));
    let after = sim.server(&ids[0]).await;
    assert_eq!(after["status"], "ACTIVE");
    assert_eq!(after["OS-EXT-STS:task_state"], Value::Null);
    let job = sim.wait_job(&stop).await;
    assert_eq!(job.job_type.as_deref(), Some("batchStopServers"));
    assert_eq!(job.sub_jobs()[0].job_type.as_deref(), Some("stopServer"));
    assert_eq!(sim.server(&ids[1]).await["status"], "SHUTOFF");
}
