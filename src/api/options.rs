//! What a client may be given beyond [`ClientConfig`]: where its keys come from (a
//! [`Chain`]: a profile's keys, the instance metadata, agencies to assume), how it connects
//! ([`Connection`]: CAs, client certificate, proxies) and its clock. The default is static
//! keys from the config, the process's trust store and proxy variables, and the system
//! clock: what [`EcsClient::new`](super::EcsClient::new) uses.

use super::client::{check_keys, ClientConfig};
use super::clock::Clock;
use super::connection::{api_client, metadata_client, Connection};
use super::credentials::{Base, Chain, Context, Source};
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
