//! `ecs-sim`: a local simulator of the Huawei Cloud ECS API (batch power actions, jobs,
//! server details) and of the IAM project lookup, for the demo, the tests and the
//! benchmarks. Paths, field names, status codes and error bodies follow `ecs-api.md` in the
//! shared notes.
//!
//! # Starting it
//!
//! * Binary: `ecs-sim --listen 127.0.0.1:0 --servers 2000 [--servers-file F] [--tls]
//!   [knob flags]` prints its base URL (`http://127.0.0.1:PORT`, `https://` with `--tls`:
//!   a self-signed certificate for `localhost`, `127.0.0.1` and `::1` made at start with
//!   rcgen and served with rustls/ring, see [`tls`]) as the first line of stdout, then serves
//!   until SIGINT/SIGTERM and exits 0. Identity flags/env: `--access-key` (`HW_ACCESS_KEY`),
//!   `--secret-key` (`HW_SECRET_KEY`), `--project-id` (`HW_PROJECT_ID`), `--region`
//!   (`HW_REGION_NAME`), `--security-token` (`HW_SECURITY_TOKEN`); demo defaults in
//!   [`config`]. Logs go to stderr (`RUST_LOG`, default `info`); each API request is logged
//!   at debug with method, path, status and duration.
//! * In process: [`SimServer::start`] with a [`SimConfig`]; [`SimServer::url`],
//!   [`SimServer::server_ids`], [`SimServer::shutdown`] (dropping it stops it too).
//! * `--servers N` creates N `SHUTOFF` servers with ids [`server_id_for_index`]`(0..N)`
//!   (`ec5e5e00-0000-4000-8000-{i:012x}`) named `ecs-sim-{i}`; `--servers-file` loads
//!   `{"servers":[{"id","status","locked"?,"task_state"?,"name"?}]}` after them.
//!
//! # API (ECS, IAM and `/_sim/` on one port)
//!
//! | Route name (stats, `fault_routes`) | |
//! |---|---|
//! | `POST /v1/{project_id}/cloudservers/action` | `os-start`, `os-stop` (`type` optional), `reboot` (`type` required) → 200 `{"job_id"}` |
//! | `GET /v1/{project_id}/jobs/{job_id}` | INIT → RUNNING → SUCCESS/FAIL, one sub-job per server |
//! | `GET /v1/{project_id}/cloudservers/detail` | `server_id=a,b` (≤ 100) or `limit`/`offset` (page number) and `status`/`name` filters |
//! | `GET /v1/{project_id}/cloudservers/{server_id}` | `{"server": …}` or 404 `Ecs.0114` |
//! | `GET /v3/projects` | `?name={region}` → the one project, another name → `[]` |
//! | `unknown` | anything else: 404 `APIGW.0101` (gateway body) |
//!
//! Every API answer carries `X-Request-Id` (32 hex); gateway bodies repeat it as
//! `request_id`.
//!
//! **Auth** ([`auth`]): every API request's SDK-HMAC-SHA256 signature is verified with the
//! crate's signer functions. 401 `APIGW.0301` for: missing or malformed `Authorization`,
//! unknown AK (`ak … not exist`), `host` or `x-sdk-date` not signed, a signed header absent,
//! a bad or skewed `X-Sdk-Date` (`x-sdk-date expired`, beyond `clock_skew_tolerance_secs`,
//! checked against the real wall clock shifted by `clock_offset_secs`), a bad signature
//! (`verify aksk signature fail`), and, when a security token is configured, a missing or
//! different `X-Security-Token` (`security token is missing` / `is invalid or expired`). No
//! message contains a secret. Every parsed signature is kept for `GET /_sim/signatures`.
//! `X-Project-Id` ≠ path project, or an unknown path project → 400 `Ecs.0023`.
//!
//! **Action errors**, checked in this order: body not JSON, not an object with exactly one of
//! the three keys, or not the model's shape → 400 `Ecs.0005`; 0 or > 1000 servers → 400
//! `Ecs.0118`; a repeated id, or an unknown id that is not UUID-shaped → 400 `Ecs.0005`;
//! unknown ids → 404 `Ecs.0114` (one `details` entry each); locked servers → 400 `Ecs.0605`;
//! wrong state under `already_running_mode = sync_400` → 400 `Ecs.0100`; start rate limit →
//! 429 `APIGW.0308` + `Retry-After`. Nothing changes when a POST is refused.
//!
//! # Decisions where the real API is unknown
//!
//! * Job phases: INIT for 10% of the shortest configured duration (scaled, at most 1 s),
//!   then RUNNING until every sub-job has ended. `begin_time`/`end_time` are
//!   `2024-01-02T03:04:06.123Z`; `end_time` is null until the end.
//! * `job_type`: `batchStartServers` / `batchStopServers` / `batchRebootServers`; sub-jobs
//!   `startServer` / `stopServer` / `rebootServer`. Sub-job ids are the parent id + 1..=N.
//! * Parent status: SUCCESS when no sub-job failed; FAIL when all failed; on a partial
//!   failure, per `partial_failure_parent`. A FAIL parent carries the first failed sub-job's
//!   `error_code`/`fail_reason`.
//! * Wrong state (start of an ACTIVE server, stop of a SHUTOFF one, reboot of a SHUTOFF one)
//!   per `already_running_mode`; ERROR servers always fail that way (never `success`).
//!   Such sub-jobs end when the job leaves INIT.
//! * A start of a server already `powering-on` joins that transition (same end, SUCCESS)
//!   and is counted in its `start_count`; an action on a server busy with another action
//!   → sub-job FAIL `Ecs.0603`.
//! * A failing server (`failing_servers`) shows `powering-on` for its drawn duration, then
//!   `SHUTOFF` with no task; its sub-job FAILs `Ecs.0226`.
//! * Reboot: status `REBOOT` + `rebooting` (HARD: `HARD_REBOOT` + `rebooting_hard`), then
//!   `ACTIVE`. Reboots draw from `start_duration_ms`.
//! * Unknown, malformed or purged job ids → 404 `{"error":{"code":"Ecs.0000",…}}`
//!   (`Ecs.0000` is the generic request error; no job-specific code is documented).
//! * Listing is in creation order; `limit` outside 1..=1000 or not a number → 400
//!   `Ecs.0005`; `offset` 0 counts as 1; `marker` and other filters are ignored.
//! * Unknown-id entries: `{"id", "fault": {"code": 404, "message": "Instance … could not be
//!   found."}}`, every other field null.
//! * The start rate limit counts every server id of each accepted `os-start` in a rolling
//!   60 s window (one project); a POST that would exceed it is refused whole, with
//!   `Retry-After` = seconds until enough of the window has expired (60 when the POST alone
//!   exceeds the limit).
//!
//! # Knobs ([`Knobs`]; `GET`/`PUT /_sim/knobs`, and `--kebab-case` flags)
//!
//! `start_duration_ms` `[min,max]` (default `[15000,35000]`), `stop_duration_ms` (same),
//! `time_scale` (1.0; multiplies every duration), `start_rate_limit_per_minute` (1000; 0 =
//! off), `start_rate_window_ms` (60000; the rolling window that limit counts over, shrunk by
//! tests to scale time), `fault_429` / `fault_5xx` / `fault_drop` (probabilities per request, one seeded draw),
//! `fault_drop_mode` (`after`: the request is carried out and only the answer is lost, the
//! default; `before`: it is not carried out), `fault_routes` (route names; empty = all),
//! `fault_429_burst` / `fault_5xx_burst` / `fault_drop_burst` (the next N requests on
//! `fault_routes`; they count down), `retry_after_secs` (1; on injected 429s), `latency_ms`,
//! `failing_servers` (ids), `already_running_mode` (`subjob_fail` | `sync_400` | `success`),
//! `partial_failure_parent` (`fail` | `success`), `never_finish`, `never_finish_jobs` (the next
//! N jobs; counts down), `job_ttl_secs` (86400), `seed` (0; setting it re-seeds),
//! `job_status_override` (e.g. `"WEIRD"`), `malformed_job_json`, `omit_job_id` (200 `{}`, the
//! job is still created), `clock_skew_tolerance_secs` (900), `clock_offset_secs` (0; shifts
//! ecs-sim's clock for the `X-Sdk-Date` check only, to play a client whose clock is off).
//! Injected 5xx are 503
//! `APIGW.0202` "Backend unavailable"; injected 429s are `APIGW.0308` with `Retry-After`.
//!
//! # Admin API (unsigned JSON, not counted in the stats)
//!
//! * `GET /_sim/stats` → `requests` (route → status → n; `"dropped"` for dropped
//!   connections), `servers` (status → n), `servers_total`, `max_concurrent_requests`,
//!   `current_requests`, `open_connections`, `max_open_connections`, `starts_total`, `stops_total`, `jobs` (parent status → n),
//!   `last_job_end` (RFC 3339 or null), `rss_bytes`. `POST /_sim/stats/reset` zeroes the
//!   request counts, the concurrency peak and the start/stop counters (per server too).
//! * `GET /_sim/knobs`, `PUT /_sim/knobs` (partial object merged; unknown keys or bad values
//!   → 400 and nothing changes).
//! * `POST /_sim/servers` `{"servers":[{"id","status","locked","task_state","name"}],
//!   "replace":bool}`; `GET /_sim/servers/{id}` → `{"server", "start_count", "stop_count"}`.
//! * `GET /_sim/jobs/{job_id}` → the job as served, without auth.
//! * `GET /_sim/signatures` → `{"signatures": [...]}`: the `Signature=` values of the last
//!   1000 signed API requests, oldest first (for tests that check no signature leaks; not
//!   cleared by a stats reset).
//! * `POST /_sim/clock/advance` `{"ms": n}` moves the simulated clock forward (transitions,
//!   jobs, TTL, rate window; not the signature date check). `GET /_sim/health` → `ok`.
//!
//! # How it is built
//!
//! * Time is lazy: a power action records, on each server and in its job, when the
//!   transition ends; every read compares with the clock. No timer per server, so 100,000
//!   servers cost only memory. State sits behind one mutex, held only for short synchronous
//!   work.
//! * Memory (release build, Linux, measured with `VmRSS`): 32 MiB right after starting with
//!   `--servers 100000`; 45 MiB after starting all of them in 100 jobs of 1000 and serving
//!   100 concurrent clients (`tests/sim_cli.rs` prints the numbers; `ECS_SIM_BIN` points
//!   it at another build). In that test, on 2 cores, 100 clients (signing in the same
//!   process) got 700 answers (lists of 100 ids, 1000-sub-job jobs, pages of 1000) in
//!   0.7 s; a list of 100 ids takes 0.34 ms alone.
//! * Connections are served by hand with hyper (HTTP/1.1). A dropped request cancels a
//!   per-connection token; the connection task then drops hyper's connection and the socket
//!   closes with no HTTP answer at all (clients see "connection closed before message
//!   completed"). With TLS, the handshake (at most 10 s) comes first and the same
//!   connection code serves the decrypted stream.

