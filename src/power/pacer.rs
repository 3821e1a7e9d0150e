//! Rate pacing of one power operation (start, stop or reboot), shared by every resource of
//! one provider configuration: [`Pacers`] holds one [`Pacer`] per operation.
//!
//! Huawei documents that at most 1000 servers are started per minute per project, and the
//! same for stops and for reboots; how the gateway counts is not documented, so the pacer
//! satisfies the strictest reading, a rolling window (ecs-sim's model), and spreads the
//! batches evenly as well:
//!
//! * **Spacing.** After a batch of `n` servers the next one waits `n / rate` minutes: the
//!   first batch goes at once and each further batch of 1000 after `1000 / rate` minutes,
//!   the physical limit `(ceil(N/1000) - 1) * 1000/R` minutes.
//! * **Rolling window.** No 60 s window holds more than `rate` servers, whatever the batch
//!   sizes (a 500-server remainder followed by a full batch from another resource would
//!   otherwise exceed it).
//! * **Margin.** Every batch that has to wait waits [`SAFETY_MARGIN`] longer, and the next
//!   batch is spaced from that later time, so the margin holds between *every* two batches
//!   (a margin applied only to the wait, not to the schedule, would be eaten by the next
//!   reservation's refill, leaving later batches exactly one interval apart: a coin toss
//!   against a rolling-window limit).
//! * **Batch size.** A batch never holds more than `rate` servers ([`Pacer::max_batch`]),
//!   so that it fits in one window.
//! * **Acceptance time.** The service counts a batch when it accepts it, which can be later
//!   than planned (a slow POST, a retry after a 503). [`Pacer::accepted`] moves the
//!   batch to the time its answer came, and the next batch is spaced from there.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::action::PowerAction;
use crate::api::models::MAX_SERVERS_PER_ACTION;

/// Added to every wait so that clock jitter between us and the gateway never turns pacing
/// into a 429.
pub const SAFETY_MARGIN: Duration = Duration::from_millis(250);
/// The window the documented limit counts over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// One pacer per power operation: operations of different kinds do not wait for each other,
/// since each has its own documented limit.
#[derive(Debug)]
pub struct Pacers {
    pub start: Pacer,
    pub stop: Pacer,
    pub reboot: Pacer,
}

impl Pacers {
    /// Servers per minute for each operation; 0 = no pacing.
    pub fn new(start: u32, stop: u32, reboot: u32) -> Self {
        Self {
            start: Pacer::new(start),
            stop: Pacer::new(stop),
            reboot: Pacer::new(reboot),
        }
    }

    pub fn for_action(&self, action: PowerAction) -> &Pacer {
        match action {
            PowerAction::Start => &self.start,
            PowerAction::Stop(_) => &self.stop,
            PowerAction::Reboot(_) => &self.reboot,
        }
    }
}

#[derive(Debug)]
pub struct Pacer {
    /// Servers per minute; 0 = no pacing.
    rate_per_minute: u32,
    schedule: Mutex<Schedule>,
}

#[derive(Debug, Default)]
struct Schedule {
    /// The earliest time the next batch may go: the last batch's time plus its size / rate.
    next_at: Option<Instant>,
    /// Batches of the last window: (time it goes or was accepted, servers, ticket), sorted
    /// by time.
    window: VecDeque<(Instant, usize, u64)>,
    next_ticket: u64,
}

/// A reservation: how long to wait before sending, and the handle to report the
/// acceptance with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub wait: Duration,
    id: u64,
    servers: usize,
}

impl Pacer {
    pub fn new(rate_per_minute: u32) -> Self {
        Self {
            rate_per_minute,
            schedule: Mutex::new(Schedule::default()),
        }
    }

    pub fn rate_per_minute(&self) -> u32 {
        self.rate_per_minute
    }

    /// The largest batch to send: 1000, or the rate when it is lower.
    pub fn max_batch(&self) -> usize {
        match self.rate_per_minute {
            0 => MAX_SERVERS_PER_ACTION,
            r => MAX_SERVERS_PER_ACTION.min(r as usize),
        }
    }

    fn interval(&self, n: usize) -> Duration {
        Duration::from_secs_f64(n as f64 * 60.0 / f64::from(self.rate_per_minute.max(1)))
    }

