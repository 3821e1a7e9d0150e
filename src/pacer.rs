//! Start-rate pacing shared by every resource of one provider configuration.
//!
//! Huawei documents that at most 1000 servers are started per minute per project. A token
//! bucket with a capacity of one full batch and a refill of `rate` servers per minute lets
//! the first batch go at once and each further batch of 1000 after `1000 / rate` minutes:
//! exactly the physical limit `(ceil(N/1000) - 1) * 1000/R` minutes. A small margin keeps
//! our own pacing from brushing against a rolling-window limit on the service side.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::models::MAX_SERVERS_PER_ACTION;

/// Added to every wait so that clock jitter between us and the gateway never turns pacing
/// into a 429.
pub const SAFETY_MARGIN: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub struct StartPacer {
    /// Servers per minute; 0 = no pacing.
    rate_per_minute: u32,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens available at `at` (negative when waiters have reserved future tokens).
    tokens: f64,
    at: Option<Instant>,
}

impl StartPacer {
    pub fn new(rate_per_minute: u32) -> Self {
        Self {
            rate_per_minute,
            bucket: Mutex::new(Bucket {
                tokens: MAX_SERVERS_PER_ACTION as f64,
                at: None,
            }),
        }
    }

    pub fn rate_per_minute(&self) -> u32 {
        self.rate_per_minute
    }

    /// Reserves `n` servers and returns how long the caller must wait before sending them.
    /// Reservations queue in call order, so concurrent resources share the rate fairly.
    pub fn reserve(&self, n: usize, now: Instant) -> Duration {
        if self.rate_per_minute == 0 || n == 0 {
            return Duration::ZERO;
        }
        let per_sec = f64::from(self.rate_per_minute) / 60.0;
        let capacity = MAX_SERVERS_PER_ACTION.max(n) as f64;
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed =
            b.at.map(|at| now.saturating_duration_since(at).as_secs_f64());
        let refilled = match elapsed {
            Some(e) => (b.tokens + e * per_sec).min(capacity),
            None => b.tokens,
        };
        b.tokens = refilled - n as f64;
        b.at = Some(now);
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / per_sec) + SAFETY_MARGIN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_batch_is_free_then_one_batch_per_interval() {
        let p = StartPacer::new(1000);
        let t0 = Instant::now();
        assert_eq!(p.reserve(1000, t0), Duration::ZERO);
        let w = p.reserve(1000, t0);
        assert!(
            w >= Duration::from_secs(60) && w < Duration::from_secs(61),
            "{w:?}"
        );
        let w = p.reserve(1000, t0);
        assert!(
            w >= Duration::from_secs(120) && w < Duration::from_secs(121),
            "{w:?}"
        );
    }

    #[test]
    fn refills_over_time_and_zero_means_off() {
        let p = StartPacer::new(10_000);
        let t0 = Instant::now();
        assert_eq!(p.reserve(1000, t0), Duration::ZERO);
        // 6 s later a whole batch is available again at 10,000/min.
        assert_eq!(p.reserve(1000, t0 + Duration::from_secs(6)), Duration::ZERO);
        let off = StartPacer::new(0);
        for _ in 0..100 {
            assert_eq!(off.reserve(1000, t0), Duration::ZERO);
        }
    }
}
