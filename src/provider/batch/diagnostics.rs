//! From a run's report to what Terraform keeps and shows: the state to save, and one
//! diagnostic per kind of outcome, in the resource's words ([`Names`]). Each says what
//! happened to which servers and, when jobs were submitted, that their ids are saved.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::{BatchState, Names};
use crate::power::PowerReport;
use crate::provider::ids::{id_list, shorten, MAX_LISTED_FAILURES};

/// The state to save after a run: the plan with the computed values filled in.
pub fn state_from<S: BatchState>(planned: &S, report: &PowerReport) -> S {
    let mut state = planned.clone();
    *state.id_mut() = Value::Value(uuid::Uuid::new_v4().to_string());
    for (_, outcome, list) in state.outcome_lists() {
        *list = id_list(&outcome.ids(report));
    }
    state
}

/// Every diagnostic of a run, errors first in a fixed order, then the warnings.
/// `timeout` names the timeout and its value as written, such as `timeouts.create (30m)`,
/// for the timed-out message.
pub fn report_diagnostics(
    names: &Names,
    report: &PowerReport,
    timeout: &str,
    diags: &mut Diagnostics,
) {
    let saved = saved_job_ids(names, report);
    missing_servers(names, report, diags);
    failed_servers(names, report, &saved, diags);
    timed_out(names, report, timeout, &saved, diags);
    interrupted(names, report, &saved, diags);
    api_errors(report, &saved, diags);
    unconfirmed(names, report, &saved, diags);
    forced_warning(report, diags);
    lost_answer_warnings(names, report, diags);
}

/// The sentence every error after a submission ends with: the job ids are in state.
fn saved_job_ids(names: &Names, report: &PowerReport) -> String {
    if report.job_ids.is_empty() {
        return String::new();
    }
    format!(
        "\n\nThe {} job id(s) submitted are saved in state (job_ids): {}. {}",
        report.job_ids.len(),
        report.job_ids.join(", "),
        names.next_apply
    )
}

/// Ids that do not exist: the pre-check stopped before anything was sent.
fn missing_servers(names: &Names, report: &PowerReport, diags: &mut Diagnostics) {
    if report.missing.is_empty() {
        return;
    }
    diags.error(
        "Servers not found",
        format!(
            "{} of the server_ids do not exist in this project: {}. Nothing was {}.",
            report.missing.len(),
            shorten(&report.missing),
            names.past
        ),
        AttributePath::new("server_ids"),
    );
}

/// One line per failed server with its error code and reason, up to the cap.
fn failed_servers(names: &Names, report: &PowerReport, saved: &str, diags: &mut Diagnostics) {
    if report.failed.is_empty() {
        return;
    }
    let mut lines: Vec<String> = report
        .failed
        .iter()
        .take(MAX_LISTED_FAILURES)
        .map(|f| format!("  - {}: {}: {}", f.server_id, f.code, f.reason))
        .collect();
    if report.failed.len() > MAX_LISTED_FAILURES {
        lines.push(format!(
            "  … and {} more (all in failed_server_ids)",
            report.failed.len() - MAX_LISTED_FAILURES
        ));
    }
    diags.root_error(
        format!(
            "{} server(s) failed to {}",
            report.failed.len(),
            names.verb()
        ),
        format!("{}{saved}", lines.join("\n")),
    );
}

/// The deadline passed: says what the run was still waiting for.
fn timed_out(
    names: &Names,
    report: &PowerReport,
    timeout: &str,
    saved: &str,
    diags: &mut Diagnostics,
) {
    if !report.timed_out {
        return;
    }
    diags.root_error(
        format!("Timed out waiting for the {} jobs", names.verb()),
        format!(
            "{timeout} passed {}; {} server(s) not confirmed {}.{saved}",
            waited_for(names, report).join("; "),
            report.unconfirmed.len(),
            names.past
        ),
    );
}

/// The parts of a timed-out message that name what was still pending, never empty.
fn waited_for(names: &Names, report: &PowerReport) -> Vec<String> {
    let mut what = Vec::new();
    if !report.running_jobs.is_empty() {
        what.push(format!(
            "with job(s) still running: {}",
            running_jobs(report).join(", ")
        ));
    }
    if !report.still_in_progress.is_empty() {
        what.push(format!(
            "while {} server(s) whose {} was already in progress at the pre-check (not sent again) were still {}: {}",
            report.still_in_progress.len(),
            names.verb(),
            names.gerund(),
            shorten(&report.still_in_progress)
        ));
    }
    if !report.not_submitted.is_empty() {
        what.push(format!(
            "before {} server(s) could be submitted",
            report.not_submitted.len()
        ));
    }
    if what.is_empty() {
        what.push("before the servers' states could be read".to_string());
    }
    what
}

