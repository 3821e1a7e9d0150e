//! The power engine: carries out one batch power operation (start, stop or reboot) on a list
//! of servers and reports what became of each. It knows the API client, not Terraform: a
//! resource turns its [`PowerReport`] into state and diagnostics.
//!
//! [`Engine::run`] is these steps, in order, each in its own file:
//!
//! 1. **pre-check** (`precheck.rs`): read every server's state (at most 100 ids a call, many
//!    calls at once) and sort the servers by what the operation does to them (`action.rs`
//!    has the table): already there → skipped; to send; already on their way → waited on;
//!    unknown id → error, nothing sent; any other state → failed with the reason.
//! 2. **submit** (`submit.rs`): send the servers in batches of at most 1000 (and at most the
//!    operation's rate), paced by the operation's shared [`Pacer`] (without pacing, all at
//!    once), and begin waiting on each job as soon as it is accepted. A batch whose answer was lost, ambiguous (5xx) or had no
//!    job id is never re-sent blindly: the states are read, and only servers still where
//!    they were are sent again (once, and never for a reboot), with a warning.
//! 3. **wait** (`wait.rs`): wait on every job, and on servers already on their way, until
//!    all are done, the deadline passes or the run is interrupted.
//! 4. **settle** (`settle.rs`): walk every sub-job: SUCCESS → done, FAIL → failed with its
//!    code and reason, except a server refused for its state that now reads where the
//!    operation leads. After a timeout or an unreadable job, one last state read with a
//!    short grace confirms the servers that got there (not for a reboot: its end state is
//!    its start state).
//! 5. **force** (`force.rs`, a graceful stop with `force_after` only): servers that a soft
//!    stop did not stop within `force_after` of their batch are stopped with `HARD`.
//! 6. **report** (`report.rs`): every list sorted, and every job id that the service
//!    returned, whatever happened.
//!
//! Server states are read in `states.rs`; the deadline and the interrupt travel together
//! as one [`Limits`].

mod action;
mod force;
mod pacer;
mod precheck;
mod report;
mod settle;
mod states;
mod submit;
mod wait;

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::models::PowerType;
use crate::api::{EcsClient, Limits, PollPolicy};
pub use action::{Fate, PowerAction};
pub use pacer::{Pacer, Pacers};
pub use report::{FailedServer, PowerReport};
pub use settle::SETTLE_GRACE;
pub use states::{read_states, Class, States, READ_CONCURRENCY};

#[derive(Debug, Clone)]
pub struct PowerOptions {
    /// Wait for the jobs to finish (the resources' `wait`).
    pub wait: bool,
    pub deadline: Instant,
    pub poll: PollPolicy,
    /// For a graceful stop: how long after its batch was accepted a server may take to stop
    /// before it is stopped with `HARD`. Ignored by every other operation.
    pub force_after: Option<Duration>,
}

/// Carries out batch power operations; see the module documentation.
pub struct Engine {
    client: EcsClient,
    pacers: Arc<Pacers>,
    interrupt: CancellationToken,
}

impl Engine {
    pub fn new(client: EcsClient, pacers: Arc<Pacers>, interrupt: CancellationToken) -> Self {
        Self {
            client,
            pacers,
            interrupt,
        }
    }

    /// Carries out `action` on `server_ids` and reports what became of each.
    pub async fn run(
        &self,
        action: PowerAction,
        server_ids: &[String],
        opts: &PowerOptions,
    ) -> PowerReport {
        let mut run = Run::new(self, action, opts);
        let Some(to_send) = run.precheck(server_ids).await else {
            return run.report.finish();
        };
        let submitted = run.submit(to_send).await;
        if !opts.wait {
            run.count_accepted_as_done(submitted);
            return run.report.finish();
        }
        let waited = run.wait(submitted).await;
        let to_force = run.settle(waited).await;
        run.force(to_force).await;
        run.report.finish()
    }
}

/// One run of the engine: what every phase reads (action, client, limits, options) and the
/// lists they fill.
struct Run<'a> {
    engine: &'a Engine,
    action: PowerAction,
    opts: &'a PowerOptions,
    /// The engine's client, bounded by the run's deadline.
    client: EcsClient,
    limits: Limits,
    report: PowerReport,
    /// Servers on their way without a job of ours (found so at the pre-check, or after a
    /// lost answer): waited on by reading their states.
    in_progress: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(engine: &'a Engine, action: PowerAction, opts: &'a PowerOptions) -> Self {
        Self {
            engine,
            action,
            opts,
            client: engine.client.with_deadline(opts.deadline),
            limits: Limits::new(opts.deadline, engine.interrupt.clone()),
            report: PowerReport::default(),
            in_progress: Vec::new(),
        }
    }

    fn pacer(&self) -> &'a Pacer {
        self.engine.pacers.for_action(self.action)
    }

    /// How long a graceful stop may take before it is forced: `force_after`, for a soft
    /// stop only (every other operation ignores it).
    fn force_after(&self) -> Option<Duration> {
        match self.action {
            PowerAction::Stop(PowerType::Soft) => self.opts.force_after,
            _ => None,
        }
    }

    /// When a job accepted now stops being waited on: its graceful stop turns into a
    /// forced one at `force_after`, or the run's deadline.
    fn wait_deadline(&self, accepted: Instant) -> Instant {
        match self.force_after() {
            Some(after) => (accepted + after).min(self.limits.deadline),
            None => self.limits.deadline,
        }
    }
}
