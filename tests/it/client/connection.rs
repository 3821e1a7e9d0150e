//! How the client connects, against ecs-sim over HTTPS with its own CA: trusted through
//! `cacert_file`'s PEM or only through `SSL_CERT_FILE`; through an `HTTPS_PROXY` (a tiny
//! loopback CONNECT proxy), around it for a `NO_PROXY` host, and never for the metadata;
//! a dead proxy named in the error.

use std::path::PathBuf;

use terraform_provider_ecs::api::connection::ClientIdentity;
use terraform_provider_ecs::api::credentials::{Base, Chain};
use terraform_provider_ecs::api::proxy::Proxies;
use terraform_provider_ecs::api::trust::Trust;
use terraform_provider_ecs::api::{
    ApiError, ClientOptions, Connection, EcsClient, Endpoints, Secret,
};
use terraform_provider_ecs::sim::SimConfig;

use super::credentials::client_of;
use crate::support::proxy::{dead_proxy_url, ConnectProxy};
use crate::support::sim::{fast_knobs, TestSim};

async fn tls_sim() -> TestSim {
    TestSim::start_with(SimConfig {
        servers: 2,
        knobs: fast_knobs(),
        tls: true,
        ..SimConfig::default()
    })
    .await
}

fn ca_pem(sim: &TestSim) -> String {
    sim.server.cert_pem().expect("TLS").to_string()
}

/// A client of `sim` with `connection`; static keys unless `base` says otherwise, the
/// metadata at `metadata` (default: ecs-sim itself).
fn client(
    sim: &TestSim,
    connection: Connection,
    base: Option<Base>,
    metadata: Option<&str>,
) -> EcsClient {
    let chain = base.map(|base| Chain {
        base,
        assume_role: Vec::new(),
    });
    client_of(sim, chain, connection, metadata)
}

fn env(vars: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn the_ca_is_trusted_through_its_pem_or_only_through_ssl_cert_file() {
    let sim = tls_sim().await;
    let untrusted = client(&sim, Connection::from_env(&|_| None), None, None);
    match untrusted.list_servers_by_ids(&sim.ids()).await {
        Err(ApiError::Certificate { message, .. }) => {
            assert!(message.contains("UnknownIssuer"), "{message}")
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    let pem = Connection {
        trust: Trust::Pem(ca_pem(&sim)),
        ..Connection::from_env(&|_| None)
    };
    client(&sim, pem, None, None)
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("cacert_file");

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, ca_pem(&sim)).expect("write the CA");
    let system = Connection {
        trust: Trust::System {
            cert_file: Some(file),
            cert_dir: Some(dir.path().join("none").display().to_string()),
        },
        ..Connection::from_env(&|_| None)
    };
    client(&sim, system, None, None)
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("SSL_CERT_FILE");
    assert_eq!(
        Trust::from_env(&env(vec![("SSL_CERT_FILE", "/x.pem".into())])),
        Trust::System {
            cert_file: Some(PathBuf::from("/x.pem")),
            cert_dir: None
        }
    );
}

#[tokio::test]
async fn https_proxy_carries_the_api_and_no_proxy_goes_around() {
    let sim = tls_sim().await;
    let proxy = ConnectProxy::start();
    let vars = vec![("HTTPS_PROXY", proxy.url())];
    let connection = Connection {
        trust: Trust::Pem(ca_pem(&sim)),
        proxies: Proxies::from_env(&env(vars.clone())),
        client_identity: None,
    };
    let via_proxy = client(&sim, connection.clone(), None, None);
    via_proxy
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("through the proxy");
    via_proxy
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("through the proxy");
    let host = sim.url.trim_start_matches("https://").to_string();
    assert_eq!(proxy.targets(), vec![host], "one tunnel, kept alive");

    let mut around = vars;
    around.push(("no_proxy", "localhost,127.0.0.1".into()));
    let connection = Connection {
        proxies: Proxies::from_env(&env(around)),
        ..connection
    };
    client(&sim, connection, None, None)
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("direct");
    assert_eq!(proxy.targets().len(), 1, "NO_PROXY went around the proxy");
}

/// With every proxy variable pointing at a dead proxy, the metadata is still read (it never
/// goes through a proxy) and the API call that follows fails naming the proxy.
#[tokio::test]
async fn the_metadata_never_goes_through_the_proxy() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let dead = dead_proxy_url();
    let vars = vec![("HTTP_PROXY", dead.clone()), ("HTTPS_PROXY", dead.clone())];
    let connection = Connection {
        proxies: Proxies::from_env(&env(vars)),
        ..Connection::from_env(&|_| None)
    };
    let c = client(&sim, connection, Some(Base::Metadata), None);
    let e = c
        .list_servers_by_ids(&sim.ids())
        .await
        .expect_err("the proxy is down");
    assert!(
        e.to_string().contains(&format!("through the proxy {dead}")),
        "{e}"
    );
    let counts = sim.sim_admin().credentials().await;
    assert_eq!(counts["metadata_reads_with_token"], 1, "{counts}");
    assert_eq!(
        sim.sim_admin().total_requests().await,
        0,
        "no API call arrived"
    );
}

#[tokio::test]
async fn a_dead_proxy_is_named_in_the_error_with_its_password_masked() {
    let sim = tls_sim().await;
    let dead = dead_proxy_url();
    let with_password = dead.replace("http://", "http://user:proxy-password-1@");
    let connection = Connection {
        trust: Trust::Pem(ca_pem(&sim)),
        proxies: Proxies::from_env(&env(vec![("https_proxy", with_password)])),
        client_identity: None,
    };
    let c = client(&sim, connection, None, None);
    let e = c
        .list_servers_by_ids(&sim.ids())
        .await
        .expect_err("the proxy is down");
    let text = e.to_string();
    let shown = dead.replace("http://", "http://user:***@");
    assert!(
        text.contains(&format!("through the proxy {shown}")),
        "{text}"
    );
    assert!(!text.contains("proxy-password-1"), "{text}");
}

#[tokio::test]
async fn a_client_certificate_is_loaded_and_a_bad_one_refused_without_quoting_the_key() {
    let sim = tls_sim().await;
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["client".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let identity = ClientIdentity {
        cert_pem: cert.pem(),
        key_pem: Secret::new(key.serialize_pem()),
    };
    let connection = Connection {
        trust: Trust::Pem(ca_pem(&sim)),
        client_identity: Some(identity),
        ..Connection::from_env(&|_| None)
    };
    client(&sim, connection.clone(), None, None)
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("mTLS offered");
    let bad = ClientIdentity {
        cert_pem: "not a certificate".into(),
        key_pem: Secret::new("secret-key-material"),
    };
    let mut config = sim.client_config();
    config.endpoints =
        Endpoints::for_region(&config.region, Some(&sim.url), Some(&sim.url)).expect("endpoints");
    let options = ClientOptions {
        connection: Connection {
            client_identity: Some(bad),
            ..connection
        },
        ..Default::default()
    };
    let e = EcsClient::new_with_options(config, options).expect_err("a bad certificate");
    assert!(!e.to_string().contains("secret-key-material"), "{e}");
}
