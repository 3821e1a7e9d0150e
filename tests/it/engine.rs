//! The power engine below Terraform, as ripgrep tests its searcher below the CLI: every
//! outcome class of `BatchStart::run` against an in-process ecs-sim, in milliseconds.

use std::sync::Arc;
use std::time::Duration;

use crate::support::sim::TestSim;
use serde_json::{json, Value};
use terraform_provider_ecs::api::codes;
use terraform_provider_ecs::api::models::PowerType;
use terraform_provider_ecs::api::{EcsClient, PollPolicy};
use terraform_provider_ecs::power::{Engine, Pacers, PowerAction, PowerOptions, PowerReport};
use terraform_provider_ecs::sim::{Knobs, ServerSpec, SimConfig, ROUTE_ACTION, ROUTE_LIST};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The id of the `i`th server of a test fleet.
fn id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(id).collect()
}

fn spec(i: usize, status: &str) -> ServerSpec {
    ServerSpec {
        id: id(i),
        status: status.into(),
        ..ServerSpec::default()
    }
}

/// Every operation takes 5-10 ms; no rate limit.
fn quick() -> Knobs {
    Knobs {
        start_duration_ms: [5, 10],
        stop_duration_ms: [5, 10],
        hard_stop_duration_ms: [5, 10],
        reboot_duration_ms: [5, 10],
        hard_reboot_duration_ms: [5, 10],
        start_rate_limit_per_minute: 0,
        ..Knobs::default()
    }
}

/// Waiting, with a deadline `timeout` from now, polling every 20-50 ms, never forcing.
fn options(timeout: Duration) -> PowerOptions {
    PowerOptions {
        wait: true,
        deadline: Instant::now() + timeout,
        poll: fast_poll(),
        force_after: None,
    }
}

/// Job and state reads every 20-50 ms.
fn fast_poll() -> PollPolicy {
    PollPolicy::fixed(Duration::from_millis(20), 1.5, Duration::from_millis(50))
}

/// An ecs-sim with `servers`, and the engine's client for it.
struct Fleet {
    sim: TestSim,
    client: EcsClient,
}

impl Fleet {
    async fn new(servers: Vec<ServerSpec>, knobs: Knobs) -> Fleet {
        let sim = TestSim::start_with(SimConfig {
            servers: 0,
            initial_servers: servers,
            knobs,
            ..SimConfig::default()
        })
        .await;
        let client = EcsClient::new(sim.client_config()).expect("client");
        Fleet { sim, client }
    }

    /// Runs the engine on `ids` with a 20 s deadline, polling every 20-50 ms.
    async fn start(&self, ids: &[String]) -> PowerReport {
        self.run(ids, true, Duration::from_secs(20), CancellationToken::new())
            .await
    }

    async fn run(
        &self,
        ids: &[String],
        wait: bool,
        timeout: Duration,
        interrupt: CancellationToken,
    ) -> PowerReport {
        self.run_action(PowerAction::Start, ids, wait, timeout, interrupt)
            .await
    }

    async fn run_action(
        &self,
        action: PowerAction,
        ids: &[String],
        wait: bool,
        timeout: Duration,
        interrupt: CancellationToken,
    ) -> PowerReport {
        let opts = PowerOptions {
            wait,
            ..options(timeout)
        };
        self.engine(Pacers::new(0, 0, 0), interrupt)
            .run(action, ids, &opts)
            .await
    }

    /// The engine over this fleet's client.
    fn engine(&self, pacers: Pacers, interrupt: CancellationToken) -> Engine {
        Engine::new(self.client.clone(), Arc::new(pacers), interrupt)
    }

    async fn posts(&self) -> u64 {
        let stats = self.sim.stats().await;
        let by_status = &stats["requests"][ROUTE_ACTION];
        by_status
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
    }

    async fn starts_of(&self, ids: &[String]) -> Vec<u64> {
        let mut counts = Vec::new();
        for id in ids {
            counts.push(self.sim.start_count(id).await);
        }
        counts
    }
}

