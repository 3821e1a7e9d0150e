//! Retry policy: exponential backoff with jitter, `Retry-After` honoured, bounded by a count
//! and by the caller's deadline.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the provider's `max_retries`, default 5).
    pub max_retries: u32,
    /// First backoff.
    pub base_delay: Duration,
    /// Longest backoff between two attempts (a `Retry-After` longer than this is still honoured).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}
