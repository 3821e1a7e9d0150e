//! What a server's state means for each batch power operation ([`PowerAction`], a wire
//! model), and the words messages use for it.
//!
//! | action | skipped (already there) | sent | waited on (already moving there) | reached when |
//! |---|---|---|---|---|
//! | start | `ACTIVE` | `SHUTOFF` | `SHUTOFF` + `powering-on` | `ACTIVE` |
//! | stop | `SHUTOFF` | `ACTIVE` | `ACTIVE` + `powering-off` | `SHUTOFF` |
//! | reboot | never | `ACTIVE` | `REBOOT` / `HARD_REBOOT` | `ACTIVE` after the wait |
//!
//! Every other state fails the server with the reason, before anything is sent. A reboot of
//! a stopped server is refused too: the service would start it, which is not what was asked.
//! A locked server is refused only when it would be sent: the service refuses every
//! operation on it, and would refuse the whole batch with it; locked and already there, or
//! already on its way, it is skipped or waited on as any other.

use std::fmt;

pub use crate::api::models::PowerAction;
use crate::api::{codes, ApiError, EcsClient};

use super::states::Class;

/// What the pre-check does with a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Already where the action leads: not sent.
    Skip,
    Send,
    /// Already moving where the action leads, without a job of ours: waited on.
    Wait,
    /// In a state the action does not apply to.
    Fail {
        code: String,
        reason: String,
    },
}

impl PowerAction {
    /// The verb, as messages say it: `start`, `stop`, `reboot`.
    pub fn verb(self) -> &'static str {
        match self {
            PowerAction::Start => "start",
            PowerAction::Stop(_) => "stop",
            PowerAction::Reboot(_) => "reboot",
        }
    }

    /// The verb's -ing form: `starting`, `stopping`, `rebooting`.
    pub fn gerund(self) -> &'static str {
        match self {
            PowerAction::Start => "starting",
            PowerAction::Stop(_) => "stopping",
            PowerAction::Reboot(_) => "rebooting",
        }
    }

    /// Where the servers to send are, as messages say it: `stopped` for a start, `running`
    /// for a stop or a reboot.
    pub fn from_where(self) -> &'static str {
        match self {
            PowerAction::Start => "stopped",
            PowerAction::Stop(_) | PowerAction::Reboot(_) => "running",
        }
    }

    /// Sends one batch; the answer is the job id.
    pub(super) async fn send(self, client: &EcsClient, ids: &[String]) -> Result<String, ApiError> {
        match self {
            PowerAction::Start => client.batch_start(ids).await,
            PowerAction::Stop(t) => client.batch_stop(ids, Some(t)).await,
            PowerAction::Reboot(t) => client.batch_reboot(ids, t).await,
        }
    }

    /// What the pre-check does with a server in `class`.
    pub fn fate(self, class: &Class) -> Fate {
        match (self, class) {
            (action, Class::Locked(inner)) => match action.fate(inner) {
                Fate::Send => Fate::Fail {
                    code: codes::LOCKED.into(),
                    reason: format!("the server is locked ({inner}): the service refuses every power operation on a locked server, so it was not sent; unlock it first"),
                },
                fate => fate,
            },
            (PowerAction::Start, Class::Running) | (PowerAction::Stop(_), Class::Stopped) => {
                Fate::Skip
            }
            (PowerAction::Start, Class::Stopped)
            | (PowerAction::Stop(_) | PowerAction::Reboot(_), Class::Running) => Fate::Send,
            (PowerAction::Start, Class::Starting)
            | (PowerAction::Stop(_), Class::Stopping)
            | (PowerAction::Reboot(_), Class::Rebooting { .. }) => Fate::Wait,
            (PowerAction::Reboot(_), Class::Stopped) => Fate::Fail {
                code: "state".into(),
                reason:
                    "the server is stopped (SHUTOFF): a reboot would start it, so it was not sent"
                        .into(),
            },
            (_, Class::Error { code, message }) => Fate::Fail {
                code: code.clone(),
                reason: format!(
                    "the server is in status ERROR{}",
                    message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            },
            (action, class) => Fate::Fail {
                code: "state".into(),
                reason: format!(
                    "the server is in status {class}, which a {} does not apply to",
                    action.verb()
                ),
            },
        }
    }

    /// Whether a server in `class` has reached what the action leads to, once it was moving
    /// there (sent, or waited on).
    pub(super) fn reached(self, class: &Class) -> bool {
        match self {
            PowerAction::Start | PowerAction::Reboot(_) => *class.unlocked() == Class::Running,
            PowerAction::Stop(_) => *class.unlocked() == Class::Stopped,
        }
    }

    /// Whether a state read alone proves the action was carried out, when its job cannot
    /// tell (a job unreadable or still running at the deadline, or a sub-job refused because
    /// of the server's state). A start or stop leaves a server where nothing else would;
    /// a rebooted server reads `ACTIVE` just as one that never rebooted.
    pub(super) fn confirmed_by_state(self, class: &Class) -> bool {
        !matches!(self, PowerAction::Reboot(_)) && self.reached(class)
    }

    /// Whether servers found still where they were after a lost answer may be sent again
    /// (once). Never a reboot: it is not idempotent, and a server that already rebooted
    /// reads as one that never did.
    pub(super) fn may_resend(self) -> bool {
        !matches!(self, PowerAction::Reboot(_))
    }
}