    /// Reserves `n` servers; the ticket says how long the caller must wait before sending
    /// them. Reservations queue in call order, so concurrent resources share the rate fairly.
    pub fn reserve(&self, n: usize, now: Instant) -> Ticket {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        s.next_ticket += 1;
        let id = s.next_ticket;
        let mut ticket = Ticket {
            wait: Duration::ZERO,
            id,
            servers: n,
        };
        if self.rate_per_minute == 0 || n == 0 {
            return ticket;
        }
        // A batch larger than the limit (the engine never makes one) goes alone.
        let limit = (self.rate_per_minute as usize).max(n);
        let mut at = s.next_at.map_or(now, |t| t.max(now));
        // Entries older than a window before `at` can never count again: `at` only grows.
        while s.window.front().is_some_and(|&(t, _, _)| t + WINDOW <= at) {
            s.window.pop_front();
        }
        let used: usize = s.window.iter().map(|&(_, c, _)| c).sum();
        if used + n > limit {
            // Wait until enough of the window has expired for `n` more.
            let need = used + n - limit;
            let mut freed = 0;
            for &(t, c, _) in &s.window {
                freed += c;
                if freed >= need {
                    at = at.max(t + WINDOW);
                    break;
                }
            }
        }
        if at > now {
            at += SAFETY_MARGIN;
        }
        s.window.push_back((at, n, id));
        s.next_at = Some(at + self.interval(n));
        ticket.wait = at - now;
        ticket
    }

    /// The batch of `ticket` was accepted at `at` (when its answer came, the latest the
    /// service can have counted it). If that is later than planned, the batch moves there,
    /// and the next batch is spaced from it.
    pub fn accepted(&self, ticket: &Ticket, at: Instant) {
        if self.rate_per_minute == 0 || ticket.servers == 0 {
            return;
        }
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = s.window.iter_mut().find(|e| e.2 == ticket.id) {
            if at > entry.0 {
                entry.0 = at;
            }
        }
        s.window.make_contiguous().sort_by_key(|e| e.0);
        let after = at + self.interval(ticket.servers);
        if s.next_at.is_none_or(|t| t < after) {
            s.next_at = Some(after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn first_batch_is_free_then_one_batch_per_interval() {
        let p = Pacer::new(1000);
        let t0 = Instant::now();
        assert_eq!(p.reserve(1000, t0).wait, Duration::ZERO);
        let w = p.reserve(1000, t0).wait;
        assert!(
            w >= Duration::from_secs(60) && w < Duration::from_secs(61),
            "{w:?}"
        );
        let w = p.reserve(1000, t0).wait;
        assert!(
            w >= Duration::from_secs(120) && w < Duration::from_secs(121),
            "{w:?}"
        );
    }

    #[test]
    fn the_margin_holds_between_every_two_batches() {
        // Each caller sends as soon as its wait ends, a few ms after reserving.
        let p = Pacer::new(60_000);
        let mut now = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..6 {
            now += p.reserve(1000, now).wait;
            sent.push(now);
            now += Duration::from_millis(7);
        }
        for pair in sent.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_secs(1) + SAFETY_MARGIN,
                "batches {:.3} s apart",
                secs(gap)
            );
        }
    }

    #[test]
    fn no_window_holds_more_than_the_rate_whatever_the_batch_sizes() {
        let p = Pacer::new(1000);
        let mut now = Instant::now();
        let mut sent: Vec<(Instant, usize)> = Vec::new();
        for n in [1000, 500, 1000, 300, 700, 1000, 1] {
            now += p.reserve(n, now).wait;
            sent.push((now, n));
        }
        for &(t, _) in &sent {
            let in_window: usize = sent
                .iter()
                .filter(|&&(u, _)| u <= t && u + WINDOW > t)
                .map(|&(_, c)| c)
                .sum();
            assert!(in_window <= 1000, "{in_window} servers in one window");
        }
    }

    #[test]
    fn a_late_acceptance_pushes_the_next_batch() {
        let p = Pacer::new(60_000);
        let t0 = Instant::now();
        let first = p.reserve(1000, t0);
        assert_eq!(first.wait, Duration::ZERO);
        // The POST was retried and accepted 0.8 s after it was planned.
        let accepted = t0 + Duration::from_millis(800);
        p.accepted(&first, accepted);
        let now = accepted + Duration::from_millis(5);
        let sent = now + p.reserve(1000, now).wait;
        assert!(
            sent - accepted >= Duration::from_secs(1) + SAFETY_MARGIN,
            "{:.3} s after the acceptance",
            secs(sent - accepted)
        );
    }

    #[test]
    fn batches_fit_the_rate_and_zero_means_off() {
        assert_eq!(Pacer::new(1000).max_batch(), 1000);
        assert_eq!(Pacer::new(300).max_batch(), 300);
        assert_eq!(Pacer::new(0).max_batch(), 1000);
        let p = Pacer::new(10_000);
        let t0 = Instant::now();
        assert_eq!(p.reserve(1000, t0).wait, Duration::ZERO);
        // 6 s later a whole batch may go again at 10,000/min.
        assert_eq!(
            p.reserve(1000, t0 + Duration::from_secs(6)).wait,
            Duration::ZERO
        );
        let off = Pacer::new(0);
        for _ in 0..100 {
            assert_eq!(off.reserve(1000, t0).wait, Duration::ZERO);
        }
    }
}
