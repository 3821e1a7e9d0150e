//! ecs-sim's knobs and admin API, each observed over HTTP: faults (bursts, probabilities,
//! per route, dropped connections), latency, the start rate limit, job modes, TTL, stats.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use terraform_provider_ecs::api::models::JobStatus;
use terraform_provider_ecs::sim::{Knobs, ROUTE_ACTION, ROUTE_JOB, ROUTE_LIST};

use crate::support::sim::{ecs_code, fast_knobs, gw_code, slow_knobs, Opts, TestSim, PROJECT};

fn list_path() -> String {
    format!("/v1/{PROJECT}/cloudservers/detail")
}

async fn list_status(sim: &TestSim) -> u16 {
    sim.call("GET", &list_path(), &[("limit", "1")], None)
        .await
        .0
}

#[tokio::test]
async fn knobs_get_put_merge_and_validation() {
    let sim = TestSim::start(0, Knobs::default()).await;
    let (s, v) = sim.admin("GET", "/knobs", None).await;
    assert_eq!(s, 200);
    let defaults = serde_json::to_value(Knobs::default()).expect("json");
    assert_eq!(v, defaults);
    assert_eq!(v["start_duration_ms"], json!([15000, 35000]));
    assert_eq!(v["start_rate_limit_per_minute"], 1000);
    assert_eq!(v["job_ttl_secs"], 86400);
    assert_eq!(v["already_running_mode"], "subjob_fail");
    assert_eq!(v["partial_failure_parent"], "fail");
    let v = sim.knobs(json!({"time_scale": 0.5, "latency_ms": 3})).await;
    assert_eq!(v["time_scale"], 0.5);
    assert_eq!(v["latency_ms"], 3);
    assert_eq!(v["start_duration_ms"], json!([15000, 35000]), "untouched");
    for bad in [
        json!({"no_such_knob": 1}),
        json!({"fault_5xx": 1.5}),
        json!({"start_duration_ms": [10, 1]}),
        json!({"already_running_mode": "maybe"}),
        json!({"fault_routes": ["GET /nowhere"]}),
        json!([1, 2]),
    ] {
        let (s, v) = sim.admin("PUT", "/knobs", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad} accepted");
        assert!(v["error"].is_string());
    }
    let (_, v) = sim.admin("GET", "/knobs", None).await;
    assert_eq!(v["time_scale"], 0.5, "refused patches change nothing");
}

#[tokio::test]
async fn fault_bursts_per_route() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let id = sim.ids()[0].clone();
    let job = sim.start_servers(&[id]).await;
    sim.knobs(json!({"fault_5xx_burst": 2, "fault_routes": [ROUTE_JOB]}))
        .await;
    // Other routes are untouched.
    assert_eq!(list_status(&sim).await, 200);
    for _ in 0..2 {
        let (s, v) = sim.job(&job).await;
        assert_eq!(s, 503);
        assert_eq!(gw_code(&v), "APIGW.0202");
    }
    assert_eq!(sim.job(&job).await.0, 200, "burst over");

    sim.knobs(json!({"fault_429_burst": 1, "retry_after_secs": 7, "fault_routes": []}))
        .await;
    let (s, h, v) = sim.call("GET", &list_path(), &[], None).await;
    assert_eq!(s, 429);
    assert_eq!(gw_code(&v), "APIGW.0308");
    assert_eq!(
        h.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(v["request_id"], h["x-request-id"].to_str().expect("rid"));
    assert_eq!(list_status(&sim).await, 200);

    let st = sim.stats().await;
    assert_eq!(st["requests"][ROUTE_JOB]["503"], 2);
    assert_eq!(st["requests"][ROUTE_JOB]["200"], 1);
    assert_eq!(st["requests"][ROUTE_LIST]["429"], 1);
    assert_eq!(st["requests"][ROUTE_LIST]["200"], 2);
    // Bursts count down in the knobs.
    let (_, k) = sim.admin("GET", "/knobs", None).await;
    assert_eq!(k["fault_5xx_burst"], 0);
}