/// The running jobs, each with its last status when this provider does not know it.
fn running_jobs(report: &PowerReport) -> Vec<String> {
    report
        .running_jobs
        .iter()
        .map(
            |job| match report.unknown_status_jobs.iter().find(|(j, _)| j == job) {
                Some((_, status)) => format!(
                    "{job} (status {status:?}, which this provider does not know, so it polled on)"
                ),
                None => job.clone(),
            },
        )
        .collect()
}

/// An interrupt (Ctrl-C, StopProvider) stopped submitting or waiting.
fn interrupted(names: &Names, report: &PowerReport, saved: &str, diags: &mut Diagnostics) {
    if !report.interrupted {
        return;
    }
    let stopped = if report.running_jobs.is_empty() {
        "submitting".to_string()
    } else {
        format!("waiting on job(s) {}", report.running_jobs.join(", "))
    };
    diags.root_error(
        "Interrupted",
        format!(
            "The provider received an interrupt and stopped {stopped}; {} server(s) not confirmed {}.{saved}",
            report.unconfirmed.len(),
            names.past
        ),
    );
}

/// One error per API failure that stopped the run or a part of it.
fn api_errors(report: &PowerReport, saved: &str, diags: &mut Diagnostics) {
    for e in &report.errors {
        diags.root_error("ECS API error", format!("{e}{saved}"));
    }
}

/// Servers left unconfirmed when no other error explains why: never a silent success.
fn unconfirmed(names: &Names, report: &PowerReport, saved: &str, diags: &mut Diagnostics) {
    let named_elsewhere = report.timed_out || report.interrupted || !report.errors.is_empty();
    if report.unconfirmed.is_empty() || named_elsewhere {
        return;
    }
    diags.root_error(
        format!("Servers not confirmed {}", names.past),
        format!(
            "{} server(s) were not confirmed {}: {}.{saved}",
            report.unconfirmed.len(),
            names.past,
            shorten(&report.unconfirmed)
        ),
    );
}

/// Servers a graceful stop did not stop in time, stopped with `HARD`: the guest was not
/// shut down cleanly, which the user should hear about even when apply succeeds.
fn forced_warning(report: &PowerReport, diags: &mut Diagnostics) {
    if report.forced.is_empty() {
        return;
    }
    diags.root_warning(
        "Servers stopped with HARD",
        format!(
            "{} server(s) were not stopped by the graceful (SOFT) stop within force_after and were stopped with HARD, without a clean shutdown of their guest OS (all in forced_server_ids): {}.",
            report.forced.len(),
            shorten(&report.forced)
        ),
    );
}

