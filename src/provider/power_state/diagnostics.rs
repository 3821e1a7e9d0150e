//! What this resource tells the user: at plan, which servers drifted and that apply
//! converges exactly those, and which cannot be converged; at apply, the engine's report in
//! this resource's words (the shared [`report_diagnostics`]) and the servers left
//! unconverged. Long lists are shortened to their first ids and a count.

use tf_provider::{AttributePath, Diagnostics};

use super::observe::Observation;
use super::{Declared, TYPE_NAME};
use crate::api::models::PowerType;
use crate::power::{PowerAction, PowerReport};
use crate::provider::batch::{report_diagnostics, Names};
use crate::provider::ids::{shorten, MAX_LISTED_FAILURES};

/// Destroy's warning: summary and detail.
pub const DESTROY_WARNING: (&str, &str) = (
    "Servers left as they are",
    "Destroying ecs_power_state only removes it from state: no API call is made, and every server keeps the power state it has now.",
);

const START: Names = Names {
    type_name: TYPE_NAME,
    action: PowerAction::Start,
    past: "started",
    done_list: "converged_server_ids",
    next_apply:
        "The next plan shows the servers still not running, and the next apply starts only those.",
    destroy_warning: DESTROY_WARNING,
};

const STOP: Names = Names {
    type_name: TYPE_NAME,
    action: PowerAction::Stop(PowerType::Soft),
    past: "stopped",
    done_list: "converged_server_ids",
    next_apply:
        "The next plan shows the servers still not stopped, and the next apply stops only those.",
    destroy_warning: DESTROY_WARNING,
};

/// The words of the operation that converges to `declared`.
pub fn names(declared: Declared) -> &'static Names {
    match declared {
        Declared::Running => &START,
        Declared::Stopped => &STOP,
    }
}

/// Plan's warnings: the drifted servers apply converges, and those it cannot.
pub fn plan_warnings(o: &Observation, declared: Declared, diags: &mut Diagnostics) {
    let words = names(declared);
    if !o.convergeable.is_empty() {
        diags.warning(
            format!(
                "{} server(s) drifted from {}",
                o.convergeable.len(),
                declared.as_str()
            ),
            format!(
                "Not {} and not on their way there: {}. Apply {}s exactly these (converged_server_ids), and no other server.",
                declared.as_str(),
                shorten(&o.convergeable),
                words.verb()
            ),
            AttributePath::new("state"),
        );
    }
    if !o.blocked.is_empty() {
        diags.warning(
            format!(
                "{} server(s) cannot be converged to {}",
                o.blocked.len(),
                declared.as_str()
            ),
            format!(
                "{}\nApply converges the other servers, then fails naming these.",
                blocked_lines(o)
            ),
            AttributePath::new("server_ids"),
        );
    }
}

/// Apply's error for the servers that a refresh after converging found still drifted and
/// that nothing here converges, leaving out those the engine's report already names.
pub fn unconverged_error(
    o: &Observation,
    declared: Declared,
    report: &PowerReport,
    diags: &mut Diagnostics,
) {
    let named = |id: &String| report.failed.iter().any(|f| &f.server_id == id);
    let left: Vec<(String, String)> = o
        .blocked
        .iter()
        .filter(|(id, _)| !named(id))
        .cloned()
        .collect();
    if left.is_empty() {
        return;
    }
    let only = Observation {
        blocked: left,
        ..Observation::default()
    };
    diags.error(
        format!(
            "{} server(s) cannot be converged to {}",
            only.blocked.len(),
            declared.as_str()
        ),
        format!(
            "{}\nThe other servers were converged. Bring these back (or remove them from server_ids), then apply again.",
            blocked_lines(&only)
        ),
        AttributePath::new("server_ids"),
    );
}

/// One `  - id: status (what it means)` line per blocked server, up to the cap.
fn blocked_lines(o: &Observation) -> String {
    let mut lines: Vec<String> = o
        .blocked
        .iter()
        .take(MAX_LISTED_FAILURES)
        .map(|(id, status)| format!("  - {id}: {status}"))
        .collect();
    if o.blocked.len() > MAX_LISTED_FAILURES {
        lines.push(format!(
            "  … and {} more (all in drifted_server_ids and other_server_states)",
            o.blocked.len() - MAX_LISTED_FAILURES
        ));
    }
    lines.join("\n")
}

/// The engine's report, in this resource's words; `timeout` as `timeouts.update (30m)`.
pub fn report_errors(
    declared: Declared,
    report: &PowerReport,
    timeout: &str,
    diags: &mut Diagnostics,
) {
    report_diagnostics(names(declared), report, timeout, diags);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(o: &Observation, declared: Declared) -> String {
        let mut d = Diagnostics::default();
        plan_warnings(o, declared, &mut d);
        crate::provider::warning_text(&d)
    }

    #[test]
    fn plan_names_the_drifted_and_the_blocked_shortened() {
        let many: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
        let o = Observation {
            convergeable: many.clone(),
            blocked: vec![("e1".into(), "ERROR".into())],
            ..Default::default()
        };
        let w = warnings(&o, Declared::Running);
        assert!(
            w.starts_with("25 server(s) drifted from running | Not running and not on their way there: s00, s01"),
            "{w}"
        );
        assert!(
            w.contains("… and 5 more. Apply starts exactly these"),
            "{w}"
        );
        assert!(
            w.contains("1 server(s) cannot be converged to running |   - e1: ERROR"),
            "{w}"
        );
        assert!(warnings(&Observation::default(), Declared::Stopped).is_empty());
    }

    #[test]
    fn apply_names_the_blocked_the_engine_did_not() {
        let o = Observation {
            blocked: vec![
                ("e1".into(), "ERROR".into()),
                ("e2".into(), "not found".into()),
            ],
            ..Default::default()
        };
        let report = PowerReport {
            failed: vec![crate::power::FailedServer {
                server_id: "e2".into(),
                code: "c".into(),
                reason: "r".into(),
            }],
            ..Default::default()
        };
        let mut d = Diagnostics::default();
        unconverged_error(&o, Declared::Stopped, &report, &mut d);
        let e = crate::provider::error_text(&d);
        assert!(
            e.starts_with("1 server(s) cannot be converged to stopped |   - e1: ERROR"),
            "{e}"
        );
        assert!(!e.contains("e2"), "{e}");
    }
}