fn stopped(range: std::ops::Range<usize>) -> Vec<ServerSpec> {
    range.map(|i| spec(i, "SHUTOFF")).collect()
}

#[tokio::test]
async fn stopped_servers_start_running_ones_are_skipped_and_the_job_is_recorded() {
    let mut servers = stopped(0..3);
    servers.extend((3..5).map(|i| spec(i, "ACTIVE")));
    let fleet = Fleet::new(servers, quick()).await;
    let report = fleet.start(&ids(0..5)).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..3));
    assert_eq!(report.skipped, ids(3..5));
    assert_eq!(report.job_ids.len(), 1);
    assert_eq!(fleet.posts().await, 1);
}

#[tokio::test]
async fn a_failed_sub_job_is_reported_with_its_code_and_the_rest_start() {
    let knobs = Knobs {
        failing_servers: vec![id(1)],
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..3), knobs).await;
    let report = fleet.start(&ids(0..3)).await;
    assert!(!report.is_success());
    assert_eq!(report.done, vec![id(0), id(2)]);
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].server_id, id(1));
    assert_eq!(report.failed[0].code, codes::START_FAILED);
    assert_eq!(report.job_ids.len(), 1);
}

#[tokio::test]
async fn an_id_that_does_not_exist_starts_nothing() {
    let fleet = Fleet::new(stopped(0..2), quick()).await;
    let report = fleet.start(&ids(0..3)).await;
    assert_eq!(report.missing, vec![id(2)]);
    assert!(report.job_ids.is_empty() && report.done.is_empty());
    assert_eq!(fleet.posts().await, 0);
}

#[tokio::test]
async fn a_server_in_error_fails_with_the_reason_and_the_rest_start() {
    let mut servers = stopped(0..2);
    servers.push(spec(2, "ERROR"));
    let fleet = Fleet::new(servers, quick()).await;
    let report = fleet.start(&ids(0..3)).await;
    assert_eq!(report.done, ids(0..2));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].server_id, id(2));
    assert!(report.failed[0].reason.contains("ERROR"), "{report:?}");
}

#[tokio::test]
async fn a_start_already_in_progress_is_waited_on_not_sent_again() {
    let mut servers = stopped(0..2);
    servers.push(ServerSpec {
        task_state: Some("powering-on".into()),
        ..spec(2, "SHUTOFF")
    });
    // Long enough that the start under way is still under way at the pre-check.
    let knobs = Knobs {
        start_duration_ms: [1000, 1200],
        ..quick()
    };
    let fleet = Fleet::new(servers, knobs).await;
    let report = fleet.start(&ids(0..3)).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..3));
    assert!(report.skipped.is_empty());
    assert_eq!(fleet.starts_of(&ids(0..3)).await, vec![1, 1, 0]);
}

#[tokio::test]
async fn a_lost_answer_is_resolved_by_reading_the_states_never_by_resending() {
    let knobs = Knobs {
        fault_drop_burst: 1,
        fault_routes: vec![ROUTE_ACTION.into()],
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..3), knobs).await;
    let report = fleet.start(&ids(0..3)).await;
    assert_eq!(report.done, ids(0..3), "{report:?}");
    assert_eq!(fleet.starts_of(&ids(0..3)).await, vec![1, 1, 1]);
    assert_eq!(fleet.posts().await, 1);
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert!(report.warnings[0].contains("0 still stopped were sent again"));
}

#[tokio::test]
async fn a_lost_answer_of_a_batch_never_carried_out_is_sent_once_more() {
    let mut knobs = Knobs {
        fault_drop_burst: 1,
        fault_routes: vec![ROUTE_ACTION.into()],
        ..quick()
    };
    knobs.fault_drop_mode = serde_json::from_value(json!("before")).expect("mode");
    let fleet = Fleet::new(stopped(0..3), knobs).await;
    let report = fleet.start(&ids(0..3)).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..3));
    assert_eq!(fleet.starts_of(&ids(0..3)).await, vec![1, 1, 1]);
    assert_eq!(fleet.posts().await, 2);
    assert!(report.warnings[0].contains("3 still stopped were sent again"));
}

