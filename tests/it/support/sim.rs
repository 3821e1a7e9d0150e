//! ecs-sim in-process, two ways over one admin client ([`SimAdmin`]): [`TestSim`] for the
//! async sim tests, which sign requests to it with the crate's `Signer` exactly as the SDK
//! would, and [`Sim`], the same simulator on its own runtime for the end-to-end tests,
//! which stay synchronous while Terraform runs as a child process.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use terraform_provider_ecs::api::models::Job;
use terraform_provider_ecs::api::signer::{
    canonical_query, canonical_request, format_sdk_date, signature_hex, signed_header_names,
    string_to_sign, Authorization, CanonicalInput, RequestToSign,
};
use terraform_provider_ecs::api::{
    ClientConfig, Credentials, Endpoints, RetryPolicy, Secret, Signer,
};
use terraform_provider_ecs::sim::{Knobs, SimConfig, SimServer};
use time::OffsetDateTime;

use super::sim_admin::SimAdmin;

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// Knobs for fast tests: 20–40 ms transitions (every operation and type), no rate limit.
pub fn fast_knobs() -> Knobs {
    Knobs {
        start_duration_ms: [20, 40],
        stop_duration_ms: [20, 40],
        hard_stop_duration_ms: [20, 40],
        reboot_duration_ms: [20, 40],
        hard_reboot_duration_ms: [20, 40],
        start_rate_limit_per_minute: 0,
        ..Knobs::default()
    }
}

/// For tests that look at a transition while it is under way: 300–400 ms, long enough that
/// a busy CI machine cannot miss it.
pub fn slow_knobs() -> Knobs {
    Knobs {
        start_duration_ms: [300, 400],
        stop_duration_ms: [300, 400],
        hard_stop_duration_ms: [300, 400],
        reboot_duration_ms: [300, 400],
        hard_reboot_duration_ms: [300, 400],
        ..fast_knobs()
    }
}

/// ecs-sim in-process on a loopback port, for async tests: SDK-signed calls of the ECS API
/// ([`TestSim::send`], [`TestSim::call`], …) and its admin API ([`TestSim::sim_admin`]).
pub struct TestSim {
    pub server: SimServer,
    pub url: String,
    pub http: reqwest::Client,
    pub config: SimConfig,
}

/// How to deviate from a correctly signed request.
#[derive(Default, Clone)]
pub struct Opts {
    pub date: Option<OffsetDateTime>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    /// `Some(None)`: no X-Project-Id; `Some(Some(p))`: that value; `None`: the path project.
    pub project_header: Option<Option<String>>,
    /// Body actually sent, different from the signed one.
    pub send_body: Option<Vec<u8>>,
    /// Extra headers sent but not signed (added after signing).
    pub unsigned_headers: Vec<(String, String)>,
    /// Send no X-Security-Token even when the sim has one.
    pub no_token: bool,
    /// Replace the Authorization header.
    pub authorization: Option<Option<String>>,
    /// Sign without these headers listed (e.g. "host").
    pub unsign: Vec<String>,
}

impl TestSim {
    pub async fn start(servers: usize, knobs: Knobs) -> TestSim {
        Self::start_with(SimConfig {
            servers,
            knobs,
            ..SimConfig::default()
        })
        .await
    }

    pub async fn start_with(config: SimConfig) -> TestSim {
        let server = SimServer::start(config.clone())
            .await
            .expect("ecs-sim starts");
        let url = server.url();
        TestSim {
            server,
            url,
            // Accepts ecs-sim's self-signed certificate when `config.tls` is set.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .danger_accept_invalid_certs(true)
                .build()
                .expect("client"),
            config,
        }
    }

    pub fn ids(&self) -> Vec<String> {
        self.server.server_ids()
    }

