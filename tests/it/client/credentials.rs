//! Where the client's keys come from, against ecs-sim: the instance metadata (with and
//! without its token step), IAM v3 and STS v5 agencies and a chain of two, keys refreshed
//! before they expire, one renewal after a refusal, and the clear error off ECS.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use terraform_provider_ecs::api::credentials::metadata::NO_CREDENTIALS;
use terraform_provider_ecs::api::credentials::{AssumeRole, Base, Chain};
use terraform_provider_ecs::api::{
    ApiError, ClientConfig, ClientOptions, Connection, Credentials, EcsClient, Endpoints,
};
use terraform_provider_ecs::sim::ROUTE_LIST;

use crate::support::sim::{fast_knobs, TestSim};

/// A client of `sim` with `chain` (`None`: ecs-sim's static keys) and `connection`; IAM,
/// STS and the metadata are ecs-sim too unless `metadata` says where the metadata is.
pub fn client_of(
    sim: &TestSim,
    chain: Option<Chain>,
    connection: Connection,
    metadata: Option<&str>,
) -> EcsClient {
    let mut config = sim.client_config();
    config.endpoints = Endpoints::for_region(&config.region, Some(&sim.url), Some(&sim.url))
        .expect("endpoints")
        .with_overrides(Some(&sim.url), Some(metadata.unwrap_or(&sim.url)))
        .expect("endpoints");
    let options = ClientOptions {
        chain,
        connection,
        ..ClientOptions::default()
    };
    EcsClient::new_with_options(config, options).expect("client")
}

/// A client of `sim` whose keys come from `base` and then `roles`. No proxy, whatever the
/// environment says.
fn chained_client(sim: &TestSim, base: Base, roles: Vec<AssumeRole>) -> EcsClient {
    let chain = Chain {
        base,
        assume_role: roles,
    };
    client_of(sim, Some(chain), Connection::from_env(&|_| None), None)
}

fn sim_keys(sim: &TestSim) -> Base {
    let c = &sim.config;
    Base::Keys(Credentials::new(
        c.access_key.clone(),
        c.secret_key.expose(),
    ))
}

fn agency(name: &str, domain_id: Option<&str>) -> AssumeRole {
    AssumeRole {
        agency_name: name.into(),
        domain_name: Some("acme".into()),
        domain_id: domain_id.map(str::to_string),
        duration: None,
    }
}

