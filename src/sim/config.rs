//! ecs-sim's configuration: the fixed identity (keys, project, region) and the knobs that
//! tests and benchmarks turn at run time through `PUT /_sim/knobs`.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::api::Secret;

/// Demo credentials and identity, the same every run.
pub const DEMO_ACCESS_KEY: &str = "ECSSIMDEMOACCESSKEY0";
pub const DEMO_SECRET_KEY: &str = "ecs-sim-demo-secret-key-0000000000000000";
pub const DEMO_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const DEMO_REGION: &str = "cn-north-4";
/// The domain (account) id served in the IAM project list.
pub const DEMO_DOMAIN_ID: &str = "fedcba9876543210fedcba9876543210";

/// Every route name used in `/_sim/stats` and `fault_routes`.
pub const ROUTE_ACTION: &str = "POST /v1/{project_id}/cloudservers/action";
pub const ROUTE_JOB: &str = "GET /v1/{project_id}/jobs/{job_id}";
pub const ROUTE_LIST: &str = "GET /v1/{project_id}/cloudservers/detail";
pub const ROUTE_SHOW: &str = "GET /v1/{project_id}/cloudservers/{server_id}";
pub const ROUTE_PROJECTS: &str = "GET /v3/projects";
pub const ROUTE_UNKNOWN: &str = "unknown";
pub const ALL_ROUTES: &[&str] = &[
    ROUTE_ACTION,
    ROUTE_JOB,
    ROUTE_LIST,
    ROUTE_SHOW,
    ROUTE_PROJECTS,
    ROUTE_UNKNOWN,
];

/// What the simulator is, and how it starts.
#[derive(Clone)]
pub struct SimConfig {
    pub access_key: String,
    pub secret_key: Secret,
    /// When set, every request must carry it as `X-Security-Token` (redacted in `Debug`).
    pub security_token: Option<String>,
    pub project_id: String,
    pub region: String,
    pub listen: SocketAddr,
    /// Stopped servers created at start, with deterministic ids (see [`server_id_for_index`]).
    pub servers: usize,
    /// Servers loaded at start, after the `servers` generated ones.
    pub initial_servers: Vec<ServerSpec>,
    pub knobs: Knobs,
    /// Serve HTTPS with a self-signed certificate made at start (for `localhost` and
    /// `127.0.0.1`) instead of plain HTTP.
    pub tls: bool,
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("project_id", &self.project_id)
            .field("region", &self.region)
            .field("listen", &self.listen)
            .field("servers", &self.servers)
            .field("initial_servers", &self.initial_servers.len())
            .field("knobs", &self.knobs)
            .field("tls", &self.tls)
            .finish()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            access_key: DEMO_ACCESS_KEY.to_string(),
            secret_key: Secret::new(DEMO_SECRET_KEY),
            security_token: None,
            project_id: DEMO_PROJECT_ID.to_string(),
            region: DEMO_REGION.to_string(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            servers: 0,
            initial_servers: Vec::new(),
            knobs: Knobs::default(),
            tls: false,
        }
    }
}

/// The deterministic id of generated server `i`: UUID-shaped, lower-case, the same every run.
pub fn server_id_for_index(i: usize) -> String {
    format!("ec5e5e00-0000-4000-8000-{i:012x}")
}

/// One server to create: `--servers-file` entries and `POST /_sim/servers` items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub id: String,
    /// `ACTIVE`, `SHUTOFF` or `ERROR`; default `SHUTOFF`.
    #[serde(default = "default_status")]
    pub status: String,
    #[serde(default)]
    pub locked: bool,
    /// `null` or `powering-on` / `powering-off`: a transition already under way, which ends
    /// after a random duration from the matching range.
    #[serde(default)]
    pub task_state: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

fn default_status() -> String {
    "SHUTOFF".to_string()
}

/// `{"servers": [...], "replace": bool}`: the servers file and the admin POST body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServersFile {
    pub servers: Vec<ServerSpec>,
    /// Drop every existing server first (admin POST only).
    #[serde(default)]
    pub replace: bool,
}

