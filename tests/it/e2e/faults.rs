//! The fault matrix, bad input and security of issue 7, end to end: the built provider under
//! real Terraform 1.0.3 and 1.15.5 against ecs-sim's fault knobs. Each test asserts the
//! outcome (exit code, error text, job ids in state, ecs-sim's request and start counts);
//! `docs/guides/reliability.md` states the same outcomes, one table row per scenario.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use terraform_provider_ecs::sim::{
    SimConfig, ROUTE_ACTION as ACTION, ROUTE_JOB as JOB, ROUTE_LIST as LIST,
};

use crate::support::process::*;
use crate::support::secrets::*;
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    storm_of_429s_is_retried_within_bounds_honouring_retry_after,
    job_read_5xx_bursts_short_succeed_long_fail_keeping_job_ids,
    dropped_connections_get_retried_post_never_resent_blindly,
    never_finishing_job_times_out_naming_it_then_next_apply_starts_only_stopped,
    partial_failure_under_both_parent_status_modes,
    servers_started_meanwhile_count_as_started_under_every_already_running_mode,
    pacing_5000_servers_causes_no_429,
    purged_malformed_unknown_status_and_no_job_id_are_clear,
    sigterm_to_provider_mid_wait_keeps_every_job_id,
    ctrl_c_to_terraform_process_group_keeps_every_job_id,
    bad_provider_inputs_fail_at_plan_without_requests,
    no_secret_in_trace_log_state_plan_or_errors,
    self_signed_tls_refused_unless_insecure,
    expired_token_and_skewed_clock_get_401_naming_the_cause,
);

/// No pacing: most scenarios are about faults, not the start rate.
const NO_PACING: &str = "  start_rate_limit = 0";
const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];

fn main_tf(sim: &Sim, provider_settings: &str, resource_extra: &str) -> String {
    format!(
        "{}{}",
        provider_hcl(&sim.url, provider_settings),
        resource_from_file("fleet", resource_extra)
    )
}

fn workspace(
    version: &str,
    sim: &Sim,
    provider_settings: &str,
    resource_extra: &str,
    ids: &[String],
) -> Workspace {
    let ws = Workspace::new(
        version,
        sim,
        &main_tf(sim, provider_settings, resource_extra),
    );
    write_ids(&ws, ids);
    ws
}

