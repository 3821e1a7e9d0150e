//! Who may sign: the configured keys, and the temporary keys ecs-sim issued (instance
//! metadata, assumed agencies), each with its token, its expiry and the principal it acts
//! as. Temporary keys are accepted until they expire, then refused with 401 as the gateway
//! refuses them; they are never forgotten, so a late request says "expired", not "unknown".
//!
//! A principal is a name: `configured keys`, `instance agency`, and for an assumed agency
//! the caller's principal, ` > ` and `{domain}/{agency}`: a chain's top is
//! `instance agency > acme/ops > acme/audit`. `/_sim/credentials` counts the keys issued
//! and the signed requests per principal, which is how tests see that the identity that
//! signs never switches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

use crate::api::Secret;

/// The principal of the configured keys.
pub const CONFIGURED: &str = "configured keys";
/// The principal of the keys the instance metadata gives.
pub const INSTANCE_AGENCY: &str = "instance agency";

/// One set of temporary keys as issued.
#[derive(Clone)]
pub struct TemporaryKey {
    pub access_key: String,
    pub secret_key: Secret,
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub principal: String,
}

/// Who signed a request (what the authenticate layer hands the handlers).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: String,
    /// Signed with temporary keys (sent `X-Security-Token`).
    pub temporary: bool,
}

/// What `/_sim/credentials` shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IdentityCounts {
    /// Temporary keys issued, per principal.
    pub issued: BTreeMap<String, u64>,
    /// Requests whose signature and token were accepted, per principal.
    pub requests: BTreeMap<String, u64>,
    /// Requests refused because their temporary keys had expired.
    pub expired_refusals: u64,
    /// Metadata token requests (`PUT …/api/token`) answered with a token.
    pub metadata_tokens: u64,
    /// Metadata key reads answered, with and without a token.
    pub metadata_reads_with_token: u64,
    pub metadata_reads_without_token: u64,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, TemporaryKey>,
    metadata_tokens: HashSet<String>,
    counts: IdentityCounts,
}

/// The registry, shared by the handlers.
#[derive(Default)]
pub struct Identities(Mutex<Inner>);

impl Identities {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Issues new keys for `principal`, valid for `lifetime_secs`.
    pub fn issue(&self, principal: &str, lifetime_secs: u64) -> TemporaryKey {
        let id = || uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let key = TemporaryKey {
            access_key: format!("STS{}", &id()[..17]),
            secret_key: Secret::new(format!("sim-temporary-secret-{}", id())),
            token: format!("sim-temporary-token-{}{}", id(), id()),
            expires_at: OffsetDateTime::now_utc()
                + time::Duration::seconds(lifetime_secs.min(i64::MAX as u64) as i64),
            principal: principal.to_string(),
        };
        let mut inner = self.lock();
        *inner
            .counts
            .issued
            .entry(principal.to_string())
            .or_default() += 1;
        inner.keys.insert(key.access_key.clone(), key.clone());
        key
    }

    /// The temporary keys with this access key, expired or not.
    pub fn find(&self, access_key: &str) -> Option<TemporaryKey> {
        self.lock().keys.get(access_key).cloned()
    }

    pub fn count_request(&self, principal: &str) {
        *self
            .lock()
            .counts
            .requests
            .entry(principal.to_string())
            .or_default() += 1;
    }

    pub fn count_expired_refusal(&self) {
        self.lock().counts.expired_refusals += 1;
    }

    /// A new metadata session token.
    pub fn new_metadata_token(&self) -> String {
        let token = format!("sim-metadata-token-{}", uuid::Uuid::new_v4().simple());
        let mut inner = self.lock();
        inner.counts.metadata_tokens += 1;
        inner.metadata_tokens.insert(token.clone());
        token
    }

    pub fn is_metadata_token(&self, token: &str) -> bool {
        self.lock().metadata_tokens.contains(token)
    }

    pub fn count_metadata_read(&self, with_token: bool) {
        let mut inner = self.lock();
        if with_token {
            inner.counts.metadata_reads_with_token += 1;
        } else {
            inner.counts.metadata_reads_without_token += 1;
        }
    }

    /// Ends every temporary key now (a revocation): the next request with one gets 401.
    pub fn expire_all(&self) {
        let now = OffsetDateTime::now_utc();
        for key in self.lock().keys.values_mut() {
            key.expires_at = key.expires_at.min(now);
        }
    }

    /// Every temporary key issued, and every metadata token (for tests that check no
    /// secret leaked).
    pub fn issued(&self) -> (Vec<TemporaryKey>, Vec<String>) {
        let inner = self.lock();
        let keys = inner.keys.values().cloned().collect();
        (keys, inner.metadata_tokens.iter().cloned().collect())
    }

    pub fn counts(&self) -> IdentityCounts {
        self.lock().counts.clone()
    }
}