/// How a start of an already running server (or a stop of a stopped one, a reboot of a
/// stopped one) is answered: the real behaviour is unknown (`ecs-api.md` §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlreadyRunningMode {
    /// Its sub-job FAILs with `Ecs.0100`.
    #[default]
    SubjobFail,
    /// The whole POST is refused: 400 `Ecs.0100`.
    #[serde(rename = "sync_400")]
    Sync400,
    /// Its sub-job succeeds and the server stays as it is.
    Success,
}

/// When a dropped connection is closed: after the request was carried out (its answer is
/// lost: the dangerous case for a POST) or before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DropMode {
    #[default]
    After,
    Before,
}

/// The parent status of a job whose sub-jobs partly failed (`ecs-api.md` §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartialFailureParent {
    #[default]
    Fail,
    Success,
}

/// Run-time behaviour. JSON names are the field names; every field has a default, so a
/// partial object is a valid patch (`PUT /_sim/knobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Knobs {
    /// `[min, max]` of one server's start time in ms (reboots use it too); default 15–35 s.
    pub start_duration_ms: [u64; 2],
    /// `[min, max]` of one server's stop time in ms.
    pub stop_duration_ms: [u64; 2],
    /// Every duration is multiplied by this.
    pub time_scale: f64,
    /// Servers started per rolling 60 s per project; 0 = no limit. Beyond it: 429 APIGW.0308
    /// with `Retry-After`.
    pub start_rate_limit_per_minute: u32,
    /// The length of that rolling window in ms (60,000, a minute). Tests shrink it to scale
    /// time: 1000 servers per 1000 ms is the documented 1000 a minute, sixty times faster.
    pub start_rate_window_ms: u64,
    /// Probability per request of a 429 `APIGW.0308`.
    pub fault_429: f64,
    /// Probability per request of a 503 `APIGW.0202`.
    pub fault_5xx: f64,
    /// Probability per request of a dropped connection (no HTTP answer).
    pub fault_drop: f64,
    /// Whether a dropped request is carried out first (`after`, default) or not (`before`).
    pub fault_drop_mode: DropMode,
    /// Route names the faults apply to (see `/_sim/stats`); empty = every route.
    pub fault_routes: Vec<String>,
    /// The next N requests on `fault_routes` get a 429 (deterministic).
    pub fault_429_burst: u32,
    /// The next N requests on `fault_routes` get a 503.
    pub fault_5xx_burst: u32,
    /// The next N requests on `fault_routes` are dropped.
    pub fault_drop_burst: u32,
    /// `Retry-After` seconds on injected 429s.
    pub retry_after_secs: u64,
    /// Added delay before every API answer.
    pub latency_ms: u64,
    /// Servers whose start sub-job FAILs with `Ecs.0226` (the server stays SHUTOFF).
    pub failing_servers: Vec<String>,
    pub already_running_mode: AlreadyRunningMode,
    pub partial_failure_parent: PartialFailureParent,
    /// New jobs stay RUNNING forever (their servers stay in their transition).
    pub never_finish: bool,
    /// The next N new jobs never finish.
    pub never_finish_jobs: u32,
    /// Finished jobs are purged this long after their end; a GET then answers 404.
    pub job_ttl_secs: u64,
    /// Seed of the random durations and probabilistic faults (set → re-seeded).
    pub seed: u64,
    /// Served as every job's parent `status` when set (e.g. `"WEIRD"`).
    pub job_status_override: Option<String>,
    /// Job GETs answer 200 with a body that is not JSON.
    pub malformed_job_json: bool,
    /// Action POSTs answer 200 `{}` (the job is still created).
    pub omit_job_id: bool,
    /// Largest accepted difference between `X-Sdk-Date` and the simulator's clock.
    pub clock_skew_tolerance_secs: u64,
    /// Shifts the simulator's wall clock for the `X-Sdk-Date` check only (seconds, either
    /// sign): a client clock that is off by more than `clock_skew_tolerance_secs`.
    pub clock_offset_secs: i64,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            start_duration_ms: [15_000, 35_000],
            stop_duration_ms: [15_000, 35_000],
            time_scale: 1.0,
            start_rate_limit_per_minute: 1000,
            start_rate_window_ms: 60_000,
            fault_429: 0.0,
            fault_5xx: 0.0,
            fault_drop: 0.0,
            fault_drop_mode: DropMode::default(),
            fault_routes: Vec::new(),
            fault_429_burst: 0,
            fault_5xx_burst: 0,
            fault_drop_burst: 0,
            retry_after_secs: 1,
            latency_ms: 0,
            failing_servers: Vec::new(),
            already_running_mode: AlreadyRunningMode::default(),
            partial_failure_parent: PartialFailureParent::default(),
            never_finish: false,
            never_finish_jobs: 0,
            job_ttl_secs: 86_400,
            seed: 0,
            job_status_override: None,
            malformed_job_json: false,
            omit_job_id: false,
            clock_skew_tolerance_secs: 900,
            clock_offset_secs: 0,
        }
    }
}

