//! HTTPS for ecs-sim: a certificate authority and a server certificate it signed, both
//! made at start with rcgen, served through rustls with the ring provider (the crate's one
//! TLS stack; no OpenSSL). Clients trust the CA (its PEM is [`SelfSigned::cert_pem`], and
//! `ecs-sim --tls --ca-file PATH` writes it out), as a company's private CA is trusted.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The names the certificate is valid for.
pub const CERT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A TLS acceptor and the PEM of the CA that signed its certificate (for clients to trust).
pub struct SelfSigned {
    pub acceptor: TlsAcceptor,
    /// The CA's certificate, PEM.
    pub cert_pem: String,
}

/// A fresh CA, and a server certificate for [`CERT_NAMES`] it signed with its key.
fn ca_and_server() -> anyhow::Result<(rcgen::Certificate, rcgen::Certificate, rcgen::KeyPair)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).context("CA parameters")?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "ecs-sim test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().context("CA key")?;
    let ca = ca.self_signed(&ca_key).context("signing the CA")?;
    let names: Vec<String> = CERT_NAMES.iter().map(|n| n.to_string()).collect();
    let server = CertificateParams::new(names).context("server certificate parameters")?;
    let server_key = KeyPair::generate().context("server key")?;
    let server = server
        .signed_by(&server_key, &ca, &ca_key)
        .context("signing the server certificate")?;
    Ok((ca, server, server_key))
}

/// Makes a fresh CA and server certificate, and the acceptor that serves them.
pub fn self_signed() -> anyhow::Result<SelfSigned> {
    let (ca, server, server_key) = ca_and_server()?;
    let cert_pem = ca.pem();
    let cert: CertificateDer<'static> = server.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
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