#[tokio::test]
async fn dropped_connections_give_no_answer() {
    let sim = TestSim::start(2, slow_knobs()).await;
    let ids = sim.ids();
    sim.knobs(json!({"fault_drop_burst": 1, "fault_routes": [ROUTE_ACTION]}))
        .await;
    let body =
        serde_json::to_vec(&json!({"os-start": {"servers": [{"id": ids[0]}]}})).expect("json");
    let err = sim
        .send(
            "POST",
            &sim.action_path(),
            &[],
            Some(&body),
            Opts::default(),
        )
        .await
        .expect_err("a dropped connection is an error, not an answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    // The POST reached the service before the drop: the start happened.
    assert_eq!(sim.start_count(&ids[0]).await, 1);
    assert_eq!(
        sim.server(&ids[0]).await["OS-EXT-STS:task_state"],
        "powering-on"
    );
    // The next request (new connection) is answered.
    let job = sim.start_servers(&ids[1..]).await;
    assert_eq!(job.len(), 32);
    let st = sim.stats().await;
    assert_eq!(st["requests"][ROUTE_ACTION]["dropped"], 1);
    assert_eq!(st["requests"][ROUTE_ACTION]["200"], 1);
    assert_eq!(st["starts_total"], 2);

    // `before`: the connection is closed before the request is carried out.
    sim.admin(
        "POST",
        "/servers",
        Some(json!({"servers": [{"id": ids[0], "status": "SHUTOFF"}]})),
    )
    .await;
    sim.knobs(json!({"fault_drop_burst": 1, "fault_drop_mode": "before"}))
        .await;
    let start_before = sim.start_count(&ids[0]).await;
    let r = sim
        .send(
            "POST",
            &sim.action_path(),
            &[],
            Some(&body),
            Opts::default(),
        )
        .await;
    assert!(r.is_err());
    assert_eq!(
        sim.start_count(&ids[0]).await,
        start_before,
        "not carried out"
    );
    assert_eq!(
        sim.server(&ids[0]).await["OS-EXT-STS:task_state"],
        Value::Null
    );

    // GETs can be dropped too, by probability.
    sim.knobs(json!({"fault_drop": 1.0, "fault_routes": [ROUTE_LIST]}))
        .await;
    let r = sim
        .send("GET", &list_path(), &[], None, Opts::default())
        .await;
    assert!(r.is_err());
    sim.knobs(json!({"fault_drop": 0.0})).await;
    assert_eq!(list_status(&sim).await, 200);
}

#[tokio::test]
async fn probabilistic_faults_are_seeded_and_reproducible() {
    let sim = TestSim::start(0, fast_knobs()).await;
    let mut seqs = Vec::new();
    for _ in 0..2 {
        sim.knobs(json!({"fault_429": 0.3, "fault_5xx": 0.2, "seed": 42}))
            .await;
        let mut seq = Vec::new();
        for _ in 0..100 {
            seq.push(list_status(&sim).await);
        }
        seqs.push(seq);
    }
    assert_eq!(seqs[0], seqs[1], "same seed, same faults");
    let n429 = seqs[0].iter().filter(|&&s| s == 429).count();
    let n503 = seqs[0].iter().filter(|&&s| s == 503).count();
    let n200 = seqs[0].iter().filter(|&&s| s == 200).count();
    assert!((15..=45).contains(&n429), "{n429} 429s of 100 at p=0.3");
    assert!((8..=35).contains(&n503), "{n503} 503s of 100 at p=0.2");
    assert_eq!(n429 + n503 + n200, 100);
}

#[tokio::test]
async fn latency_is_added() {
    let sim = TestSim::start(0, fast_knobs()).await;
    sim.knobs(json!({"latency_ms": 150})).await;
    let t = Instant::now();
    assert_eq!(list_status(&sim).await, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn start_rate_limit_with_retry_after() {
    let sim = TestSim::start(
        10,
        Knobs {
            start_rate_limit_per_minute: 5,
            ..fast_knobs()
        },
    )
    .await;
    let ids = sim.ids();
    sim.start_servers(&ids[..3]).await;
    let (s, h, v) = {
        let servers: Vec<Value> = ids[3..6].iter().map(|i| json!({"id": i})).collect();
        sim.call(
            "POST",
            &sim.action_path(),
            &[],
            Some(json!({"os-start": {"servers": servers}})),
        )
        .await
    };
    assert_eq!(s, 429, "{v}");
    assert_eq!(gw_code(&v), "APIGW.0308");
    let retry: u64 = h["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((55..=60).contains(&retry), "Retry-After {retry}");
    // Refused starts did not start anything.
    assert_eq!(sim.start_count(&ids[3]).await, 0);
    // Two more fit.
    sim.start_servers(&ids[3..5]).await;
    let (s, _) = sim.action("os-start", &ids[5..6], None).await;
    assert_eq!(s, 429);
    // Stops are not limited.
    let (s, _) = sim.action("os-stop", &ids[..1], None).await;
    assert_eq!(s, 200);
    // A minute later there is room again.
    let (s, _) = sim
        .admin("POST", "/clock/advance", Some(json!({"ms": 60_000})))
        .await;
    assert_eq!(s, 200);
    sim.start_servers(&ids[5..10]).await;
    // More than the whole limit in one POST: Retry-After is the full window.
    sim.knobs(json!({"start_rate_limit_per_minute": 2})).await;
    sim.admin("POST", "/clock/advance", Some(json!({"ms": 60_000})))
        .await;
    let (_, h, _) = {
        let servers: Vec<Value> = ids[..3].iter().map(|i| json!({"id": i})).collect();
        sim.call(
            "POST",
            &sim.action_path(),
            &[],
            Some(json!({"os-start": {"servers": servers}})),
        )
        .await
    };
    assert_eq!(h["retry-after"], "60");
    // 0 turns it off.
    sim.knobs(json!({"start_rate_limit_per_minute": 0, "already_running_mode": "success"}))
        .await;
    sim.start_servers(&ids).await;
}

#[tokio::test]
async fn never_finishing_jobs() {
    let sim = TestSim::start(3, fast_knobs()).await;
    let ids = sim.ids();
    sim.knobs(json!({"never_finish_jobs": 1})).await;
    let stuck = sim.start_servers(&ids[..1]).await;
    let fine = sim.start_servers(&ids[1..2]).await;
    assert_eq!(sim.wait_job(&fine).await.status, Some(JobStatus::Success));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, v) = sim.job(&stuck).await;
    assert_eq!(v["status"], "RUNNING");
    assert_eq!(v["end_time"], Value::Null);
    assert_eq!(
        sim.server(&ids[0]).await["OS-EXT-STS:task_state"],
        "powering-on"
    );
    let (_, k) = sim.admin("GET", "/knobs", None).await;
    assert_eq!(k["never_finish_jobs"], 0, "the count was used up");

    sim.knobs(json!({"never_finish": true})).await;
    let stuck2 = sim.start_servers(&ids[2..]).await;
    sim.admin("POST", "/clock/advance", Some(json!({"ms": 3_600_000})))
        .await;
    assert_eq!(sim.job(&stuck2).await.1["status"], "RUNNING");
    let st = sim.stats().await;
    assert_eq!(st["jobs"]["RUNNING"], 2);
    assert_eq!(st["jobs"]["SUCCESS"], 1);
}

#[tokio::test]
async fn finished_jobs_are_purged_after_the_ttl() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    let job = sim.start_servers(&ids[..1]).await;
    sim.wait_job(&job).await;
    // Default TTL: still there an hour later, gone after a day.
    sim.admin("POST", "/clock/advance", Some(json!({"ms": 3_600_000})))
        .await;
    assert_eq!(sim.job(&job).await.0, 200);
    sim.admin("POST", "/clock/advance", Some(json!({"ms": 86_400_000})))
        .await;
    let (s, v) = sim.job(&job).await;
    assert_eq!(s, 404);
    assert_eq!(ecs_code(&v), "Ecs.0000");
    assert_eq!(sim.admin("GET", &format!("/jobs/{job}"), None).await.0, 404);
    // TTL 0: gone as soon as it ends; stats still know when the last job ended.
    sim.knobs(json!({"job_ttl_secs": 0})).await;
    let job = sim.start_servers(&ids[1..]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.job(&job).await.0, 404);
    assert!(sim.stats().await["last_job_end"].is_string());
    // Unknown and malformed ids: 404 in the ECS shape too.
    for bad in [
        "0123456789abcdef0123456789abcdef",
        "nope",
        "FF80808288D41E1B018990260955686A",
    ] {
        let (s, v) = sim.job(bad).await;
        assert_eq!(s, 404, "{bad}");
        assert_eq!(ecs_code(&v), "Ecs.0000");
    }
}

#[tokio::test]
async fn odd_answers_for_client_robustness() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    let job = sim.start_servers(&ids[..1]).await;

    sim.knobs(json!({"job_status_override": "WEIRD"})).await;
    let (s, v) = sim.job(&job).await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "WEIRD");
    sim.knobs(json!({"job_status_override": null})).await;

    sim.knobs(json!({"malformed_job_json": true})).await;
    let r = sim
        .send(
            "GET",
            &format!("/v1/{PROJECT}/jobs/{job}"),
            &[],
            None,
            Opts::default(),
        )
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    sim.knobs(json!({"malformed_job_json": false})).await;

    sim.knobs(json!({"omit_job_id": true})).await;
    let (s, v) = sim.action("os-start", &ids[1..], None).await;
    assert_eq!(s, 200);
    assert_eq!(v, json!({}));
    // The job was still created: the server is starting.
    assert_eq!(sim.start_count(&ids[1]).await, 1);
}