impl Knobs {
    /// Refuses values that make no sense, naming the knob.
    pub fn validate(&self) -> Result<(), String> {
        for (name, [lo, hi]) in [
            ("start_duration_ms", self.start_duration_ms),
            ("stop_duration_ms", self.stop_duration_ms),
        ] {
            if lo > hi {
                return Err(format!("{name}: min {lo} is greater than max {hi}"));
            }
        }
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err("time_scale must be a finite number >= 0".into());
        }
        if self.start_rate_window_ms == 0 {
            return Err("start_rate_window_ms must be at least 1".into());
        }
        for (name, p) in [
            ("fault_429", self.fault_429),
            ("fault_5xx", self.fault_5xx),
            ("fault_drop", self.fault_drop),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be between 0.0 and 1.0"));
            }
        }
        for r in &self.fault_routes {
            if !ALL_ROUTES.contains(&r.as_str()) {
                return Err(format!(
                    "fault_routes: unknown route {r:?}; known: {}",
                    ALL_ROUTES.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Merges a partial JSON object into these knobs; unknown keys and bad values are
    /// refused with a message naming them.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Knobs, String> {
        let serde_json::Value::Object(patch) = patch else {
            return Err("the knobs patch must be a JSON object".into());
        };
        let mut current = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(map) = &mut current {
            for (k, v) in patch {
                if !map.contains_key(k) {
                    return Err(format!("unknown knob {k:?}"));
                }
                map.insert(k.clone(), v.clone());
            }
        }
        let knobs: Knobs = serde_json::from_value(current).map_err(|e| e.to_string())?;
        knobs.validate()?;
        Ok(knobs)
    }

    /// Whether the faults apply to `route`.
    pub fn faults_apply_to(&self, route: &str) -> bool {
        self.fault_routes.is_empty() || self.fault_routes.iter().any(|r| r == route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_merges_and_refuses_unknown_keys() {
        let k = Knobs::default();
        let p = serde_json::json!({"time_scale": 0.001, "already_running_mode": "sync_400"});
        assert_eq!(
            serde_json::to_value(AlreadyRunningMode::Sync400).expect("serializes"),
            "sync_400"
        );
        let m = k.merged(&p).expect("merges");
        assert_eq!(m.time_scale, 0.001);
        assert_eq!(m.already_running_mode, AlreadyRunningMode::Sync400);
        assert_eq!(m.start_duration_ms, [15_000, 35_000]);
        assert!(k.merged(&serde_json::json!({"nope": 1})).is_err());
        assert!(k.merged(&serde_json::json!({"fault_429": 2.0})).is_err());
        assert!(k
            .merged(&serde_json::json!({"start_duration_ms": [5, 1]}))
            .is_err());
        assert!(k
            .merged(&serde_json::json!({"fault_routes": ["GET /nope"]}))
            .is_err());
    }

    #[test]
    fn debug_hides_the_secret_and_the_token() {
        let c = SimConfig {
            security_token: Some("tok-secret-123".into()),
            ..SimConfig::default()
        };
        let d = format!("{c:?}");
        assert!(!d.contains(DEMO_SECRET_KEY));
        assert!(!d.contains("tok-secret-123"));
        assert!(d.contains(DEMO_ACCESS_KEY));
    }

    #[test]
    fn generated_ids_are_uuid_shaped_and_stable() {
        assert_eq!(
            server_id_for_index(0),
            "ec5e5e00-0000-4000-8000-000000000000"
        );
        assert_eq!(
            server_id_for_index(255),
            "ec5e5e00-0000-4000-8000-0000000000ff"
        );
        assert_eq!(server_id_for_index(7).len(), 36);
    }
}