#[tokio::test]
async fn an_answer_without_a_job_id_is_resolved_by_reading_the_states() {
    let knobs = Knobs {
        omit_job_id: true,
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..2), knobs).await;
    let report = fleet.start(&ids(0..2)).await;
    assert_eq!(report.done, ids(0..2), "{report:?}");
    assert_eq!(fleet.starts_of(&ids(0..2)).await, vec![1, 1]);
    assert_eq!(report.warnings.len(), 1);
}

/// A run that stopped waiting (deadline or interrupt) on its one job: the job is kept and
/// named as still running, its servers unconfirmed, and the run ended promptly.
fn assert_stopped_keeping_the_job(
    report: &PowerReport,
    servers: &[String],
    began: std::time::Instant,
) {
    assert_eq!(report.job_ids.len(), 1, "{report:?}");
    assert_eq!(report.running_jobs, report.job_ids);
    assert_eq!(report.unconfirmed, servers);
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn a_timeout_keeps_the_job_ids_and_names_the_running_jobs() {
    let knobs = Knobs {
        never_finish: true,
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..3), knobs).await;
    let began = std::time::Instant::now();
    let report = fleet
        .run(
            &ids(0..3),
            true,
            Duration::from_secs(2),
            CancellationToken::new(),
        )
        .await;
    assert!(report.timed_out && !report.interrupted, "{report:?}");
    assert_stopped_keeping_the_job(&report, &ids(0..3), began);
}

#[tokio::test]
async fn an_interrupt_stops_the_wait_and_keeps_the_job_ids() {
    let knobs = Knobs {
        never_finish: true,
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..3), knobs).await;
    let interrupt = CancellationToken::new();
    let began = std::time::Instant::now();
    // The interrupt comes once the batch was accepted, as a Ctrl-C during the wait.
    let all = ids(0..3);
    let (report, ()) = tokio::join!(
        fleet.run(&all, true, Duration::from_secs(60), interrupt.clone()),
        async {
            while fleet.posts().await == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            interrupt.cancel();
        }
    );
    assert!(report.interrupted && !report.timed_out, "{report:?}");
    assert_stopped_keeping_the_job(&report, &ids(0..3), began);
}

#[tokio::test]
async fn an_unreadable_job_still_confirms_the_servers_that_run() {
    let knobs = Knobs {
        malformed_job_json: true,
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..2), knobs).await;
    // Starts (5-10 ms) end before the first read of the job (20 ms), which fails.
    let report = fleet.start(&ids(0..2)).await;
    assert_eq!(report.done, ids(0..2), "{report:?}");
    assert!(report.unconfirmed.is_empty());
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(report.errors[0].contains("reading it failed"), "{report:?}");
    assert_eq!(report.job_ids.len(), 1);
}

#[tokio::test]
async fn without_waiting_the_accepted_servers_count_as_started() {
    let fleet = Fleet::new(
        stopped(0..3),
        Knobs {
            never_finish: true,
            ..quick()
        },
    )
    .await;
    let report = fleet
        .run(
            &ids(0..3),
            false,
            Duration::from_secs(20),
            CancellationToken::new(),
        )
        .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..3));
    assert_eq!(report.job_ids.len(), 1);
}

#[tokio::test]
async fn batches_hold_at_most_the_rate_and_every_job_id_is_kept() {
    let fleet = Fleet::new(stopped(0..25), quick()).await;
    // At 10 servers a minute the second batch would wait a minute: the deadline stops it.
    let report = fleet
        .engine(Pacers::new(10, 0, 0), CancellationToken::new())
        .run(
            PowerAction::Start,
            &ids(0..25),
            &options(Duration::from_secs(2)),
        )
        .await;
    assert!(report.timed_out, "{report:?}");
    assert_eq!(report.job_ids.len(), 1);
    assert_eq!(report.done, ids(0..10));
    assert_eq!(report.not_submitted, ids(10..25));
    assert_eq!(fleet.posts().await, 1);
}

