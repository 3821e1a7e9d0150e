//! Assuming an agency with the keys of the hop below (`../shared/docs/credentials.md` §1.4):
//!
//! - IAM v3, `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens` with
//!   `{"auth":{"identity":{"methods":["assume_role"],"assume_role":{"agency_name","domain_name"
//!   or "domain_id","duration_seconds"}}}}`; the answer's `credential` holds `access`,
//!   `secret`, `securitytoken` and `expires_at`;
//! - STS v5 when `domain_id` is set, `POST {sts}/v5/agencies/assume` with
//!   `{"agency_urn":"iam::{domain_id}:agency:{agency_name}","agency_session_name",
//!   "duration_seconds"?}`; the answer's `credentials` holds `access_key_id`,
//!   `secret_access_key`, `security_token` and `expiration`.
//!
//! Unlike Huawei's provider, v3 asks for `duration` (default [`DEFAULT_V3_DURATION_SECS`],
//! IAM's own default) rather than a fixed 12 hours, and the keys are refreshed before they
//! expire instead of never.

use serde::Deserialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::signed_post::SignedPost;
use super::{Context, Credentials, Fetch, Issued, Source};
use crate::api::error::ApiError;
use crate::api::proxy::Proxies;
use crate::api::Clock;

/// IAM's default lifetime of v3 agency keys, sent when `duration` is not set.
pub const DEFAULT_V3_DURATION_SECS: u32 = 900;
pub const PATH_V3: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
pub const PATH_V5: &str = "/v5/agencies/assume";

/// One `assume_role` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRole {
    pub agency_name: String,
    pub domain_name: Option<String>,
    /// Set: STS v5 (`agencies/assume`); unset: IAM v3.
    pub domain_id: Option<String>,
    /// Seconds; `None`: v3 sends [`DEFAULT_V3_DURATION_SECS`], v5 sends nothing.
    pub duration: Option<u32>,
}

impl AssumeRole {
    /// "agency A of domain D (IAM v3)", for logs and errors.
    pub fn describe(&self) -> String {
        let domain = self
            .domain_id
            .as_deref()
            .or(self.domain_name.as_deref())
            .unwrap_or("(the caller's domain)");
        let api = if self.domain_id.is_some() {
            "STS v5"
        } else {
            "IAM v3"
        };
        format!("agency {:?} of domain {domain} ({api})", self.agency_name)
    }

    fn body(&self) -> serde_json::Value {
        match &self.domain_id {
            Some(domain_id) => {
                let mut body = json!({
                    "agency_urn": format!("iam::{domain_id}:agency:{}", self.agency_name),
                    "agency_session_name": self.agency_name,
                });
                if let Some(d) = self.duration {
                    body["duration_seconds"] = json!(d);
                }
                body
            }
            None => {
                let mut role = json!({
                    "agency_name": self.agency_name,
                    "duration_seconds": self.duration.unwrap_or(DEFAULT_V3_DURATION_SECS),
                });
                if let Some(name) = &self.domain_name {
                    role["domain_name"] = json!(name);
                }
                json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": role}}})
            }
        }
    }
}

/// Assumes one agency with the keys of `base`, asked for afresh on every fetch.
pub struct AssumeRoleFetch {
    role: AssumeRole,
    base: Source,
    http: reqwest::Client,
    proxies: Proxies,
    clock: Clock,
    iam: url::Url,
    sts: url::Url,
}

