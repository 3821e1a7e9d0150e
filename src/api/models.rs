//! Wire models of the ECS and IAM APIs, field for field as the official SDK's models
//! (`huaweicloudsdkecs/v2/model/*`). The client and ecs-sim both use them, so the two
//! agree on every name and nesting.
//!
//! Optional fields serialize as `null` rather than being left out: that is what the real
//! API does (an unknown id in `cloudservers/detail` is an entry whose fields are all null
//! but `id` and `fault`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The most servers one batch action may carry (`Ecs.0118` beyond it).
pub const MAX_SERVERS_PER_ACTION: usize = 1000;
/// The most ids one `cloudservers/detail?server_id=` call should carry (URI length).
pub const MAX_IDS_PER_LIST: usize = 100;

/// A server id is a UUID in its hyphenated 8-4-4-4-12 form, either case: what the provider
/// accepts in `server_ids` and what ecs-sim answers `Ecs.0005` to when it is not.
pub fn is_server_id(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// `{"id": "<uuid>"}` in an action body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRef {
    pub id: String,
}

impl ServerRef {
    pub fn list<S: AsRef<str>>(ids: &[S]) -> Vec<ServerRef> {
        ids.iter()
            .map(|id| ServerRef {
                id: id.as_ref().to_string(),
            })
            .collect()
    }
}

/// `SOFT` (default, graceful) or `HARD` (forced) stop and reboot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PowerType {
    Soft,
    Hard,
}

/// A batch power action, as an action body names it: `os-start`, `os-stop` with its `type`,
/// `reboot` with its `type`. The engine (`power`) and ecs-sim each add what the action means
/// to them in their own `impl` blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Start,
    Stop(PowerType),
    Reboot(PowerType),
}

/// `{"os-start": {"servers": [...]}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStartBody {
    #[serde(rename = "os-start")]
    pub os_start: BatchStartOption,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStartOption {
    pub servers: Vec<ServerRef>,
}

/// `{"os-stop": {"servers": [...], "type": "SOFT"}}`; `type` is sent only when set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStopBody {
    #[serde(rename = "os-stop")]
    pub os_stop: BatchStopOption,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStopOption {
    pub servers: Vec<ServerRef>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub power_type: Option<PowerType>,
}

/// `{"reboot": {"servers": [...], "type": "SOFT"}}`; `type` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRebootBody {
    pub reboot: BatchRebootOption,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRebootOption {
    pub servers: Vec<ServerRef>,
    #[serde(rename = "type")]
    pub power_type: PowerType,
}

/// The answer to any batch action: `{"job_id": "…"}`. Optional so that a 2xx without it
/// is reported as an error rather than a parse failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIdResponse {
    #[serde(default)]
    pub job_id: Option<String>,
}

/// A job's or sub-job's status. Statuses this code does not know are kept verbatim:
/// they are treated as "still running" by the waiter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum JobStatus {
    Init,
    Running,
    Success,
    Fail,
    Other(String),
}

impl JobStatus {
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Fail)
    }

    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Init => "INIT",
            JobStatus::Running => "RUNNING",
            JobStatus::Success => "SUCCESS",
            JobStatus::Fail => "FAIL",
            JobStatus::Other(s) => s,
        }
    }
}

impl From<String> for JobStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "INIT" => JobStatus::Init,
            "RUNNING" => JobStatus::Running,
            "SUCCESS" => JobStatus::Success,
            "FAIL" => JobStatus::Fail,
            _ => JobStatus::Other(s),
        }
    }
}

