//! `ecs_batch_stop` end to end: the built provider under real Terraform 1.0.3 and 1.15.5,
//! against ecs-sim. Every scenario runs on both versions. Also the plan-time checks of the
//! stop and reboot resources and of the per-operation rate limits.

use std::time::{Duration, Instant};

use serde_json::json;
use terraform_provider_ecs::sim::{ROUTE_ACTION as ACTION, ROUTE_JOB as JOB};

use crate::support::process::*;
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    stop_2500_with_5_already_stopped_then_replan_clean,
    guests_ignoring_a_soft_stop_fail_unless_force_after_forces_them,
    partial_failure_keeps_job_ids,
    sigint_mid_wait_keeps_job_ids,
    bad_stop_and_reboot_inputs_fail_at_plan_without_requests,
);

const ADDRESS: &str = "ecs_batch_stop.fleet";
const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];

/// No pacing of any operation: these scenarios are about stopping, not the rate.
pub(super) fn unpaced_provider(sim: &Sim) -> String {
    provider_block(sim, "  stop_rate_limit = 0\n  reboot_rate_limit = 0")
}

fn main_tf(sim: &Sim, resource_extra: &str) -> String {
    format!(
        "{}{}",
        unpaced_provider(sim),
        resource_of_type_from_file("ecs_batch_stop", "fleet", resource_extra)
    )
}

/// A workspace stopping `ids`, which are running.
fn workspace(version: &str, sim: &Sim, resource_extra: &str, ids: &[String]) -> Workspace {
    let ws = Workspace::new(version, sim, &main_tf(sim, resource_extra));
    write_ids(&ws, ids);
    ws
}

fn state(ws: &Workspace) -> serde_json::Value {
    ws.resource_values(ADDRESS)
        .expect("ecs_batch_stop.fleet is in state")
}

pub(super) fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

fn stop_count(sim: &Sim, id: &str) -> u64 {
    sim.server(id)["stop_count"].as_u64().expect("stop_count")
}

fn stop_2500_with_5_already_stopped_then_replan_clean(version: &str) {
    let sim = Sim::start(2500);
    let (stopped, running) = (sim.ids[..5].to_vec(), sim.ids[5..].to_vec());
    sim.set_active(&running);
    let ws = workspace(version, &sim, "", &sim.ids);
    assert_eq!(sim.total_requests(), 0, "init makes no API call");

    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    let v = state(&ws);
    assert_eq!(strings(&v["job_ids"]).len(), 3, "3 batches: {v}");
    assert_eq!(sim.requests(ACTION), 3, "3 POSTs");
    assert_eq!(strings(&v["skipped_server_ids"]), sorted(&stopped));
    assert_eq!(strings(&v["stopped_server_ids"]), sorted(&running));
    assert!(strings(&v["forced_server_ids"]).is_empty(), "{v}");
    assert!(strings(&v["failed_server_ids"]).is_empty(), "{v}");
    assert_eq!(v["force"], false, "the default is a graceful stop: {v}");
    assert_eq!(sim.stats()["servers"]["SHUTOFF"], 2500, "all stopped");
    for id in &stopped {
        assert_eq!(stop_count(&sim, id), 0, "{id} was skipped, not sent");
    }
    assert_eq!(stop_count(&sim, &running[0]), 1);

    let again = ws.plan();
    assert_eq!(again.code, 0, "no changes right after apply: {again:?}");

    sim.reset_stats();
    let destroy = ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.text().contains("Servers left stopped"),
        "{destroy:?}"
    );
    assert_eq!(sim.total_requests(), 0, "destroy sends nothing");
}