impl AssumeRoleFetch {
    pub fn new(role: AssumeRole, base: Source, cx: &Context) -> Self {
        Self {
            role,
            base,
            http: cx.http.clone(),
            proxies: cx.proxies.clone(),
            clock: cx.clock.clone(),
            iam: cx.iam.clone(),
            sts: cx.sts.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Fetch for AssumeRoleFetch {
    async fn fetch(&self) -> Result<Issued, ApiError> {
        let keys = self.base.current().await?;
        let v5 = self.role.domain_id.is_some();
        let what = format!("assuming {}", self.role.describe());
        let post = SignedPost {
            http: &self.http,
            proxies: &self.proxies,
            clock: &self.clock,
            endpoint: if v5 { &self.sts } else { &self.iam },
            path: if v5 { PATH_V5 } else { PATH_V3 },
            what: &what,
        };
        let body = serde_json::to_vec(&self.role.body()).unwrap_or_default();
        let answer = post.send(&keys, &body).await?;
        let parsed = if v5 {
            parse_v5(&answer)
        } else {
            parse_v3(&answer)
        };
        parsed.map_err(|why| ApiError::Credentials(format!("{what}: {why}")))
    }

    fn describe(&self) -> String {
        self.role.describe()
    }
}

#[derive(Deserialize)]
struct V3Answer {
    credential: V3Credential,
}

#[derive(Deserialize)]
struct V3Credential {
    access: String,
    secret: String,
    securitytoken: String,
    expires_at: String,
}

#[derive(Deserialize)]
struct V5Answer {
    credentials: V5Credentials,
}

#[derive(Deserialize)]
struct V5Credentials {
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
    expiration: String,
}

/// The keys of an IAM v3 answer (also the metadata's shape). The error never quotes the
/// answer: it holds keys.
pub fn parse_v3(answer: &[u8]) -> Result<Issued, String> {
    let a: V3Answer = serde_json::from_slice(answer).map_err(|e| {
        format!(
            "the answer is not the documented `credential` object ({})",
            e.classify_name()
        )
    })?;
    let c = a.credential;
    issued(c.access, c.secret, c.securitytoken, &c.expires_at)
}

fn parse_v5(answer: &[u8]) -> Result<Issued, String> {
    let a: V5Answer = serde_json::from_slice(answer).map_err(|e| {
        format!(
            "the answer is not the documented `credentials` object ({})",
            e.classify_name()
        )
    })?;
    let c = a.credentials;
    issued(
        c.access_key_id,
        c.secret_access_key,
        c.security_token,
        &c.expiration,
    )
}

fn issued(access: String, secret: String, token: String, expires: &str) -> Result<Issued, String> {
    if access.trim().is_empty() || secret.is_empty() || token.is_empty() {
        return Err("the answer has an empty access key, secret key or security token".into());
    }
    let expires_at = OffsetDateTime::parse(expires.trim(), &Rfc3339)
        .map_err(|e| format!("the expiry {expires:?} is not an RFC 3339 time ({e})"))?;
    Ok(Issued {
        credentials: Credentials::new(access.trim(), secret).with_security_token(token),
        expires_at: Some(expires_at),
    })
}

/// The name of a serde error's category, which never quotes the input.
trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "fields missing or of the wrong type",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_apis() {
        let v3 = AssumeRole {
            agency_name: "ops".into(),
            domain_name: Some("acme".into()),
            ..Default::default()
        };
        assert_eq!(
            v3.body(),
            json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role":
                {"agency_name": "ops", "domain_name": "acme", "duration_seconds": 900}}}})
        );
        let v5 = AssumeRole {
            agency_name: "ops".into(),
            domain_id: Some("d1".into()),
            duration: Some(1200),
            ..Default::default()
        };
        assert_eq!(
            v5.body(),
            json!({"agency_urn": "iam::d1:agency:ops", "agency_session_name": "ops",
                   "duration_seconds": 1200})
        );
    }

    #[test]
    fn answers_parse_and_errors_never_quote_them() {
        let ok = br#"{"credential": {"access": "AK", "secret": "SK-x", "securitytoken": "T-x",
            "expires_at": "2030-01-08T03:50:07.574000Z"}}"#;
        let issued = parse_v3(ok).expect("parses");
        assert_eq!(issued.credentials.access_key, "AK");
        assert!(issued.expires_at.is_some());
        let bad = br#"{"credential": {"access": "AK", "secret": "leaky-secret"}}"#;
        let e = parse_v3(bad).unwrap_err();
        assert!(!e.contains("leaky-secret"), "{e}");
    }
}
