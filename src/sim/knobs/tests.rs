use clap::{Args, Command, FromArgMatches};

use super::*;

/// The knobs as `ecs-sim` parses them from `flags`.
fn parse(flags: &[&str]) -> Knobs {
    let command = Knobs::augment_args(Command::new("ecs-sim"));
    let matches = command
        .try_get_matches_from(std::iter::once("ecs-sim").chain(flags.iter().copied()))
        .expect("the flags parse");
    Knobs::from_arg_matches(&matches).expect("the flags make knobs")
}

#[test]
fn patch_merges_and_refuses_unknown_keys() {
    let k = Knobs::default();
    let p = serde_json::json!({"time_scale": 0.001, "already_running_mode": "sync_400"});
    assert_eq!(
        serde_json::to_value(AlreadyRunningMode::Sync400).expect("serializes"),
        "sync_400"
    );
    let m = k.merged(&p).expect("merges");
    assert_eq!(m.time_scale, 0.001);
    assert_eq!(m.already_running_mode, AlreadyRunningMode::Sync400);
    assert_eq!(m.start_duration_ms, [15_000, 35_000]);
    assert!(k.merged(&serde_json::json!({"nope": 1})).is_err());
    assert!(k.merged(&serde_json::json!({"fault_429": 2.0})).is_err());
    assert!(k
        .merged(&serde_json::json!({"start_duration_ms": [5, 1]}))
        .is_err());
    for range in [
        "hard_stop_duration_ms",
        "reboot_duration_ms",
        "hard_reboot_duration_ms",
    ] {
        let refused = k.merged(&serde_json::json!({ range: [5, 1] }));
        assert!(refused.is_err_and(|e| e.contains(range)), "{range}");
    }
    assert!(k
        .merged(&serde_json::json!({"fault_routes": ["GET /nope"]}))
        .is_err());
}

