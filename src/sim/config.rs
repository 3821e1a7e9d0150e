//! ecs-sim's configuration: the fixed identity (keys, project, region), the route names, the
//! servers to load, and the [`Knobs`] it starts with.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::knobs::Knobs;
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
pub const ROUTE_ASSUME_ROLE: &str = "POST /v3.0/OS-CREDENTIAL/securitytokens";
pub const ROUTE_ASSUME_AGENCY: &str = "POST /v5/agencies/assume";
pub const ALL_ROUTES: &[&str] = &[
    ROUTE_ACTION,
    ROUTE_JOB,
    ROUTE_LIST,
    ROUTE_SHOW,
    ROUTE_PROJECTS,
    ROUTE_UNKNOWN,
    ROUTE_ASSUME_ROLE,
    ROUTE_ASSUME_AGENCY,
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
    /// Serve HTTPS with a certificate made at start (for `localhost` and `127.0.0.1`),
    /// signed by a CA also made at start, instead of plain HTTP.
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
    /// Its tags, served as `"key=value"` strings. This field and the four below, when left
    /// out, keep the values of the server the spec resets (for a new server: no tags, and
    /// the defaults below).
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// Default: the first of `fleet_flavors`.
    #[serde(default)]
    pub flavor_id: Option<String>,
    /// Default: the first of `fleet_availability_zones`.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Default: the first of `fleet_enterprise_projects`.
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// Its private IPv4 address; default: one derived from its position, in `10.0.0.0/8`.
    #[serde(default)]
    pub private_ip: Option<std::net::Ipv4Addr>,
}

impl Default for ServerSpec {
    /// A stopped, unlocked server with an empty id and the defaults above.
    fn default() -> Self {
        Self {
            id: String::new(),
            status: default_status(),
            locked: false,
            task_state: None,
            name: None,
            tags: None,
            flavor_id: None,
            availability_zone: None,
            enterprise_project_id: None,
            private_ip: None,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
