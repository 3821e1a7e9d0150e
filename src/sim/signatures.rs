//! The signatures of the last signed API requests, kept whatever their outcome, for
//! `GET /_sim/signatures`: tests check that none of them leaks into logs, state or plans.
//! A stats reset does not clear them.

use std::collections::VecDeque;
use std::sync::Mutex;

/// How many `Authorization` signatures are kept (the most recent ones).
pub const KEPT_SIGNATURES: usize = 1000;

/// The last [`KEPT_SIGNATURES`] signatures, oldest first.
#[derive(Debug, Default)]
pub struct SignatureRing(Mutex<VecDeque<String>>);

impl SignatureRing {
    /// Keeps one request's signature (the hex value of `Signature=`).
    pub fn push(&self, signature: String) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.len() == KEPT_SIGNATURES {
            s.pop_front();
        }
        s.push_back(signature);
    }

    /// The kept signatures, oldest first.
    pub fn all(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