pub mod admin;
pub mod auth;
pub mod config;
pub mod faults;
pub mod routes;
pub mod state;
pub mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

pub use config::{
    server_id_for_index, AlreadyRunningMode, DropMode, Knobs, PartialFailureParent, ServerSpec,
    ServersFile, SimConfig, ALL_ROUTES, ROUTE_ACTION, ROUTE_JOB, ROUTE_LIST, ROUTE_PROJECTS,
    ROUTE_SHOW, ROUTE_UNKNOWN,
};

use faults::{ConnKill, Stats};

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
use state::State;

/// What the handlers share.
pub struct Sim {
    pub config: SimConfig,
    state: Mutex<State>,
    pub stats: Arc<Stats>,
}

impl Sim {
    /// The state lock. Handlers hold it only for short, synchronous work.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router: `/_sim/*` admin routes, everything else to the API handler.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .nest("/_sim", admin::router())
        .fallback(routes::api)
        .with_state(sim)
}

/// A running simulator. Dropping it stops it too.
pub struct SimServer {
    addr: SocketAddr,
    /// The PEM of the self-signed certificate when serving HTTPS.
    cert_pem: Option<String>,
    sim: Arc<Sim>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimServer {
    /// Builds the state (generated servers first, then `initial_servers`), binds
    /// `config.listen` and serves in the background.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimServer> {
        config
            .knobs
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid knobs: {e}"))?;
        let mut state = State::new(config.knobs.clone());
        state.create_generated(config.servers);
        state
            .load_servers(&config.initial_servers, false)
            .map_err(|e| anyhow::anyhow!("invalid servers: {e}"))?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let tls = if config.tls {
            Some(tls::self_signed()?)
        } else {
            None
        };
        let cert_pem = tls.as_ref().map(|t| t.cert_pem.clone());
        let sim = Arc::new(Sim {
            config,
            state: Mutex::new(state),
            stats: Arc::new(Stats::default()),
        });
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            listener,
            tls.map(|t| t.acceptor),
            router(sim.clone()),
            sim.stats.clone(),
            shutdown.clone(),
        ));
        tracing::info!(%addr, tls = cert_pem.is_some(), "ecs-sim listening");
        Ok(SimServer {
            addr,
            cert_pem,
            sim,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS), no trailing slash.
    pub fn url(&self) -> String {
        let scheme = if self.cert_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The PEM of the self-signed certificate, when serving HTTPS.
    pub fn cert_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ids of all servers, in creation order.
    pub fn server_ids(&self) -> Vec<String> {
        self.sim.lock().server_ids()
    }

    /// The shared state, for in-process inspection.
    pub fn sim(&self) -> &Arc<Sim> {
        &self.sim
    }

    /// Stops accepting and closes the listening socket; open connections finish their
    /// current request (at most 2 s) in the background.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (after `shutdown_token().cancel()`).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The token that stops the server when cancelled (for signal handlers).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    stats: Arc<Stats>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let open = stats.open_connection();
                    let (router, shutdown, tls) = (router.clone(), shutdown.clone(), tls.clone());
                    tokio::spawn(async move {
                        let _ = stream.set_nodelay(true);
                        match tls {
                            None => serve_connection(stream, router, shutdown).await,
                            Some(acceptor) => {
                                let handshake = tokio::time::timeout(
                                    TLS_HANDSHAKE_TIMEOUT,
                                    acceptor.accept(stream),
                                );
                                match handshake.await {
                                    Ok(Ok(stream)) => serve_connection(stream, router, shutdown).await,
                                    Ok(Err(e)) => tracing::debug!(error = %e, "ecs-sim TLS handshake failed"),
                                    Err(_) => tracing::debug!("ecs-sim TLS handshake timed out"),
                                }
                            }
                        }
                        drop(open);
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "ecs-sim accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
    // Open connections see the same token: each finishes its current request (at most
    // 2 s) and closes.
    drop(listener);
}

/// Serves one connection (plain TCP, or TLS after the handshake). A request that must be
/// "dropped" cancels `kill`, and the connection future is dropped here, closing the socket
/// with no answer.
async fn serve_connection<S>(stream: S, router: Router, shutdown: CancellationToken)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let kill = CancellationToken::new();
    let svc = TowerToHyperService::new(router.layer(axum::Extension(ConnKill(kill.clone()))));
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::trace!(error = %e, "ecs-sim connection ended with an error");
            }
        }
        _ = kill.cancelled() => {
            tracing::debug!("ecs-sim connection dropped (injected fault)");
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.as_mut()).await;
        }
    }
}
