//! Keys from the ECS instance metadata, as Huawei's SDKs read them
//! (`../shared/docs/credentials.md` §2.3):
//!
//! 1. `PUT {metadata}/meta-data/latest/api/token` with `X-Metadata-Token-Ttl-Seconds`; a
//!    404, 405 or 503 means the instance offers no token, and the read goes without one;
//! 2. `GET {metadata}/openstack/latest/securitykey`, with `X-Metadata-Token` when there is
//!    one; a 401 gets one more try with a fresh token, unless its body says the instance has
//!    no agency.
//!
//! The answer is `{"credential": {"access", "secret", "securitytoken", "expires_at"}}`.
//! Every call has a short timeout ([`METADATA_TIMEOUT`]) and never goes through a proxy
//! (the HTTP client is built without one), so off ECS the provider says at once that it has
//! no credentials instead of hanging.

use reqwest::Method;
use std::time::Duration;
use url::Url;

use super::assume_role::parse_v3;
use super::{Fetch, Issued};
use crate::api::error::ApiError;
use crate::api::secret::Secret;
use crate::api::transport::error_chain;

/// The timeout of each metadata call, as the SDKs (3 s).
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(3);
pub const PATH_TOKEN: &str = "/meta-data/latest/api/token";
pub const PATH_SECURITY_KEY: &str = "/openstack/latest/securitykey";
pub const HEADER_TOKEN: &str = "X-Metadata-Token";
pub const HEADER_TOKEN_TTL: &str = "X-Metadata-Token-Ttl-Seconds";
/// The token's lifetime asked for, as the SDKs (6 h).
pub const TOKEN_TTL_SECS: u32 = 21600;
/// What the metadata says in a 401 when no agency is attached to the instance.
pub const NO_AGENCY: &str = "Please configure Cloud Service Agency first";
/// The start of the error when there are no keys anywhere.
pub const NO_CREDENTIALS: &str =
    "no credentials: set access_key/secret_key, a profile, or run on ECS with an agency";

/// Reads keys from the instance metadata at `base`.
pub struct MetadataFetch {
    http: reqwest::Client,
    base: Url,
}

/// One metadata answer: its status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl MetadataFetch {
    /// `http` must have no proxy and a short timeout (`connection::metadata_client`).
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&Secret>,
    ) -> Result<Reply, ApiError> {
        let method_is_put = method == Method::PUT;
        let mut request = self
            .http
            .request(method, self.url(path))
            .timeout(METADATA_TIMEOUT);
        if method_is_put {
            request = request.header(HEADER_TOKEN_TTL, TOKEN_TTL_SECS.to_string());
        }
        if let Some(t) = token {
            request = request.header(HEADER_TOKEN, t.expose());
        }
        let unreachable = |e: reqwest::Error| {
            ApiError::Credentials(format!(
                "{NO_CREDENTIALS} (the instance metadata at {} did not answer: {})",
                self.base.as_str().trim_end_matches('/'),
                error_chain(&e)
            ))
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(unreachable)?.to_vec();
        Ok(Reply { status, body })
    }

    /// A session token, or `None` where the instance offers none.
    async fn token(&self) -> Result<Option<Secret>, ApiError> {
        let reply = self.call(Method::PUT, PATH_TOKEN, None).await?;
        match reply.status {
            200..=299 => {
                let token = String::from_utf8_lossy(&reply.body).trim().to_string();
                Ok((!token.is_empty()).then(|| Secret::new(token)))
            }
            404 | 405 | 503 => Ok(None),
            status => Err(self.failed(PATH_TOKEN, status, "")),
        }
    }

    async fn read(&self, token: Option<&Secret>) -> Result<Reply, ApiError> {
        self.call(Method::GET, PATH_SECURITY_KEY, token).await
    }

    fn failed(&self, path: &str, status: u16, hint: &str) -> ApiError {
        ApiError::Credentials(format!(
            "{NO_CREDENTIALS} (the instance metadata answered HTTP {status} to {}{hint})",
            self.url(path)
        ))
    }
}

#[async_trait::async_trait]
impl Fetch for MetadataFetch {
    async fn fetch(&self) -> Result<Issued, ApiError> {
        let token = self.token().await?;
        let mut reply = self.read(token.as_ref()).await?;
        if reply.status == 401 && !has_no_agency(&reply.body) {
            let token = self.token().await?;
            reply = self.read(token.as_ref()).await?;
        }
        if !(200..300).contains(&reply.status) {
            let hint = if has_no_agency(&reply.body) {
                ": the instance has no agency attached"
            } else {
                ""
            };
            return Err(self.failed(PATH_SECURITY_KEY, reply.status, hint));
        }
        parse_v3(&reply.body).map_err(|why| {
            ApiError::Credentials(format!("the instance metadata at {}: {why}", self.base))
        })
    }

    fn describe(&self) -> String {
        format!(
            "the ECS instance metadata at {}",
            self.base.as_str().trim_end_matches('/')
        )
    }
}

fn has_no_agency(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains(NO_AGENCY)
}
