//! The request and connection counters of `/_sim/stats`: answers per route and status,
//! requests in flight, open connections, and the peaks of both. Admin calls are not
//! counted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Requests per route and status, and concurrency.
#[derive(Debug, Default)]
pub struct Stats {
    requests: Mutex<BTreeMap<&'static str, BTreeMap<String, u64>>>,
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

    /// (answers per route and status, most requests at once, requests now).
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

    /// Zeroes the answer counts; the peaks restart from what is open now.
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
