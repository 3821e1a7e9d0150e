//! `ecs_batch_start` end to end: the built provider under real Terraform 1.0.3 and 1.15.5,
//! against ecs-sim. Every scenario runs on both versions.

use std::time::Duration;

use serde_json::json;
use terraform_provider_ecs::sim::{ROUTE_ACTION as ACTION, ROUTE_JOB as JOB};

use crate::support::process::*;
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    apply_2500_then_no_changes_then_trigger_replaces_without_post,
    already_running_are_skipped,
    partial_failure_keeps_job_ids,
    timeout_names_the_running_job,
    sigint_to_provider_keeps_job_ids,
    sigint_to_terraform_alone_keeps_job_ids,
    sigint_to_terraform_alone_keeps_job_ids_with_plugin_log_file,
    provider_exits_when_terraform_is_killed,
    bad_inputs_fail_at_plan_without_requests,
    missing_credentials_fail_naming_the_env_var,
    destroy_warns_and_sends_nothing,
);

fn workspace(version: &str, sim: &Sim, resource_extra: &str, ids: &[String]) -> Workspace {
    let main = format!(
        "{}{}",
        provider_block(sim, ""),
        resource_from_file("fleet", resource_extra)
    );
    let ws = Workspace::new(version, sim, &main);
    write_ids(&ws, ids);
    ws
}

fn apply_2500_then_no_changes_then_trigger_replaces_without_post(version: &str) {
    let sim = Sim::start(2500);
    let ws = workspace(version, &sim, "  triggers = { release = \"v1\" }", &sim.ids);

    let plan = ws.plan();
    assert_eq!(plan.code, 2, "plan shows changes: {plan:?}");
    assert!(
        plan.stdout
            .contains("ecs_batch_start.fleet will be created"),
        "{plan:?}"
    );
    assert_eq!(sim.total_requests(), 0, "plan makes no API call");

    let apply = ws.apply();
    assert_eq!(apply.code, 0, "apply: {apply:?}");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("in state");
    assert_eq!(strings(&v["job_ids"]).len(), 3, "3 batches: {v}");
    assert_eq!(strings(&v["started_server_ids"]).len(), 2500);
    assert!(strings(&v["skipped_server_ids"]).is_empty());
    assert!(strings(&v["failed_server_ids"]).is_empty());
    assert_eq!(
        sim.stats()["servers"]["ACTIVE"],
        2500,
        "all running in ecs-sim"
    );
    assert_eq!(sim.requests(ACTION), 3);

    let again = ws.plan();
    assert_eq!(again.code, 0, "no changes right after apply: {again:?}");

    // A reorder alone is an in-place update that starts nothing.
    let mut reversed = sim.ids.clone();
    reversed.reverse();
    write_ids(&ws, &reversed);
    let reorder = ws.apply();
    assert_eq!(reorder.code, 0, "{reorder:?}");
    assert!(
        reorder.stdout.contains("0 added, 1 changed, 0 destroyed"),
        "{reorder:?}"
    );
    assert_eq!(sim.requests(ACTION), 3, "a reorder sends nothing");

    // A trigger change replaces the resource; everything is running, so nothing is sent.
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&sim, ""),
            resource_from_file("fleet", "  triggers = { release = \"v2\" }")
        ),
    );
    let replace = ws.apply();
    assert_eq!(replace.code, 0, "{replace:?}");
    assert!(
        replace.stdout.contains("1 added, 0 changed, 1 destroyed"),
        "{replace:?}"
    );
    assert_eq!(sim.requests(ACTION), 3, "no POST when everything runs");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("in state");
    assert_eq!(strings(&v["skipped_server_ids"]).len(), 2500);
    assert!(strings(&v["job_ids"]).is_empty());
}

fn already_running_are_skipped(version: &str) {
    let sim = Sim::start(10);
    let running: Vec<_> = sim.ids[..3].to_vec();
    sim.set_servers(json!(running
        .iter()
        .map(|id| json!({"id": id, "status": "ACTIVE"}))
        .collect::<Vec<_>>()));
    let ws = workspace(version, &sim, "", &sim.ids);
    let apply = ws.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("in state");
    let mut expected = running.clone();
    expected.sort();
    assert_eq!(strings(&v["skipped_server_ids"]), expected);
    assert_eq!(strings(&v["started_server_ids"]).len(), 7);
    assert_eq!(strings(&v["job_ids"]).len(), 1);
    for id in &running {
        assert_eq!(sim.server(id)["start_count"], 0, "{id} was not sent");
    }
}

