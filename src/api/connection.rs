//! How the client connects: the CAs it trusts ([`Trust`]), a client certificate, the
//! proxies ([`Proxies`]); and the two HTTP clients built from them, one for the API (ECS,
//! IAM, STS) and one for the instance metadata (plain HTTP to a link-local address: no
//! proxy, no TLS settings, a short timeout).

use std::fmt;
use std::time::Duration;

use super::credentials::metadata::METADATA_TIMEOUT;
use super::error::ApiError;
use super::proxy::Proxies;
use super::secret::Secret;
use super::trust::Trust;

/// A client certificate and its private key, both PEM (`cert` and `key`).
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: Secret,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("key_pem", &self.key_pem)
            .finish_non_exhaustive()
    }
}

/// The connection settings. The default is the process's: its system trust store and its
/// proxy variables.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub trust: Trust,
    pub client_identity: Option<ClientIdentity>,
    pub proxies: Proxies,
}

impl Connection {
    /// The settings `env` gives (trust store locations and proxies).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            trust: Trust::from_env(env),
            client_identity: None,
            proxies: Proxies::from_env(env),
        }
    }
}

fn invalid(what: &str, e: impl fmt::Display) -> ApiError {
    ApiError::InvalidArgument(format!("{what}: {e}"))
}

/// The API client: these roots, certificate and proxies; no default headers (reqwest adds
/// no User-Agent of its own), no redirects (a signed request goes exactly where it was
/// signed for).
pub fn api_client(
    connection: &Connection,
    insecure: bool,
    connect_timeout: Duration,
) -> Result<reqwest::Client, ApiError> {
    let mut builder = reqwest::Client::builder()
        .danger_accept_invalid_certs(insecure)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .no_proxy();
    if let Some(proxy) = connection.proxies.reqwest_proxy() {
        builder = builder.proxy(proxy);
    }
    if let Some(roots) = connection
        .trust
        .roots()
        .map_err(|e| invalid("cacert_file", e))?
    {
        builder = builder.tls_built_in_root_certs(false);
        for der in roots {
            let cert = reqwest::Certificate::from_der(&der).map_err(|e| invalid("a CA", e))?;
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(id) = &connection.client_identity {
        let pem = format!("{}\n{}", id.cert_pem.trim(), id.key_pem.expose().trim());
        // reqwest's error names no key material.
        let identity = reqwest::Identity::from_pem(pem.as_bytes())
            .map_err(|e| invalid("the client certificate (cert and key)", e))?;
        builder = builder.identity(identity);
    }
    builder
        .build()
        .map_err(|e| invalid("cannot build the HTTP client", e))
}

/// The metadata client: never a proxy, every call within [`METADATA_TIMEOUT`].
pub fn metadata_client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(METADATA_TIMEOUT)
        .timeout(METADATA_TIMEOUT)
        .build()
        .map_err(|e| invalid("cannot build the metadata HTTP client", e))
}
