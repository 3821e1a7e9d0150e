//! The read window: how many server reads one client (so one provider configuration, every
//! resource and data source of it) keeps in flight at once.
//!
//! A server read is an ECS `GET` of `…/cloudservers…`: the pre-check's and the settle
//! reads' lists of 100 ids, a refresh's, a data source's pages, one server. Job reads are not
//! in it: there is one per job every second or more, and a job's end must not wait behind
//! another resource's pre-check.
//!
//! # Why a window, and how wide
//!
//! A list of 100 ids is one round trip, and from a CI runner to a region a round trip is
//! tens to hundreds of milliseconds: 10,000 servers are 100 lists, a hundred round trips one
//! after another, so reads must overlap. How many GETs the service accepts at once or per
//! second is not documented (the API gateway's default is said to be 200 calls a second per
//! API, and it answers 429 `APIGW.0308` beyond its limit). So the window starts at
//! [`MAX_READS_IN_FLIGHT`] and adapts, as TCP's congestion window does (AIMD):
//!
//! * **429, halve.** An attempt answered 429 (or `APIGW.0308`) halves the window, at least
//!   one read. Reads sent together are throttled together, so only a read let in since the
//!   last halving halves it again: one burst of 429s is one halving, not thirty.
//! * **Success, grow by one a window.** Each read answered 2xx adds `1 / window`: the window
//!   grows back by one read for every window's worth of successes, up to the maximum.
//! * Any other failure leaves the window as it is; the client's retries handle it.
//!
//! A throttled read is retried by the client as any other (after `Retry-After`), outside
//! the window while it sleeps. Reads waiting for room queue in order, so resources sharing
//! a client take turns. The maximum is a constant, not a provider setting: the back-off
//! already protects a tighter quota, and a wider window buys nothing once a fleet's reads
//! fit in one or two round trips (docs/benchmarks.md has the numbers).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::client::EcsClient;
use super::codes;
use super::error::ApiError;
use super::transport::{Answer, Call};

/// The widest the window gets, and where it starts: reads of 100 ids in flight at once.
/// 10,000 servers are read in one round trip, 100,000 in eight.
pub const MAX_READS_IN_FLIGHT: usize = 128;

/// An AIMD limit on reads in flight; see the module documentation.
#[derive(Debug)]
pub struct ReadWindow {
    permits: Semaphore,
    state: Mutex<Window>,
    max: usize,
}

#[derive(Debug)]
struct Window {
    /// Reads allowed in flight now.
    limit: usize,
    /// Successes since the window last grew.
    credit: usize,
    /// Permits still held that are to be retired when they come back (the window shrank
    /// below the reads in flight).
    debt: usize,
    /// Counts the halvings: a read let in before the last one does not halve again.
    epoch: u64,
}

/// Room for one read; give it back with [`Slot::finish`] (dropping it counts as neither a
/// success nor a throttle).
pub struct Slot<'a> {
    window: &'a ReadWindow,
    permit: Option<SemaphorePermit<'a>>,
    epoch: u64,
}

impl Default for ReadWindow {
    fn default() -> Self {
        Self::new(MAX_READS_IN_FLIGHT)
    }
}

impl ReadWindow {
    /// A window of at most `max` reads (at least one), starting wide open.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            permits: Semaphore::new(max),
            state: Mutex::new(Window {
                limit: max,
                credit: 0,
                debt: 0,
                epoch: 0,
            }),
            max,
        }
    }

    /// Reads allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The widest the window gets.
    pub fn max(&self) -> usize {
        self.max
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for room for one read; `None` when `deadline` comes first.
    pub async fn enter(&self, deadline: Option<Instant>) -> Option<Slot<'_>> {
        let acquire = self.permits.acquire();
        let permit = match deadline {
            None => acquire.await.ok()?,
            Some(at) => tokio::time::timeout_at(at, acquire).await.ok()?.ok()?,
        };
        let epoch = self.lock().epoch;
        Some(Slot {
            window: self,
            permit: Some(permit),
            epoch,
        })
    }

    fn halve(&self, since_epoch: u64) {
        let mut w = self.lock();
        if since_epoch != w.epoch || w.limit == 1 {
            return;
        }
        let removed = w.limit - (w.limit / 2).max(1);
        w.limit -= removed;
        w.credit = 0;
        w.epoch += 1;
        w.debt += removed - self.permits.forget_permits(removed);
        tracing::info!(
            reads_in_flight = w.limit,
            "server reads throttled (429): fewer reads at once"
        );
    }

    fn grow(&self) {
        let mut w = self.lock();
        if w.limit >= self.max {
            return;
        }
        w.credit += 1;
        if w.credit < w.limit {
            return;
        }
        w.credit = 0;
        w.limit += 1;
        if w.debt > 0 {
            w.debt -= 1;
        } else {
            self.permits.add_permits(1);
        }
    }

    /// A permit coming back: retired if the window shrank below the reads in flight. It is
    /// returned under the lock, so that a halving never counts it as still held.
    fn give_back(&self, permit: SemaphorePermit<'_>) {
        let mut w = self.lock();
        if w.debt > 0 {
            w.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }
}