/// Lost answers to a batch that reading the states resolved: warnings only.
fn lost_answer_warnings(names: &Names, report: &PowerReport, diags: &mut Diagnostics) {
    for w in &report.warnings {
        diags.root_warning(format!("Batch {} answer lost", names.verb()), w.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::FailedServer;
    use crate::provider::batch_reboot::BatchRebootState;
    use crate::provider::batch_start::BatchStartState;
    use crate::provider::batch_stop::BatchStopState;
    use crate::provider::ids::fixtures::{A, B};

    fn report_errors<S: BatchState>(report: &PowerReport) -> String {
        let mut d = Diagnostics::default();
        report_diagnostics(&S::NAMES, report, "timeouts.create (3s)", &mut d);
        crate::provider::error_text(&d)
    }

    fn warnings<S: BatchState>(report: &PowerReport) -> String {
        let mut d = Diagnostics::default();
        report_diagnostics(&S::NAMES, report, "timeouts.create (3s)", &mut d);
        crate::provider::warning_text(&d)
    }

    #[test]
    fn unconfirmed_servers_are_never_a_silent_success() {
        let report = PowerReport {
            job_ids: vec!["j1".into()],
            unconfirmed: vec![A.into()],
            ..Default::default()
        };
        let e = report_errors::<BatchStartState>(&report);
        assert!(e.contains("Servers not confirmed started"), "{e}");
        assert!(e.contains(A) && e.contains("j1"), "{e}");
        assert!(
            e.contains("Terraform marks the resource tainted; the next apply starts only the servers still stopped."),
            "{e}"
        );
        let e = report_errors::<BatchRebootState>(&report);
        assert!(
            e.starts_with(
                "Servers not confirmed rebooted | 1 server(s) were not confirmed rebooted"
            ),
            "{e}"
        );
        assert!(e.contains("terraform untaint"), "{e}");
    }

    #[test]
    fn a_timeout_names_what_it_was_waiting_for() {
        let report = PowerReport {
            job_ids: vec!["j1".into(), "j2".into()],
            running_jobs: vec!["j1".into(), "j2".into()],
            unknown_status_jobs: vec![("j2".into(), "WEIRD".into())],
            unconfirmed: vec![A.into(), B.into()],
            still_in_progress: vec![A.into()],
            not_submitted: vec![B.into()],
            timed_out: true,
            ..Default::default()
        };
        let e = report_errors::<BatchStartState>(&report);
        assert!(
            e.starts_with("Timed out waiting for the start jobs | "),
            "{e}"
        );
        assert!(
            e.contains("with job(s) still running: j1, j2 (status \"WEIRD\""),
            "{e}"
        );
        assert!(
            e.contains(&format!("1 server(s) whose start was already in progress at the pre-check (not sent again) were still starting: {A}")),
            "{e}"
        );
        assert!(e.contains("before 1 server(s) could be submitted"), "{e}");
        assert!(e.contains("2 server(s) not confirmed started"), "{e}");
        assert!(
            !e.contains("Servers not confirmed started"),
            "one error: {e}"
        );
        let e = report_errors::<BatchStopState>(&report);
        assert!(
            e.starts_with("Timed out waiting for the stop jobs | "),
            "{e}"
        );
        assert!(
            e.contains("whose stop was already in progress at the pre-check (not sent again) were still stopping"),
            "{e}"
        );
        assert!(e.contains("2 server(s) not confirmed stopped"), "{e}");
        assert!(
            e.contains("the next apply stops only the servers still running."),
            "{e}"
        );
    }

    #[test]
    fn failures_are_listed_up_to_the_cap_with_their_codes() {
        let failed: Vec<FailedServer> = (0..MAX_LISTED_FAILURES + 2)
            .map(|i| FailedServer {
                server_id: format!("s{i}"),
                code: "Ecs.0001".into(),
                reason: "no capacity".into(),
            })
            .collect();
        let report = PowerReport {
            failed,
            ..Default::default()
        };
        let e = report_errors::<BatchStartState>(&report);
        assert!(
            e.starts_with("22 server(s) failed to start |   - s0: Ecs.0001: no capacity"),
            "{e}"
        );
        assert!(
            e.contains("  - s19: Ecs.0001: no capacity\n  … and 2 more (all in failed_server_ids)"),
            "{e}"
        );
        assert!(!e.contains("s20"), "{e}");
        assert!(!e.contains("saved in state"), "no job was submitted: {e}");
        let e = report_errors::<BatchRebootState>(&report);
        assert!(e.starts_with("22 server(s) failed to reboot | "), "{e}");
    }

    #[test]
    fn missing_servers_lost_answers_and_forced_stops_speak_the_resources_words() {
        let report = PowerReport {
            missing: vec![A.into()],
            warnings: vec!["w".into()],
            forced: vec![B.into()],
            ..Default::default()
        };
        let e = report_errors::<BatchStopState>(&report);
        assert!(
            e.starts_with("Servers not found | ") && e.contains("Nothing was stopped."),
            "{e}"
        );
        let w = warnings::<BatchStopState>(&report);
        assert!(w.contains("Batch stop answer lost | w"), "{w}");
        assert!(
            w.contains("Servers stopped with HARD | 1 server(s) were not stopped by the graceful (SOFT) stop within force_after"),
            "{w}"
        );
        assert!(w.contains(B), "{w}");
        let w = warnings::<BatchStartState>(&PowerReport {
            warnings: vec!["w".into()],
            ..Default::default()
        });
        assert!(w.starts_with("Batch start answer lost | w"), "{w}");
        assert!(!w.contains("HARD"), "{w}");
    }

    #[test]
    fn the_state_records_every_outcome_list() {
        let planned = BatchStartState {
            server_ids: id_list(&[A.into(), B.into()]),
            wait: Value::Value(false),
            ..Default::default()
        };
        let report = PowerReport {
            job_ids: vec!["j1".into()],
            done: vec![A.into()],
            failed: vec![FailedServer {
                server_id: B.into(),
                code: "Ecs.0001".into(),
                reason: "r".into(),
            }],
            ..Default::default()
        };
        let state = state_from(&planned, &report);
        assert!(state.id.as_ref_option().is_some_and(|id| id.len() == 36));
        assert_eq!(state.job_ids, id_list(&["j1".into()]));
        assert_eq!(state.started_server_ids, id_list(&[A.into()]));
        assert_eq!(state.skipped_server_ids, id_list(&[]));
        assert_eq!(state.failed_server_ids, id_list(&[B.into()]));
        assert_eq!(state.server_ids, planned.server_ids);
        assert_eq!(state.wait, Value::Value(false));
    }

    #[test]
    fn a_stop_records_the_forced_subset() {
        let report = PowerReport {
            job_ids: vec!["j1".into(), "j2".into()],
            done: vec![A.into(), B.into()],
            forced: vec![B.into()],
            ..Default::default()
        };
        let state = state_from(&BatchStopState::default(), &report);
        assert_eq!(state.stopped_server_ids, id_list(&[A.into(), B.into()]));
        assert_eq!(state.forced_server_ids, id_list(&[B.into()]));
        assert_eq!(state.job_ids, id_list(&["j1".into(), "j2".into()]));
    }
}
