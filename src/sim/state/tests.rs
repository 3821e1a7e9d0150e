//! Stop and reboot in the state, on the simulated clock: durations per operation and
//! type, guests that ignore a SOFT stop, a HARD stop overriding a SOFT one, failing servers
//! per operation, reboots meeting transitions, and the reboot counters.

use super::*;
use crate::api::codes::{
    BUSY, INVALID_PARAMETER, REBOOT_FAILED, START_FAILED, STATE_CONFLICT, STOP_FAILED,
};
use crate::api::models::{Job, JobStatus, PowerType};
use crate::sim::failure::Failure;
use crate::sim::knobs::AlreadyRunningMode;

const SOFT_STOP: PowerAction = PowerAction::Stop(PowerType::Soft);
const HARD_STOP: PowerAction = PowerAction::Stop(PowerType::Hard);
const SOFT_REBOOT: PowerAction = PowerAction::Reboot(PowerType::Soft);
const HARD_REBOOT: PowerAction = PowerAction::Reboot(PowerType::Hard);

/// Fixed durations far longer than a test takes, so that only `advance` moves time: start
/// 10 s (INIT is then 1 s), soft stop 20 s, hard stop 4 s, soft reboot 30 s, hard reboot 6 s.
fn knobs() -> Knobs {
    Knobs {
        start_duration_ms: [10_000, 10_000],
        stop_duration_ms: [20_000, 20_000],
        hard_stop_duration_ms: [4_000, 4_000],
        reboot_duration_ms: [30_000, 30_000],
        hard_reboot_duration_ms: [6_000, 6_000],
        soft_stop_timeout_ms: 50_000,
        start_rate_limit_per_minute: 0,
        ..Knobs::default()
    }
}

/// A state with `n` servers, all running.
fn running(n: usize, knobs: Knobs) -> (State, Vec<String>) {
    let mut state = State::new(knobs);
    let ids = state.create_generated(n);
    let job = state.submit(PowerAction::Start, &ids).expect("start");
    state.advance(10_500);
    assert_eq!(status(&mut state, &job), JobStatus::Success);
    (state, ids)
}

fn job(state: &mut State, id: &str) -> Job {
    match state.show_job(id) {
        JobView::Found(job) => *job,
        JobView::NotFound => panic!("job {id} not found"),
    }
}

fn status(state: &mut State, id: &str) -> JobStatus {
    job(state, id).status.expect("status")
}

/// (status, task state) of a server as served.
fn shown(state: &mut State, id: &str) -> (String, Option<String>) {
    let s = state.show_server(id).expect("server");
    (s.status.expect("status"), s.task_state)
}

fn shown_as(status: &str, task: Option<&str>) -> (String, Option<String>) {
    (status.to_string(), task.map(str::to_string))
}

/// (status, error code) of the one sub-job of a job.
fn sub(state: &mut State, id: &str) -> (JobStatus, Option<String>) {
    let j = job(state, id);
    let s = &j.sub_jobs()[0];
    (s.status.clone().expect("status"), s.error_code.clone())
}

/// (status, code, message) of an ECS-shaped refusal.
fn refusal(f: &Failure) -> (u16, &'static str, &str) {
    match f {
        Failure::Ecs {
            status,
            code,
            message,
            ..
        } => (*status, code, message),
        other => panic!("not an ECS error: {other:?}"),
    }
}

#[test]
fn each_operation_and_type_takes_its_own_duration() {
    for (action, ms, during, after) in [
        (
            SOFT_STOP,
            20_000,
            ("ACTIVE", Some("powering-off")),
            "SHUTOFF",
        ),
        (
            HARD_STOP,
            4_000,
            ("ACTIVE", Some("powering-off")),
            "SHUTOFF",
        ),
        (SOFT_REBOOT, 30_000, ("REBOOT", Some("rebooting")), "ACTIVE"),
        (
            HARD_REBOOT,
            6_000,
            ("HARD_REBOOT", Some("rebooting_hard")),
            "ACTIVE",
        ),
    ] {
        let (mut state, ids) = running(1, knobs());
        let j = state.submit(action, &ids).expect("accepted");
        state.advance(ms - 100);
        assert_eq!(shown(&mut state, &ids[0]), shown_as(during.0, during.1));
        assert_eq!(status(&mut state, &j), JobStatus::Running, "{action:?}");
        state.advance(200);
        assert_eq!(shown(&mut state, &ids[0]), shown_as(after, None));
        assert_eq!(status(&mut state, &j), JobStatus::Success, "{action:?}");
    }
}

#[test]
fn time_scale_applies_to_every_duration_and_the_soft_stop_timeout() {
    let scaled = Knobs {
        time_scale: 0.5,
        ignore_soft_stop: vec![super::super::config::server_id_for_index(1)],
        ..knobs()
    };
    let (mut state, ids) = running(2, scaled);
    let hard_reboot = state.submit(HARD_REBOOT, &ids[..1]).expect("accepted");
    let soft_stop = state.submit(SOFT_STOP, &ids[1..]).expect("accepted");
    state.advance(3_100);
    assert_eq!(status(&mut state, &hard_reboot), JobStatus::Success);
    assert_eq!(status(&mut state, &soft_stop), JobStatus::Running);
    state.advance(22_000);
    assert_eq!(sub(&mut state, &soft_stop).0, JobStatus::Fail);
}