impl Slot<'_> {
    /// Gives the room back, counting how the read went: a 429 halves the window, a success
    /// grows it.
    pub fn finish<T>(mut self, result: &Result<T, ApiError>) {
        match result {
            Ok(_) => self.window.grow(),
            Err(e) if is_throttled(e) => self.window.halve(self.epoch),
            Err(_) => {}
        }
        self.release();
    }

    fn release(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.window.give_back(permit);
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

impl EcsClient {
    /// The window of this client's server reads (shared by its clones).
    pub fn read_window(&self) -> &ReadWindow {
        &self.inner.read_window
    }

    /// One attempt of `call` ([`EcsClient::attempt_renewing`]); a server read waits for room in the read window first, and
    /// its answer widens or narrows the window. The attempt's `timeout` is cut to what is
    /// left before the deadline once there is room.
    pub(super) async fn attempt_in_window(
        &self,
        call: &Call,
        attempt: u32,
        timeout: Duration,
    ) -> Result<Answer, ApiError> {
        if !is_server_read(&call.method, &call.path) {
            return self.attempt_renewing(call, attempt, timeout).await;
        }
        let deadline = self.deadline();
        let slot = self.inner.read_window.enter(deadline).await;
        let (Some(slot), Some(timeout)) = (slot, within(timeout, deadline)) else {
            return Err(ApiError::DeadlineExceeded {
                what: format!(
                    "{} {} (waiting for room among the reads in flight)",
                    call.method,
                    self.wire_path(call)
                ),
                last_error: None,
            });
        };
        let result = self.attempt_renewing(call, attempt, timeout).await;
        slot.finish(&result);
        result
    }
}

/// Whether a call is a server read (see the module documentation).
pub fn is_server_read(method: &Method, path: &str) -> bool {
    *method == Method::GET && path.contains("/cloudservers")
}

/// An answer that says the caller is over the gateway's rate.
fn is_throttled(e: &ApiError) -> bool {
    e.status() == Some(429) || e.code() == Some(codes::THROTTLED)
}

/// What is left of `timeout` before `deadline`; `None` when the deadline has passed.
fn within(timeout: Duration, deadline: Option<Instant>) -> Option<Duration> {
    let Some(deadline) = deadline else {
        return Some(timeout);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero()).then(|| left.min(timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> Result<(), ApiError> {
        Err(ApiError::Http {
            method: "GET".into(),
            path: "/v1/p/cloudservers/detail".into(),
            status: 429,
            code: codes::THROTTLED.into(),
            message: "over ratelimit".into(),
            request_id: None,
            retry_after: None,
        })
    }

    async fn fill(w: &ReadWindow, n: usize) -> Vec<Slot<'_>> {
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(w.enter(None).await.expect("room"));
        }
        slots
    }

    #[tokio::test]
    async fn a_burst_of_429s_halves_the_window_once() {
        let w = ReadWindow::new(8);
        let slots = fill(&w, 8).await;
        for slot in slots {
            slot.finish(&throttled());
        }
        assert_eq!(w.limit(), 4);
        // Only four fit now.
        let slots = fill(&w, 4).await;
        let deadline = Some(Instant::now() + Duration::from_millis(20));
        assert!(w.enter(deadline).await.is_none(), "a fifth read got in");
        // A 429 on a read let in after the halving halves again.
        let mut slots = slots.into_iter();
        slots.next().expect("slot").finish(&throttled());
        assert_eq!(w.limit(), 2);
        for slot in slots {
            slot.finish(&Ok(()));
        }
        assert_eq!(
            w.limit(),
            3,
            "two successes at a window of 2 grow it by one"
        );
    }

    #[tokio::test]
    async fn successes_grow_it_back_by_one_a_window_up_to_the_maximum() {
        let w = ReadWindow::new(4);
        fill(&w, 1).await.pop().expect("slot").finish(&throttled());
        assert_eq!(w.limit(), 2);
        for expected in [2, 3, 3, 3, 4] {
            w.enter(None).await.expect("room").finish(&Ok(()));
            assert_eq!(w.limit(), expected);
        }
        for _ in 0..20 {
            w.enter(None).await.expect("room").finish(&Ok(()));
        }
        assert_eq!(w.limit(), 4, "never above the maximum");
        assert_eq!(fill(&w, 4).await.len(), 4);
    }

    #[tokio::test]
    async fn it_never_closes_and_held_permits_are_retired_when_they_come_back() {
        let w = ReadWindow::new(4);
        let held = fill(&w, 4).await;
        let mut held = held.into_iter();
        held.next().expect("slot").finish(&throttled());
        // Window 2, three reads still in flight: two retire as they come back.
        drop(held);
        let _two = fill(&w, 2).await;
        let deadline = Some(Instant::now() + Duration::from_millis(20));
        assert!(w.enter(deadline).await.is_none(), "a third read got in");
        let w = ReadWindow::new(1);
        w.enter(None).await.expect("room").finish(&throttled());
        assert_eq!(w.limit(), 1);
        assert!(w.enter(None).await.is_some());
    }

    #[test]
    fn server_reads_are_the_gets_of_cloudservers() {
        assert!(is_server_read(&Method::GET, "/v1/p/cloudservers/detail"));
        assert!(is_server_read(&Method::GET, "/v1/p/cloudservers/abc"));
        assert!(!is_server_read(&Method::GET, "/v1/p/jobs/abc"));
        assert!(!is_server_read(&Method::POST, "/v1/p/cloudservers/action"));
    }
}
