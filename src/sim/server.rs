//! Serving: [`SimServer`] binds, accepts (plain TCP, or TLS after the handshake) and serves
//! each connection with hyper (HTTP/1.1). A request that must be dropped cancels its
//! connection's [`ConnKill`] token; the connection task then drops hyper's connection and
//! the socket closes with no HTTP answer at all (clients see "connection closed before
//! message completed").

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::config::SimConfig;
use super::signatures::SignatureRing;
use super::state::State;
use super::stats::{OpenConn, Stats};
use super::{router, tls, Sim};

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The handle a connection gives its requests so that one can close it with no answer:
/// the connection task drops the hyper connection (and the socket) when it is cancelled.
#[derive(Clone, Debug)]
pub struct ConnKill(pub CancellationToken);

/// A running simulator. Dropping it stops it too.
pub struct SimServer {
    addr: SocketAddr,
    /// The PEM of the CA that signed the certificate, when serving HTTPS.
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
            signatures: SignatureRing::default(),
            identities: Default::default(),
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

    /// The PEM of the CA that signed the server's certificate, when serving HTTPS: what a
    /// client trusts.
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
                    tokio::spawn(serve_accepted(stream, tls, router, open, shutdown));
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

/// One accepted connection, counted open until it ends: the TLS handshake first (at most
/// [`TLS_HANDSHAKE_TIMEOUT`]) when serving HTTPS, then its requests.
async fn serve_accepted(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    router: Router,
    _open: OpenConn,
    shutdown: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else {
        return serve_connection(stream, router, shutdown).await;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => serve_connection(stream, router, shutdown).await,
        Ok(Err(e)) => tracing::debug!(error = %e, "ecs-sim TLS handshake failed"),
        Err(_) => tracing::debug!("ecs-sim TLS handshake timed out"),
    }
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