impl fmt::Display for PowerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::PowerType;

    const START: PowerAction = PowerAction::Start;
    const STOP: PowerAction = PowerAction::Stop(PowerType::Soft);
    const REBOOT: PowerAction = PowerAction::Reboot(PowerType::Hard);

    fn rebooting() -> Class {
        Class::Rebooting {
            status: "REBOOT".into(),
            task: Some("rebooting".into()),
        }
    }

    #[test]
    fn each_action_skips_sends_waits_or_refuses_as_the_table_says() {
        use Fate::{Send, Skip, Wait};
        let table = [
            (START, Class::Running, Some(Skip)),
            (START, Class::Stopped, Some(Send)),
            (START, Class::Starting, Some(Wait)),
            (START, Class::Stopping, None),
            (START, rebooting(), None),
            (STOP, Class::Stopped, Some(Skip)),
            (STOP, Class::Running, Some(Send)),
            (STOP, Class::Stopping, Some(Wait)),
            (STOP, Class::Starting, None),
            (REBOOT, Class::Running, Some(Send)),
            (REBOOT, rebooting(), Some(Wait)),
            (REBOOT, Class::Stopped, None),
            (REBOOT, Class::Starting, None),
        ];
        for (action, class, want) in table {
            let fate = action.fate(&class);
            match want {
                Some(want) => assert_eq!(fate, want, "{action} of {class}"),
                None => assert!(matches!(fate, Fate::Fail { .. }), "{action} of {class}"),
            }
        }
    }

    #[test]
    fn refusals_name_the_state_and_the_action() {
        let Fate::Fail { code, reason } = START.fate(&Class::Stopping) else {
            panic!("a start of a stopping server is refused");
        };
        assert_eq!(code, "state");
        assert_eq!(
            reason,
            "the server is in status ACTIVE (task powering-off), which a start does not apply to"
        );
        let Fate::Fail { reason, .. } = REBOOT.fate(&Class::Stopped) else {
            panic!("a reboot of a stopped server is refused");
        };
        assert!(reason.contains("a reboot would start it"), "{reason}");
    }

    #[test]
    fn a_locked_server_is_refused_only_when_it_would_be_sent() {
        let locked = |c: Class| Class::Locked(Box::new(c));
        assert_eq!(START.fate(&locked(Class::Running)), Fate::Skip);
        assert_eq!(STOP.fate(&locked(Class::Stopping)), Fate::Wait);
        let Fate::Fail { code, reason } = START.fate(&locked(Class::Stopped)) else {
            panic!("a locked server to send is refused");
        };
        assert_eq!(code, codes::LOCKED);
        assert!(
            reason.starts_with("the server is locked (SHUTOFF)"),
            "{reason}"
        );
        assert!(STOP.reached(&locked(Class::Stopped)));
    }

    #[test]
    fn only_a_start_or_a_stop_is_confirmed_by_a_state_read() {
        assert!(START.confirmed_by_state(&Class::Running));
        assert!(STOP.confirmed_by_state(&Class::Stopped));
        assert!(!STOP.confirmed_by_state(&Class::Running));
        assert!(!REBOOT.confirmed_by_state(&Class::Running));
        assert!(REBOOT.reached(&Class::Running));
        assert!(!REBOOT.may_resend() && START.may_resend() && STOP.may_resend());
    }
}