fn state(ws: &Workspace) -> Value {
    ws.resource_values("ecs_batch_start.fleet")
        .expect("ecs_batch_start.fleet is in state")
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

/// The output with Terraform's line wrapping (and the box drawing of its diagnostics)
/// undone: words separated by single spaces.
fn flat(run: &Run) -> String {
    run.text()
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `sleep_ms` of every "retrying after a transient error" line of a provider log.
fn retry_sleeps_ms(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains("retrying after a transient error"))
        .filter_map(|l| {
            let rest = &l[l.find("sleep_ms=")? + "sleep_ms=".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

// ---- 1. 429 storm ---------------------------------------------------------------------

/// Half of all requests answered 429 with `Retry-After: 1`: apply succeeds; every call
/// succeeded within 1 + max_retries attempts; every retry after a 429 slept at least the
/// second `Retry-After` asked for (the provider's own first backoff is 0.25-0.5 s).
fn storm_of_429s_is_retried_within_bounds_honouring_retry_after(version: &str) {
    let sim = Sim::start(10);
    // The calls are sequential (one state read, one POST, job reads), so the seeded draws
    // always fall the same way: seed 21 throttles the state read twice, the POST once and the
    // job read once, and never one call six times in a row (which max_retries = 5 forbids).
    sim.knobs(json!({"fault_429": 0.5, "retry_after_secs": 1, "seed": 21}));
    let mut ws = workspace(version, &sim, NO_PACING, "", &sim.ids);
    let log = ws.path("debug.log");
    ws.set_env("TF_LOG", Some("DEBUG"));
    ws.set_env("TF_LOG_PATH", Some(log.to_str().expect("utf-8 path")));
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "apply succeeds through the storm: {apply:?}");

    let v = state(&ws);
    assert_eq!(strings(&v["started_server_ids"]), sorted(&sim.ids));
    assert_eq!(strings(&v["job_ids"]).len(), 1);
    let throttled = sim.count_all("429");
    for route in [LIST, ACTION, JOB] {
        assert!(
            sim.count(route, "429") >= 1,
            "the storm hit {route}: {}",
            sim.stats()
        );
    }
    // Bounded: one successful state read and one accepted POST; no call needed more than
    // 1 + max_retries (5) attempts.
    assert_eq!(sim.count(LIST, "200"), 1, "{}", sim.stats());
    assert_eq!(sim.count(ACTION, "200"), 1, "{}", sim.stats());
    for route in [LIST, ACTION] {
        assert!(sim.count(route, "429") <= 5, "{route}: {}", sim.stats());
    }
    assert!(
        sim.count(JOB, "429") <= 5 * sim.count(JOB, "200"),
        "{}",
        sim.stats()
    );
    assert_eq!(sim.stats()["servers"]["ACTIVE"], 10);
    for id in &sim.ids {
        assert_eq!(sim.start_count(id), 1, "{id} started once");
    }
    // Retry-After honoured: one retry per 429, each after at least 1000 ms.
    let log = std::fs::read_to_string(&log).expect("debug log");
    let sleeps = retry_sleeps_ms(&log);
    assert_eq!(
        sleeps.len() as u64,
        throttled,
        "one retry per 429: {sleeps:?}"
    );
    assert!(
        sleeps.iter().all(|&ms| ms >= 1000),
        "every retry waited for Retry-After: {sleeps:?}"
    );
}

// ---- 2. 5xx bursts on job reads ---------------------------------------------------------

fn job_read_5xx_bursts_short_succeed_long_fail_keeping_job_ids(version: &str) {
    let sim = Sim::start(10);
    let (first, second) = (sim.ids[..5].to_vec(), sim.ids[5..].to_vec());
    // A short burst: two 503s on the first job read, then success.
    sim.knobs(json!({"fault_routes": [JOB], "fault_5xx_burst": 2}));
    let ws = workspace(version, &sim, NO_PACING, "", &first);
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "a short 5xx burst is retried: {apply:?}");
    assert_eq!(sim.count(JOB, "503"), 2);
    assert!(sim.count(JOB, "200") >= 1);
    assert_eq!(strings(&state(&ws)["started_server_ids"]), sorted(&first));

    // A burst longer than the retry budget (max_retries = 1): a clear error naming the job
    // and the gateway's answer; the job id stays in state.
    ws.write(
        "main.tf",
        &main_tf(&sim, &format!("{NO_PACING}\n  max_retries = 1"), ""),
    );
    write_ids(&ws, &second);
    sim.knobs(json!({"fault_5xx_burst": 10}));
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 1, "{apply:?}");
    assert_eq!(sim.count(JOB, "503"), 2, "1 + max_retries reads, no more");
    assert_eq!(sim.count(ACTION, "200"), 1);
    let v = state(&ws);
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1, "{v}");
    let text = flat(&apply);
    for needed in [
        format!("job {}: reading it failed", jobs[0]),
        "HTTP 503, APIGW.0202".to_string(),
        "saved in state (job_ids)".to_string(),
    ] {
        assert!(text.contains(&needed), "{needed:?}: {apply:?}");
    }

    // Nothing lost: the next apply replaces the tainted resource; every server already
    // runs, so nothing is sent.
    sim.knobs(json!({"fault_5xx_burst": 0}));
    sim.reset_stats();
    let again = ws.apply();
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(strings(&state(&ws)["skipped_server_ids"]), sorted(&second));
    assert_eq!(sim.requests(ACTION), 0);
}

// ---- 3. Dropped connections -------------------------------------------------------------

fn dropped_connections_get_retried_post_never_resent_blindly(version: &str) {
    let sim = Sim::start(30);
    let (a, b, c) = (
        sim.ids[..10].to_vec(),
        sim.ids[10..20].to_vec(),
        sim.ids[20..].to_vec(),
    );
    // GET: two job reads lose their connection; both are retried.
    sim.knobs(json!({"fault_routes": [JOB], "fault_drop_burst": 2}));
    let ws = workspace(version, &sim, NO_PACING, "", &a);
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.count(JOB, "dropped"), 2);
    assert!(sim.count(JOB, "200") >= 1);
    assert_eq!(strings(&state(&ws)["started_server_ids"]), sorted(&a));

    // POST, answer lost after ecs-sim carried it out ("after"): the batch is not re-sent;
    // the states are re-read and show the servers starting, then running.
    write_ids(&ws, &b);
    sim.knobs(json!({"fault_routes": [ACTION], "fault_drop_burst": 1, "fault_drop_mode": "after"}));
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.count(ACTION, "dropped"), 1);
    assert_eq!(sim.requests(ACTION), 1, "the POST was not re-sent");
    assert!(
        sim.count(LIST, "200") >= 2,
        "states re-read: {}",
        sim.stats()
    );
    for id in &b {
        assert_eq!(sim.start_count(id), 1, "{id} started exactly once");
        assert_eq!(sim.status_of(id), "ACTIVE");
    }
    let v = state(&ws);
    assert_eq!(strings(&v["started_server_ids"]), sorted(&b));
    assert!(
        strings(&v["job_ids"]).is_empty(),
        "the only answer carrying the job id was lost: {v}"
    );

    // POST dropped before ecs-sim acted ("before"): the re-read shows them still stopped,
    // so the batch is sent once more; still one start each.
    write_ids(&ws, &c);
    sim.knobs(
        json!({"fault_routes": [ACTION], "fault_drop_burst": 1, "fault_drop_mode": "before"}),
    );
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.count(ACTION, "dropped"), 1);
    assert_eq!(sim.count(ACTION, "200"), 1);
    for id in &c {
        assert_eq!(sim.start_count(id), 1, "{id} started exactly once");
    }
    let v = state(&ws);
    assert_eq!(strings(&v["started_server_ids"]), sorted(&c));
    assert_eq!(strings(&v["job_ids"]).len(), 1);
}

// ---- 4. A job that never finishes -------------------------------------------------------

