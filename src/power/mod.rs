//! The power engine: carries out a batch power operation on a list of servers and reports
//! what became of each. It knows the API client, not Terraform: a resource turns its
//! [`StartReport`] into state and diagnostics.
//!
//! [`BatchStart::run`] is these steps, in order, each in its own file:
//!
//! 1. **pre-check** (`precheck.rs`): read every server's state (at most 100 ids a call, a few
//!    calls at once) and sort them: already running → skipped; stopped → to start; start in
//!    progress → waited on; unknown id → error, nothing started; any other state → failed
//!    with the reason.
//! 2. **submit** (`submit.rs`): send the servers to start in batches of at most 1000 (and at
//!    most the rate), paced by the shared [`StartPacer`], and begin waiting on each job as
//!    soon as it is accepted. A batch whose answer was lost, ambiguous (5xx) or had no job id
//!    is never re-sent blindly: the states are read, and only servers still stopped are sent
//!    again (once), with a warning.
//! 3. **wait** (`wait.rs`): wait on every job, and on starts that were already in progress,
//!    until all are done, the deadline passes or the run is interrupted.
//! 4. **settle** (`settle.rs`): walk every sub-job: SUCCESS → started, FAIL → failed with its
//!    code and reason, except a server that failed because it was already running and now
//!    reads ACTIVE: started. After a timeout or an unreadable job, one last state read with a
//!    short grace confirms the servers that are running.
//! 5. **report** (`report.rs`): every list sorted, and every job id that the service returned,
//!    whatever happened.
//!
//! Server states and how each reads for a start are in `states.rs`; the deadline and the
//! interrupt travel together as one [`Limits`].

mod pacer;
mod precheck;
mod report;
mod settle;
mod states;
mod submit;
mod wait;

use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::{EcsClient, Limits, PollPolicy};
pub use pacer::StartPacer;
pub use report::{FailedServer, StartReport};
pub use settle::SETTLE_GRACE;
pub use states::READ_CONCURRENCY;

#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Wait for the jobs to finish (the resource's `wait`).
    pub wait: bool,
    pub deadline: Instant,
    pub poll: PollPolicy,
}

/// Starts servers in batches; see the module documentation.
pub struct BatchStart {
    client: EcsClient,
    pacer: Arc<StartPacer>,
    interrupt: CancellationToken,
}

impl BatchStart {
    pub fn new(client: EcsClient, pacer: Arc<StartPacer>, interrupt: CancellationToken) -> Self {
        Self {
            client,
            pacer,
            interrupt,
        }
    }

    /// Starts `server_ids` and reports what became of each.
    pub async fn run(&self, server_ids: &[String], opts: &StartOptions) -> StartReport {
        let mut run = Run::new(self, opts);
        let Some(to_start) = run.precheck(server_ids).await else {
            return run.report.finish();
        };
        let submitted = run.submit(to_start).await;
        if opts.wait {
            let waited = run.wait(submitted).await;
            run.settle(waited).await;
        } else {
            run.count_accepted_as_started(submitted);
        }
        run.report.finish()
    }
}

/// One run of the engine: what every phase reads (client, limits, options) and the lists
/// they fill.
struct Run<'a> {
    engine: &'a BatchStart,
    opts: &'a StartOptions,
    /// The engine's client, bounded by the run's deadline.
    client: EcsClient,
    limits: Limits,
    report: StartReport,
    /// Servers whose start is under way without a job of ours (found starting at the
    /// pre-check, or after a lost answer): waited on by reading their states.
    in_progress: Vec<String>,
}

impl<'a> Run<'a> {
    fn new(engine: &'a BatchStart, opts: &'a StartOptions) -> Self {
        Self {
            engine,
            opts,
            client: engine.client.with_deadline(opts.deadline),
            limits: Limits::new(opts.deadline, engine.interrupt.clone()),
            report: StartReport::default(),
            in_progress: Vec::new(),
        }
    }
}
