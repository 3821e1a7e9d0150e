//! `ecs_power_state` end to end: the built provider under real Terraform 1.0.3 and 1.15.5,
//! against ecs-sim. Drift is made out of band through ecs-sim's admin API, as a person in
//! the console would.

use serde_json::json;
use terraform_provider_ecs::sim::{ROUTE_ACTION as ACTION, ROUTE_LIST as LIST};

use super::batch_stop::{interrupt_mid_wait_and_check, sorted, unpaced_provider};
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    mixed_fleet_converges_drift_is_planned_and_fixed_then_flips_in_place,
    servers_in_error_or_locked_are_named_at_plan_and_fail_apply_after_the_rest,
    sigint_mid_convergence_keeps_the_job_ids,
    refresh_only_records_drift_without_touching_servers,
);

const ADDRESS: &str = "ecs_power_state.fleet";

fn main_tf(sim: &Sim, state: &str) -> String {
    format!(
        "{}{}",
        unpaced_provider(sim),
        resource_of_type_from_file(
            "ecs_power_state",
            "fleet",
            &format!("  state = \"{state}\"")
        )
    )
}

fn workspace(version: &str, sim: &Sim, state: &str) -> Workspace {
    let ws = Workspace::new(version, sim, &main_tf(sim, state));
    write_ids(&ws, &sim.ids);
    ws
}

fn state(ws: &Workspace) -> serde_json::Value {
    ws.resource_values(ADDRESS)
        .expect("ecs_power_state.fleet is in state")
}

/// 1200 servers, 4 stopped: create starts only those 4; 3 stopped out of band make plan
/// exit 2 naming exactly them (one read per 100 servers); apply starts them in one POST;
/// re-plan is clean; `state = "stopped"` stops the whole fleet in two batches, in place.
fn mixed_fleet_converges_drift_is_planned_and_fixed_then_flips_in_place(version: &str) {
    let sim = Sim::start(1200);
    let (stopped, running) = (sim.ids[..4].to_vec(), sim.ids[4..].to_vec());
    sim.set_active(&running);
    let ws = workspace(version, &sim, "running");
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.requests(ACTION), 1, "one POST");
    let v = state(&ws);
    assert_eq!(strings(&v["converged_server_ids"]), sorted(&stopped), "{v}");
    assert_eq!(strings(&v["running_server_ids"]).len(), 1200);
    assert_eq!(v["state"], "running");
    assert_eq!(
        sim.start_count(&running[0]),
        0,
        "a running server was not sent"
    );
    assert_eq!(ws.plan().code, 0, "clean right after apply");

    let drifted = sorted(&running[10..13]);
    sim.set_power(&drifted, "SHUTOFF");
    sim.reset_stats();
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "drift is a change: {plan:?}");
    assert_eq!(sim.requests(LIST), 12, "one state read per 100 servers");
    assert_eq!(sim.requests(ACTION), 0, "plan changes nothing");
    let text = plan.flat();
    assert!(
        text.contains("3 server(s) drifted from running")
            && text.contains(&format!(
                "Not running and not on their way there: {}. Apply starts exactly these",
                drifted.join(", ")
            )),
        "{plan:?}"
    );
    assert!(text.contains("\"mixed\" -> \"running\""), "{plan:?}");
    let saved = ws.run(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let shown = ws.run(&["show", "-json", "tfplan"]);
    let planned: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    assert_eq!(
        strings(&planned["resource_changes"][0]["change"]["after"]["converged_server_ids"]),
        drifted,
        "known at plan: exactly the three"
    );

    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.requests(ACTION), 1, "one POST for the three");
    assert_eq!(strings(&state(&ws)["converged_server_ids"]), drifted);
    for id in &drifted {
        assert_eq!(sim.start_count(id), 1, "{id} started once");
    }
    assert_eq!(sim.start_count(&running[20]), 0);
    assert_eq!(ws.plan().code, 0, "clean after converging");

    let id_before = state(&ws)["id"].clone();
    ws.write("main.tf", &main_tf(&sim, "stopped"));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.flat().contains("0 to add, 1 to change, 0 to destroy"),
        "in place: {plan:?}"
    );
    sim.reset_stats();
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(sim.requests(ACTION), 2, "1200 servers in two batches");
    assert_eq!(sim.stats()["servers"]["SHUTOFF"], 1200);
    let v = state(&ws);
    assert_eq!(v["id"], id_before, "updated, not replaced");
    assert_eq!(strings(&v["job_ids"]).len(), 2, "{v}");
    assert_eq!(strings(&v["stopped_server_ids"]).len(), 1200);
    assert_eq!(ws.plan().code, 0);

    let destroy = ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.flat().contains("Servers left as they are"),
        "{destroy:?}"
    );
}