    fn host(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// Sends a request signed like the SDK: Content-Type, X-Project-Id on ECS paths,
    /// X-Security-Token when configured, User-Agent, X-Sdk-Date, Host.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&[u8]>,
        opts: Opts,
    ) -> reqwest::Result<reqwest::Response> {
        let mut req = RequestToSign {
            method: method.into(),
            host: self.host(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            headers: self.sdk_headers(method, path, &opts),
            body: body.map(<[u8]>::to_vec).unwrap_or_default(),
        };
        self.sign(&mut req, &opts);
        self.http_request(&req, &opts).send().await
    }

    /// The headers the SDK sends before signing, with the deviations of `opts`.
    fn sdk_headers(&self, method: &str, path: &str, opts: &Opts) -> Vec<(String, String)> {
        let ecs = path.starts_with("/v1/");
        let mut headers: Vec<(String, String)> = Vec::new();
        if ecs {
            let ct = if method == "POST" {
                "application/json;charset=utf-8"
            } else {
                "application/json"
            };
            headers.push(("Content-Type".into(), ct.into()));
        }
        headers.push(("User-Agent".into(), "ecs-sim-tests".into()));
        match &opts.project_header {
            None if ecs => {
                let p = path.split('/').nth(2).unwrap_or_default();
                headers.push(("X-Project-Id".into(), p.into()));
            }
            Some(Some(p)) => headers.push(("X-Project-Id".into(), p.clone())),
            _ => {}
        }
        let token = opts.token.clone().filter(|_| !opts.no_token).or_else(|| {
            if opts.no_token {
                return None;
            }
            self.config.security_token.clone()
        });
        if let Some(t) = &token {
            headers.push(("X-Security-Token".into(), t.clone()));
        }
        headers
    }

    /// Adds X-Sdk-Date, Host and Authorization with the crate's signer, or by hand when
    /// `opts.unsign` leaves headers out of SignedHeaders.
    fn sign(&self, req: &mut RequestToSign, opts: &Opts) {
        let secret = Secret::new(
            opts.secret_key
                .clone()
                .unwrap_or_else(|| self.config.secret_key.expose().to_string()),
        );
        let access_key = opts
            .access_key
            .clone()
            .unwrap_or_else(|| self.config.access_key.clone());
        let now = opts.date.unwrap_or_else(OffsetDateTime::now_utc);
        if opts.unsign.is_empty() {
            Signer::new(access_key, secret).sign(req, now);
            return;
        }
        let date = format_sdk_date(now);
        req.headers.push(("X-Sdk-Date".into(), date.clone()));
        req.headers.push(("Host".into(), self.host()));
        let signed: Vec<String> = signed_header_names(&req.headers)
            .into_iter()
            .filter(|h| !opts.unsign.iter().any(|u| u.eq_ignore_ascii_case(h)))
            .collect();
        let cr = canonical_request(&CanonicalInput {
            method: &req.method,
            path: &req.path,
            query: &req.query,
            headers: &req.headers,
            signed_headers: &signed,
            body: &req.body,
        });
        let auth = Authorization {
            access_key,
            signed_headers: signed,
            signature: signature_hex(&secret, &string_to_sign(&date, &cr)),
        };
        req.headers.push(("Authorization".into(), auth.render()));
    }

    /// The signed request as reqwest sends it: Host left to the transport, the headers and
    /// body of `opts` sent in place of the signed ones.
    fn http_request(&self, req: &RequestToSign, opts: &Opts) -> reqwest::RequestBuilder {
        let mut url = format!("{}{}", self.url, req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&canonical_query(&req.query));
        }
        let m = Method::from_bytes(req.method.as_bytes()).expect("method");
        let mut rb = self.http.request(m, url);
        for (k, v) in &req.headers {
            if k.eq_ignore_ascii_case("host")
                || opts
                    .unsigned_headers
                    .iter()
                    .any(|(u, _)| u.eq_ignore_ascii_case(k))
            {
                continue;
            }
            if k.eq_ignore_ascii_case("authorization") {
                if let Some(a) = &opts.authorization {
                    if let Some(a) = a {
                        rb = rb.header("Authorization", a);
                    }
                    continue;
                }
            }
            rb = rb.header(k, v);
        }
        for (k, v) in &opts.unsigned_headers {
            rb = rb.header(k, v);
        }
        let sent = opts.send_body.clone().unwrap_or(req.body.clone());
        if !sent.is_empty() {
            rb = rb.body(sent);
        }
        rb
    }