/// Three guests ignore a soft stop. Without `force_after` their sub-jobs fail and apply
/// fails naming them; with it they are stopped with `HARD`: at once when the soft stop
/// fails first, at `force_after` when it is still running then.
fn guests_ignoring_a_soft_stop_fail_unless_force_after_forces_them(version: &str) {
    let sim = Sim::start(10);
    sim.set_active(&sim.ids);
    let stubborn = sorted(&sim.ids[..3]);
    sim.knobs(json!({
        "ignore_soft_stop": stubborn,
        "soft_stop_timeout_ms": 300,
        "hard_stop_duration_ms": [10, 30]
    }));
    let ws = workspace(version, &sim, "", &sim.ids);
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "{apply:?}");
    assert!(
        apply.flat().contains("3 server(s) failed to stop"),
        "{apply:?}"
    );
    let v = state(&ws);
    assert_eq!(strings(&v["failed_server_ids"]), stubborn);
    assert_eq!(strings(&v["stopped_server_ids"]).len(), 7);
    for id in &stubborn {
        assert_eq!(sim.status_of(id), "ACTIVE", "{id} ignored the soft stop");
    }

    // With force_after, the tainted resource is replaced: the 7 stopped are skipped, the 3
    // are sent SOFT again, their soft stops fail after 300 ms, and they are forced long
    // before force_after.
    ws.write(
        "main.tf",
        &main_tf(
            &sim,
            "  force_after = \"40s\"\n  timeouts {\n    create = \"2m\"\n  }",
        ),
    );
    sim.reset_stats();
    let began = Instant::now();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(
        began.elapsed() < Duration::from_secs(35),
        "forced when the soft stop failed, not at force_after: {:?}",
        began.elapsed()
    );
    assert_forced(&sim, &ws, &apply, &stubborn);
    assert_eq!(strings(&state(&ws)["skipped_server_ids"]).len(), 7);

    // A soft stop still running at force_after (the service waits longer than that) is
    // forced then.
    sim.set_active(&sim.ids);
    sim.knobs(json!({"soft_stop_timeout_ms": 120_000}));
    ws.write(
        "main.tf",
        &main_tf(
            &sim,
            "  force_after = \"3s\"\n  triggers = { night = \"2\" }",
        ),
    );
    sim.reset_stats();
    let began = Instant::now();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    let took = began.elapsed();
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(60),
        "forced at force_after, long before the soft stop would fail: {took:?}"
    );
    assert_forced(&sim, &ws, &apply, &stubborn);
    assert_eq!(strings(&state(&ws)["stopped_server_ids"]).len(), 10);
}

/// `forced` were stopped with HARD in a second POST, are `SHUTOFF`, are in both
/// `forced_server_ids` and `stopped_server_ids`, and the apply warned about them.
fn assert_forced(sim: &Sim, ws: &Workspace, apply: &Run, forced: &[String]) {
    let v = state(ws);
    assert_eq!(strings(&v["forced_server_ids"]), forced, "{v}");
    let stopped = strings(&v["stopped_server_ids"]);
    assert!(forced.iter().all(|id| stopped.contains(id)), "{v}");
    assert!(strings(&v["failed_server_ids"]).is_empty(), "{v}");
    assert_eq!(sim.requests(ACTION), 2, "one SOFT and one HARD POST");
    assert_eq!(strings(&v["job_ids"]).len(), 2, "both jobs saved: {v}");
    for id in forced {
        assert_eq!(sim.status_of(id), "SHUTOFF", "{id}");
    }
    let text = apply.flat();
    assert!(text.contains("Servers stopped with HARD"), "{apply:?}");
    assert!(text.contains(forced[0].as_str()), "{apply:?}");
}

fn partial_failure_keeps_job_ids(version: &str) {
    let sim = Sim::start(1200);
    sim.set_active(&sim.ids);
    let failing = sorted(&[sim.ids[5].clone(), sim.ids[1100].clone()]);
    sim.knobs(json!({"failing_servers": failing}));
    let ws = workspace(version, &sim, "", &sim.ids);
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "a partial failure fails apply: {apply:?}");
    let text = apply.flat();
    assert!(text.contains("2 server(s) failed to stop"), "{apply:?}");
    for id in &failing {
        assert!(
            text.contains(&format!("- {id}: ")),
            "names {id} with its code: {apply:?}"
        );
    }
    assert!(
        text.contains("the next apply stops only the servers still running."),
        "{apply:?}"
    );
    let v = state(&ws);
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 2, "{v}");
    assert!(jobs.iter().all(|j| text.contains(j.as_str())), "{apply:?}");
    assert_eq!(strings(&v["failed_server_ids"]), failing);
    assert_eq!(strings(&v["stopped_server_ids"]).len(), 1198);

    // The tainted resource is replaced; only the still-running servers are sent again.
    sim.knobs(json!({"failing_servers": []}));
    sim.reset_stats();
    let again = ws.apply();
    assert_eq!(again.code, 0, "{again:?}");
    let v = state(&ws);
    assert_eq!(strings(&v["stopped_server_ids"]), failing);
    assert_eq!(strings(&v["skipped_server_ids"]).len(), 1198);
    assert_eq!(sim.requests(ACTION), 1);
}

fn sigint_mid_wait_keeps_job_ids(version: &str) {
    let sim = Sim::start(5);
    sim.set_active(&sim.ids);
    sim.knobs(json!({"never_finish": true}));
    let ws = workspace(version, &sim, "", &sim.ids);
    interrupt_mid_wait_and_check(&sim, &ws, ADDRESS, "5 server(s) not confirmed stopped");
}

