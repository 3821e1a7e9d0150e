//! `data.ecs_servers` end to end: the built provider under real Terraform 1.0.3 and 1.15.5,
//! against ecs-sim servers with names, tags and states. Every scenario runs on both versions.

use serde_json::{json, Value};
use terraform_provider_ecs::sim::{ROUTE_ACTION as ACTION, ROUTE_LIST as LIST};

use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    by_tag_feeds_batch_start,
    by_name_regex,
    exact_status_leaves_out_rebooting_servers,
    not_tags_leave_servers_out,
    no_match_is_an_empty_list,
);

/// `n`-th test server id.
fn id(n: u32) -> String {
    format!("5e7e5000-0000-4000-8000-{n:012}")
}

/// ecs-sim with `servers` (`[{"id", "status", "name", "tags", …}]`) only.
fn sim_with(servers: Value) -> Sim {
    let sim = Sim::start(0);
    sim.set_servers(servers);
    sim
}

/// `data "ecs_servers" "sel" { <filters> }` with its ids and names as outputs, and `extra`.
fn config(sim: &Sim, filters: &str, extra: &str) -> String {
    format!(
        r#"{}
data "ecs_servers" "sel" {{
{filters}
}}

output "ids" {{
  value = data.ecs_servers.sel.ids
}}

output "names" {{
  value = [for s in data.ecs_servers.sel.servers : s.name]
}}
{extra}"#,
        provider_block(sim, "")
    )
}

/// Applies and returns the `ids` and `names` outputs.
fn apply_outputs(ws: &Workspace) -> (Vec<String>, Vec<String>) {
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "apply: {apply:?}");
    let out = ws.run(&["output", "-json"]);
    assert_eq!(out.code, 0, "output: {out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("output -json");
    (strings(&v["ids"]["value"]), strings(&v["names"]["value"]))
}

fn by_tag_feeds_batch_start(version: &str) {
    let staging = json!({"env": "staging"});
    let sim = sim_with(json!([
        {"id": id(3), "name": "app-3", "tags": staging},
        {"id": id(1), "name": "app-1", "tags": {"env": "staging", "team": "web"}},
        {"id": id(2), "name": "app-2", "tags": staging, "status": "ACTIVE"},
        {"id": id(4), "name": "app-4", "tags": {"env": "prod"}},
        {"id": id(5), "name": "app-5"},
    ]));
    let start = r#"
resource "ecs_batch_start" "staging" {
  server_ids = data.ecs_servers.sel.ids
}
"#;
    let ws = Workspace::new(
        version,
        &sim,
        &config(&sim, "  tags = { env = \"staging\" }", start),
    );
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "plan: {plan:?}");
    assert!(sim.requests(LIST) >= 1, "the data source lists at plan");
    assert_eq!(sim.requests(ACTION), 0, "plan starts nothing");

    let (ids, names) = apply_outputs(&ws);
    assert_eq!(
        ids,
        vec![id(1), id(2), id(3)],
        "sorted ids of the tagged servers"
    );
    assert_eq!(names, ["app-1", "app-2", "app-3"]);
    let v = ws
        .resource_values("ecs_batch_start.staging")
        .expect("in state");
    assert_eq!(strings(&v["started_server_ids"]), vec![id(1), id(3)]);
    assert_eq!(strings(&v["skipped_server_ids"]), vec![id(2)]);
    for untagged in [id(4), id(5)] {
        assert_eq!(sim.status_of(&untagged), "SHUTOFF");
        assert_eq!(sim.start_count(&untagged), 0);
    }
    let again = ws.plan();
    assert_eq!(
        again.code, 0,
        "the same selection plans no change: {again:?}"
    );
}

fn by_name_regex(version: &str) {
    let sim = sim_with(json!([
        {"id": id(1), "name": "web-10"},
        {"id": id(2), "name": "web-2x"},
        {"id": id(3), "name": "db-web-3"},
        {"id": id(4), "name": "web-4"},
    ]));
    // The same selection without details: ids only.
    let ids_only = r#"
data "ecs_servers" "ids_only" {
  name_regex = "^web-[0-9]+$"
  details    = false
}

output "ids_only" {
  value = data.ecs_servers.ids_only
}
"#;
    let ws = Workspace::new(
        version,
        &sim,
        &config(&sim, "  name_regex = \"^web-[0-9]+$\"", ids_only),
    );
    let (ids, names) = apply_outputs(&ws);
    assert_eq!(ids, vec![id(1), id(4)]);
    assert_eq!(names, ["web-10", "web-4"]);
    let out = ws.run(&["output", "-json", "ids_only"]);
    let v: Value = serde_json::from_str(&out.stdout).expect("output -json");
    assert_eq!(strings(&v["ids"]), vec![id(1), id(4)], "{v}");
    assert_eq!(v["servers"], json!([]), "{v}");
}

fn exact_status_leaves_out_rebooting_servers(version: &str) {
    // Reboots that outlast the test, set before the servers are loaded into them.
    let sim = Sim::start(0);
    let long = [600_000, 600_000];
    sim.knobs(json!({"reboot_duration_ms": long, "hard_reboot_duration_ms": long}));
    sim.set_servers(json!([
        {"id": id(1), "status": "ACTIVE"},
        {"id": id(2), "status": "ACTIVE", "task_state": "rebooting"},
        {"id": id(3), "status": "ACTIVE", "task_state": "rebooting_hard"},
        {"id": id(4), "status": "SHUTOFF"},
    ]));
    let extra = r#"
data "ecs_servers" "rebooting" {
  status = "REBOOT"
}

output "rebooting" {
  value = data.ecs_servers.rebooting.ids
}
"#;
    let ws = Workspace::new(version, &sim, &config(&sim, "  status = \"ACTIVE\"", extra));
    let (ids, _) = apply_outputs(&ws);
    assert_eq!(ids, vec![id(1)], "REBOOT and HARD_REBOOT are not ACTIVE");
    let out = ws.run(&["output", "-json", "rebooting"]);
    let v: Value = serde_json::from_str(&out.stdout).expect("output -json");
    assert_eq!(strings(&v), vec![id(2)]);
}

fn not_tags_leave_servers_out(version: &str) {
    let sim = sim_with(json!([
        {"id": id(1), "tags": {"env": "prod", "keep": "yes"}},
        {"id": id(2), "tags": {"env": "prod"}},
        {"id": id(3), "tags": {"env": "prod", "keep": "no"}},
        {"id": id(4), "tags": {"env": "dev"}},
    ]));
    let filters = "  tags     = { env = \"prod\" }\n  not_tags = { keep = \"yes\" }";
    let ws = Workspace::new(version, &sim, &config(&sim, filters, ""));
    let (ids, _) = apply_outputs(&ws);
    assert_eq!(ids, vec![id(2), id(3)]);
}

fn no_match_is_an_empty_list(version: &str) {
    let sim = sim_with(json!([{"id": id(1), "name": "web-1"}]));
    let extra = r#"
output "count" {
  value = length(data.ecs_servers.sel.servers)
}
"#;
    let ws = Workspace::new(
        version,
        &sim,
        &config(&sim, "  name = \"nothing-is-called-this\"", extra),
    );
    let (ids, names) = apply_outputs(&ws);
    assert!(ids.is_empty() && names.is_empty(), "{ids:?} {names:?}");
    let out = ws.run(&["output", "-raw", "count"]);
    assert_eq!(out.stdout.trim(), "0", "{out:?}");
}