impl From<JobStatus> for String {
    fn from(s: JobStatus) -> Self {
        s.as_str().to_string()
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /v1/{project_id}/jobs/{job_id}` (`ShowJobResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub status: Option<JobStatus>,
    #[serde(default)]
    pub entities: Option<JobEntities>,
    #[serde(default)]
    pub job_id: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub begin_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub fail_reason: Option<String>,
    /// Set when the query itself failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Job {
    pub fn sub_jobs(&self) -> &[SubJob] {
        self.entities
            .as_ref()
            .and_then(|e| e.sub_jobs.as_deref())
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEntities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic_id: Option<String>,
    #[serde(default)]
    pub sub_jobs_total: Option<u64>,
    #[serde(default)]
    pub sub_jobs: Option<Vec<SubJob>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubJob {
    #[serde(default)]
    pub status: Option<JobStatus>,
    #[serde(default)]
    pub entities: Option<SubJobEntities>,
    #[serde(default)]
    pub job_id: Option<String>,
    #[serde(default)]
    pub job_type: Option<String>,
    #[serde(default)]
    pub begin_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub fail_reason: Option<String>,
}

impl SubJob {
    pub fn server_id(&self) -> Option<&str> {
        self.entities.as_ref()?.server_id.as_deref()
    }

    pub fn errorcode_message(&self) -> Option<&str> {
        self.entities.as_ref()?.errorcode_message.as_deref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubJobEntities {
    #[serde(default)]
    pub server_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errorcode_message: Option<String>,
}

/// Server statuses this project acts on; any other is kept as a string.
pub mod server_status {
    pub const ACTIVE: &str = "ACTIVE";
    pub const SHUTOFF: &str = "SHUTOFF";
    pub const ERROR: &str = "ERROR";
    /// A soft reboot under way.
    pub const REBOOT: &str = "REBOOT";
    /// A hard reboot under way.
    pub const HARD_REBOOT: &str = "HARD_REBOOT";
    pub const POWERING_ON: &str = "powering-on";
    pub const POWERING_OFF: &str = "powering-off";
    pub const REBOOTING: &str = "rebooting";
    pub const REBOOTING_HARD: &str = "rebooting_hard";
}

/// `ServerDetail`, the fields this project reads or ecs-sim serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDetail {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:vm_state", default)]
    pub vm_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:power_state", default)]
    pub power_state: Option<i64>,
    #[serde(default)]
    pub locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<ServerFault>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub updated: Option<String>,
    /// `"key=value"` strings.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub flavor: Option<ServerFlavor>,
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// Per network name, its addresses.
    #[serde(default)]
    pub addresses: Option<BTreeMap<String, Vec<ServerAddress>>>,
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// `flavor` of a `ServerDetail`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFlavor {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// One entry of `addresses`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAddress {
    #[serde(default)]
    pub addr: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
    /// `fixed` (private) or `floating`.
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub ip_type: Option<String>,
}

impl ServerDetail {
    /// The unknown-id entry of `cloudservers/detail?server_id=`: every field null but
    /// `id` and `fault`.
    pub fn is_missing(&self) -> bool {
        is_missing(&self.status, &self.fault)
    }

    pub fn task_state(&self) -> Option<&str> {
        task_state(&self.task_state)
    }
}

/// The fields of a [`ServerDetail`] that say what a power operation may do to the server:
/// its state, lock and fault. The engine's state reads parse these alone and skip the rest
/// of each entry, so a pre-check of 100,000 servers allocates no names, tags or addresses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerState {
    pub id: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
    #[serde(default)]
    pub locked: Option<bool>,
    #[serde(default)]
    pub fault: Option<ServerFault>,
}

impl ServerState {
    /// As [`ServerDetail::is_missing`].
    pub fn is_missing(&self) -> bool {
        is_missing(&self.status, &self.fault)
    }

    pub fn task_state(&self) -> Option<&str> {
        task_state(&self.task_state)
    }
}

fn is_missing(status: &Option<String>, fault: &Option<ServerFault>) -> bool {
    status.is_none() && fault.is_some()
}

/// A task state, an empty one being none.
fn task_state(task: &Option<String>) -> Option<&str> {
    task.as_deref().filter(|t| !t.is_empty())
}

/// `fault` of a server; `code` is a number in the documented examples, so any JSON value
/// is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerFault {
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// `GET /v1/{project_id}/cloudservers/detail`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListServersResponse {
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub servers: Vec<ServerDetail>,
}

/// `GET /v1/{project_id}/cloudservers/detail?server_id=…` read for [`ServerState`]s.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerStates {
    #[serde(default)]
    pub servers: Vec<ServerState>,
}

/// `GET /v1/{project_id}/cloudservers/{server_id}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowServerResponse {
    pub server: ServerDetail,
}

/// `GET /v3/projects?name={region}` (Keystone ListProjects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectList {
    #[serde(default)]
    pub projects: Vec<Project>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// ECS service error body: `{"error": {"code": "Ecs.0114", "message": "…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsErrorBody {
    pub error: EcsErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<EcsErrorItem>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcsErrorItem {
    pub code: String,
    pub message: String,
}