fn count(v: &Value, map: &str, principal: &str) -> u64 {
    v[map][principal].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn metadata_keys_with_and_without_the_token_step() {
    for (mode, with_token) in [
        ("optional", true),
        ("required", true),
        ("unsupported", false),
    ] {
        let sim = TestSim::start(2, fast_knobs()).await;
        sim.knobs(json!({"metadata_token": mode})).await;
        let client = chained_client(&sim, Base::Metadata, Vec::new());
        let servers = client.list_servers_by_ids(&sim.ids()).await;
        assert_eq!(servers.expect(mode).len(), 2, "{mode}");
        let c = sim.sim_admin().credentials().await;
        assert_eq!(count(&c, "requests", "instance agency"), 1, "{mode}: {c}");
        let reads = if with_token {
            "metadata_reads_with_token"
        } else {
            "metadata_reads_without_token"
        };
        assert_eq!(c[reads], 1, "{mode}: {c}");
    }
}

#[tokio::test]
async fn off_ecs_the_error_says_there_are_no_credentials_at_once() {
    let sim = TestSim::start(1, fast_knobs()).await;
    // Where no metadata answers: a port nothing listens on.
    let dead = crate::support::proxy::dead_proxy_url();
    let chain = Chain {
        base: Base::Metadata,
        assume_role: Vec::new(),
    };
    let client = client_of(
        &sim,
        Some(chain),
        Connection::from_env(&|_| None),
        Some(&dead),
    );
    let started = Instant::now();
    match client.list_servers_by_ids(&sim.ids()).await {
        Err(e @ ApiError::Credentials(_)) => {
            let text = e.to_string();
            assert!(text.starts_with(NO_CREDENTIALS), "{text}");
            assert!(text.contains(&dead), "{text}");
            assert!(!e.is_transient());
        }
        other => panic!("expected a credentials error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    assert_eq!(
        sim.sim_admin().total_requests().await,
        0,
        "nothing unsigned was sent"
    );
}

#[tokio::test]
async fn agencies_v3_v5_and_a_chain_sign_as_the_assumed_identity() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let cases = [
        (vec![agency("ops", None)], "configured keys > acme/ops"),
        (
            vec![agency("ops", Some("d-77"))],
            "configured keys > d-77/ops",
        ),
        (
            vec![agency("ops", None), agency("audit", Some("d-88"))],
            "configured keys > acme/ops > d-88/audit",
        ),
    ];
    for (roles, principal) in cases {
        let client = chained_client(&sim, sim_keys(&sim), roles);
        client
            .list_servers_by_ids(&sim.ids())
            .await
            .expect(principal);
        let c = sim.sim_admin().credentials().await;
        assert_eq!(count(&c, "requests", principal), 1, "{principal}: {c}");
        assert_eq!(count(&c, "issued", principal), 1, "{principal}: {c}");
    }
}

/// Keys that live 3 s, over 7 s of polling: refreshed several times, never refused, and
/// every request of the chain signed by its top (a refresh re-derives from the base).
#[tokio::test]
async fn short_lived_chain_is_refreshed_before_expiry_without_switching_identity() {
    let sim = TestSim::start(1, fast_knobs()).await;
    sim.knobs(json!({"credential_lifetime_secs": 3})).await;
    let top = "instance agency > acme/ops > acme/audit";
    let client = chained_client(
        &sim,
        Base::Metadata,
        vec![agency("ops", None), agency("audit", None)],
    );
    let until = Instant::now() + Duration::from_secs(7);
    let mut calls = 0;
    while Instant::now() < until {
        client
            .list_servers_by_ids(&sim.ids())
            .await
            .expect("never refused");
        calls += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = sim.sim_admin().credentials().await;
    assert_eq!(c["expired_refusals"], 0, "{c}");
    assert_eq!(count(&c, "requests", top), calls, "{c}");
    assert!(count(&c, "issued", top) >= 3, "refreshed: {c}");
    let api_requests: u64 = c["requests"]
        .as_object()
        .expect("map")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    let agency_calls = api_requests - calls;
    assert_eq!(
        agency_calls,
        count(&c, "issued", top) + count(&c, "issued", "instance agency > acme/ops"),
        "every other signed request is an agency call: {c}"
    );
    assert_eq!(sim.sim_admin().count(ROUTE_LIST, "401").await, 0);
}

/// Keys refused before their announced expiry (revoked): renewed once, the request sent
/// once more, and the caller never sees the 401. Static keys are not renewed.
#[tokio::test]
async fn refused_temporary_keys_are_renewed_once_and_the_request_sent_again() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let client = chained_client(&sim, Base::Metadata, Vec::new());
    client.list_servers_by_ids(&sim.ids()).await.expect("first");
    sim.sim_admin().expire_credentials().await;
    client
        .list_servers_by_ids(&sim.ids())
        .await
        .expect("renewed");
    let admin = sim.sim_admin();
    assert_eq!(admin.count(ROUTE_LIST, "401").await, 1);
    assert_eq!(admin.count(ROUTE_LIST, "200").await, 2);
    let c = admin.credentials().await;
    assert_eq!(count(&c, "issued", "instance agency"), 2, "{c}");
    let stale = EcsClient::new(ClientConfig {
        credentials: Credentials::new("ECSSIMUNKNOWNKEY0000", "nope"),
        ..sim.client_config()
    })
    .expect("client");
    match stale.list_servers_by_ids(&sim.ids()).await {
        Err(e) => assert_eq!(e.status(), Some(401), "{e}"),
        Ok(_) => panic!("unknown keys are refused"),
    }
    assert_eq!(stale.attempts_sent(), 1, "static keys are not renewed");
}
