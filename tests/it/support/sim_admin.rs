//! ecs-sim's admin API (`/_sim/...`) as one async client: knobs, stats, request counts per
//! route and status, servers, jobs and the signatures ecs-sim saw. The sim tests await it
//! through [`TestSim`](super::sim::TestSim); the end-to-end tests, which stay synchronous
//! while Terraform runs as a child process, call the blocking forms on
//! [`Sim`](super::sim::Sim).

use reqwest::Method;
use serde_json::{json, Value};

use super::terraform::strings;

/// The admin API of one ecs-sim. Cheap to make: it shares its caller's HTTP client.
#[derive(Clone)]
pub struct SimAdmin {
    url: String,
    http: reqwest::Client,
}

impl SimAdmin {
    /// The admin API of the ecs-sim at `url` (no trailing slash), called with `http`.
    pub fn new(url: &str, http: reqwest::Client) -> SimAdmin {
        SimAdmin {
            url: url.to_string(),
            http,
        }
    }

    /// `method /_sim{path}`: the status and the body as text.
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, format!("{}/_sim{path}", self.url));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("admin answered");
        let status = r.status().as_u16();
        (status, r.text().await.expect("admin body"))
    }

    /// `method /_sim{path}`: the status and the JSON body (`Null` when it is not JSON).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self.send(method, path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// As [`SimAdmin::call`], panicking with ecs-sim's answer unless it is a success.
    async fn expect_ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, text) = self.send(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {}/_sim{path}: {status}: {text}",
            self.url
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Merges `patch` into the knobs; returns the knobs now in force.
    pub async fn knobs(&self, patch: Value) -> Value {
        self.expect_ok("PUT", "/knobs", Some(patch)).await
    }

    pub async fn stats(&self) -> Value {
        self.expect_ok("GET", "/stats", None).await
    }

    pub async fn reset_stats(&self) {
        self.expect_ok("POST", "/stats/reset", None).await;
    }

    /// Requests seen on one route (all statuses), e.g. [`ROUTE_ACTION`].
    ///
    /// [`ROUTE_ACTION`]: terraform_provider_ecs::sim::ROUTE_ACTION
    pub async fn requests(&self, route: &str) -> u64 {
        self.stats().await["requests"][route]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    }

    /// Requests seen on every route.
    pub async fn total_requests(&self) -> u64 {
        self.stats().await["requests"]
            .as_object()
            .map(|routes| {
                routes
                    .values()
                    .filter_map(Value::as_object)
                    .flat_map(|m| m.values().filter_map(Value::as_u64))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Answers on `route` with `status` ("200", "429", "dropped", …) since the last reset.
    pub async fn count(&self, route: &str, status: &str) -> u64 {
        self.stats().await["requests"][route][status]
            .as_u64()
            .unwrap_or(0)
    }

    /// Answers with `status` on every route.
    pub async fn count_all(&self, status: &str) -> u64 {
        self.stats().await["requests"]
            .as_object()
            .map(|routes| routes.values().filter_map(|m| m[status].as_u64()).sum())
            .unwrap_or(0)
    }

    /// Adds or changes servers (`[{"id": .., "status": ..}, ..]`), keeping the others.
    pub async fn set_servers(&self, servers: Value) {
        let body = json!({"servers": servers, "replace": false});
        self.expect_ok("POST", "/servers", Some(body)).await;
    }

    /// Marks servers ACTIVE, as if someone else had started them.
    pub async fn set_active(&self, ids: &[String]) {
        let servers: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "status": "ACTIVE"}))
            .collect();
        self.set_servers(json!(servers)).await;
    }

    /// Changes servers' power out of band (`ACTIVE`, `SHUTOFF`, `ERROR`), as a person in the
    /// console would: no job, the lock kept.
    pub async fn set_power(&self, ids: &[String], status: &str) {
        let body = json!({"server_ids": ids, "status": status});
        self.expect_ok("POST", "/servers/power", Some(body)).await;
    }

    /// `GET /_sim/servers/{id}`: the server and its counters.
    pub async fn server(&self, id: &str) -> Value {
        self.expect_ok("GET", &format!("/servers/{id}"), None).await
    }

    pub async fn status_of(&self, id: &str) -> String {
        self.server(id).await["server"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// How many times the server was started.
    pub async fn start_count(&self, id: &str) -> u64 {
        self.server(id).await["start_count"]
            .as_u64()
            .expect("start_count")
    }

    /// `GET /_sim/jobs/{id}`: the job as ecs-sim serves it.
    pub async fn job(&self, id: &str) -> Value {
        self.expect_ok("GET", &format!("/jobs/{id}"), None).await
    }

    /// The `Authorization` signatures ecs-sim received (the last 1000).
    pub async fn signatures(&self) -> Vec<String> {
        strings(&self.expect_ok("GET", "/signatures", None).await["signatures"])
    }

    /// `/_sim/credentials`: temporary keys issued and signed requests per principal.
    pub async fn credentials(&self) -> Value {
        let (status, body) = self.call("GET", "/credentials", None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Ends every temporary key ecs-sim issued.
    pub async fn expire_credentials(&self) {
        let (status, body) = self.call("POST", "/credentials/expire", None).await;
        assert_eq!(status, 200, "{body}");
    }
}
