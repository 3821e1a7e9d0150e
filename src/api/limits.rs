//! [`Limits`]: when a piece of work must stop, by its deadline or by an interrupt, carried as
//! one value so that every wait and every call of a run stops for the same reasons.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::ApiError;

/// A run's deadline and its interrupt (SIGINT, SIGTERM or Terraform's StopProvider).
#[derive(Debug, Clone)]
pub struct Limits {
    pub deadline: Instant,
    pub interrupt: CancellationToken,
}

/// Why a wait ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    DeadlineReached,
    Interrupted,
}

impl Limits {
    pub fn new(deadline: Instant, interrupt: CancellationToken) -> Self {
        Self {
            deadline,
            interrupt,
        }
    }

    /// The same interrupt with another deadline (a short grace after the run's own).
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        Self::new(deadline, self.interrupt.clone())
    }

    pub fn is_interrupted(&self) -> bool {
        self.interrupt.is_cancelled()
    }

    /// Whether `d` from now ends after the deadline.
    pub fn outlasts(&self, d: Duration) -> bool {
        Instant::now() + d > self.deadline
    }

    /// Sleeps until `at`, or until the deadline or an interrupt, whichever comes first. Work
    /// due at or after the deadline is not to be done: then it waits for the deadline (or an
    /// interrupt) and says so.
    pub async fn sleep_until(&self, at: Instant) -> Result<(), Stop> {
        let past_deadline = at >= self.deadline;
        tokio::select! {
            biased;
            _ = self.interrupt.cancelled() => Err(Stop::Interrupted),
            _ = tokio::time::sleep_until(at.min(self.deadline)) => {
                if past_deadline { Err(Stop::DeadlineReached) } else { Ok(()) }
            }
        }
    }

    /// Sleeps for `d`; see [`sleep_until`](Self::sleep_until).
    pub async fn sleep(&self, d: Duration) -> Result<(), Stop> {
        self.sleep_until(Instant::now() + d).await
    }

    /// Runs `call`, dropping it (and so closing its request) at the deadline or an interrupt.
    /// `what` names the call in the error.
    pub async fn bound<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        tokio::select! {
            biased;
            _ = self.interrupt.cancelled() => Err(ApiError::Cancelled(what.to_string())),
            _ = tokio::time::sleep_until(self.deadline) => Err(ApiError::DeadlineExceeded {
                what: what.to_string(),
                last_error: None,
            }),
            result = call => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleeps_stop_at_the_deadline_or_an_interrupt() {
        let limits = Limits::new(
            Instant::now() + Duration::from_millis(200),
            CancellationToken::new(),
        );
        assert_eq!(limits.sleep(Duration::from_millis(1)).await, Ok(()));
        assert!(limits.outlasts(Duration::from_secs(60)));
        assert_eq!(
            limits.sleep(Duration::from_secs(60)).await,
            Err(Stop::DeadlineReached)
        );
        let r = limits.bound("x", std::future::pending::<Result<(), ApiError>>());
        assert!(matches!(r.await, Err(ApiError::DeadlineExceeded { .. })));
        let limits = limits.with_deadline(Instant::now() + Duration::from_secs(60));
        limits.interrupt.cancel();
        assert!(limits.is_interrupted());
        assert_eq!(
            limits.sleep(Duration::from_secs(1)).await,
            Err(Stop::Interrupted)
        );
        let r = limits.bound("x", std::future::pending::<Result<(), ApiError>>());
        assert!(matches!(r.await, Err(ApiError::Cancelled(_))));
    }
}
