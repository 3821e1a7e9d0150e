//! Which certificate authorities the client trusts: the system trust store, found as Go
//! finds it on Linux (so the provider trusts what Huawei's Go provider trusts), or the PEM
//! of `cacert_file` instead of it.
//!
//! The system store is `SSL_CERT_FILE` when set, else the first of the distributions'
//! bundles that exists ([`BUNDLES`]); and `SSL_CERT_DIR` (`:`-separated) when set, else the
//! distributions' directories ([`DIRECTORIES`]) when no bundle was found. A CA installed with
//! `update-ca-certificates` or `update-ca-trust` is therefore trusted. Where no store is
//! found at all (a scratch container), the Mozilla roots compiled into the provider are used.
//!
//! Certificates are parsed by rustls (`pki-types` PEM, `RootCertStore`); one that does not
//! parse is skipped, as Go skips it.
//!
//! Why not `rustls-native-certs` (or reqwest's native-roots feature, which uses it): on
//! Linux it finds the same files through `openssl-probe`, a crate the one-TLS-stack check
//! (`e2e::faults::one_tls_stack_rustls_and_no_openssl`) keeps out of `Cargo.lock`; what it
//! would add here is only this list of paths.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Go's `certFiles` for Linux, in its order.
pub const BUNDLES: [&str; 6] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];
/// Go's `certDirectories` for Linux.
pub const DIRECTORIES: [&str; 2] = ["/etc/ssl/certs", "/etc/pki/tls/certs"];
pub const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
pub const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

/// Where the roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system store; the two fields are `SSL_CERT_FILE` and `SSL_CERT_DIR` as set.
    System {
        cert_file: Option<PathBuf>,
        cert_dir: Option<String>,
    },
    /// Only these CAs (PEM), as `cacert_file` sets.
    Pem(String),
}

impl Default for Trust {
    fn default() -> Self {
        Self::from_env(&|k| std::env::var(k).ok())
    }
}

impl Trust {
    /// The system store as `env` locates it.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let set = |k| env(k).filter(|v: &String| !v.trim().is_empty());
        Trust::System {
            cert_file: set(ENV_CERT_FILE).map(PathBuf::from),
            cert_dir: set(ENV_CERT_DIR),
        }
    }

    /// The DER of every root; `None` for a system store that was not found (use the
    /// compiled-in roots). A `cacert_file` without one certificate is an error.
    pub fn roots(&self) -> Result<Option<Vec<CertificateDer<'static>>>, String> {
        match self {
            Trust::Pem(pem) => {
                let roots = parse_roots(pem.as_bytes());
                if roots.is_empty() {
                    return Err(
                        "cacert_file holds no PEM certificate a TLS client can trust".into(),
                    );
                }
                Ok(Some(roots))
            }
            Trust::System {
                cert_file,
                cert_dir,
            } => {
                let roots = system_roots(cert_file.as_deref(), cert_dir.as_deref());
                Ok((!roots.is_empty()).then_some(roots))
            }
        }
    }
}

type StoreKey = (Option<PathBuf>, Option<String>);

/// The system store, read once per location in a process (every client of a run shares it).
fn system_roots(cert_file: Option<&Path>, cert_dir: Option<&str>) -> Vec<CertificateDer<'static>> {
    static STORES: OnceLock<Mutex<HashMap<StoreKey, Vec<CertificateDer<'static>>>>> =
        OnceLock::new();
    let key = (
        cert_file.map(Path::to_path_buf),
        cert_dir.map(str::to_string),
    );
    let stores = STORES.get_or_init(Default::default);
    let mut stores = stores.lock().unwrap_or_else(|e| e.into_inner());
    stores
        .entry(key)
        .or_insert_with(|| read_system_roots(cert_file, cert_dir))
        .clone()
}

fn read_system_roots(
    cert_file: Option<&Path>,
    cert_dir: Option<&str>,
) -> Vec<CertificateDer<'static>> {
    let files: Vec<PathBuf> = match cert_file {
        Some(f) => vec![f.to_path_buf()],
        None => BUNDLES.iter().map(PathBuf::from).collect(),
    };
    let mut roots = files
        .iter()
        .find_map(|f| std::fs::read(f).ok())
        .map(|pem| parse_roots(&pem))
        .unwrap_or_default();
    let dirs: Vec<&str> = match cert_dir {
        Some(d) => d.split(':').filter(|d| !d.is_empty()).collect(),
        None if roots.is_empty() => DIRECTORIES.to_vec(),
        None => Vec::new(),
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if let Ok(pem) = std::fs::read(entry.path()) {
                roots.extend(parse_roots(&pem));
            }
        }
    }
    tracing::debug!(
        roots = roots.len(),
        ?cert_file,
        ?cert_dir,
        "system trust store read"
    );
    roots
}

/// The certificates of a PEM text that rustls accepts as trust anchors.
fn parse_roots(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .filter_map(Result::ok)
        .filter(|der| rustls::RootCertStore::empty().add(der.clone()).is_ok())
        .collect()
}