// ---- Stop and reboot ----------------------------------------------------------------------

const SOFT_STOP: PowerAction = PowerAction::Stop(PowerType::Soft);
const SOFT_REBOOT: PowerAction = PowerAction::Reboot(PowerType::Soft);

fn running(range: std::ops::Range<usize>) -> Vec<ServerSpec> {
    range.map(|i| spec(i, "ACTIVE")).collect()
}

impl Fleet {
    async fn act(&self, action: PowerAction, ids: &[String]) -> PowerReport {
        self.run_action(
            action,
            ids,
            true,
            Duration::from_secs(20),
            CancellationToken::new(),
        )
        .await
    }
}

#[tokio::test]
async fn a_stop_skips_stopped_servers_and_stops_the_running_ones() {
    let mut servers = running(0..3);
    servers.extend(stopped(3..5));
    let fleet = Fleet::new(servers, quick()).await;
    let report = fleet.act(SOFT_STOP, &ids(0..5)).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..3));
    assert_eq!(report.skipped, ids(3..5));
    assert!(report.forced.is_empty());
    assert_eq!(report.job_ids.len(), 1);
    for id in ids(0..5) {
        assert_eq!(fleet.sim.server(&id).await["status"], "SHUTOFF");
    }
}

#[tokio::test]
async fn a_reboot_refuses_a_stopped_server_and_sends_only_the_running_ones() {
    let mut servers = running(0..2);
    servers.push(spec(2, "SHUTOFF"));
    let fleet = Fleet::new(servers, quick()).await;
    let report = fleet.act(SOFT_REBOOT, &ids(0..3)).await;
    assert_eq!(report.done, ids(0..2), "{report:?}");
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].server_id, id(2));
    assert!(report.failed[0].reason.contains("a reboot would start it"));
    assert_eq!(fleet.posts().await, 1);
    assert_eq!(fleet.sim.server(&id(2)).await["status"], "SHUTOFF");
}

/// Knobs under which the next action POST is dropped, carried out first (`after`) or not
/// (`before`), with transitions long enough to be seen under way.
fn lost_action_answer(mode: &str) -> Knobs {
    let mut knobs = Knobs {
        fault_drop_burst: 1,
        fault_routes: vec![ROUTE_ACTION.into()],
        reboot_duration_ms: [300, 400],
        ..quick()
    };
    knobs.fault_drop_mode = serde_json::from_value(json!(mode)).expect("mode");
    knobs
}