fn partial_failure_keeps_job_ids(version: &str) {
    let sim = Sim::start(1200);
    let failing = vec![sim.ids[5].clone(), sim.ids[1100].clone()];
    sim.knobs(json!({"failing_servers": failing}));
    let ws = workspace(version, &sim, "", &sim.ids);
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "a partial failure fails apply: {apply:?}");
    let text = apply.text();
    assert!(text.contains("2 server(s) failed to start"), "{apply:?}");
    for id in &failing {
        assert!(text.contains(id.as_str()), "error names {id}: {apply:?}");
    }
    assert!(text.contains("Ecs.0226"), "error gives the code: {apply:?}");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("state kept after the failure");
    assert_eq!(strings(&v["job_ids"]).len(), 2);
    let mut f = failing.clone();
    f.sort();
    assert_eq!(strings(&v["failed_server_ids"]), f);
    assert_eq!(strings(&v["started_server_ids"]).len(), 1198);

    // The tainted resource is replaced; only the still-stopped servers are sent again.
    sim.knobs(json!({"failing_servers": []}));
    sim.reset_stats();
    let again = ws.apply();
    assert_eq!(again.code, 0, "{again:?}");
    let v = ws.resource_values("ecs_batch_start.fleet").expect("state");
    assert_eq!(strings(&v["started_server_ids"]), f);
    assert_eq!(strings(&v["skipped_server_ids"]).len(), 1198);
    assert_eq!(sim.requests(ACTION), 1);
}

fn timeout_names_the_running_job(version: &str) {
    let sim = Sim::start(5);
    sim.knobs(json!({"never_finish": true}));
    let ws = workspace(
        version,
        &sim,
        "  timeouts {\n    create = \"3s\"\n  }",
        &sim.ids,
    );
    let apply = ws.apply();
    assert_ne!(apply.code, 0, "{apply:?}");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("state kept after the timeout");
    let jobs = strings(&v["job_ids"]);
    assert_eq!(jobs.len(), 1);
    let text = apply.text();
    assert!(
        text.contains("Timed out waiting for the start jobs"),
        "{apply:?}"
    );
    assert!(
        text.contains(&jobs[0]),
        "the error names the running job: {apply:?}"
    );
}

/// An apply whose job never finishes, once the provider waits on it.
fn apply_waiting_forever(version: &str) -> (Sim, Workspace, std::process::Child) {
    let sim = Sim::start(5);
    sim.knobs(json!({"never_finish": true}));
    let ws = workspace(version, &sim, "", &sim.ids);
    let child = ws.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        wait_until(Duration::from_secs(30), || sim.requests(JOB) > 0),
        "the provider started waiting on the job"
    );
    (sim, ws, child)
}

/// Sends SIGINT to `target` and checks that apply stops promptly, failing with
/// "Interrupted", and that the job id is in state.
fn interrupt_and_check(ws: &Workspace, child: std::process::Child, target: u32) {
    let kill = std::process::Command::new("kill")
        .args(["-INT", &target.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let started = std::time::Instant::now();
    let out: Run = child.wait_with_output().expect("apply ends").into();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "apply stops promptly, not at timeouts.create: {out:?}"
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.text().contains("Interrupted"), "{out:?}");
    let v = ws
        .resource_values("ecs_batch_start.fleet")
        .expect("state kept after the interrupt");
    assert_eq!(strings(&v["job_ids"]).len(), 1, "{v}");
}

fn sigint_to_provider_keeps_job_ids(version: &str) {
    let (_sim, ws, child) = apply_waiting_forever(version);
    let providers = descendants_named(child.id(), "terraform-provi");
    assert_eq!(providers.len(), 1, "one provider process: {providers:?}");
    interrupt_and_check(&ws, child, providers[0]);
}

/// A CI runner cancelling a job interrupts terraform alone: Terraform then calls
/// StopProvider, which the provider turns into its interrupt.
fn sigint_to_terraform_alone_keeps_job_ids(version: &str) {
    let (_sim, ws, child) = apply_waiting_forever(version);
    // Terraform 1.0.3 runs as a panicwrap parent that ignores SIGINT and a child that does
    // the work (a terminal signals both); 1.15.5 is one process. Signal the one that works.
    let terraform = descendants_named(child.id(), "terraform")
        .into_iter()
        .find(|pid| descendants_named(*pid, "terraform-provi").len() == 1)
        .unwrap_or(child.id());
    interrupt_and_check(&ws, child, terraform);
}

/// The provider outlives signals on purpose; it must not outlive Terraform.
fn provider_exits_when_terraform_is_killed(version: &str) {
    let (_sim, _ws, mut child) = apply_waiting_forever(version);
    let providers = descendants_named(child.id(), "terraform-provi");
    assert_eq!(providers.len(), 1, "one provider process: {providers:?}");
    let provider = providers[0];
    let parent = std::fs::read_to_string(format!("/proc/{provider}/stat"))
        .ok()
        .and_then(|stat| {
            let close = stat.rfind(')')?;
            stat[close + 1..]
                .split_whitespace()
                .nth(1)?
                .parse::<u32>()
                .ok()
        })
        .expect("the provider's parent");
    let kill = std::process::Command::new("kill")
        .args(["-KILL", &parent.to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        wait_until(Duration::from_secs(10), || !is_alive(provider)),
        "the provider exited after Terraform was killed"
    );
}

/// A process that has not exited (a zombie waiting to be reaped counts as exited).
fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let close = stat.rfind(')')?;
            stat[close + 1..]
                .split_whitespace()
                .next()
                .map(|s| s != "Z")
        })
        .unwrap_or(false)
}