fn never_finishing_job_times_out_naming_it_then_next_apply_starts_only_stopped(version: &str) {
    let sim = Sim::start(6);
    let (stuck, fresh) = (sim.ids[..3].to_vec(), sim.ids[3..].to_vec());
    sim.knobs(json!({"never_finish_jobs": 1}));
    let timeouts = "  timeouts {\n    create = \"3s\"\n  }";
    let ws = workspace(version, &sim, NO_PACING, timeouts, &stuck);
    let started = Instant::now();
    let apply = ws.apply();
    let took = started.elapsed();
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(took >= Duration::from_secs(3), "waited for timeouts.create");
    let jobs = strings(&state(&ws)["job_ids"]);
    assert_eq!(jobs.len(), 1);
    let text = flat(&apply);
    for needed in [
        "Timed out waiting for the start jobs".to_string(),
        "timeouts.create (3s)".to_string(),
        format!("job(s) still running: {}", jobs[0]),
        "3 server(s) not confirmed started".to_string(),
    ] {
        assert!(text.contains(&needed), "{needed:?}: {apply:?}");
    }

    // The next apply, with three more servers: the stuck ones are waited on, never sent
    // again; only the stopped ones are started.
    write_ids(&ws, &sim.ids);
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(
        apply.code, 1,
        "the stuck starts still do not end: {apply:?}"
    );
    assert_eq!(sim.count(ACTION, "200"), 1);
    for id in &stuck {
        assert_eq!(sim.start_count(id), 0, "{id} (starting) was not sent again");
    }
    for id in &fresh {
        assert_eq!(sim.start_count(id), 1, "{id} (stopped) was started");
    }
    let v = state(&ws);
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1, "{v}");
    assert_eq!(strings(&v["started_server_ids"]), sorted(&fresh));
    let text = flat(&apply);
    assert!(
        text.contains("Timed out waiting for the start jobs"),
        "{apply:?}"
    );
    assert!(
        text.contains("3 server(s) whose start was already in progress"),
        "{apply:?}"
    );
    for id in &stuck {
        assert!(text.contains(id.as_str()), "names {id}: {apply:?}");
    }
}

// ---- 5. Partial failure -----------------------------------------------------------------

fn partial_failure_under_both_parent_status_modes(version: &str) {
    let sim = Sim::start(10);
    let ws = workspace(version, &sim, NO_PACING, "", &sim.ids[..5]);
    for (mode, ids, parent) in [
        ("fail", sim.ids[..5].to_vec(), "FAIL"),
        ("success", sim.ids[5..].to_vec(), "SUCCESS"),
    ] {
        let failing = vec![ids[1].clone(), ids[3].clone()];
        sim.knobs(json!({"failing_servers": failing, "partial_failure_parent": mode}));
        write_ids(&ws, &ids);
        let apply = ws.apply();
        assert_eq!(apply.code, 1, "{mode}: {apply:?}");
        let text = flat(&apply);
        assert!(
            text.contains("2 server(s) failed to start"),
            "{mode}: {apply:?}"
        );
        for id in &failing {
            let line = format!("- {id}: Ecs.0226: Failed to start the ECS (simulated failure).");
            assert!(text.contains(&line), "{mode}: {line:?}: {apply:?}");
        }
        let v = state(&ws);
        let jobs = strings(&v["job_ids"]);
        assert_eq!(jobs.len(), 1, "{mode}: {v}");
        assert_eq!(sim.job(&jobs[0])["status"], parent, "{mode}: parent status");
        assert_eq!(strings(&v["failed_server_ids"]), sorted(&failing));
        let rest: Vec<String> = ids
            .iter()
            .filter(|i| !failing.contains(i))
            .cloned()
            .collect();
        assert_eq!(strings(&v["started_server_ids"]), sorted(&rest), "{mode}");
    }
}

// ---- 6. Already running ----------------------------------------------------------------