/// Applies `ws` in the background, sends SIGINT to the provider once it waits on the job
/// (which never finishes), and checks that apply stops promptly with `Interrupted` and
/// `unconfirmed`, naming the job, whose id (one of ecs-sim's) is the one in `address`'s
/// state.
pub(super) fn interrupt_mid_wait_and_check(
    sim: &Sim,
    ws: &Workspace,
    address: &str,
    unconfirmed: &str,
) {
    let apply = ws.spawn_to_files(APPLY, false);
    assert!(
        wait_until(Duration::from_secs(30), || sim.requests(JOB) > 0),
        "the provider started waiting on the job: {}",
        sim.stats()
    );
    let providers = descendants_named(apply.pid(), "terraform-provi");
    assert_eq!(providers.len(), 1, "one provider process: {providers:?}");
    send_signal("INT", i64::from(providers[0]));
    let out = apply.finish(Duration::from_secs(15));
    assert_ne!(out.code, 0, "{out:?}");
    let text = out.flat();
    assert!(text.contains("Interrupted"), "{out:?}");
    assert!(text.contains(unconfirmed), "{out:?}");
    let v = ws
        .resource_values(address)
        .expect("state kept after the interrupt");
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1, "the job id is in state: {v}");
    assert_eq!(
        sim.job(&jobs[0])["job_id"],
        jobs[0].as_str(),
        "one of ecs-sim's"
    );
    assert!(text.contains(jobs[0].as_str()), "{out:?}");
}

/// Each bad input is refused at plan, naming the attribute and the value, and no request
/// reaches ecs-sim.
fn bad_stop_and_reboot_inputs_fail_at_plan_without_requests(version: &str) {
    let sim = Sim::start(2);
    let good = &sim.ids[0];
    let one = format!("server_ids = [\"{good}\"]");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "ecs_batch_stop",
            "server_ids = []".into(),
            "No servers to stop",
        ),
        (
            "ecs_batch_stop",
            format!("{one}\n  force_after = \"soon\""),
            "force_after: \"soon\" is not a duration",
        ),
        (
            "ecs_batch_stop",
            format!("{one}\n  force = true\n  force_after = \"5m\""),
            "Conflicting force and force_after",
        ),
        (
            "ecs_batch_stop",
            format!("{one}\n  force_after = \"30m\""),
            "force_after is \"30m\" and timeouts.create is \"30m\"",
        ),
        (
            "ecs_batch_stop",
            format!("{one}\n  force_after = \"5m\"\n  wait = false"),
            "force_after needs wait",
        ),
        (
            "ecs_batch_stop",
            format!("{one}\n  forced_server_ids = []"),
            "`forced_server_ids` is set by the provider",
        ),
        (
            "ecs_batch_reboot",
            format!("server_ids = [\"{good}\", \"not-a-uuid\"]"),
            "server_ids[1] is \"not-a-uuid\"",
        ),
        (
            "ecs_batch_reboot",
            format!("{one}\n  rebooted_server_ids = []"),
            "`rebooted_server_ids` is set by the provider",
        ),
    ];
    let ws = Workspace::new(version, &sim, &unpaced_provider(&sim));
    for (resource_type, body, expected) in cases {
        ws.write(
            "main.tf",
            &format!(
                "{}\nresource \"{resource_type}\" \"bad\" {{\n  {body}\n}}\n",
                unpaced_provider(&sim)
            ),
        );
        let plan = ws.plan();
        assert_eq!(plan.code, 1, "plan fails for {body}: {plan:?}");
        assert!(
            plan.flat().contains(expected),
            "{expected:?} for {body}: {plan:?}"
        );
    }
    for (setting, expected) in [
        ("stop_rate_limit = -1", "`stop_rate_limit` is -1"),
        (
            "reboot_rate_limit = 2000000",
            "`reboot_rate_limit` is 2000000",
        ),
    ] {
        ws.write(
            "main.tf",
            &format!(
                "{}\nresource \"ecs_batch_stop\" \"ok\" {{\n  {one}\n}}\n",
                provider_block(&sim, &format!("  {setting}"))
            ),
        );
        let plan = ws.plan();
        assert_eq!(plan.code, 1, "plan fails for {setting}: {plan:?}");
        assert!(plan.flat().contains(expected), "{expected:?}: {plan:?}");
    }
    assert_eq!(sim.total_requests(), 0, "no bad input reached the API");
}