    /// A correctly signed request; returns (status, headers, JSON or Null).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        let r = self
            .send(method, path, query, bytes.as_deref(), Opts::default())
            .await
            .expect("request answered");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    pub fn action_path(&self) -> String {
        format!("/v1/{PROJECT}/cloudservers/action")
    }

    pub async fn action(
        &self,
        key: &str,
        ids: &[String],
        extra: Option<(&str, &str)>,
    ) -> (u16, Value) {
        let servers: Vec<Value> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        let mut inner = serde_json::json!({ "servers": servers });
        if let Some((k, v)) = extra {
            inner[k] = Value::String(v.into());
        }
        let body = serde_json::json!({ key: inner });
        let (s, _, v) = self
            .call("POST", &self.action_path(), &[], Some(body))
            .await;
        (s, v)
    }

    /// Starts servers; panics unless 200 with a job id.
    pub async fn start_servers(&self, ids: &[String]) -> String {
        let (s, v) = self.action("os-start", ids, None).await;
        assert_eq!(s, 200, "start answered {v}");
        v["job_id"].as_str().expect("job_id").to_string()
    }

    pub async fn job(&self, job_id: &str) -> (u16, Value) {
        let (s, _, v) = self
            .call("GET", &format!("/v1/{PROJECT}/jobs/{job_id}"), &[], None)
            .await;
        (s, v)
    }

    /// Polls a job until SUCCESS or FAIL (every 10 ms, at most 5 s).
    pub async fn wait_job(&self, job_id: &str) -> Job {
        for _ in 0..500 {
            let (s, v) = self.job(job_id).await;
            assert_eq!(s, 200, "job read answered {v}");
            let job: Job = serde_json::from_value(v).expect("job parses");
            if job.status.as_ref().is_some_and(|s| s.is_terminal()) {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {job_id} did not finish");
    }

    pub async fn server(&self, id: &str) -> Value {
        let (s, _, v) = self
            .call(
                "GET",
                &format!("/v1/{PROJECT}/cloudservers/{id}"),
                &[],
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["server"].clone()
    }

    /// The admin API of this ecs-sim.
    /// The crate's own client configuration for this simulator: its keys (and token), its
    /// project, three quick retries.
    pub fn client_config(&self) -> ClientConfig {
        let c = &self.config;
        let mut credentials = Credentials::new(c.access_key.clone(), c.secret_key.expose());
        if let Some(t) = &c.security_token {
            credentials = credentials.with_security_token(t.as_str());
        }
        ClientConfig {
            credentials,
            region: c.region.clone(),
            project_id: Some(PROJECT.into()),
            endpoints: Endpoints::for_region(&c.region, Some(&self.url), Some(&self.url))
                .expect("endpoints"),
            insecure: false,
            retry: RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
            },
            request_timeout: Duration::from_secs(10),
            user_agent: "ecs-sim-client-test".into(),
        }
    }

    pub fn sim_admin(&self) -> SimAdmin {
        SimAdmin::new(&self.url, self.http.clone())
    }

    /// `method /_sim{path}` unchecked: the status and the JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.sim_admin().call(method, path, body).await
    }

    pub async fn knobs(&self, patch: Value) -> Value {
        self.sim_admin().knobs(patch).await
    }

    pub async fn stats(&self) -> Value {
        self.sim_admin().stats().await
    }

    pub async fn start_count(&self, id: &str) -> u64 {
        self.sim_admin().start_count(id).await
    }
}

/// The ECS error code of an `{"error": {...}}` body.
pub fn ecs_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no ecs code>")
}

/// The gateway error code of an `{"error_code": ...}` body.
pub fn gw_code(v: &Value) -> &str {
    v["error_code"].as_str().unwrap_or("<no gateway code>")
}