/// The pre-check skips servers already running, so a start of a running server only
/// happens when someone starts it between the pre-check and the POST. Here the POST is
/// throttled once (Retry-After 2 s) and two servers are started meanwhile.
fn servers_started_meanwhile_count_as_started_under_every_already_running_mode(version: &str) {
    let sim = Sim::start(18);
    let ws = workspace(version, &sim, NO_PACING, "", &sim.ids[..6]);
    for (k, mode) in ["subjob_fail", "sync_400", "success"].iter().enumerate() {
        let ids = sim.ids[k * 6..k * 6 + 6].to_vec();
        let (running, meanwhile, stopped) =
            (vec![ids[0].clone()], ids[1..3].to_vec(), ids[3..].to_vec());
        sim.set_active(&running);
        sim.knobs(json!({
            "already_running_mode": mode,
            "fault_routes": [ACTION],
            "fault_429_burst": 1,
            "retry_after_secs": 2
        }));
        sim.reset_stats();
        write_ids(&ws, &ids);
        let apply = ws.spawn_to_files(APPLY, false);
        assert!(
            wait_until(Duration::from_secs(60), || sim.count(ACTION, "429") == 1),
            "{mode}: the POST was throttled"
        );
        sim.set_active(&meanwhile);
        let out = apply.finish(Duration::from_secs(120));
        assert_eq!(out.code, 0, "{mode}: never an error: {out:?}");
        let v = state(&ws);
        assert_eq!(strings(&v["skipped_server_ids"]), running, "{mode}");
        let started: Vec<String> = ids[1..].to_vec();
        assert_eq!(
            strings(&v["started_server_ids"]),
            sorted(&started),
            "{mode}"
        );
        assert!(strings(&v["failed_server_ids"]).is_empty(), "{mode}: {v}");
        for id in &stopped {
            assert_eq!(sim.start_count(id), 1, "{mode}: {id} started once");
        }
        for id in &ids {
            assert_eq!(sim.status_of(id), "ACTIVE", "{mode}: {id}");
        }
        let jobs = strings(&v["job_ids"]);
        assert_eq!(jobs.len(), 1, "{mode}: {v}");
        let subs = sim.job(&jobs[0])["entities"]["sub_jobs"].clone();
        let sub_of = |id: &str| {
            subs.as_array()
                .and_then(|a| a.iter().find(|s| s["entities"]["server_id"] == id))
                .cloned()
        };
        match *mode {
            // The running servers were in the POST; their sub-jobs failed with Ecs.0100.
            "subjob_fail" => {
                assert_eq!(sim.count(ACTION, "200"), 1);
                for id in &meanwhile {
                    let sub = sub_of(id).expect("sub-job");
                    assert_eq!(sub["status"], "FAIL", "{sub}");
                    assert_eq!(sub["error_code"], "Ecs.0100", "{sub}");
                }
            }
            // The whole POST was refused (400 Ecs.0100); states re-read, the stopped ones
            // sent again without the running ones.
            "sync_400" => {
                assert_eq!(sim.count(ACTION, "400"), 1, "{}", sim.stats());
                assert_eq!(sim.count(ACTION, "200"), 1, "{}", sim.stats());
                for id in &meanwhile {
                    assert!(sub_of(id).is_none(), "{id} not re-sent");
                    assert_eq!(sim.start_count(id), 0);
                }
            }
            _ => {
                assert_eq!(sim.count(ACTION, "200"), 1);
                for id in &meanwhile {
                    assert_eq!(sub_of(id).expect("sub-job")["status"], "SUCCESS");
                }
            }
        }
    }
}

// ---- 7. Pacing --------------------------------------------------------------------------

/// 5,000 servers against ecs-sim's rolling-window start limit. Time is scaled sixty-fold
/// on both sides to keep the test fast: ecs-sim allows 1000 starts per 1000 ms window (its
/// documented 1000 a minute), and the provider paces to start_rate_limit = 60000 a minute.
/// The first POST is answered 503 and retried 0.25-0.5 s later, so it is accepted later
/// than planned: the next batch must be spaced from the acceptance, not from the plan.
/// With the provider's pacing no POST is refused; with pacing off, the same limit refuses
/// one, which shows the limit is live.
fn pacing_5000_servers_causes_no_429(version: &str) {
    let sim = Sim::start(7000);
    sim.knobs(json!({
        "start_rate_limit_per_minute": 1000,
        "start_rate_window_ms": 1000,
        "fault_routes": [ACTION],
        "fault_5xx_burst": 1
    }));
    let (fleet, control) = (sim.ids[..5000].to_vec(), sim.ids[5000..].to_vec());
    let ws = workspace(version, &sim, "  start_rate_limit = 60000", "", &fleet);
    let started = Instant::now();
    let apply = ws.apply();
    let took = started.elapsed();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.count(ACTION, "429"), 0, "no 429 from our own pacing");
    assert_eq!(sim.count_all("429"), 0, "{}", sim.stats());
    assert_eq!(sim.count(ACTION, "200"), 5);
    assert_eq!(sim.count(ACTION, "503"), 1, "the first POST was retried");
    assert!(
        took >= Duration::from_secs(4),
        "five batches a second apart: {took:?}"
    );
    let v = state(&ws);
    assert_eq!(strings(&v["job_ids"]).len(), 5);
    assert_eq!(strings(&v["started_server_ids"]).len(), 5000);
    assert_eq!(sim.stats()["servers"]["ACTIVE"], 5000);

    // The control: pacing off, two batches at once → ecs-sim refuses the second (and the
    // client's retry after Retry-After gets it through).
    ws.write("main.tf", &main_tf(&sim, NO_PACING, ""));
    write_ids(&ws, &control);
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(sim.count(ACTION, "429") >= 1, "{}", sim.stats());
}

// ---- 8. Purged job, malformed JSON, unknown status, no job_id ----------------------------