#[test]
fn a_guest_ignoring_a_soft_stop_fails_after_the_timeout() {
    let mut k = knobs();
    let (mut state, ids) = running(2, k.clone());
    k.ignore_soft_stop = vec![ids[0].clone()];
    state.knobs = k;
    let j = state.submit(SOFT_STOP, &ids[..1]).expect("accepted");
    state.advance(49_900);
    assert_eq!(
        shown(&mut state, &ids[0]),
        shown_as("ACTIVE", Some("powering-off"))
    );
    assert_eq!(status(&mut state, &j), JobStatus::Running);
    state.advance(200);
    assert_eq!(shown(&mut state, &ids[0]), shown_as("ACTIVE", None));
    assert_eq!(
        sub(&mut state, &j),
        (JobStatus::Fail, Some(STOP_FAILED.into()))
    );
    // A HARD stop is not ignored.
    let hard = state.submit(HARD_STOP, &ids[..1]).expect("accepted");
    state.advance(4_100);
    assert_eq!(sub(&mut state, &hard).0, JobStatus::Success);
    assert_eq!(shown(&mut state, &ids[0]), shown_as("SHUTOFF", None));
}

#[test]
fn a_hard_stop_overrides_a_soft_stop_under_way() {
    let mut k = knobs();
    let (mut state, ids) = running(1, k.clone());
    k.ignore_soft_stop = ids.clone();
    state.knobs = k;
    let soft = state.submit(SOFT_STOP, &ids).expect("accepted");
    let joined = state
        .submit(SOFT_STOP, &ids)
        .expect("a second soft stop joins");
    state.advance(10_000);
    let hard = state.submit(HARD_STOP, &ids).expect("accepted");
    state.advance(3_900);
    assert_eq!(
        shown(&mut state, &ids[0]),
        shown_as("ACTIVE", Some("powering-off"))
    );
    assert_eq!(status(&mut state, &soft), JobStatus::Running);
    state.advance(200);
    assert_eq!(shown(&mut state, &ids[0]), shown_as("SHUTOFF", None));
    // The superseded soft stops end with the hard one, as the server did.
    for j in [&hard, &soft, &joined] {
        assert_eq!(sub(&mut state, j), (JobStatus::Success, None));
    }
    assert_eq!(
        job(&mut state, &soft).end_time,
        job(&mut state, &hard).end_time
    );
    state.advance(100_000);
    assert_eq!(shown(&mut state, &ids[0]), shown_as("SHUTOFF", None));
    assert_eq!(state.stops_total(), 3);
}

#[test]
fn a_superseded_soft_stop_of_a_failing_server_fails_with_the_hard_one() {
    let mut k = knobs();
    let (mut state, ids) = running(1, k.clone());
    k.failing_servers = ids.clone();
    state.knobs = k;
    let soft = state.submit(SOFT_STOP, &ids).expect("accepted");
    state.advance(1_000);
    let hard = state.submit(HARD_STOP, &ids).expect("accepted");
    state.advance(4_100);
    for j in [&hard, &soft] {
        let failed = (JobStatus::Fail, Some(STOP_FAILED.into()));
        assert_eq!(sub(&mut state, j), failed);
    }
    assert_eq!(shown(&mut state, &ids[0]), shown_as("ACTIVE", None));
}

#[test]
fn soft_stop_blocks_hard_stop_makes_the_hard_stop_busy() {
    let mut k = knobs();
    let (mut state, ids) = running(1, k.clone());
    k.soft_stop_blocks_hard_stop = true;
    state.knobs = k;
    let soft = state.submit(SOFT_STOP, &ids).expect("accepted");
    let hard = state.submit(HARD_STOP, &ids).expect("accepted");
    state.advance(1_100);
    assert_eq!(sub(&mut state, &hard), (JobStatus::Fail, Some(BUSY.into())));
    state.advance(19_000);
    assert_eq!(sub(&mut state, &soft), (JobStatus::Success, None));
}