/// ecs-sim on its own runtime, so that tests can stay synchronous while it serves: a
/// [`TestSim`] with blocking forms of the [`SimAdmin`] calls.
pub struct Sim {
    rt: tokio::runtime::Runtime,
    sim: Option<TestSim>,
    admin: SimAdmin,
    pub url: String,
    pub ids: Vec<String>,
    pub project_id: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Sim {
    /// `servers` stopped servers, starting in 20–80 ms.
    pub fn start(servers: usize) -> Sim {
        Sim::start_with(SimConfig {
            servers,
            ..SimConfig::default()
        })
    }

    /// ecs-sim with `config` (its `servers` stopped servers start in 20–80 ms, no rate
    /// limit, as [`Sim::start`]). With `config.tls` the URL is `https://` and the admin
    /// calls accept its certificate without checking it.
    pub fn start_with(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (project_id, access_key, secret_key) = (
            config.project_id.clone(),
            config.access_key.clone(),
            config.secret_key.expose().to_string(),
        );
        let sim = rt.block_on(TestSim::start_with(config));
        let sim = Sim {
            url: sim.url.clone(),
            ids: sim.ids(),
            admin: sim.sim_admin(),
            sim: Some(sim),
            rt,
            project_id,
            access_key,
            secret_key,
        };
        // Fast power operations, and no service-side rate limit: tests that need one set it.
        sim.knobs(json!({
            "start_duration_ms": [20, 80],
            "stop_duration_ms": [20, 80],
            "hard_stop_duration_ms": [10, 40],
            "reboot_duration_ms": [20, 80],
            "hard_reboot_duration_ms": [10, 40],
            "start_rate_limit_per_minute": 0
        }));
        sim
    }
}

/// Blocking forms of [`SimAdmin`]'s calls, documented there.
macro_rules! blocking {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)?;)*) => {
        impl Sim {
            $(pub fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
                self.rt.block_on(self.admin.$name($($arg),*))
            })*
        }
    };
}

blocking! {
    fn knobs(&self, patch: Value) -> Value;
    fn stats(&self) -> Value;
    fn reset_stats(&self);
    fn requests(&self, route: &str) -> u64;
    fn total_requests(&self) -> u64;
    fn count(&self, route: &str, status: &str) -> u64;
    fn count_all(&self, status: &str) -> u64;
    fn set_servers(&self, servers: Value);
    fn set_active(&self, ids: &[String]);
    fn set_power(&self, ids: &[String], status: &str);
    fn server(&self, id: &str) -> Value;
    fn status_of(&self, id: &str) -> String;
    fn start_count(&self, id: &str) -> u64;
    fn job(&self, id: &str) -> Value;
    fn signatures(&self) -> Vec<String>;
    fn credentials(&self) -> Value;
}

impl Sim {
    /// New temporary keys for `principal`, as if an SSO login had issued them: (access key,
    /// secret key, security token).
    pub fn issue_keys(&self, principal: &str, lifetime_secs: u64) -> (String, String, String) {
        let sim = self.sim.as_ref().expect("running");
        let k = sim.server.sim().identities.issue(principal, lifetime_secs);
        (k.access_key, k.secret_key.expose().to_string(), k.token)
    }

    /// Every secret ecs-sim handed out so far, named: the secret keys and tokens of the
    /// temporary keys it issued, and the metadata session tokens.
    pub fn issued_secrets(&self) -> Vec<(String, String)> {
        let sim = self.sim.as_ref().expect("running");
        let (keys, tokens) = sim.server.sim().identities.issued();
        let mut out = Vec::new();
        for (i, k) in keys.into_iter().enumerate() {
            out.push((
                format!("issued secret key #{i}"),
                k.secret_key.expose().to_string(),
            ));
            out.push((format!("issued security token #{i}"), k.token));
        }
        for (i, t) in tokens.into_iter().enumerate() {
            out.push((format!("metadata token #{i}"), t));
        }
        out
    }

    /// The PEM of the CA that signed ecs-sim's certificate (with `config.tls`).
    pub fn ca_pem(&self) -> String {
        let sim = self.sim.as_ref().expect("running");
        sim.server
            .cert_pem()
            .expect("ecs-sim serves TLS")
            .to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(s) = self.sim.take() {
            self.rt.block_on(s.server.shutdown());
        }
    }
}