fn purged_malformed_unknown_status_and_no_job_id_are_clear(version: &str) {
    let sim = Sim::start(20);
    let part = |k: usize| sim.ids[k * 5..k * 5 + 5].to_vec();
    let ws = workspace(
        version,
        &sim,
        NO_PACING,
        "  timeouts {\n    create = \"3s\"\n  }",
        &part(0),
    );
    let no_panic = |run: &Run| {
        let text = flat(run);
        assert!(
            !text.contains("panicked") && !text.contains("Plugin did not respond"),
            "{run:?}"
        );
    };
    // An apply that fails cleanly with one job id in state: (state, job ids, output).
    let fails_keeping_one_job = || {
        let apply = ws.apply();
        no_panic(&apply);
        assert_eq!(apply.code, 1, "{apply:?}");
        let v = state(&ws);
        let jobs = strings(&v["job_ids"]);
        assert_eq!(jobs.len(), 1, "{apply:?}");
        (v, jobs, flat(&apply))
    };

    // Purged: finished jobs are purged at once (TTL 0): the read gets 404 Ecs.0000. The
    // error stays, and the servers' states (read once after it) record them as started.
    sim.knobs(json!({"job_ttl_secs": 0}));
    let (v, jobs, text) = fails_keeping_one_job();
    assert_eq!(strings(&v["started_server_ids"]), sorted(&part(0)));
    assert!(
        text.contains(&format!("job {}: reading it failed", jobs[0])),
        "{text}"
    );
    assert!(
        text.contains("HTTP 404, Ecs.0000") && text.contains("has been purged"),
        "{text}"
    );

    // Malformed job JSON.
    sim.knobs(json!({"job_ttl_secs": 86400, "malformed_job_json": true}));
    write_ids(&ws, &part(1));
    let (_, jobs, text) = fails_keeping_one_job();
    assert!(
        text.contains(&format!("job {}: reading it failed", jobs[0]))
            && text.contains("unexpected response"),
        "{text}"
    );

    // An unknown parent status: polled on until timeouts.create; the error names the job
    // and the status; the servers (sub-jobs SUCCESS) are recorded as started.
    sim.knobs(json!({"malformed_job_json": false, "job_status_override": "WEIRD"}));
    write_ids(&ws, &part(2));
    let (v, jobs, text) = fails_keeping_one_job();
    assert_eq!(strings(&v["started_server_ids"]), sorted(&part(2)));
    assert!(
        text.contains(&format!("{} (status \"WEIRD\"", jobs[0])),
        "{text}"
    );

    // 200 without a job_id: the batch may have been carried out, so it is not re-sent; the
    // states are read instead, and they show the servers started.
    sim.knobs(json!({"job_status_override": null, "omit_job_id": true}));
    write_ids(&ws, &part(3));
    sim.reset_stats();
    let apply = ws.apply();
    no_panic(&apply);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.requests(ACTION), 1, "not re-sent");
    let v = state(&ws);
    assert_eq!(strings(&v["started_server_ids"]), sorted(&part(3)));
    assert!(strings(&v["job_ids"]).is_empty(), "{v}");
    assert!(flat(&apply).contains("without a job_id"), "{apply:?}");
    for id in part(3) {
        assert_eq!(sim.start_count(&id), 1);
    }

    // Nothing lost: with the faults gone, one apply over all 20 finds every server running
    // and sends nothing.
    sim.knobs(json!({"omit_job_id": false}));
    write_ids(&ws, &sim.ids);
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(strings(&state(&ws)["skipped_server_ids"]), sorted(&sim.ids));
    assert_eq!(sim.requests(ACTION), 0);
}

// ---- 9. Signals -------------------------------------------------------------------------

/// 2100 servers in three jobs that never finish; the apply is interrupted once every job
/// is being waited on. Returns the sim, the workspace and the running apply.
/// The provider's INFO log goes to `info.log` in the workspace (what the SIGKILL recovery
/// of docs/guides/reliability.md relies on).
fn apply_waiting_on_three_jobs(version: &str, own_group: bool) -> (Sim, Workspace, Spawned) {
    let sim = Sim::start(2100);
    sim.knobs(json!({"never_finish": true}));
    let mut ws = workspace(version, &sim, NO_PACING, "", &sim.ids);
    let log = ws.path("info.log");
    ws.set_env("TF_LOG", Some("INFO"));
    ws.set_env("TF_LOG_PATH", Some(log.to_str().expect("utf-8 path")));
    let apply = ws.spawn_to_files(APPLY, own_group);
    assert!(
        wait_until(Duration::from_secs(60), || {
            sim.count(ACTION, "200") == 3 && sim.requests(JOB) >= 1
        }),
        "the provider submitted 3 batches and waits on them: {}",
        sim.stats()
    );
    (sim, ws, apply)
}

fn assert_interrupted_with_every_job(sim: &Sim, ws: &Workspace, out: &Run, took: Duration) {
    eprintln!("apply ended {:.2} s after the signal", took.as_secs_f64());
    assert!(
        took < Duration::from_secs(5),
        "the provider answered promptly: {took:?}"
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(flat(out).contains("Interrupted"), "{out:?}");
    let v = state(ws);
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 3, "every submitted job id is in state: {v}");
    assert_eq!(sim.stats()["jobs"]["RUNNING"], 3, "{}", sim.stats());
    for job in &jobs {
        assert_eq!(
            sim.job(job)["job_id"],
            job.as_str(),
            "{job} is one of ecs-sim's"
        );
        assert!(flat(out).contains(job.as_str()), "the error lists {job}");
    }
    // Had the provider been killed outright, the INFO log would still hold every job id.
    let log = std::fs::read_to_string(ws.path("info.log")).expect("info.log");
    for job in &jobs {
        assert!(
            log.lines()
                .any(|l| l.contains("batch start accepted") && l.contains(&format!("job_id={job}"))),
            "{job} is logged at INFO as it is accepted"
        );
    }
}

fn sigterm_to_provider_mid_wait_keeps_every_job_id(version: &str) {
    let (sim, ws, apply) = apply_waiting_on_three_jobs(version, false);
    let providers = descendants_named(apply.pid(), "terraform-provi");
    assert_eq!(providers.len(), 1, "one provider process: {providers:?}");
    let sent = Instant::now();
    send_signal("TERM", i64::from(providers[0]));
    let out = apply.finish(Duration::from_secs(60));
    assert_interrupted_with_every_job(&sim, &ws, &out, sent.elapsed());
}

