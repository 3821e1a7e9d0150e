//! The start rate limit: every server id of each accepted `os-start` counts in a rolling
//! window (one project). A POST that would exceed the limit is refused whole, with
//! `Retry-After` = seconds until enough of the window has expired (the whole window when the
//! POST alone exceeds the limit).

use std::collections::VecDeque;

use crate::sim::failure::Failure;

/// The starts counted in the current window.
#[derive(Debug, Default)]
pub(super) struct StartWindow {
    /// (ms, servers started), oldest first.
    entries: VecDeque<(u64, u32)>,
}

impl StartWindow {
    /// Counts `n` servers started at `now`, or refuses with 429 when more than `limit`
    /// would have started within `window_ms`. A `limit` of 0 turns the check off.
    pub fn admit(&mut self, now: u64, n: u32, limit: u32, window_ms: u64) -> Result<(), Failure> {
        if limit == 0 {
            return Ok(());
        }
        let window = window_ms.max(1);
        self.expire(now, window);
        let used: u64 = self.entries.iter().map(|&(_, c)| c as u64).sum();
        if used + n as u64 <= limit as u64 {
            self.entries.push_back((now, n));
            return Ok(());
        }
        let retry_ms = self.ms_until_room(now, n, used, limit, window);
        Err(throttled(limit, window, retry_ms.div_ceil(1000).max(1)))
    }

    /// Forgets the starts that have left the window.
    fn expire(&mut self, now: u64, window: u64) {
        while let Some(&(t, _)) = self.entries.front() {
            if t + window > now {
                break;
            }
            self.entries.pop_front();
        }
    }

    /// How long until enough of the window has expired to fit `n` more.
    fn ms_until_room(&self, now: u64, n: u32, used: u64, limit: u32, window: u64) -> u64 {
        if n > limit {
            return window;
        }
        let need = used + n as u64 - limit as u64;
        let mut freed = 0u64;
        for &(t, c) in &self.entries {
            freed += c as u64;
            if freed >= need {
                return (t + window).saturating_sub(now);
            }
        }
        window
    }
}

fn throttled(limit: u32, window: u64, retry_after_secs: u64) -> Failure {
    let span = if window == 60_000 {
        "1 minute".to_string()
    } else {
        format!("{window} ms")
    };
    Failure::throttled(
        format!(
            "The throttling threshold has been reached: policy user over ratelimit,\
             limit:{limit},time:{span} (servers started)"
        ),
        retry_after_secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(f: Failure) -> Option<u64> {
        match f {
            Failure::Gateway { retry_after, .. } => retry_after,
            Failure::Ecs { .. } => None,
        }
    }

    #[test]
    fn starts_within_the_limit_are_admitted_until_it_is_reached() {
        let mut w = StartWindow::default();
        assert!(w.admit(0, 600, 1000, 60_000).is_ok());
        assert!(w.admit(10_000, 400, 1000, 60_000).is_ok());
        let refused = w
            .admit(20_000, 1, 1000, 60_000)
            .expect_err("over the limit");
        // The first 600 leave the window at 60 s: 40 s from now.
        assert_eq!(retry_after(refused), Some(40));
        assert!(w.admit(60_000, 600, 1000, 60_000).is_ok());
    }

    #[test]
    fn a_post_larger_than_the_limit_waits_a_whole_window() {
        let mut w = StartWindow::default();
        let refused = w.admit(0, 11, 10, 5_000).expect_err("alone over the limit");
        assert_eq!(retry_after(refused), Some(5));
    }

    #[test]
    fn a_zero_limit_admits_everything() {
        let mut w = StartWindow::default();
        assert!(w.admit(0, 100_000, 0, 60_000).is_ok());
    }
}
