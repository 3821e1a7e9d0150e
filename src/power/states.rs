//! Server states as the engine reads them: each server's [`Class`], read in calls of at most
//! 100 ids, as many at once as the client's [read window](crate::api::read_window) allows.

use std::collections::HashMap;
use std::fmt;

use futures::stream::{self, StreamExt};

use crate::api::models::{server_status, ServerState, MAX_IDS_PER_LIST};
use crate::api::{ApiError, EcsClient, Limits, MAX_READS_IN_FLIGHT};

/// How many state reads one caller has under way at once. How many of them are in flight is
/// the client's [read window](crate::api::read_window)'s to say (it narrows on 429 and is
/// shared by every reader of the client); this only keeps a caller from queueing more than
/// the widest window takes.
pub const READ_CONCURRENCY: usize = MAX_READS_IN_FLIGHT;

/// A server's state as the engine reads it: where it is, or where it is moving. What that
/// means for an action is [`PowerAction::fate`](super::action::PowerAction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    /// `ACTIVE`, no task.
    Running,
    /// `SHUTOFF`, no task.
    Stopped,
    /// `SHUTOFF`, task `powering-on`.
    Starting,
    /// `ACTIVE`, task `powering-off`.
    Stopping,
    /// `REBOOT` or `HARD_REBOOT`.
    Rebooting {
        status: String,
        task: Option<String>,
    },
    /// `ERROR`, with the fault's code and message when it has them.
    Error {
        code: String,
        message: Option<String>,
    },
    Other {
        status: String,
        task: Option<String>,
    },
    /// A locked server, in the state it reads: the service refuses every power operation
    /// on it (`Ecs.0605`, for the whole batch it is sent in).
    Locked(Box<Class>),
}

impl Class {
    /// The state the server reads, locked or not.
    pub fn unlocked(&self) -> &Class {
        match self {
            Class::Locked(inner) => inner,
            other => other,
        }
    }
}

impl fmt::Display for Class {
    /// The status as the service shows it, with the task when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (status, task) = match self {
            Class::Locked(inner) => return write!(f, "{inner}, locked"),
            Class::Running => (server_status::ACTIVE, None),
            Class::Stopped => (server_status::SHUTOFF, None),
            Class::Starting => (server_status::SHUTOFF, Some(server_status::POWERING_ON)),
            Class::Stopping => (server_status::ACTIVE, Some(server_status::POWERING_OFF)),
            Class::Error { .. } => (server_status::ERROR, None),
            Class::Rebooting { status, task } | Class::Other { status, task } => {
                (status.as_str(), task.as_deref())
            }
        };
        f.write_str(if status.is_empty() { "unknown" } else { status })?;
        match task {
            Some(t) => write!(f, " (task {t})"),
            None => Ok(()),
        }
    }
}

/// The classes of the servers read, by id (either case). Only the class is kept: even a
/// `ServerState` per server would cost a few hundred bytes each at 10,000 servers a resource.
#[derive(Debug, Default)]
pub struct States(HashMap<String, Class>);

impl States {
    /// The class of `id`; `None` when the server does not exist (or was not read).
    pub fn class_of(&self, id: &str) -> Option<&Class> {
        self.0.get(&id.to_ascii_lowercase())
    }

    /// States as given, keyed by id (either case): for callers' tests.
    pub fn from_classes(classes: impl IntoIterator<Item = (String, Class)>) -> States {
        States(
            classes
                .into_iter()
                .map(|(id, c)| (id.to_ascii_lowercase(), c))
                .collect(),
        )
    }

    pub(super) fn any(&self, f: impl Fn(&Class) -> bool) -> bool {
        self.0.values().any(f)
    }
}

