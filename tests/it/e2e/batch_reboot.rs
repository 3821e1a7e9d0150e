//! `ecs_batch_reboot` end to end: the built provider under real Terraform 1.0.3 and 1.15.5,
//! against ecs-sim. Every scenario runs on both versions. A reboot is not idempotent: the
//! scenarios count ecs-sim's reboots per server, not just the outcome lists.

use serde_json::{json, Value};
use terraform_provider_ecs::sim::ROUTE_ACTION as ACTION;

use super::batch_stop::{interrupt_mid_wait_and_check, unpaced_provider};
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    a_stopped_server_is_reported_not_sent_then_replan_clean,
    partial_failure_keeps_job_ids,
    sigint_mid_wait_keeps_job_ids,
    a_lost_reboot_answer_never_reboots_twice,
);

const ADDRESS: &str = "ecs_batch_reboot.fleet";

fn main_tf(sim: &Sim, resource_extra: &str) -> String {
    format!(
        "{}{}",
        unpaced_provider(sim),
        resource_of_type_from_file("ecs_batch_reboot", "fleet", resource_extra)
    )
}

/// ecs-sim with `servers` running servers (the harness makes reboots take tens of ms).
fn running_sim(servers: usize) -> Sim {
    let sim = Sim::start(servers);
    sim.set_active(&sim.ids);
    sim
}

fn workspace(version: &str, sim: &Sim, ids: &[String]) -> Workspace {
    let ws = Workspace::new(version, sim, &main_tf(sim, ""));
    write_ids(&ws, ids);
    ws
}

fn state(ws: &Workspace) -> Value {
    ws.resource_values(ADDRESS)
        .expect("ecs_batch_reboot.fleet is in state")
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v
}

fn reboot_count(sim: &Sim, id: &str) -> u64 {
    sim.server(id)["reboot_count"]
        .as_u64()
        .expect("reboot_count")
}

/// The servers of a job's sub-jobs, sorted: what ecs-sim was asked to reboot.
fn sub_job_servers(sim: &Sim, job_id: &str) -> Vec<String> {
    let job = sim.job(job_id);
    let subs = job["entities"]["sub_jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut ids: Vec<String> = subs
        .iter()
        .filter_map(|s| s["entities"]["server_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// A stopped server in the list is refused before anything is sent (a reboot would start
/// it); the others reboot. With the list fixed, the next apply succeeds and the plan after
/// it is clean.
fn a_stopped_server_is_reported_not_sent_then_replan_clean(version: &str) {
    let sim = running_sim(6);
    let stopped = sim.ids[2].clone();
    sim.set_servers(json!([{"id": stopped, "status": "SHUTOFF"}]));
    let running: Vec<String> = sim
        .ids
        .iter()
        .filter(|id| **id != stopped)
        .cloned()
        .collect();
    let ws = workspace(version, &sim, &sim.ids);
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "a refused server fails apply: {apply:?}");
    let text = apply.flat();
    assert!(text.contains("1 server(s) failed to reboot"), "{apply:?}");
    assert!(
        text.contains(&format!("- {stopped}: state: the server is stopped (SHUTOFF): a reboot would start it, so it was not sent")),
        "{apply:?}"
    );
    let v = state(&ws);
    assert_eq!(strings(&v["failed_server_ids"]), vec![stopped.clone()]);
    assert_eq!(strings(&v["rebooted_server_ids"]), sorted(&running));
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1, "{v}");
    assert_eq!(
        sub_job_servers(&sim, &jobs[0]),
        sorted(&running),
        "not sent"
    );
    assert_eq!(sim.status_of(&stopped), "SHUTOFF", "not started");
    assert_eq!(sim.start_count(&stopped), 0);

    write_ids(&ws, &running);
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    let v = state(&ws);
    assert_eq!(strings(&v["rebooted_server_ids"]), sorted(&running));
    assert!(strings(&v["failed_server_ids"]).is_empty(), "{v}");
    assert_eq!(sim.requests(ACTION), 1);
    for id in &running {
        assert_eq!(sim.status_of(id), "ACTIVE", "{id} is back up");
    }
    let again = ws.plan();
    assert_eq!(again.code, 0, "no changes right after apply: {again:?}");
}

/// A failed reboot keeps the job id; the error says the next apply would reboot everyone
/// again, and `terraform untaint` keeps the record instead.
fn partial_failure_keeps_job_ids(version: &str) {
    let sim = running_sim(8);
    let failing = sim.ids[3].clone();
    sim.knobs(json!({"failing_servers": [failing]}));
    let ws = workspace(version, &sim, &sim.ids);
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "{apply:?}");
    let text = apply.flat();
    assert!(text.contains("1 server(s) failed to reboot"), "{apply:?}");
    assert!(text.contains(&format!("- {failing}: ")), "{apply:?}");
    assert!(text.contains("terraform untaint"), "{apply:?}");
    let v = state(&ws);
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1, "{v}");
    assert!(text.contains(jobs[0].as_str()), "{apply:?}");
    assert_eq!(strings(&v["failed_server_ids"]), vec![failing.clone()]);
    assert_eq!(strings(&v["rebooted_server_ids"]).len(), 7);
    // Each server was sent one reboot, the failing one too (ecs-sim counts what it was
    // sent, whatever the outcome): none twice.
    for id in &sim.ids {
        assert_eq!(reboot_count(&sim, id), 1, "{id}");
    }

    let untaint = ws.run(&["untaint", "-no-color", ADDRESS]);
    assert_eq!(untaint.code, 0, "{untaint:?}");
    sim.reset_stats();
    let plan = ws.plan();
    // The failed apply saved no outputs, so they show as changes; the resource does not.
    assert_ne!(plan.code, 1, "{plan:?}");
    assert!(
        !plan.flat().contains("# ecs_batch_reboot.fleet"),
        "untainted, nothing to reboot: {plan:?}"
    );
    assert_eq!(sim.total_requests(), 0);
}