fn bad_inputs_fail_at_plan_without_requests(version: &str) {
    let sim = Sim::start(3);
    let good = &sim.ids[0];
    let cases: Vec<(String, &str)> = vec![
        (
            format!("server_ids = [\"{good}\", \"not-a-uuid\"]"),
            "server_ids[1] is \"not-a-uuid\"",
        ),
        ("server_ids = []".into(), "`server_ids` is empty"),
        (
            format!("server_ids = [\"{good}\", \"{}\"]", good.to_uppercase()),
            "distinct",
        ),
        (
            format!("server_ids = [\"{good}\"]\n  job_ids = []"),
            "`job_ids` is set by the provider",
        ),
        (
            format!("server_ids = [\"{good}\"]\n  timeouts {{\n    create = \"soon\"\n  }}"),
            "timeouts.create: \"soon\"",
        ),
        (
            "server_ids = jsondecode(file(\"${path.module}/ids.json\"))".into(),
            "10001 ids",
        ),
    ];
    let ws = Workspace::new(version, &sim, &provider_block(&sim, ""));
    let too_many: Vec<String> = (0..10_001)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    write_ids(&ws, &too_many);
    for (body, expected) in cases {
        ws.write(
            "main.tf",
            &format!(
                "{}\nresource \"ecs_batch_start\" \"bad\" {{\n  {body}\n}}\n",
                provider_block(&sim, "")
            ),
        );
        let plan = ws.plan();
        assert_eq!(plan.code, 1, "plan fails for {body}: {plan:?}");
        assert!(
            plan.text().contains(expected),
            "{expected:?} for {body}: {plan:?}"
        );
    }
    let provider_cases = [
        ("  endpoints = { ec2 = \"https://x\" }", "\"ec2\""),
        ("  max_retries = -1", "`max_retries` is -1"),
        ("  access_key = \"  \"", "`access_key` is set to an empty"),
    ];
    for (extra, expected) in provider_cases {
        // `endpoints` appears once: replace the default line when the case sets it.
        let block = provider_block(&sim, extra);
        let block = if extra.contains("endpoints") {
            block.replacen(
                &format!(
                    "  endpoints = {{ ecs = \"{0}\", iam = \"{0}\" }}\n",
                    sim.url
                ),
                "",
                1,
            )
        } else {
            block
        };
        ws.write(
            "main.tf",
            &format!(
                "{block}\nresource \"ecs_batch_start\" \"bad\" {{\n  server_ids = [\"{good}\"]\n}}\n"
            ),
        );
        let plan = ws.plan();
        assert_eq!(plan.code, 1, "plan fails for {extra}: {plan:?}");
        assert!(
            plan.text().contains(expected),
            "{expected:?} for {extra}: {plan:?}"
        );
    }
    assert_eq!(sim.total_requests(), 0, "no bad input reached the API");
}

fn missing_credentials_fail_naming_the_env_var(version: &str) {
    let sim = Sim::start(1);
    let mut ws = workspace(version, &sim, "", &sim.ids);
    ws.set_env("HW_SECRET_KEY", None);
    let plan = ws.plan();
    assert_eq!(plan.code, 1, "{plan:?}");
    let text = plan.text();
    assert!(text.contains("Missing secret_key"), "{plan:?}");
    assert!(text.contains("HW_SECRET_KEY"), "{plan:?}");
    assert_eq!(sim.total_requests(), 0);
}

fn destroy_warns_and_sends_nothing(version: &str) {
    let sim = Sim::start(2);
    let ws = workspace(version, &sim, "", &sim.ids);
    assert_eq!(ws.apply().code, 0);
    sim.reset_stats();
    let destroy = ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(
        destroy.text().contains("Servers left running"),
        "{destroy:?}"
    );
    assert_eq!(sim.total_requests(), 0, "destroy sends nothing");
    for id in &sim.ids {
        assert_eq!(sim.status_of(id), "ACTIVE");
    }
}

/// `PLUGIN_LOG_FILE` (a trace log of every crate, written to a file) must not cost the
/// StopProvider interrupt: SIGINT to terraform alone still stops the waits and keeps the job
/// id. `timeouts.create` bounds the apply if the interrupt is lost.
fn sigint_to_terraform_alone_keeps_job_ids_with_plugin_log_file(version: &str) {
    let sim = Sim::start(5);
    sim.knobs(json!({"never_finish": true}));
    let mut ws = workspace(
        version,
        &sim,
        "  timeouts {\n    create = \"60s\"\n  }",
        &sim.ids,
    );
    let log = ws.dir.path().join("provider.log");
    ws.set_env("PLUGIN_LOG_FILE", Some(&log.display().to_string()));
    let child = ws.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        wait_until(Duration::from_secs(30), || sim.requests(JOB) > 0),
        "the provider started waiting on the job"
    );
    let terraform = descendants_named(child.id(), "terraform")
        .into_iter()
        .find(|pid| descendants_named(*pid, "terraform-provi").len() == 1)
        .unwrap_or(child.id());
    interrupt_and_check(&ws, child, terraform);
    // The provider started for `terraform show` wrote the trace log where it was asked to.
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(written.contains("tfplugin6.Provider"), "{written}");
}