/// A server in ERROR and a locked stopped one are named at plan; apply starts the one it
/// can, then fails naming the two with their status.
fn servers_in_error_or_locked_are_named_at_plan_and_fail_apply_after_the_rest(version: &str) {
    let sim = Sim::start(5);
    let ids = &sim.ids;
    sim.set_active(&ids[..2]);
    sim.set_servers(json!([
        {"id": ids[3], "status": "ERROR"},
        {"id": ids[4], "status": "SHUTOFF", "locked": true},
    ]));
    let ws = workspace(version, &sim, "running");
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{plan:?}");
    let text = plan.flat();
    assert!(
        text.contains("2 server(s) cannot be converged to running"),
        "{plan:?}"
    );
    assert!(text.contains(&format!("- {}: ERROR", ids[3])), "{plan:?}");
    assert!(
        text.contains(&format!("- {}: SHUTOFF, locked", ids[4])),
        "{plan:?}"
    );
    assert!(
        text.contains("1 server(s) drifted from running")
            && text.contains(&format!(
                "Not running and not on their way there: {}.",
                ids[2]
            )),
        "{plan:?}"
    );

    let apply = ws.apply();
    assert_ne!(apply.code, 0, "{apply:?}");
    let text = apply.flat();
    assert!(
        text.contains("2 server(s) cannot be converged to running"),
        "{apply:?}"
    );
    assert!(text.contains(&format!("- {}: ERROR", ids[3])), "{apply:?}");
    assert!(
        text.contains("The other servers were converged"),
        "{apply:?}"
    );
    assert_eq!(sim.status_of(&ids[2]), "ACTIVE", "the rest converged");
    assert_eq!(
        sim.status_of(&ids[4]),
        "SHUTOFF",
        "the locked one was not sent"
    );
    let v = state(&ws);
    assert_eq!(strings(&v["converged_server_ids"]), vec![ids[2].clone()]);
    assert_eq!(v["other_server_states"][ids[3].as_str()], "ERROR", "{v}");
}

fn sigint_mid_convergence_keeps_the_job_ids(version: &str) {
    let sim = Sim::start(5);
    sim.knobs(json!({"never_finish": true}));
    let ws = workspace(version, &sim, "running");
    interrupt_mid_wait_and_check(&sim, &ws, ADDRESS, "5 server(s) not confirmed started");
}

/// `apply -refresh-only` records the drift (`state = "mixed"`, the drifted servers) and
/// sends nothing; so does an import of `running:<ids>`.
fn refresh_only_records_drift_without_touching_servers(version: &str) {
    let sim = Sim::start(4);
    sim.set_active(&sim.ids);
    let ws = workspace(version, &sim, "running");
    assert_eq!(ws.apply().code, 0);
    assert_eq!(sim.requests(ACTION), 0, "all running: nothing to send");
    let drifted = sorted(&sim.ids[..2]);
    sim.set_power(&drifted, "SHUTOFF");
    sim.reset_stats();
    let refresh = ws.run(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(refresh.code, 0, "{refresh:?}");
    assert!(
        refresh.flat().contains("\"running\" -> \"mixed\""),
        "{refresh:?}"
    );
    assert_eq!(sim.requests(ACTION), 0, "refresh-only sends nothing");
    let v = state(&ws);
    assert_eq!(v["state"], "mixed");
    assert_eq!(strings(&v["drifted_server_ids"]), drifted);
    for id in &drifted {
        assert_eq!(sim.status_of(id), "SHUTOFF");
    }
    assert_eq!(ws.plan().code, 2, "the next plan converges them");

    // Import: the declared state and the members; the refresh reads the rest.
    assert_eq!(ws.run(&["state", "rm", ADDRESS]).code, 0);
    let id = format!("running:{}", sim.ids.join(","));
    let import = ws.run(&["import", "-input=false", "-no-color", ADDRESS, &id]);
    assert_eq!(import.code, 0, "{import:?}");
    let v = state(&ws);
    assert_eq!(v["state"], "mixed", "{v}");
    assert_eq!(strings(&v["drifted_server_ids"]), drifted);
    assert_eq!(sim.requests(ACTION), 0, "import sends nothing");
}
