//! The cache of one source of temporary keys: fetched when first asked for, fetched again
//! before they expire, one fetch at a time.
//!
//! Keys are due for a refresh once a third of their lifetime is left, and at the latest
//! [`MAX_REFRESH_MARGIN`] before they expire: keys that live an hour are renewed ten
//! minutes early, keys that live a minute twenty seconds early. Every attempt asks, so a
//! job poll that has waited half an hour signs with keys as fresh as a new request's.
//!
//! A refresh that fails while the cached keys still work keeps them (logged as a warning)
//! and tries again after [`RETRY_AFTER_FAILURE`]; once they have expired the failure is the
//! caller's error.

use std::sync::RwLock;
use std::time::Duration;

use time::OffsetDateTime;

use super::{Credentials, Fetch, Issued};
use crate::api::error::ApiError;

/// The most a refresh happens before the keys expire.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(600);
/// How long a failed refresh waits before the next, while the cached keys still work.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// Keys this close to their expiry are not sent at all: a request takes time to arrive.
const NEVER_CLOSER_THAN: Duration = Duration::from_secs(2);

struct Cached {
    issued: Issued,
    /// When to fetch anew.
    refresh_at: Option<OffsetDateTime>,
}

/// Temporary keys from one [`Fetch`], cached and refreshed before they expire.
pub struct Refreshing {
    fetch: Box<dyn Fetch>,
    cached: RwLock<Option<Cached>>,
    /// Held while fetching: one fetch at a time, the others wait and take its keys.
    flight: tokio::sync::Mutex<()>,
}

impl Refreshing {
    pub fn new(fetch: Box<dyn Fetch>) -> Self {
        Self {
            fetch,
            cached: RwLock::new(None),
            flight: tokio::sync::Mutex::new(()),
        }
    }

    pub fn describe(&self) -> String {
        self.fetch.describe()
    }

    /// The cached keys while they are not due, else keys fetched now.
    pub async fn current(&self) -> Result<Credentials, ApiError> {
        if let Some(keys) = self.cached_if(|c, now| !is_due(c, now)) {
            return Ok(keys);
        }
        let _flight = self.flight.lock().await;
        if let Some(keys) = self.cached_if(|c, now| !is_due(c, now)) {
            return Ok(keys);
        }
        self.refresh().await
    }

    /// New keys after `refused` were refused, unless newer ones are cached already.
    pub async fn renew(&self, refused: &Credentials) -> Result<Credentials, ApiError> {
        let _flight = self.flight.lock().await;
        if let Some(keys) = self.cached_if(|c, _| !c.issued.credentials.same_keys(refused)) {
            return Ok(keys);
        }
        self.refresh().await
    }

    /// Fetches (the caller holds `flight`). On failure the cached keys are kept while they
    /// work, and the next try waits [`RETRY_AFTER_FAILURE`].
    async fn refresh(&self) -> Result<Credentials, ApiError> {
        match self.fetch.fetch().await {
            Ok(issued) => {
                let now = OffsetDateTime::now_utc();
                let keys = issued.credentials.clone();
                tracing::debug!(
                    source = %self.fetch.describe(),
                    access_key = %keys.access_key,
                    expires_at = ?issued.expires_at,
                    "temporary credentials fetched"
                );
                let refresh_at = issued.expires_at.map(|end| refresh_time(now, end));
                self.store(Some(Cached { issued, refresh_at }));
                Ok(keys)
            }
            Err(error) => self.after_failure(error),
        }
    }

    fn after_failure(&self, error: ApiError) -> Result<Credentials, ApiError> {
        let now = OffsetDateTime::now_utc();
        let Some(keys) = self.cached_if(|c, now| !is_expired(c, now)) else {
            return Err(error);
        };
        tracing::warn!(
            source = %self.fetch.describe(), error = %error,
            "refreshing temporary credentials failed; the current ones still work and are used"
        );
        let mut guard = self.cached.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = guard.as_mut() {
            c.refresh_at = Some(now + RETRY_AFTER_FAILURE);
        }
        Ok(keys)
    }

    fn cached_if(&self, keep: impl Fn(&Cached, OffsetDateTime) -> bool) -> Option<Credentials> {
        let guard = self.cached.read().unwrap_or_else(|e| e.into_inner());
        let now = OffsetDateTime::now_utc();
        guard
            .as_ref()
            .filter(|c| keep(c, now))
            .map(|c| c.issued.credentials.clone())
    }

    fn store(&self, cached: Option<Cached>) {
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = cached;
    }
}

fn is_due(c: &Cached, now: OffsetDateTime) -> bool {
    c.refresh_at.is_some_and(|at| now >= at) || is_expired(c, now)
}

fn is_expired(c: &Cached, now: OffsetDateTime) -> bool {
    c.issued
        .expires_at
        .is_some_and(|end| now + NEVER_CLOSER_THAN >= end)
}

/// A third of the lifetime before `end`, at most [`MAX_REFRESH_MARGIN`] before it.
pub fn refresh_time(now: OffsetDateTime, end: OffsetDateTime) -> OffsetDateTime {
    let lifetime: time::Duration = (end - now).max(time::Duration::ZERO);
    let most = time::Duration::try_from(MAX_REFRESH_MARGIN).unwrap_or_default();
    let third: time::Duration = lifetime / 3_i32;
    let margin = third.min(most);
    end - margin
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    struct Counting {
        fetches: Arc<AtomicU32>,
        lifetime: time::Duration,
    }

    #[async_trait::async_trait]
    impl Fetch for Counting {
        async fn fetch(&self) -> Result<Issued, ApiError> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Issued {
                credentials: Credentials::new(format!("AK{n}"), "SK").with_security_token("T"),
                expires_at: Some(OffsetDateTime::now_utc() + self.lifetime),
            })
        }
        fn describe(&self) -> String {
            "counting".into()
        }
    }

    fn counting(lifetime: time::Duration) -> (Arc<Refreshing>, Arc<AtomicU32>) {
        let fetches = Arc::new(AtomicU32::new(0));
        let fetch = Counting {
            fetches: fetches.clone(),
            lifetime,
        };
        (Arc::new(Refreshing::new(Box::new(fetch))), fetches)
    }

    #[test]
    fn refresh_time_is_a_third_of_the_lifetime_at_most_ten_minutes() {
        let now = OffsetDateTime::now_utc();
        let at = refresh_time(now, now + time::Duration::seconds(60));
        assert_eq!(at, now + time::Duration::seconds(40));
        let at = refresh_time(now, now + time::Duration::hours(12));
        assert_eq!(
            at,
            now + time::Duration::hours(12) - time::Duration::minutes(10)
        );
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let (cache, fetches) = counting(time::Duration::hours(1));
        let calls = (0..20).map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.current().await.map(|k| k.access_key) })
        });
        for call in futures::future::join_all(calls).await {
            assert_eq!(call.expect("task").expect("keys"), "AK1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn keys_due_are_fetched_again_and_a_renewal_happens_once() {
        // One second: due at once (keys this close to their expiry are never sent).
        let (cache, fetches) = counting(time::Duration::seconds(1));
        let first = cache.current().await.expect("keys");
        let second = cache.current().await.expect("keys");
        assert_ne!(first.access_key, second.access_key);
        let (cache, fetches_long) = counting(time::Duration::hours(1));
        let used = cache.current().await.expect("keys");
        let renewed = cache.renew(&used).await.expect("renewed");
        let again = cache.renew(&used).await.expect("renewed");
        assert_eq!(
            renewed.access_key, again.access_key,
            "one renewal per refusal"
        );
        assert_eq!(fetches_long.load(Ordering::SeqCst), 2);
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}