#[tokio::test]
async fn durations_and_time_scale() {
    // 10 s nominal start, 20 s stop, scaled by 0.005 → 50 ms and 100 ms.
    let sim = TestSim::start(
        1,
        Knobs {
            start_duration_ms: [10_000, 10_000],
            stop_duration_ms: [20_000, 20_000],
            time_scale: 0.005,
            start_rate_limit_per_minute: 0,
            ..Knobs::default()
        },
    )
    .await;
    let ids = sim.ids();
    let span = job_span_ms;
    let t = Instant::now();
    let job = sim.wait_job(&sim.start_servers(&ids).await).await;
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(45), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!((49..=51).contains(&span(&job)), "start {} ms", span(&job));
    let (s, v) = sim.action("os-stop", &ids, None).await;
    assert_eq!(s, 200);
    let job = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert!((99..=101).contains(&span(&job)), "stop {} ms", span(&job));
}

#[tokio::test]
async fn admin_servers_add_replace_and_inspect() {
    let sim = TestSim::start(2, slow_knobs()).await;
    let a = "aaaaaaaa-0000-4000-8000-000000000001";
    let b = "bbbbbbbb-0000-4000-8000-000000000002";
    let (s, v) = sim
        .admin(
            "POST",
            "/servers",
            Some(json!({"servers": [
                {"id": a, "status": "ACTIVE"},
                {"id": b, "status": "SHUTOFF", "task_state": "powering-on"},
            ]})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["servers_total"], 4);
    assert_eq!(sim.ids().len(), 4);
    let (_, v) = sim.admin("GET", &format!("/servers/{a}"), None).await;
    assert_eq!(v["server"]["status"], "ACTIVE");
    assert_eq!(v["start_count"], 0);
    assert_eq!(v["stop_count"], 0);
    assert_eq!(sim.server(b).await["OS-EXT-STS:task_state"], "powering-on");
    // ERROR servers carry a fault.
    sim.admin(
        "POST",
        "/servers",
        Some(json!({"servers": [{"id": a, "status": "ERROR"}]})),
    )
    .await;
    let e = sim.server(a).await;
    assert_eq!(e["status"], "ERROR");
    assert!(e["fault"]["message"].is_string());
    // Replace.
    let (s, v) = sim
        .admin(
            "POST",
            "/servers",
            Some(json!({"servers": [{"id": a}], "replace": true})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["servers_total"], 1);
    assert_eq!(sim.ids(), vec![a.to_string()]);
    assert_eq!(sim.server(a).await["status"], "SHUTOFF");
    assert_eq!(
        sim.admin("GET", &format!("/servers/{b}"), None).await.0,
        404
    );
    // Bad specs change nothing.
    for bad in [
        json!({"servers": [{"id": b, "status": "FLYING"}]}),
        json!({"servers": [{"id": b, "status": "ACTIVE", "task_state": "powering-on"}]}),
        json!({"servers": [{"id": ""}]}),
        json!({"nope": 1}),
    ] {
        assert_eq!(sim.admin("POST", "/servers", Some(bad)).await.0, 400);
    }
    assert_eq!(sim.ids().len(), 1);
}

/// An out-of-band power change: the server moves without a job, keeps its lock and its
/// counters, and unknown ids or statuses change nothing.
#[tokio::test]
async fn admin_power_changes_out_of_band_keeping_the_lock() {
    let sim = TestSim::start(3, slow_knobs()).await;
    let ids = sim.ids();
    let admin = sim.sim_admin();
    admin.set_power(&ids[..2], "ACTIVE").await;
    admin
        .set_servers(json!([{"id": ids[1], "status": "ACTIVE", "locked": true}]))
        .await;
    admin.set_power(&ids[1..2], "SHUTOFF").await;
    let locked = sim.server(&ids[1]).await;
    assert_eq!(
        (locked["status"].as_str(), locked["locked"].as_bool()),
        (Some("SHUTOFF"), Some(true))
    );
    assert_eq!(sim.server(&ids[0]).await["status"], "ACTIVE");
    assert_eq!(
        sim.stats().await["jobs"],
        json!({}),
        "no job: {}",
        sim.stats().await
    );
    assert_eq!(sim.start_count(&ids[0]).await, 0, "not counted as a start");
    let unknown = "cccccccc-0000-4000-8000-000000000003";
    let (s, v) = sim
        .admin(
            "POST",
            "/servers/power",
            Some(json!({"server_ids": [ids[2], unknown], "status": "ACTIVE"})),
        )
        .await;
    assert_eq!(s, 404, "{v}");
    assert!(
        v["error"].as_str().unwrap_or_default().contains(unknown),
        "{v}"
    );
    assert_eq!(
        sim.server(&ids[2]).await["status"],
        "SHUTOFF",
        "nothing changed"
    );
    let (s, _) = sim
        .admin(
            "POST",
            "/servers/power",
            Some(json!({"server_ids": [ids[2]], "status": "FLYING"})),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn stats_count_routes_servers_jobs_and_concurrency() {
    let sim = TestSim::start(4, fast_knobs()).await;
    let ids = sim.ids();
    let st = sim.stats().await;
    assert_eq!(st["servers"]["SHUTOFF"], 4);
    assert_eq!(st["requests"], json!({}));
    assert_eq!(st["last_job_end"], Value::Null);
    assert_eq!(st["starts_total"], 0);

    let job = sim.start_servers(&ids[..2]).await;
    sim.wait_job(&job).await;
    sim.call("GET", "/v3/projects", &[], None).await;
    sim.call("GET", "/nope", &[], None).await;
    sim.server(&ids[0]).await;
    let st = sim.stats().await;
    assert_eq!(st["servers"]["ACTIVE"], 2);
    assert_eq!(st["servers"]["SHUTOFF"], 2);
    assert_eq!(st["starts_total"], 2);
    assert_eq!(st["jobs"]["SUCCESS"], 1);
    assert!(st["last_job_end"].is_string());
    assert_eq!(st["requests"][ROUTE_ACTION]["200"], 1);
    assert!(st["requests"][ROUTE_JOB]["200"].as_u64() >= Some(1));
    assert_eq!(st["requests"]["GET /v3/projects"]["200"], 1);
    assert_eq!(st["requests"]["unknown"]["404"], 1);
    assert_eq!(
        st["requests"]["GET /v1/{project_id}/cloudservers/{server_id}"]["200"],
        1
    );
    assert!(st["rss_bytes"].as_u64() > Some(0));

    // Concurrency: 20 requests held 100 ms each by the latency knob.
    sim.knobs(json!({"latency_ms": 100})).await;
    let calls = (0..20).map(|_| list_status(&sim));
    let statuses = futures::future::join_all(calls).await;
    assert!(statuses.iter().all(|&s| s == 200));
    let st = sim.stats().await;
    let max = st["max_concurrent_requests"].as_u64().expect("max");
    assert!((10..=20).contains(&max), "max concurrent {max}");
    assert_eq!(st["current_requests"], 0);

    let (s, _) = sim.admin("POST", "/stats/reset", None).await;
    assert_eq!(s, 200);
    let st = sim.stats().await;
    assert_eq!(st["requests"], json!({}));
    assert_eq!(st["starts_total"], 0);
    assert_eq!(st["max_concurrent_requests"], 0);
    assert_eq!(sim.start_count(&ids[0]).await, 0);
    assert_eq!(st["servers"]["ACTIVE"], 2, "servers are not counters");
}

#[tokio::test]
async fn admin_job_view_needs_no_signature() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let job = sim.start_servers(&sim.ids()).await;
    let (s, v) = sim.admin("GET", &format!("/jobs/{job}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["job_id"], job.as_str());
    assert_eq!(v["entities"]["sub_jobs_total"], 1);
    // Admin calls are not counted.
    let st = sim.stats().await;
    assert!(st["requests"]
        .get("GET /v1/{project_id}/jobs/{job_id}")
        .is_none());
}

#[tokio::test]
async fn restarting_a_starting_server_joins_and_counts() {
    let sim = TestSim::start(
        1,
        Knobs {
            start_duration_ms: [300, 300],
            start_rate_limit_per_minute: 0,
            ..Knobs::default()
        },
    )
    .await;
    let ids = sim.ids();
    let a = sim.start_servers(&ids).await;
    let b = sim.start_servers(&ids).await;
    assert_eq!(sim.start_count(&ids[0]).await, 2, "both starts are counted");
    let ja = sim.wait_job(&a).await;
    let jb = sim.wait_job(&b).await;
    assert_eq!(ja.status, Some(JobStatus::Success));
    assert_eq!(jb.status, Some(JobStatus::Success));
    assert_eq!(ja.end_time, jb.end_time, "the second start joins the first");
    // A stop during a start conflicts (Ecs.0603 sub-job).
    sim.admin(
        "POST",
        "/servers",
        Some(
            json!({"servers": [{"id": ids[0], "status": "SHUTOFF", "task_state": "powering-on"}]}),
        ),
    )
    .await;
    let (s, v) = sim.action("os-stop", &ids, None).await;
    assert_eq!(s, 200);
    let j = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert_eq!(j.status, Some(JobStatus::Fail));
    assert_eq!(j.sub_jobs()[0].error_code.as_deref(), Some("Ecs.0603"));
}

/// The milliseconds between a finished job's `begin_time` and `end_time`.
fn job_span_ms(job: &terraform_provider_ecs::api::models::Job) -> i128 {
    let parse = |s: &Option<String>| {
        time::OffsetDateTime::parse(
            s.as_deref().expect("time"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("rfc3339")
    };
    (parse(&job.end_time) - parse(&job.begin_time)).whole_milliseconds()
}

#[tokio::test]
async fn stop_and_reboot_durations_per_type_and_time_scale() {
    // Nominal 20 s soft stop, 6 s hard stop, 16 s soft reboot, 10 s hard reboot, scaled by
    // 0.005: 100, 30, 80 and 50 ms.
    let sim = TestSim::start(
        1,
        Knobs {
            stop_duration_ms: [20_000, 20_000],
            hard_stop_duration_ms: [6_000, 6_000],
            reboot_duration_ms: [16_000, 16_000],
            hard_reboot_duration_ms: [10_000, 10_000],
            time_scale: 0.005,
            ..fast_knobs()
        },
    )
    .await;
    let ids = sim.ids();
    for (key, t, ms) in [
        ("reboot", "SOFT", 80),
        ("reboot", "HARD", 50),
        ("os-stop", "SOFT", 100),
        ("os-stop", "HARD", 30),
    ] {
        sim.sim_admin().set_active(&ids).await;
        let (s, v) = sim.action(key, &ids, Some(("type", t))).await;
        assert_eq!(s, 200, "{v}");
        let job = sim.wait_job(v["job_id"].as_str().expect("job")).await;
        assert_eq!(job.status, Some(JobStatus::Success), "{key} {t}");
        let span = job_span_ms(&job);
        assert!((ms - 1..=ms + 1).contains(&span), "{key} {t}: {span} ms");
    }
}

#[tokio::test]
async fn stop_and_reboot_of_a_stopped_server_follow_already_running_mode() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    let actions = [
        ("os-stop", None),
        ("os-stop", Some(("type", "HARD"))),
        ("reboot", Some(("type", "SOFT"))),
        ("reboot", Some(("type", "HARD"))),
    ];
    for mode in ["subjob_fail", "sync_400", "success"] {
        sim.knobs(json!({ "already_running_mode": mode })).await;
        for (key, t) in actions {
            // ids[0] running, ids[1] stopped.
            sim.sim_admin()
                .set_servers(json!([
                    {"id": ids[0], "status": "ACTIVE"},
                    {"id": ids[1], "status": "SHUTOFF"},
                ]))
                .await;
            let what = format!("{mode}: {key} {t:?}");
            let (s, v) = sim.action(key, &ids, t).await;
            if mode == "sync_400" {
                assert_eq!((s, ecs_code(&v)), (400, "Ecs.0100"), "{what}");
                let detail = v["error"]["details"][0]["message"]
                    .as_str()
                    .expect("detail");
                assert!(detail.contains(&ids[1]), "{what}: {detail}");
                assert_eq!(v["error"]["details"].as_array().map(Vec::len), Some(1));
                let running = sim.server(&ids[0]).await;
                assert_eq!(running["OS-EXT-STS:task_state"], Value::Null, "{what}");
                continue;
            }
            assert_eq!(s, 200, "{what}: {v}");
            let job = sim.wait_job(v["job_id"].as_str().expect("job")).await;
            let stopped = job.sub_jobs()[1].clone();
            if mode == "success" {
                assert_eq!(job.status, Some(JobStatus::Success), "{what}");
                assert_eq!(stopped.status, Some(JobStatus::Success), "{what}");
            } else {
                assert_eq!(job.status, Some(JobStatus::Fail), "{what}");
                assert_eq!(stopped.error_code.as_deref(), Some("Ecs.0100"), "{what}");
                assert_eq!(job.sub_jobs()[0].status, Some(JobStatus::Success));
            }
            // A stopped server stays stopped: a reboot never starts it.
            assert_eq!(sim.server(&ids[1]).await["status"], "SHUTOFF", "{what}");
        }
    }
}

#[tokio::test]
async fn ignored_soft_stops_fail_and_a_hard_stop_overrides_them() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    sim.sim_admin().set_active(&ids).await;
    sim.knobs(json!({"ignore_soft_stop": [ids[0]], "soft_stop_timeout_ms": 300}))
        .await;
    let (_, v) = sim.action("os-stop", &ids, Some(("type", "SOFT"))).await;
    let soft = v["job_id"].as_str().expect("job").to_string();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let ignoring = sim.server(&ids[0]).await;
    assert_eq!(ignoring["status"], "ACTIVE");
    assert_eq!(ignoring["OS-EXT-STS:task_state"], "powering-off");
    assert_eq!(sim.server(&ids[1]).await["status"], "SHUTOFF");
    let job = sim.wait_job(&soft).await;
    assert_eq!(job.status, Some(JobStatus::Fail));
    assert_eq!(job.error_code.as_deref(), Some("Ecs.0228"));
    assert_eq!(job.sub_jobs()[0].error_code.as_deref(), Some("Ecs.0228"));
    assert_eq!(job.sub_jobs()[1].status, Some(JobStatus::Success));
    let after = sim.server(&ids[0]).await;
    assert_eq!(after["status"], "ACTIVE");
    assert_eq!(after["OS-EXT-STS:task_state"], Value::Null);

    // Soft again, then HARD while the soft stop is under way: the server stops in the hard
    // duration and the soft stop's sub-job ends with it, SUCCESS.
    let (_, v) = sim.action("os-stop", &ids[..1], None).await;
    let soft = v["job_id"].as_str().expect("job").to_string();
    let (s, v) = sim
        .action("os-stop", &ids[..1], Some(("type", "HARD")))
        .await;
    assert_eq!(s, 200, "{v}");
    let hard = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert_eq!(hard.status, Some(JobStatus::Success));
    assert_eq!(sim.server(&ids[0]).await["status"], "SHUTOFF");
    let soft = sim.wait_job(&soft).await;
    assert_eq!(soft.status, Some(JobStatus::Success));
    assert_eq!(soft.end_time, hard.end_time);

    // With soft_stop_blocks_hard_stop the HARD stop is refused as busy instead.
    sim.sim_admin().set_active(&ids[..1]).await;
    sim.knobs(json!({"soft_stop_blocks_hard_stop": true})).await;
    sim.action("os-stop", &ids[..1], None).await;
    let (_, v) = sim
        .action("os-stop", &ids[..1], Some(("type", "HARD")))
        .await;
    let busy = sim.wait_job(v["job_id"].as_str().expect("job")).await;
    assert_eq!(busy.error_code.as_deref(), Some("Ecs.0603"));
    assert_eq!(sim.stats().await["stops_total"], 6);
}

#[tokio::test]
async fn failing_servers_fail_stops_and_reboots_with_their_codes() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    sim.knobs(json!({"failing_servers": [ids[0]]})).await;
    for (key, t, code) in [
        ("reboot", "SOFT", "Ecs.0227"),
        ("reboot", "HARD", "Ecs.0227"),
        ("os-stop", "SOFT", "Ecs.0228"),
        ("os-stop", "HARD", "Ecs.0228"),
    ] {
        sim.sim_admin().set_active(&ids).await;
        let (s, v) = sim.action(key, &ids, Some(("type", t))).await;
        assert_eq!(s, 200, "{v}");
        let job = sim.wait_job(v["job_id"].as_str().expect("job")).await;
        assert_eq!(job.status, Some(JobStatus::Fail), "{key} {t}");
        assert_eq!(job.error_code.as_deref(), Some(code), "{key} {t}");
        assert_eq!(job.sub_jobs()[0].error_code.as_deref(), Some(code));
        assert_eq!(job.sub_jobs()[1].status, Some(JobStatus::Success));
        let failed = sim.server(&ids[0]).await;
        assert_eq!(failed["status"], "ACTIVE", "{key} {t}");
        assert_eq!(failed["OS-EXT-STS:task_state"], Value::Null);
    }
}

#[tokio::test]
async fn reboots_are_counted_and_reset() {
    let sim = TestSim::start(2, fast_knobs()).await;
    let ids = sim.ids();
    sim.sim_admin().set_active(&ids).await;
    let (_, v) = sim.action("reboot", &ids, Some(("type", "SOFT"))).await;
    sim.wait_job(v["job_id"].as_str().expect("job")).await;
    let (_, v) = sim
        .action("reboot", &ids[..1], Some(("type", "HARD")))
        .await;
    sim.wait_job(v["job_id"].as_str().expect("job")).await;
    // A reboot refused whole is not counted.
    sim.knobs(json!({"already_running_mode": "sync_400"})).await;
    sim.sim_admin()
        .set_servers(json!([{"id": ids[1], "status": "SHUTOFF"}]))
        .await;
    assert_eq!(
        sim.action("reboot", &ids, Some(("type", "SOFT"))).await.0,
        400
    );
    let st = sim.stats().await;
    assert_eq!(
        (
            &st["reboots_total"],
            &st["starts_total"],
            &st["stops_total"]
        ),
        (&json!(3), &json!(0), &json!(0))
    );
    let server = sim.sim_admin().server(&ids[0]).await;
    assert_eq!(server["reboot_count"], 2);
    assert_eq!(server["start_count"], 0);
    assert_eq!(sim.sim_admin().server(&ids[1]).await["reboot_count"], 1);
    sim.sim_admin().reset_stats().await;
    assert_eq!(sim.stats().await["reboots_total"], 0);
    assert_eq!(sim.sim_admin().server(&ids[0]).await["reboot_count"], 0);
}