#[test]
fn defaults_are_the_documented_ones() {
    assert_eq!(
        serde_json::to_value(Knobs::default()).expect("serializes"),
        serde_json::json!({
            "start_duration_ms": [15000, 35000],
            "stop_duration_ms": [15000, 35000],
            "hard_stop_duration_ms": [5000, 10000],
            "reboot_duration_ms": [30000, 60000],
            "hard_reboot_duration_ms": [15000, 35000],
            "time_scale": 1.0,
            "start_rate_limit_per_minute": 1000,
            "start_rate_window_ms": 60000,
            "fault_429": 0.0,
            "fault_5xx": 0.0,
            "fault_drop": 0.0,
            "fault_drop_mode": "after",
            "fault_routes": [],
            "fault_429_burst": 0,
            "fault_5xx_burst": 0,
            "fault_drop_burst": 0,
            "retry_after_secs": 1,
            "latency_ms": 0,
            "failing_servers": [],
            "ignore_soft_stop": [],
            "soft_stop_timeout_ms": 300000,
            "soft_stop_blocks_hard_stop": false,
            "already_running_mode": "subjob_fail",
            "partial_failure_parent": "fail",
            "never_finish": false,
            "never_finish_jobs": 0,
            "job_ttl_secs": 86400,
            "seed": 0,
            "job_status_override": null,
            "malformed_job_json": false,
            "omit_job_id": false,
            "clock_skew_tolerance_secs": 900,
            "clock_offset_secs": 0,
            "credential_lifetime_secs": 0,
            "metadata_token": "optional",
            "fleet_name_pattern": "ecs-sim-{i}",
            "fleet_tags": [],
            "fleet_flavors": ["s6.small.1"],
            "fleet_availability_zones": ["cn-north-4a"],
            "fleet_enterprise_projects": ["0"],
        })
    );
    // A partial JSON object fills the rest from the same defaults.
    let partial: Knobs = serde_json::from_str(r#"{"seed": 7}"#).expect("parses");
    assert_eq!(
        partial,
        Knobs {
            seed: 7,
            ..Knobs::default()
        }
    );
}

#[test]
fn ranges_parse() {
    assert_eq!(parse_range("15000,35000"), Ok([15000, 35000]));
    assert_eq!(parse_range("5-10"), Ok([5, 10]));
    assert_eq!(parse_range("7"), Ok([7, 7]));
    assert!(parse_range("10,5").is_err());
    assert!(parse_range("x").is_err());
}

#[test]
fn cli_flags_become_knobs() {
    let k = parse(&[
        "--start-duration-ms",
        "10,20",
        "--time-scale",
        "0.5",
        "--fault-429",
        "0.5",
        "--fault-routes",
        "GET /v1/{project_id}/jobs/{job_id}",
        "--already-running-mode",
        "sync_400",
        "--partial-failure-parent",
        "success",
        "--never-finish",
        "--failing-servers",
        "a,b",
    ]);
    assert_eq!(k.start_duration_ms, [10, 20]);
    assert_eq!(k.time_scale, 0.5);
    assert_eq!(k.fault_429, 0.5);
    assert_eq!(k.fault_routes, vec!["GET /v1/{project_id}/jobs/{job_id}"]);
    assert_eq!(k.already_running_mode, AlreadyRunningMode::Sync400);
    assert_eq!(k.partial_failure_parent, PartialFailureParent::Success);
    assert!(k.never_finish);
    assert_eq!(k.failing_servers, vec!["a", "b"]);
    assert!(k.validate().is_ok());
}

#[test]
fn every_other_flag_keeps_its_spelling() {
    let k = parse(&[
        "--stop-duration-ms",
        "5",
        "--start-rate-limit-per-minute",
        "0",
        "--start-rate-window-ms",
        "1000",
        "--fault-5xx",
        "0.25",
        "--fault-drop",
        "0.125",
        "--fault-drop-mode",
        "before",
        "--fault-429-burst",
        "1",
        "--fault-5xx-burst",
        "2",
        "--fault-drop-burst",
        "3",
        "--retry-after-secs",
        "4",
        "--latency-ms",
        "5",
        "--never-finish-jobs",
        "6",
        "--job-ttl-secs",
        "7",
        "--seed",
        "8",
        "--job-status-override",
        "WEIRD",
        "--malformed-job-json",
        "--omit-job-id",
        "--clock-skew-tolerance-secs",
        "9",
        "--clock-offset-secs",
        "-3600",
        "--failing-servers",
        " a , ,b ",
        "--hard-stop-duration-ms",
        "1,2",
        "--reboot-duration-ms",
        "3,4",
        "--hard-reboot-duration-ms",
        "5-6",
        "--ignore-soft-stop",
        "c,d",
        "--soft-stop-timeout-ms",
        "10",
        "--soft-stop-blocks-hard-stop",
    ]);
    let expected = Knobs {
        stop_duration_ms: [5, 5],
        start_rate_limit_per_minute: 0,
        start_rate_window_ms: 1000,
        fault_5xx: 0.25,
        fault_drop: 0.125,
        fault_drop_mode: DropMode::Before,
        fault_429_burst: 1,
        fault_5xx_burst: 2,
        fault_drop_burst: 3,
        retry_after_secs: 4,
        latency_ms: 5,
        never_finish_jobs: 6,
        job_ttl_secs: 7,
        seed: 8,
        job_status_override: Some("WEIRD".into()),
        malformed_job_json: true,
        omit_job_id: true,
        clock_skew_tolerance_secs: 9,
        clock_offset_secs: -3600,
        failing_servers: vec!["a".into(), "b".into()],
        hard_stop_duration_ms: [1, 2],
        reboot_duration_ms: [3, 4],
        hard_reboot_duration_ms: [5, 6],
        ignore_soft_stop: vec!["c".into(), "d".into()],
        soft_stop_timeout_ms: 10,
        soft_stop_blocks_hard_stop: true,
        ..Knobs::default()
    };
    assert_eq!(k, expected);
    let refused = |flags: &[&str]| {
        Knobs::augment_args(Command::new("ecs-sim"))
            .try_get_matches_from(std::iter::once("ecs-sim").chain(flags.iter().copied()))
            .is_err()
    };
    assert!(refused(&["--fault-5xx", "2"]));
    assert!(refused(&["--start-duration-ms", "10,5"]));
    assert!(refused(&["--already-running-mode", "subjob-fail"]));
}

/// The README's knob table, rendered from the flags' definitions: one row per knob with its
/// JSON name and flag, its default and its help (and, for a choice, each value's help).
fn knob_table() -> String {
    let command = Knobs::augment_args(Command::new("ecs-sim"));
    let mut table =
        String::from("| Knob (JSON / flag) | Default | What it does |\n|---|---|---|\n");
    for arg in command.get_arguments() {
        let takes_value = arg.get_action().takes_values();
        let values = if takes_value {
            arg.get_possible_values()
        } else {
            Vec::new()
        };
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .filter(|v| !v.is_empty())
            .collect();
        let default = match (takes_value, defaults.as_slice()) {
            (false, _) => "false".to_string(),
            (true, []) => "none".to_string(),
            (true, [d]) if !values.is_empty() => format!("`{d}`"),
            (true, d) => d.join(","),
        };
        let mut what = arg.get_help().map(ToString::to_string).unwrap_or_default();
        if !values.is_empty() {
            let choices: Vec<String> = values
                .iter()
                .map(|v| {
                    let help = v.get_help().map(ToString::to_string).unwrap_or_default();
                    format!("`{}`: {help}", v.get_name())
                })
                .collect();
            what = format!("{what}. {}", choices.join("; "));
        }
        let long = arg.get_long().expect("every knob has a flag");
        table.push_str(&format!(
            "| `{}` / `--{long}` | {default} | {what} |\n",
            arg.get_id()
        ));
    }
    table
}

/// The README cannot drift from the knobs: its table is [`knob_table`].
/// `UPDATE_DOCS=1 cargo test --lib knob_table` rewrites it.
#[test]
fn readme_knob_table_is_rendered_from_the_knobs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let start = readme
        .find("| Knob (JSON / flag) |")
        .expect("README.md has the knob table");
    let end = readme[start..]
        .find("\n\n")
        .map(|i| start + i + 1)
        .expect("the knob table ends with a blank line");
    let expected = knob_table();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(path, updated).expect("writes README.md");
        return;
    }
    assert_eq!(
        readme[start..end],
        expected,
        "README.md's knob table differs from the knobs' definitions; run \
         UPDATE_DOCS=1 cargo test --lib knob_table"
    );
}

#[test]
fn fleet_tag_sets_are_checked() {
    let k = Knobs::default();
    assert!(k
        .merged(&serde_json::json!({"fleet_tags": ["env=prod+team=a", "-"]}))
        .is_ok());
    let refused = k.merged(&serde_json::json!({"fleet_tags": ["env"]}));
    assert!(refused.is_err_and(|e| e.contains("fleet_tags")));
    assert_eq!(
        parse(&["--fleet-flavors", "a,b"]).fleet_flavors,
        vec!["a".to_string(), "b".to_string()]
    );
}