/// What a terminal's Ctrl-C does: SIGINT to Terraform and the provider at once.
fn ctrl_c_to_terraform_process_group_keeps_every_job_id(version: &str) {
    let (sim, ws, apply) = apply_waiting_on_three_jobs(version, true);
    let sent = Instant::now();
    send_signal("INT", -i64::from(apply.pid()));
    let out = apply.finish(Duration::from_secs(60));
    assert_interrupted_with_every_job(&sim, &ws, &out, sent.elapsed());
}

// ---- Bad input --------------------------------------------------------------------------

/// The provider-block inputs that e2e::batch_start's bad-input test does not cover; each is
/// refused at plan, naming the attribute, and ecs-sim sees no request.
fn bad_provider_inputs_fail_at_plan_without_requests(version: &str) {
    let sim = Sim::start(1);
    let resource = format!(
        "\nresource \"ecs_batch_start\" \"bad\" {{\n  server_ids = [\"{}\"]\n}}\n",
        sim.ids[0]
    );
    let with_endpoints = |ecs: &str| {
        provider_hcl(&sim.url, NO_PACING).replacen(
            &format!("ecs = \"{}\"", sim.url),
            &format!("ecs = \"{ecs}\""),
            1,
        )
    };
    let cases: Vec<(String, &str, Vec<&str>)> = vec![
        (
            with_endpoints("http://ecs.example.com"),
            "http to a non-loopback host",
            vec![
                "Invalid endpoint URL",
                "endpoints[\"ecs\"]",
                "plain http to a host that is not loopback",
                "insecure = true",
            ],
        ),
        (
            with_endpoints("ecs.example.com"),
            "a URL without scheme",
            vec!["endpoints[\"ecs\"]", "is not an absolute URL"],
        ),
        (
            provider_hcl(&sim.url, &format!("{NO_PACING}\n  secret_key = \"\"")),
            "an empty secret key",
            vec![
                "Empty secret_key",
                "`secret_key` is set to an empty or blank string",
            ],
        ),
        (
            provider_hcl(
                &sim.url,
                &format!("{NO_PACING}\n  security_token = \"   \""),
            ),
            "a blank security token",
            vec!["`security_token` is set to an empty or blank string"],
        ),
        (
            provider_hcl(&sim.url, NO_PACING).replace(
                &format!("endpoints = {{ ecs = \"{0}\", iam = \"{0}\" }}", sim.url),
                &format!(
                    "endpoints = {{ ecs = \"{0}\", iam = \"{0}\", compute = \"{0}\" }}",
                    sim.url
                ),
            ),
            "an endpoints key that does not exist",
            vec![
                "Unknown endpoint key",
                "\"compute\"",
                "the keys are \"ecs\" and \"iam\"",
            ],
        ),
    ];
    let mut ws = Workspace::new(version, &sim, &provider_hcl(&sim.url, NO_PACING));
    for (hcl, what, expected) in cases {
        ws.write("main.tf", &format!("{hcl}{resource}"));
        let plan = ws.plan();
        assert_eq!(plan.code, 1, "plan fails for {what}: {plan:?}");
        for e in expected {
            assert!(flat(&plan).contains(e), "{what}: {e:?}: {plan:?}");
        }
    }
    // User info in an endpoint: refused at plan, as at configure.
    ws.write(
        "main.tf",
        &format!(
            "{}{resource}",
            with_endpoints("https://user:hunter2@ecs.example.com")
        ),
    );
    let plan = ws.plan();
    assert_eq!(plan.code, 1, "plan fails for user info: {plan:?}");
    for e in [
        "Invalid endpoint URL",
        "endpoints[\"ecs\"]",
        "must not carry a user name or password",
    ] {
        assert!(flat(&plan).contains(e), "user info: {e:?}: {plan:?}");
    }
    // Terraform quotes the configuration line; the provider's own message masks it.
    assert!(
        flat(&plan).contains("\"https://user:***@ecs.example.com\" must not carry"),
        "password not masked: {plan:?}"
    );
    // A blank credential in the environment.
    ws.write(
        "main.tf",
        &format!("{}{resource}", provider_hcl(&sim.url, NO_PACING)),
    );
    ws.set_env("HW_ACCESS_KEY", Some("   "));
    let plan = ws.plan();
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(
        flat(&plan)
            .contains("The environment variable HW_ACCESS_KEY that fills in `access_key` is blank"),
        "{plan:?}"
    );
    assert_eq!(sim.total_requests(), 0, "no bad input reached the API");
}

// ---- Security ---------------------------------------------------------------------------

const TOKEN: &str = "e2e-security-token-4f1c9a7b2d8e6035";
const SECRET_KEY: &str = "e2e-secret-key-9d2b7c41e0a85f36b1c4";

/// ecs-sim with its own secret key (not the demo key compiled into the binaries) and a
/// security token that every request must carry.
fn sim_with_token(servers: usize, tls: bool) -> Sim {
    Sim::start_with(SimConfig {
        servers,
        secret_key: terraform_provider_ecs::api::Secret::new(SECRET_KEY),
        security_token: Some(TOKEN.into()),
        tls,
        ..SimConfig::default()
    })
}