#[tokio::test]
async fn a_reboot_whose_answer_was_lost_is_waited_on_never_sent_again() {
    let fleet = Fleet::new(running(0..3), lost_action_answer("after")).await;
    let report = fleet.act(SOFT_REBOOT, &ids(0..3)).await;
    assert_eq!(fleet.posts().await, 1, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    // Found rebooting: waited on until running again.
    assert_eq!(report.done, ids(0..3), "{report:?}");
    assert_eq!(report.warnings.len(), 1);
}

#[tokio::test]
async fn a_reboot_whose_answer_was_lost_before_it_ran_is_unconfirmed_not_sent_again() {
    let fleet = Fleet::new(running(0..3), lost_action_answer("before")).await;
    let report = fleet.act(SOFT_REBOOT, &ids(0..3)).await;
    assert_eq!(fleet.posts().await, 1, "{report:?}");
    assert!(report.done.is_empty(), "{report:?}");
    assert_eq!(report.unconfirmed, ids(0..3));
    assert!(
        report.warnings[0].contains("were not sent again"),
        "{report:?}"
    );
    assert!(!report.is_success());
}

// ---- Graceful, then forced ----------------------------------------------------------------

impl Fleet {
    /// A graceful stop of `ids` that forces after `force_after`.
    async fn stop_forcing_after(&self, ids: &[String], force_after: Duration) -> PowerReport {
        let opts = PowerOptions {
            force_after: Some(force_after),
            ..options(Duration::from_secs(20))
        };
        self.engine(Pacers::new(0, 0, 0), CancellationToken::new())
            .run(SOFT_STOP, ids, &opts)
            .await
    }
}

/// Servers 0 and 1 ignore a soft stop; the service gives up on them after `timeout_ms`.
fn ignoring_guests(timeout_ms: u64) -> Knobs {
    Knobs {
        ignore_soft_stop: vec![id(0), id(1)],
        soft_stop_timeout_ms: timeout_ms,
        ..quick()
    }
}

#[tokio::test]
async fn servers_still_stopping_at_force_after_are_stopped_with_hard() {
    let fleet = Fleet::new(running(0..4), ignoring_guests(60_000)).await;
    let report = fleet
        .stop_forcing_after(&ids(0..4), Duration::from_millis(300))
        .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..4));
    assert_eq!(report.forced, ids(0..2));
    assert_eq!(report.job_ids.len(), 2, "the soft job and the hard one");
    for id in ids(0..4) {
        assert_eq!(fleet.sim.server(&id).await["status"], "SHUTOFF");
    }
}

#[tokio::test]
async fn a_soft_stop_the_service_gave_up_on_is_forced_without_waiting_for_force_after() {
    let fleet = Fleet::new(running(0..4), ignoring_guests(50)).await;
    let began = std::time::Instant::now();
    let report = fleet
        .stop_forcing_after(&ids(0..4), Duration::from_secs(60))
        .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.forced, ids(0..2));
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn without_force_after_a_soft_stop_the_guest_ignored_fails_with_its_code() {
    let fleet = Fleet::new(running(0..4), ignoring_guests(50)).await;
    let report = fleet.act(SOFT_STOP, &ids(0..4)).await;
    assert_eq!(report.done, ids(2..4), "{report:?}");
    assert!(report.forced.is_empty());
    let failed: Vec<&str> = report.failed.iter().map(|f| f.server_id.as_str()).collect();
    assert_eq!(failed, vec![id(0), id(1)]);
    assert!(report.failed.iter().all(|f| f.code == codes::STOP_FAILED));
}

// ---- At a real round trip -----------------------------------------------------------------

/// The answers of one route by status, as `/_sim/stats` counts them.
fn answers(stats: &Value, route: &str, status: &str) -> u64 {
    stats["requests"][route][status].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn throttled_state_reads_back_off_and_finish_reading_no_server_twice() {
    // 2,000 servers: 20 lists, all let in at once; the first 30 list attempts get a 429
    // (at most two for any list, within the test client's 3 retries).
    let knobs = Knobs {
        fault_429_burst: 30,
        retry_after_secs: 0,
        fault_routes: vec![ROUTE_LIST.into()],
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..2000), knobs).await;
    let window = fleet.client.read_window();
    assert_eq!(window.limit(), window.max());
    let report = fleet.start(&ids(0..2000)).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.done, ids(0..2000));
    let stats = fleet.sim.stats().await;
    assert_eq!(answers(&stats, ROUTE_LIST, "429"), 30, "{stats}");
    assert_eq!(answers(&stats, ROUTE_LIST, "200"), 20, "{stats}");
    assert_eq!(stats["servers_read"], 2000, "{stats}");
    assert_eq!(stats["max_reads_of_a_server"], 1, "{stats}");
    assert_eq!(fleet.posts().await, 2);
    // The burst halved the window once (the first 20 were let in together), and the 429s
    // of the retries at least once more; 20 successes are too few to grow it back by one.
    assert!(window.limit() <= window.max() / 4, "{}", window.limit());
}

