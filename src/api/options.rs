//! What a client may be given beyond [`ClientConfig`]: where its keys come from (a
//! [`Chain`]: a profile's keys, the instance metadata, agencies to assume), how it connects
//! ([`Connection`]: CAs, client certificate, proxies) and its clock. The default is static
//! keys from the config, the process's trust store and proxy variables, and the system
//! clock: what [`EcsClient::new`](super::EcsClient::new) uses.

use super::client::{check_keys, ClientConfig};
use super::clock::Clock;
use super::connection::{api_client, metadata_client, Connection};
use super::credentials::{Base, Chain, Context, Source};
use super::endpoint;
use super::error::ApiError;

#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Where the keys come from; `None`: [`ClientConfig::credentials`], as they are.
    pub chain: Option<Chain>,
    pub connection: Connection,
    /// Dates each signature.
    pub clock: Clock,
}

impl ClientOptions {
    pub fn with_clock(clock: Clock) -> Self {
        Self {
            clock,
            ..Self::default()
        }
    }

    pub(super) fn api_client(
        &self,
        insecure: bool,
        connect_timeout: std::time::Duration,
    ) -> Result<reqwest::Client, ApiError> {
        api_client(&self.connection, insecure, connect_timeout)
    }

    /// The runtime source of the keys: static keys, or the chain over `http`.
    pub(super) fn source(
        &self,
        config: &ClientConfig,
        http: &reqwest::Client,
    ) -> Result<Source, ApiError> {
        let Some(chain) = &self.chain else {
            return Ok(Source::Static(config.credentials.clone()));
        };
        if let Base::Keys(keys) = &chain.base {
            check_keys(keys)?;
        }
        let endpoints = &config.endpoints;
        // STS is signed like ECS and IAM: the same rule for plain http.
        endpoint::Base::of("STS", &endpoints.sts, config.insecure)?;
        let cx = Context {
            http: http.clone(),
            metadata_http: metadata_client()?,
            proxies: self.connection.proxies.clone(),
            iam: endpoints.iam.clone(),
            sts: endpoints.sts.clone(),
            metadata: endpoints.metadata.clone(),
            clock: self.clock.clone(),
        };
        Ok(Source::build(chain, &cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::connection::ClientIdentity;
    use crate::api::credentials::{AssumeRole, Credentials};
    use crate::api::proxy::Proxies;
    use crate::api::Secret;

    #[test]
    fn debug_shows_no_secret_of_any_source() {
        let options = ClientOptions {
            chain: Some(Chain {
                base: Base::Keys(Credentials::new("AK", "sk-7d1e").with_security_token("tok-3a9c")),
                assume_role: vec![AssumeRole {
                    agency_name: "ops".into(),
                    ..Default::default()
                }],
            }),
            connection: Connection {
                client_identity: Some(ClientIdentity {
                    cert_pem: "CERT".into(),
                    key_pem: Secret::new("key-5b2f"),
                }),
                proxies: Proxies::from_env(&|k| {
                    (k == "HTTPS_PROXY").then(|| "http://u:pw-8e4d@proxy:3128".to_string())
                }),
                ..Connection::from_env(&|_| None)
            },
            ..ClientOptions::default()
        };
        let shown = format!("{options:?}");
        for secret in ["sk-7d1e", "tok-3a9c", "key-5b2f", "pw-8e4d"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("AK") && shown.contains("ops"), "{shown}");
    }
}