/// API-gateway error body: `{"error_code": "APIGW.0301", "error_msg": "…", "request_id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayErrorBody {
    pub error_code: String,
    pub error_msg: String,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_bodies_match_the_sdk_shapes() {
        let ids = ["a", "b"];
        let start = serde_json::to_string(&BatchStartBody {
            os_start: BatchStartOption {
                servers: ServerRef::list(&ids),
            },
        })
        .expect("serializes");
        assert_eq!(start, r#"{"os-start":{"servers":[{"id":"a"},{"id":"b"}]}}"#);
        let stop = serde_json::to_string(&BatchStopBody {
            os_stop: BatchStopOption {
                servers: ServerRef::list(&ids[..1]),
                power_type: None,
            },
        })
        .expect("serializes");
        assert_eq!(stop, r#"{"os-stop":{"servers":[{"id":"a"}]}}"#);
        let reboot = serde_json::to_string(&BatchRebootBody {
            reboot: BatchRebootOption {
                servers: ServerRef::list(&ids[..1]),
                power_type: PowerType::Hard,
            },
        })
        .expect("serializes");
        assert_eq!(
            reboot,
            r#"{"reboot":{"servers":[{"id":"a"}],"type":"HARD"}}"#
        );
    }

    #[test]
    fn documented_partial_failure_job_parses() {
        let json = r#"{"status":"FAIL","entities":{"sub_jobs_total":2,"sub_jobs":[
          {"status":"SUCCESS","entities":{"server_id":"s1"},"job_id":"j1","job_type":"t",
           "begin_time":"2024-01-02T03:04:06.123Z","end_time":"2024-01-02T03:04:31.456Z",
           "error_code":null,"fail_reason":null},
          {"status":"FAIL","entities":{"server_id":"s2","errorcode_message":"m"},"job_id":"j2",
           "job_type":"t","begin_time":"x","end_time":"y","error_code":"Ecs.0226","fail_reason":"r"}]},
          "job_id":"j","job_type":"t","begin_time":"b","end_time":"e","error_code":"Ecs.0226",
          "fail_reason":"r"}"#;
        let job: Job = serde_json::from_str(json).expect("parses");
        assert_eq!(job.status, Some(JobStatus::Fail));
        assert_eq!(job.sub_jobs().len(), 2);
        assert_eq!(job.sub_jobs()[1].server_id(), Some("s2"));
        assert_eq!(job.sub_jobs()[1].errorcode_message(), Some("m"));
        let odd: Job = serde_json::from_str(r#"{"status":"PENDING_PAYMENT"}"#).expect("parses");
        assert_eq!(odd.status, Some(JobStatus::Other("PENDING_PAYMENT".into())));
        assert!(!odd.status.as_ref().is_some_and(JobStatus::is_terminal));
    }

    #[test]
    fn missing_server_entry_is_recognised() {
        let s: ServerDetail = serde_json::from_str(
            r#"{"id":"b","status":null,"fault":{"code":404,"message":"not found"}}"#,
        )
        .expect("parses");
        assert!(s.is_missing());
        let s: ServerDetail =
            serde_json::from_str(r#"{"id":"a","status":"SHUTOFF","OS-EXT-STS:task_state":""}"#)
                .expect("parses");
        assert!(!s.is_missing());
        assert_eq!(s.task_state(), None);
    }

    #[test]
    fn a_server_state_is_the_detail_without_the_rest() {
        let json = r#"{"id":"a","name":"web-1","status":"ACTIVE","OS-EXT-STS:task_state":"powering-off",
            "locked":true,"tags":["env=prod"],"addresses":{"net":[{"addr":"10.0.0.1"}]},
            "metadata":{"k":"v"},"flavor":{"id":"s6"}}"#;
        let state: ServerState = serde_json::from_str(json).expect("parses");
        let detail: ServerDetail = serde_json::from_str(json).expect("parses");
        assert_eq!(state.status, detail.status);
        assert_eq!(state.task_state(), Some("powering-off"));
        assert_eq!(state.locked, Some(true));
        assert!(!state.is_missing());
        let missing: ServerState = serde_json::from_str(
            r#"{"id":"b","status":null,"fault":{"code":404,"message":"not found"}}"#,
        )
        .expect("parses");
        assert!(missing.is_missing());
    }
}
