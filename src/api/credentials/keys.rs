//! AK/SK keys, with an optional temporary security token: what one request is signed with.

use std::fmt;

use crate::api::secret::Secret;
use crate::api::signer::Signer;

pub const HEADER_PROJECT_ID: &str = "X-Project-Id";
pub const HEADER_SECURITY_TOKEN: &str = "X-Security-Token";

/// What the API gateway needs to authenticate a request. `Debug` redacts the secret key
/// and the token.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: Secret,
    /// Sent as `X-Security-Token` with temporary (STS) credentials.
    pub security_token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .field("security_token", &self.security_token)
            .finish()
    }
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: Secret::new(secret_key),
            security_token: None,
        }
    }

    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(Secret::new(token));
        self
    }

    /// Whether these are the same keys (the same access key and token): how a renewal tells
    /// keys that were refused from keys issued since.
    pub fn same_keys(&self, other: &Credentials) -> bool {
        self.access_key == other.access_key && self.security_token == other.security_token
    }

    pub fn signer(&self) -> Signer {
        Signer::new(self.access_key.clone(), self.secret_key.clone())
    }

    /// The headers `BasicCredentials.sign_request` adds before signing: `X-Project-Id` when a
    /// project is known (ECS calls, not the IAM lookup) and `X-Security-Token` when set.
    pub fn identity_headers(&self, project_id: Option<&str>) -> Vec<(String, String)> {
        let mut headers = Vec::with_capacity(2);
        if let Some(p) = project_id {
            headers.push((HEADER_PROJECT_ID.to_string(), p.to_string()));
        }
        if let Some(t) = &self.security_token {
            headers.push((HEADER_SECURITY_TOKEN.to_string(), t.expose().to_string()));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret_and_token() {
        let c = Credentials::new("AK", "the-secret").with_security_token("the-token");
        let shown = format!("{c:?}");
        assert!(shown.contains("AK"));
        assert!(!shown.contains("the-secret"));
        assert!(!shown.contains("the-token"));
    }

    #[test]
    fn identity_headers_follow_the_sdk() {
        let c = Credentials::new("AK", "SK");
        assert!(c.identity_headers(None).is_empty());
        let c = c.with_security_token("T");
        assert_eq!(
            c.identity_headers(Some("p")),
            vec![
                ("X-Project-Id".to_string(), "p".to_string()),
                ("X-Security-Token".to_string(), "T".to_string())
            ]
        );
    }
}