#[tokio::test]
async fn at_a_real_round_trip_reads_and_batches_overlap() {
    // 3,000 servers at 200 ms a call: 30 lists and 3 batch POSTs.
    let knobs = Knobs {
        latency_ms: 200,
        ..quick()
    };
    let fleet = Fleet::new(stopped(0..3000), knobs).await;
    let report = fleet.start(&ids(0..3000)).await;
    assert!(report.is_success(), "{report:?}");
    let stats = fleet.sim.stats().await;
    assert_eq!(answers(&stats, ROUTE_LIST, "200"), 30, "{stats}");
    assert_eq!(fleet.posts().await, 3);
    // All 30 lists were in flight at once.
    let peak = stats["max_concurrent_requests"].as_u64().unwrap_or(0);
    assert!(peak >= 30, "at most {peak} requests at once");
    // The three batches were accepted together, not one round trip (200 ms) apart.
    let admin = fleet.sim.sim_admin();
    let mut begins = Vec::new();
    for job in &report.job_ids {
        let begin = admin.job(job).await["begin_time"]
            .as_str()
            .map(str::to_string);
        begins.push(begin.expect("begin_time"));
    }
    begins.sort();
    let ms = |t: &str| {
        let parsed = time::PrimitiveDateTime::parse(
            t.trim_end_matches('Z'),
            time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
            ),
        );
        parsed
            .expect("job time")
            .assume_utc()
            .unix_timestamp_nanos()
            / 1_000_000
    };
    let spread = ms(&begins[2]) - ms(&begins[0]);
    assert!(spread < 150, "the batches were accepted {spread} ms apart");
}

#[tokio::test]
async fn a_locked_server_is_refused_alone_and_the_rest_start_in_one_post() {
    let mut servers = stopped(0..3);
    servers[1].locked = true;
    servers.push(ServerSpec {
        locked: true,
        ..spec(3, "ACTIVE")
    });
    let fleet = Fleet::new(servers, quick()).await;
    let report = fleet.start(&ids(0..4)).await;
    assert_eq!(report.done, vec![id(0), id(2)], "{report:?}");
    assert_eq!(report.skipped, vec![id(3)], "locked and already running");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].server_id, id(1));
    assert_eq!(report.failed[0].code, codes::LOCKED);
    assert_eq!(
        fleet.posts().await,
        1,
        "the batch left the locked server out"
    );
}

/// `ecs_power_state`'s read over the engine's state reader: servers stopped out of band
/// drift, servers on their way do not, and converging the drift is one POST of exactly
/// those.
#[tokio::test]
async fn drift_made_out_of_band_is_found_and_converged_in_one_post() {
    use terraform_provider_ecs::api::Limits;
    use terraform_provider_ecs::provider::power_state::{observe, Declared};
    let mut servers: Vec<ServerSpec> = (0..6).map(|i| spec(i, "ACTIVE")).collect();
    servers[5].status = "ERROR".into();
    let fleet = Fleet::new(servers, quick()).await;
    fleet.sim.sim_admin().set_power(&ids(1..4), "SHUTOFF").await;
    let limits = Limits::new(
        Instant::now() + Duration::from_secs(10),
        CancellationToken::new(),
    );
    let o = observe(&fleet.client, &ids(0..6), Some(Declared::Running), &limits)
        .await
        .expect("read");
    assert_eq!(o.convergeable, ids(1..4));
    assert_eq!(o.blocked.len(), 1, "{o:?}");
    assert_eq!(o.blocked[0].0, id(5));
    assert_eq!(o.state(Some(Declared::Running)), "mixed");
    let report = fleet.start(&o.convergeable).await;
    assert_eq!(report.done, ids(1..4), "{report:?}");
    assert_eq!(fleet.posts().await, 1);
    let after = observe(&fleet.client, &ids(0..5), Some(Declared::Running), &limits)
        .await
        .expect("read");
    assert!(after.drifted.is_empty(), "{after:?}");
    assert_eq!(after.state(Some(Declared::Running)), "running");
}