#[test]
fn failing_servers_fail_every_operation_with_its_code() {
    for (action, code, during) in [
        (SOFT_STOP, STOP_FAILED, ("ACTIVE", Some("powering-off"))),
        (HARD_STOP, STOP_FAILED, ("ACTIVE", Some("powering-off"))),
        (SOFT_REBOOT, REBOOT_FAILED, ("REBOOT", Some("rebooting"))),
        (
            HARD_REBOOT,
            REBOOT_FAILED,
            ("HARD_REBOOT", Some("rebooting_hard")),
        ),
    ] {
        let mut k = knobs();
        let (mut state, ids) = running(2, k.clone());
        k.failing_servers = vec![ids[0].clone()];
        state.knobs = k;
        let j = state.submit(action, &ids).expect("accepted");
        state.advance(3_000);
        assert_eq!(shown(&mut state, &ids[0]), shown_as(during.0, during.1));
        state.advance(30_000);
        let done = job(&mut state, &j);
        assert_eq!(done.status, Some(JobStatus::Fail), "{action:?}");
        assert_eq!(done.sub_jobs()[0].error_code.as_deref(), Some(code));
        assert_eq!(done.sub_jobs()[1].status, Some(JobStatus::Success));
        // The failing server rests where it started: running.
        assert_eq!(shown(&mut state, &ids[0]), shown_as("ACTIVE", None));
    }
    // A start still fails with Ecs.0226 and leaves the server stopped.
    let mut state = State::new(knobs());
    let ids = state.create_generated(1);
    state.knobs.failing_servers = ids.clone();
    let j = state.submit(PowerAction::Start, &ids).expect("accepted");
    state.advance(10_100);
    assert_eq!(
        sub(&mut state, &j),
        (JobStatus::Fail, Some(START_FAILED.into()))
    );
    assert_eq!(shown(&mut state, &ids[0]), shown_as("SHUTOFF", None));
}

#[test]
fn a_reboot_meeting_any_transition_is_the_state_conflict() {
    for mode in [AlreadyRunningMode::SubjobFail, AlreadyRunningMode::Success] {
        let (mut state, ids) = running(3, knobs());
        state.knobs.already_running_mode = mode;
        state.submit(SOFT_REBOOT, &ids[..1]).expect("accepted");
        state.submit(SOFT_STOP, &ids[1..2]).expect("accepted");
        state.submit(HARD_REBOOT, &ids[2..]).expect("accepted");
        let again = state.submit(HARD_REBOOT, &ids).expect("accepted");
        state.advance(1_100);
        let j = job(&mut state, &again);
        for s in j.sub_jobs() {
            assert_eq!(s.status, Some(JobStatus::Fail), "{mode:?}");
            assert_eq!(s.error_code.as_deref(), Some(STATE_CONFLICT));
        }
        assert_eq!(shown(&mut state, &ids[0]).0, "REBOOT");
    }
    let (mut state, ids) = running(1, knobs());
    state.knobs.already_running_mode = AlreadyRunningMode::Sync400;
    state.submit(SOFT_REBOOT, &ids).expect("accepted");
    let refused = state.submit(SOFT_REBOOT, &ids).expect_err("refused");
    assert_eq!(refusal(&refused).0, 400);
    assert_eq!(refusal(&refused).1, STATE_CONFLICT);
    assert_eq!(state.reboots_total(), 1);
}

#[test]
fn reboots_are_counted_per_server_and_in_total() {
    let (mut state, ids) = running(2, knobs());
    state.submit(SOFT_REBOOT, &ids).expect("accepted");
    state.advance(31_000);
    state.submit(HARD_REBOOT, &ids[..1]).expect("accepted");
    assert_eq!(state.reboots_total(), 3);
    let record = state.server_record(&ids[0]).expect("record");
    assert_eq!(
        (record.start_count, record.stop_count, record.reboot_count),
        (1, 0, 2)
    );
    state.reset_counters();
    assert_eq!(state.reboots_total(), 0);
    assert_eq!(
        state.server_record(&ids[0]).expect("record").reboot_count,
        0
    );
}

#[test]
fn action_bodies_carry_the_type_and_refuse_a_bad_one() {
    let parse = |body: &str| parse_action_body(body.as_bytes());
    let id = r#"[{"id": "a"}]"#;
    let (action, ids) = parse(&format!(r#"{{"os-stop": {{"servers": {id}}}}}"#)).expect("ok");
    assert_eq!((action, ids), (SOFT_STOP, vec!["a".to_string()]));
    let hard = format!(r#"{{"os-stop": {{"servers": {id}, "type": "HARD"}}}}"#);
    assert_eq!(parse(&hard).expect("ok").0, HARD_STOP);
    let reboot = format!(r#"{{"reboot": {{"servers": {id}, "type": "HARD"}}}}"#);
    assert_eq!(parse(&reboot).expect("ok").0, HARD_REBOOT);
    let missing = parse(&format!(r#"{{"reboot": {{"servers": {id}}}}}"#)).expect_err("400");
    assert_eq!(refusal(&missing).1, INVALID_PARAMETER);
    assert!(refusal(&missing).2.contains("`type`"), "{missing:?}");
    for bad in [r#""soft""#, r#""FORCE""#, "null", "1"] {
        for key in ["os-stop", "reboot"] {
            let body = format!(r#"{{"{key}": {{"servers": {id}, "type": {bad}}}}}"#);
            match (key, parse(&body)) {
                // A null stop type is an absent one, as the SDK's model reads it.
                ("os-stop", Ok((action, _))) if bad == "null" => assert_eq!(action, SOFT_STOP),
                (_, Ok(_)) => panic!("{body} accepted"),
                (_, Err(e)) => assert_eq!(refusal(&e).1, INVALID_PARAMETER, "{body}"),
            }
        }
    }
}
