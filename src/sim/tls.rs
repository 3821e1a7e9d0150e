//! HTTPS for ecs-sim: a self-signed certificate made at start with rcgen, served through
//! rustls with the ring provider (the crate's one TLS stack; no OpenSSL).

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The names the certificate is valid for.
pub const CERT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A TLS acceptor and the PEM of its self-signed certificate (for clients that want to
/// trust it explicitly).
pub struct SelfSigned {
    pub acceptor: TlsAcceptor,
    pub cert_pem: String,
}

/// Makes a fresh self-signed certificate and key, and the acceptor that serves them.
pub fn self_signed() -> anyhow::Result<SelfSigned> {
    let names: Vec<String> = CERT_NAMES.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names)
        .context("generating the self-signed certificate")?;
    let cert_pem = certified.cert.pem();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .context("TLS server certificate")?;
    Ok(SelfSigned {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem,
    })
}
