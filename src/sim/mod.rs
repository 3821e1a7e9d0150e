//! `ecs-sim`: a local simulator of the Huawei Cloud ECS API (batch power actions, jobs,
//! server details) and of the IAM project lookup, for the demo, the tests and the
//! benchmarks. See `docs/ecs-api.md` in the shared notes for the API it reproduces.
//!
//! * ECS, IAM and the admin API (`/_sim/`) share one port.
//! * Every API request is signature-checked (SDK-HMAC-SHA256, with the crate's signer).
//! * Time is lazy: transitions record their end; reads compare with the clock.
//! * Connections are served by hand with hyper (HTTP/1.1), so that a request can close its
//!   own connection with no answer (the `fault_drop` knobs); the accepted stream is the one
//!   place where TLS would wrap in (see [`serve_connection`]).

pub mod admin;
pub mod auth;
pub mod config;
pub mod faults;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{
    server_id_for_index, AlreadyRunningMode, DropMode, Knobs, PartialFailureParent, ServerSpec,
    ServersFile, SimConfig, ALL_ROUTES, ROUTE_ACTION, ROUTE_JOB, ROUTE_LIST, ROUTE_PROJECTS,
    ROUTE_SHOW, ROUTE_UNKNOWN,
};

use faults::{ConnKill, Stats};
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
        let sim = Arc::new(Sim {
            config,
            state: Mutex::new(state),
            stats: Arc::new(Stats::default()),
        });
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, router(sim.clone()), shutdown.clone()));
        tracing::info!(%addr, "ecs-sim listening");
        Ok(SimServer {
            addr,
            sim,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

async fn accept_loop(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    tokio::spawn(serve_connection(stream, router.clone(), shutdown.clone()));
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

/// Serves one connection. A request that must be "dropped" cancels `kill`, and the
/// connection future is dropped here, closing the socket with no answer.
///
/// TLS hook: to serve HTTPS, wrap `stream` in a `tokio_rustls::server::TlsStream` here
/// (after the handshake) before handing it to hyper; nothing else changes.
async fn serve_connection(stream: TcpStream, router: Router, shutdown: CancellationToken) {
    let _ = stream.set_nodelay(true);
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