fn sigint_mid_wait_keeps_job_ids(version: &str) {
    let sim = running_sim(5);
    sim.knobs(json!({"never_finish": true}));
    let ws = workspace(version, &sim, &sim.ids);
    interrupt_mid_wait_and_check(&sim, &ws, ADDRESS, "5 server(s) not confirmed rebooted");
}

/// The answer to a batch reboot is lost. Carried out (`after`): the states read `REBOOT`,
/// which proves it, so the servers are waited on and each rebooted once. Not carried out
/// (`before`): the states read `ACTIVE`, as they would after a reboot too, so nothing is
/// sent again and apply fails naming the servers as not confirmed.
fn a_lost_reboot_answer_never_reboots_twice(version: &str) {
    let sim = running_sim(20);
    let (carried_out, dropped) = (sim.ids[..10].to_vec(), sim.ids[10..].to_vec());
    // Long enough that the state read after the lost answer sees them rebooting.
    sim.knobs(json!({
        "reboot_duration_ms": [1500, 2000],
        "fault_routes": [ACTION],
        "fault_drop_burst": 1,
        "fault_drop_mode": "after"
    }));
    let ws = workspace(version, &sim, &carried_out);
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    let text = apply.flat();
    assert!(text.contains("Batch reboot answer lost"), "{apply:?}");
    assert_eq!(sim.count(ACTION, "dropped"), 1);
    assert_eq!(sim.requests(ACTION), 1, "the POST was not re-sent");
    for id in &carried_out {
        assert_eq!(reboot_count(&sim, id), 1, "{id} rebooted exactly once");
    }
    let v = state(&ws);
    assert_eq!(strings(&v["rebooted_server_ids"]), sorted(&carried_out));
    assert!(
        strings(&v["job_ids"]).is_empty(),
        "the answer was lost: {v}"
    );

    write_ids(&ws, &dropped);
    sim.knobs(json!({"fault_drop_burst": 1, "fault_drop_mode": "before"}));
    sim.reset_stats();
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "never a silent success: {apply:?}");
    let text = apply.flat();
    assert!(text.contains("Batch reboot answer lost"), "{apply:?}");
    assert!(
        text.contains("10 still running were not sent again"),
        "{apply:?}"
    );
    assert!(text.contains("Servers not confirmed rebooted"), "{apply:?}");
    assert!(text.contains(dropped[0].as_str()), "{apply:?}");
    assert_eq!(sim.requests(ACTION), 1, "the POST was not re-sent");
    for id in &dropped {
        assert_eq!(reboot_count(&sim, id), 0, "{id} was not rebooted");
    }
}