/// Reads the states of `ids`, at most 100 a call and [`READ_CONCURRENCY`] calls under way at
/// once (the read window decides how many are in flight), until done or `limits` stop it. Ids
/// that do not exist are left out.
pub async fn read_states(
    client: &EcsClient,
    ids: &[String],
    limits: &Limits,
) -> Result<States, ApiError> {
    // Collected first: a lazy iterator of futures is not `Send` across the awaits below.
    let calls: Vec<_> = ids
        .chunks(MAX_IDS_PER_LIST)
        .map(|chunk| {
            let (client, chunk) = (client.clone(), chunk.to_vec());
            async move { client.list_servers_by_ids(&chunk).await }
        })
        .collect();
    let mut results = stream::iter(calls).buffer_unordered(READ_CONCURRENCY);
    let mut states = States(HashMap::with_capacity(ids.len()));
    while let Some(servers) = limits
        .bound("reading server states", async {
            results.next().await.transpose()
        })
        .await?
    {
        for s in servers.iter().filter(|s| !s.is_missing()) {
            states.0.insert(s.id.to_ascii_lowercase(), classify(s));
        }
    }
    Ok(states)
}

pub(super) fn classify(s: &ServerState) -> Class {
    let class = classify_power(s);
    if s.locked == Some(true) {
        Class::Locked(Box::new(class))
    } else {
        class
    }
}

/// The class of a server from its status and task alone.
fn classify_power(s: &ServerState) -> Class {
    let status = s.status.as_deref().unwrap_or("");
    let task = s.task_state();
    match (status, task) {
        (server_status::ACTIVE, None) => Class::Running,
        (server_status::SHUTOFF, None) => Class::Stopped,
        (server_status::SHUTOFF, Some(server_status::POWERING_ON)) => Class::Starting,
        (server_status::ACTIVE, Some(server_status::POWERING_OFF)) => Class::Stopping,
        (server_status::ERROR, _) => in_error(s),
        (server_status::REBOOT | server_status::HARD_REBOOT, _) => Class::Rebooting {
            status: status.to_string(),
            task: task.map(str::to_string),
        },
        _ => Class::Other {
            status: status.to_string(),
            task: task.map(str::to_string),
        },
    }
}

/// A server in ERROR, with the fault's code and message when it has them.
fn in_error(s: &ServerState) -> Class {
    let fault = s.fault.as_ref();
    let code = fault
        .and_then(|f| f.code.as_ref())
        .map(|c| c.to_string().trim_matches('"').to_string());
    Class::Error {
        code: code.unwrap_or_else(|| "ERROR".into()),
        message: fault.and_then(|f| f.message.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: &str, task: Option<&str>) -> ServerState {
        serde_json::from_value(serde_json::json!({
            "id": "a", "status": status, "OS-EXT-STS:task_state": task
        }))
        .expect("valid server")
    }

    #[test]
    fn classifies_as_the_design_table_says() {
        assert_eq!(classify(&server("ACTIVE", None)), Class::Running);
        assert_eq!(classify(&server("ACTIVE", Some(""))), Class::Running);
        assert_eq!(classify(&server("SHUTOFF", None)), Class::Stopped);
        assert_eq!(
            classify(&server("SHUTOFF", Some("powering-on"))),
            Class::Starting
        );
        assert_eq!(
            classify(&server("ACTIVE", Some("powering-off"))),
            Class::Stopping
        );
        assert!(matches!(
            classify(&server("HARD_REBOOT", Some("rebooting_hard"))),
            Class::Rebooting { status, .. } if status == "HARD_REBOOT"
        ));
        assert!(matches!(
            classify(&server("ERROR", None)),
            Class::Error { code, .. } if code == "ERROR"
        ));
        assert_eq!(
            classify(&server("RESIZE", Some("resize_prep"))).to_string(),
            "RESIZE (task resize_prep)"
        );
        assert_eq!(classify(&server("", None)).to_string(), "unknown");
        let mut locked = server("ACTIVE", None);
        locked.locked = Some(true);
        assert_eq!(classify(&locked), Class::Locked(Box::new(Class::Running)));
        assert_eq!(classify(&locked).to_string(), "ACTIVE, locked");
        assert_eq!(*classify(&locked).unlocked(), Class::Running);
    }
}
