//! What the batch power actions ([`PowerAction`], a wire model; a stop without `type` is
//! `SOFT`) mean to ecs-sim: what differs between them (the state each starts
//! from and ends in, its durations, its failure, its job types, its counters), and
//! [`Plan`]: what an accepted action does to one server, given the transition it is in.
//!
//! Another action is one more variant and one more arm in each method, not another copy of
//! [`State::submit`](super::State::submit).

use super::jobs::Outcome;
use super::servers::{Power, Server};
use super::Counters;
use crate::api::codes::{REBOOT_FAILED, START_FAILED, STOP_FAILED};
pub use crate::api::models::PowerAction;
use crate::api::models::PowerType;
use crate::sim::knobs::Knobs;

/// How the sub-job of a guest that ignored a SOFT stop ends (`ignore_soft_stop`).
pub(super) const IGNORED_SOFT_STOP: Outcome = Outcome::Fail(
    STOP_FAILED,
    "The ECS did not shut down in time: its guest ignored the soft stop (simulated).",
);

impl PowerAction {
    /// The state a server must rest in for the action to begin.
    fn starts_from(self) -> Power {
        match self {
            PowerAction::Start => Power::Shutoff,
            PowerAction::Stop(_) | PowerAction::Reboot(_) => Power::Active,
        }
    }

    /// The state a server rests in when the action ends well.
    pub(super) fn target(self) -> Power {
        match self {
            PowerAction::Start | PowerAction::Reboot(_) => Power::Active,
            PowerAction::Stop(_) => Power::Shutoff,
        }
    }

    /// Whether a server in a transition of `other` is already doing this action (a stop is
    /// a stop, whatever its type).
    fn same_kind(self, other: PowerAction) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }

    /// `[min, max]` of one server's transition in ms, before `time_scale`.
    pub(super) fn duration_ms(self, knobs: &Knobs) -> [u64; 2] {
        match self {
            PowerAction::Start => knobs.start_duration_ms,
            PowerAction::Stop(PowerType::Soft) => knobs.stop_duration_ms,
            PowerAction::Stop(PowerType::Hard) => knobs.hard_stop_duration_ms,
            PowerAction::Reboot(PowerType::Soft) => knobs.reboot_duration_ms,
            PowerAction::Reboot(PowerType::Hard) => knobs.hard_reboot_duration_ms,
        }
    }

    /// Whether the servers count against `start_rate_limit_per_minute`.
    pub(super) fn is_rate_limited(self) -> bool {
        matches!(self, PowerAction::Start)
    }

    /// How the sub-job of a server in `failing_servers` ends.
    pub(super) fn simulated_failure(self) -> Outcome {
        match self {
            PowerAction::Start => {
                Outcome::Fail(START_FAILED, "Failed to start the ECS (simulated failure).")
            }
            PowerAction::Stop(_) => {
                Outcome::Fail(STOP_FAILED, "Failed to stop the ECS (simulated failure).")
            }
            PowerAction::Reboot(_) => Outcome::Fail(
                REBOOT_FAILED,
                "Failed to reboot the ECS (simulated failure).",
            ),
        }
    }

    /// `job_type` of the parent job. The real strings are unknown (`ecs-api.md` §8).
    pub(super) fn job_type(self) -> &'static str {
        match self {
            PowerAction::Start => "batchStartServers",
            PowerAction::Stop(_) => "batchStopServers",
            PowerAction::Reboot(_) => "batchRebootServers",
        }
    }

    pub(super) fn sub_job_type(self) -> &'static str {
        match self {
            PowerAction::Start => "startServer",
            PowerAction::Stop(_) => "stopServer",
            PowerAction::Reboot(_) => "rebootServer",
        }
    }

    /// Counts one sub-job on its server (`/_sim/servers/{id}`).
    pub(super) fn count_on(self, server: &mut Server) {
        match self {
            PowerAction::Start => server.start_count += 1,
            PowerAction::Stop(_) => server.stop_count += 1,
            PowerAction::Reboot(_) => server.reboot_count += 1,
        }
    }

    /// Counts `n` sub-jobs in the totals (`/_sim/stats`).
    pub(super) fn count_total(self, counters: &mut Counters, n: u64) {
        match self {
            PowerAction::Start => counters.starts_total += n,
            PowerAction::Stop(_) => counters.stops_total += n,
            PowerAction::Reboot(_) => counters.reboots_total += n,
        }
    }

    /// What this action does to `server` (settled). A reboot never joins a transition
    /// (rebooting twice is not the same as once): any transition is a state conflict for
    /// it. A HARD stop overrides a SOFT one unless `soft_stop_blocks_hard_stop`.
    pub(super) fn plan_for(self, server: &Server, knobs: &Knobs) -> Plan {
        use PowerType::{Hard, Soft};
        match (self, server.transition) {
            (PowerAction::Reboot(_), Some(_)) => Plan::WrongState { may_succeed: false },
            (PowerAction::Stop(Hard), Some(t)) if t.action == PowerAction::Stop(Soft) => {
                if knobs.soft_stop_blocks_hard_stop {
                    Plan::Busy
                } else {
                    Plan::Supersede { end_ms: t.end_ms }
                }
            }
            (_, Some(t)) if t.action.same_kind(self) => Plan::Join {
                end_ms: t.end_ms,
                outcome: t.outcome,
            },
            (_, Some(_)) => Plan::Busy,
            (_, None) if server.power == self.starts_from() => Plan::Begin,
            (_, None) => Plan::WrongState {
                may_succeed: server.power != Power::Error,
            },
        }
    }
}

/// What an accepted action does to one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// The server begins the transition.
    Begin,
    /// The server is already in a transition of the same kind: the sub-job shares its end
    /// and its outcome.
    Join { end_ms: u64, outcome: Outcome },
    /// A HARD stop of a server whose SOFT stop (ending at `end_ms`) is under way: the
    /// server begins the HARD stop, and the SOFT stop's sub-jobs end with it.
    Supersede { end_ms: u64 },
    /// Another action is under way: the sub-job FAILs with `Ecs.0603`.
    Busy,
    /// The server does not rest in the state the action starts from, or a reboot meets a
    /// transition (`already_running_mode`; `may_succeed: false` never succeeds).
    WrongState { may_succeed: bool },
}
