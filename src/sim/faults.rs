//! Injected faults and the request counters of `/_sim/stats`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::state::State;

/// What an injected fault does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 `APIGW.0308` with `Retry-After: secs`.
    TooMany(u64),
    /// 503 `APIGW.0202`.
    Unavailable,
    /// The connection is closed without any HTTP answer.
    Drop,
}

/// Decides whether `route` gets a fault now. Bursts come first (drop, then 5xx, then 429),
/// each counting down; then one random draw against the three probabilities. The RNG is
/// drawn only when a probability is set, so faults never disturb the seeded durations
/// otherwise.
pub fn decide(state: &mut State, route: &str) -> Option<Fault> {
    let k = &mut state.knobs;
    if !k.faults_apply_to(route) {
        return None;
    }
    if k.fault_drop_burst > 0 {
        k.fault_drop_burst -= 1;
        return Some(Fault::Drop);
    }
    if k.fault_5xx_burst > 0 {
        k.fault_5xx_burst -= 1;
        return Some(Fault::Unavailable);
    }
    if k.fault_429_burst > 0 {
        k.fault_429_burst -= 1;
        return Some(Fault::TooMany(k.retry_after_secs));
    }
    let (p429, p5xx, pdrop, retry) = (k.fault_429, k.fault_5xx, k.fault_drop, k.retry_after_secs);
    if p429 + p5xx + pdrop <= 0.0 {
        return None;
    }
    let r: f64 = state.rng.gen();
    if r < p429 {
        Some(Fault::TooMany(retry))
    } else if r < p429 + p5xx {
        Some(Fault::Unavailable)
    } else if r < p429 + p5xx + pdrop {
        Some(Fault::Drop)
    } else {
        None
    }
}

/// The handle a connection gives its requests so that one can close it with no answer:
/// the connection task drops the hyper connection (and the socket) when it is cancelled.
#[derive(Clone, Debug)]
pub struct ConnKill(pub CancellationToken);

/// How many `Authorization` signatures `/_sim/signatures` keeps (the most recent ones).
pub const KEPT_SIGNATURES: usize = 1000;

/// Requests per route and status, and concurrency. Admin calls are not counted.
#[derive(Debug, Default)]
pub struct Stats {
    requests: Mutex<BTreeMap<&'static str, BTreeMap<String, u64>>>,
    /// The signatures of the last [`KEPT_SIGNATURES`] signed requests, oldest first, so
    /// that tests can check none of them leaks into logs, state or plans.
    signatures: Mutex<VecDeque<String>>,
    current: AtomicU64,
    max: AtomicU64,
    conns: AtomicU64,
    max_conns: AtomicU64,
}

/// Decrements the open-connection count when the connection ends.
pub struct OpenConn(Arc<Stats>);

impl Drop for OpenConn {
    fn drop(&mut self) {
        self.0.conns.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Decrements the in-flight count when the request ends, however it ends.
pub struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Stats {
    pub fn enter(self: &Arc<Self>) -> InFlight {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        InFlight(self.clone())
    }

    pub fn open_connection(self: &Arc<Self>) -> OpenConn {
        let now = self.conns.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_conns.fetch_max(now, Ordering::SeqCst);
        OpenConn(self.clone())
    }

    /// (open connections, most open at once).
    pub fn connections(&self) -> (u64, u64) {
        (
            self.conns.load(Ordering::SeqCst),
            self.max_conns.load(Ordering::SeqCst),
        )
    }

    /// Counts one answer; `status` is the HTTP status or `"dropped"`.
    pub fn record(&self, route: &'static str, status: &str) {
        let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *r.entry(route)
            .or_default()
            .entry(status.to_string())
            .or_insert(0) += 1;
    }

    /// Keeps one request's signature (the hex value of `Signature=`).
    pub fn record_signature(&self, signature: String) {
        let mut s = self.signatures.lock().unwrap_or_else(|e| e.into_inner());
        if s.len() == KEPT_SIGNATURES {
            s.pop_front();
        }
        s.push_back(signature);
    }

    /// The kept signatures, oldest first.
    pub fn signatures(&self) -> Vec<String> {
        self.signatures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn snapshot(&self) -> (BTreeMap<&'static str, BTreeMap<String, u64>>, u64, u64) {
        let r = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        (
            r,
            self.max.load(Ordering::SeqCst),
            self.current.load(Ordering::SeqCst),
        )
    }

    pub fn reset(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.max
            .store(self.current.load(Ordering::SeqCst), Ordering::SeqCst);
        self.max_conns
            .store(self.conns.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}
