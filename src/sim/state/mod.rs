//! The simulated cloud, behind one lock: servers (`servers.rs`) with their tags and placement
//! (`profile.rs`), listing them by filter (`listing.rs`), power action POSTs
//! (`actions.rs`) and what differs between the actions (`power_action.rs`), jobs (`jobs.rs`), the start-rate window (`rate_window.rs`) and the
//! clock (here).
//!
//! Time is lazy: a power action records, on each server and in its job, when the transition
//! ends; every read compares those instants with the clock. No timer runs per server, so
//! 100,000 servers cost only their memory.

mod actions;
mod jobs;
mod listing;
mod power_action;
mod profile;
mod rate_window;
mod servers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

pub use actions::parse_action_body;
pub use jobs::JobView;
pub use listing::{fuzzy_contains, status_matches, ListFilter, Paging};
pub use power_action::PowerAction;
pub use servers::{Power, ServerRecord};

use super::knobs::Knobs;
use jobs::JobRecord;
use rate_window::StartWindow;
use servers::Server;

/// Counters for `/_sim/stats` that live with the state.
#[derive(Debug, Default)]
struct Counters {
    starts_total: u64,
    stops_total: u64,
    reboots_total: u64,
    /// The latest end among purged jobs (live jobs are looked at directly).
    purged_last_end_ms: Option<u64>,
}

/// The whole simulated project, behind one lock; every method is short.
pub struct State {
    base: Instant,
    wall_base: OffsetDateTime,
    /// Added to the real elapsed time (`POST /_sim/clock/advance`).
    offset_ms: u64,
    servers: Vec<Server>,
    index: HashMap<Arc<str>, u32>,
    jobs: HashMap<u128, JobRecord>,
    start_window: StartWindow,
    last_sweep_ms: u64,
    pub rng: StdRng,
    counters: Counters,
    /// The run-time knobs (bursts and `never_finish_jobs` count down here).
    pub knobs: Knobs,
}

impl State {
    pub fn new(knobs: Knobs) -> Self {
        Self {
            rng: StdRng::seed_from_u64(knobs.seed),
            knobs,
            base: Instant::now(),
            wall_base: OffsetDateTime::now_utc(),
            offset_ms: 0,
            servers: Vec::new(),
            index: HashMap::new(),
            jobs: HashMap::new(),
            start_window: StartWindow::default(),
            last_sweep_ms: 0,
            counters: Counters::default(),
        }
    }

    /// Milliseconds since the simulator started, plus any advance.
    pub fn now_ms(&self) -> u64 {
        (self.base.elapsed().as_millis() as u64).saturating_add(self.offset_ms)
    }

    pub fn advance(&mut self, ms: u64) {
        self.offset_ms = self.offset_ms.saturating_add(ms);
    }

    fn wall(&self, ms: u64) -> OffsetDateTime {
        self.wall_base + time::Duration::milliseconds(ms.min(i64::MAX as u64) as i64)
    }

    /// `2024-01-02T03:04:06.123Z`, the job time format.
    fn job_time(&self, ms: u64) -> String {
        self.wall(ms)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default()
    }

    /// `2019-05-22T03:30:52Z`, the server time format.
    fn server_time(&self, ms: u64) -> String {
        self.wall(ms)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default()
    }

    pub fn rfc3339(&self, ms: u64) -> Option<String> {
        self.wall(ms).format(&Rfc3339).ok()
    }

    pub fn starts_total(&self) -> u64 {
        self.counters.starts_total
    }

    pub fn stops_total(&self) -> u64 {
        self.counters.stops_total
    }

    pub fn reboots_total(&self) -> u64 {
        self.counters.reboots_total
    }

    /// Zeroes the start/stop/reboot counters, the read counts (per server too) and the last
    /// job end.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
        for s in &mut self.servers {
            s.start_count = 0;
            s.stop_count = 0;
            s.reboot_count = 0;
            s.read_count = 0;
        }
    }

    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }
}

#[cfg(test)]
mod tests;