/// A run as a failing security test may print it: secrets and signatures redacted.
fn shown(run: &Run) -> String {
    redact(
        &format!("{run:?}"),
        &[
            ("the secret key", SECRET_KEY),
            ("the security token", TOKEN),
        ],
    )
}

/// A full plan (saved), show, apply (with a partial failure, so errors are printed too)
/// and show with TF_LOG=trace: the secret key, the security token and every signature
/// ecs-sim saw appear nowhere.
fn no_secret_in_trace_log_state_plan_or_errors(version: &str) {
    let sim = sim_with_token(5, false);
    sim.knobs(json!({"failing_servers": [sim.ids[2]]}));
    let mut ws = workspace(version, &sim, NO_PACING, "", &sim.ids);
    let log = ws.path("trace.log");
    ws.set_env("HW_SECURITY_TOKEN", Some(TOKEN));
    ws.set_env("TF_LOG", Some("trace"));
    ws.set_env("TF_LOG_PATH", Some(log.to_str().expect("utf-8 path")));
    let mut check = LeakCheck::new();
    let run = |args: &[&str], check: &mut LeakCheck| {
        let r = ws.run(args);
        check.add(format!("`terraform {}` stdout", args[0]), r.stdout.clone());
        check.add(format!("`terraform {}` stderr", args[0]), r.stderr.clone());
        r
    };
    let plan = run(
        &["plan", "-input=false", "-no-color", "-out=tfplan"],
        &mut check,
    );
    assert_eq!(plan.code, 0, "{}", shown(&plan));
    let show_plan = run(&["show", "-json", "-no-color", "tfplan"], &mut check);
    assert_eq!(show_plan.code, 0, "{}", shown(&show_plan));
    let apply = run(
        &["apply", "-input=false", "-no-color", "tfplan"],
        &mut check,
    );
    assert_eq!(apply.code, 1, "a partial failure: {}", shown(&apply));
    assert!(
        flat(&apply).contains("1 server(s) failed to start"),
        "{}",
        shown(&apply)
    );
    let show = run(&["show", "-json", "-no-color"], &mut check);
    assert_eq!(show.code, 0, "{}", shown(&show));
    check.add("the plan file (unzipped)", unzip_all(&ws.path("tfplan")));
    // Every file the runs left: trace log, state, plan file, lock file, CLI config, HOME.
    // Not .terraform/, which holds the provider binary itself.
    check.add_dir("the workspace", ws.dir.path(), &[".terraform"]);

    // The checks are not vacuous: the log holds the provider's INFO and DEBUG lines, and
    // ecs-sim verified signed requests carrying the token.
    let log_text = std::fs::read_to_string(&log).expect("trace log");
    assert!(
        log_text.contains("batch start accepted"),
        "provider INFO in the log"
    );
    assert!(
        log_text.contains("ECS API call"),
        "provider DEBUG in the log"
    );
    assert!(check.places() >= 12, "searched {} places", check.places());
    // Positive control: the job id, which is no secret, is found where it belongs.
    let job = &strings(&state(&ws)["job_ids"])[0];
    let holders = check.found_in(job);
    for place in [
        "the workspace/trace.log",
        "the workspace/terraform.tfstate",
        "`terraform apply` stderr",
    ] {
        assert!(holders.iter().any(|h| h == place), "{place}: {holders:?}");
    }
    assert!(sim.count(ACTION, "200") == 1 && sim.count(LIST, "200") >= 1);
    let signatures = sim.signatures();
    assert!(signatures.len() >= 3, "ecs-sim saw the signed calls");
    let mut secrets: Vec<(String, String)> = vec![
        ("the secret key".into(), SECRET_KEY.into()),
        ("the security token".into(), TOKEN.into()),
    ];
    for (i, s) in signatures.into_iter().enumerate() {
        secrets.push((format!("signature #{i}"), s));
    }
    let secrets: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    check.assert_absent(&secrets);
}

fn self_signed_tls_refused_unless_insecure(version: &str) {
    let sim = sim_with_token(3, true);
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    let mut ws = workspace(version, &sim, NO_PACING, "", &sim.ids);
    ws.set_env("HW_SECURITY_TOKEN", Some(TOKEN));
    let started = Instant::now();
    let apply = ws.apply();
    assert_eq!(apply.code, 1, "{}", shown(&apply));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a certificate error is not retried"
    );
    let text = flat(&apply);
    for needed in [
        "is not trusted",
        "invalid peer certificate: UnknownIssuer",
        "set insecure = true only for a trusted test endpoint",
    ] {
        assert!(text.contains(needed), "{needed:?}: {}", shown(&apply));
    }
    assert_eq!(
        sim.total_requests(),
        0,
        "no request crossed the refused TLS"
    );

    ws.write(
        "main.tf",
        &main_tf(&sim, &format!("{NO_PACING}\n  insecure = true"), ""),
    );
    let apply = ws.apply();
    assert_eq!(
        apply.code,
        0,
        "insecure = true accepts it: {}",
        shown(&apply)
    );
    assert_eq!(strings(&state(&ws)["started_server_ids"]), sorted(&sim.ids));
}

fn expired_token_and_skewed_clock_get_401_naming_the_cause(version: &str) {
    let sim = sim_with_token(3, false);
    let mut ws = workspace(version, &sim, NO_PACING, "", &sim.ids);
    let stale = "e2e-stale-token-000000000000000000";
    let secrets = [
        ("the secret key", SECRET_KEY),
        ("the configured token", TOKEN),
        ("the stale token", stale),
    ];
    let shown = |run: &Run| redact(&format!("{run:?}"), &secrets);
    ws.set_env("HW_SECURITY_TOKEN", Some(stale));
    let apply = ws.apply();
    assert_eq!(apply.code, 1, "{}", shown(&apply));
    let text = flat(&apply);
    for needed in [
        "HTTP 401, APIGW.0301",
        "the security token is invalid or expired",
        "(request id ",
        "check the access key, the secret key and, for temporary credentials, the security token",
    ] {
        assert!(text.contains(needed), "{needed:?}: {}", shown(&apply));
    }
    let mut check = LeakCheck::new();
    check.add("the expired-token apply's output", apply.text());

    // A clock half an hour off: ecs-sim's clock is moved; the provider signs with the real one.
    ws.set_env("HW_SECURITY_TOKEN", Some(TOKEN));
    sim.knobs(json!({"clock_offset_secs": 1800}));
    let apply = ws.apply();
    assert_eq!(apply.code, 1, "{}", shown(&apply));
    let text = flat(&apply);
    for needed in [
        "HTTP 401, APIGW.0301",
        "x-sdk-date expired",
        "(more than 900 s)",
        "that this machine's clock is right",
    ] {
        assert!(text.contains(needed), "{needed:?}: {}", shown(&apply));
    }
    check.add("the skewed-clock apply's output", apply.text());
    check.assert_absent(&secrets);
    assert_eq!(sim.requests(ACTION), 0, "nothing was started");
    assert!(
        ws.resource_values("ecs_batch_start.fleet").is_none(),
        "nothing sent, so no state: the next apply simply retries"
    );
}

// ---- One TLS stack ----------------------------------------------------------------------

/// rustls (with ring) is the only TLS stack: Cargo.lock, which lists every package any
/// build of this crate can use, has no OpenSSL, native-tls or aws-lc.
#[test]
fn one_tls_stack_rustls_and_no_openssl() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let packages: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    for banned in [
        "openssl",
        "openssl-sys",
        "openssl-probe",
        "native-tls",
        "hyper-tls",
        "tokio-native-tls",
        "aws-lc-rs",
        "aws-lc-sys",
        "boring",
        "boring-sys",
    ] {
        assert!(!packages.contains(&banned), "{banned} is in Cargo.lock");
    }
    for needed in ["rustls", "ring", "tokio-rustls", "hyper-rustls"] {
        assert!(
            packages.contains(&needed),
            "{needed} is missing from Cargo.lock"
        );
    }
}

/// The client behind the provider: a self-signed certificate is an `ApiError::Certificate`
/// after one attempt (no retry can fix it), and `insecure` accepts it.
#[test]
fn certificate_errors_are_not_retried_and_say_what_to_do() {
    use terraform_provider_ecs::api::{
        ApiError, ClientConfig, Credentials, EcsClient, Endpoints, RetryPolicy,
    };
    let sim = Sim::start_with(SimConfig {
        servers: 1,
        tls: true,
        ..SimConfig::default()
    });
    let client = |insecure: bool| {
        EcsClient::new(ClientConfig {
            credentials: Credentials::new(sim.access_key.clone(), sim.secret_key.clone()),
            region: "cn-north-4".into(),
            project_id: Some(sim.project_id.clone()),
            endpoints: Endpoints::for_region("cn-north-4", Some(&sim.url), Some(&sim.url))
                .expect("endpoints"),
            insecure,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(10),
            user_agent: "e2e".into(),
        })
        .expect("client")
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let strict = client(false);
    match rt.block_on(strict.list_servers_by_ids(&sim.ids)) {
        Err(e @ ApiError::Certificate { .. }) => {
            assert!(!e.is_transient());
            let text = e.to_string();
            assert!(text.contains("UnknownIssuer"), "{text}");
            assert!(
                text.contains("set insecure = true only for a trusted test endpoint"),
                "{text}"
            );
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert_eq!(strict.attempts_sent(), 1, "not retried");
    let servers = rt
        .block_on(client(true).list_servers_by_ids(&sim.ids))
        .expect("insecure accepts the certificate");
    assert_eq!(servers.len(), 1);
}

/// `ecs-sim --tls` prints an https URL and serves over TLS with its self-signed certificate.
#[test]
fn ecs_sim_binary_serves_https_with_tls() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-sim"))
        .args(["--listen", "127.0.0.1:0", "--servers", "1", "--tls"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start ecs-sim");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (trusting, strict) = rt.block_on(async {
        let get = |accept: bool| {
            let url = format!("{url}/_sim/health");
            async move {
                let client = reqwest::Client::builder()
                    .danger_accept_invalid_certs(accept)
                    .build()
                    .expect("client");
                match client.get(url).send().await {
                    Ok(r) => Ok(r.text().await.unwrap_or_default()),
                    Err(e) => Err(format!("{e:?}")),
                }
            }
        };
        (get(true).await, get(false).await)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(trusting, Ok("ok".to_string()));
    let refused = strict.expect_err("an unknown issuer is refused");
    assert!(refused.contains("UnknownIssuer"), "{refused}");
}
