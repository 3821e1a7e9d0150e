//! ecs-sim's agency calls, temporary keys and instance metadata, requested by hand: what
//! each call checks, the principal its keys act as, and the 401 once they expire.

use serde_json::{json, Value};
use terraform_provider_ecs::api::codes::{AUTH_FAILED, IAM_INVALID_REQUEST, STS_INVALID_REQUEST};
use terraform_provider_ecs::sim::{ROUTE_ASSUME_AGENCY, ROUTE_ASSUME_ROLE};

use crate::support::sim::{fast_knobs, Opts, TestSim};

const V3: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
const V5: &str = "/v5/agencies/assume";

async fn post(sim: &TestSim, path: &str, body: Value, opts: Opts) -> (u16, Value) {
    let bytes = serde_json::to_vec(&body).expect("json");
    let r = sim
        .send("POST", path, &[], Some(&bytes), opts)
        .await
        .expect("answered");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn v3_body(agency: &str, domain: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["assume_role"],
        "assume_role": {"agency_name": agency, "domain_name": domain, "duration_seconds": 900}}}})
}

#[tokio::test]
async fn agency_calls_check_their_requests_and_issue_keys_for_the_assumed_principal() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let (status, v) = post(&sim, V3, v3_body("ops", "acme"), Opts::default()).await;
    assert_eq!(status, 201, "{v}");
    assert!(
        v["credential"]["securitytoken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{v}"
    );
    let bad = json!({"auth": {"identity": {"methods": ["password"]}}});
    let (status, v) = post(&sim, V3, bad, Opts::default()).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some(IAM_INVALID_REQUEST)),
        "{v}"
    );
    let bad = json!({"agency_urn": "ops", "agency_session_name": "ops"});
    let (status, v) = post(&sim, V5, bad, Opts::default()).await;
    assert_eq!(
        (status, v["error_code"].as_str()),
        (400, Some(STS_INVALID_REQUEST)),
        "{v}"
    );

    // Signed with the assumed keys, v5 allows at most an hour.
    let keys = &v3_answer_keys(&sim).await;
    let opts = Opts {
        access_key: Some(keys.0.clone()),
        secret_key: Some(keys.1.clone()),
        token: Some(keys.2.clone()),
        ..Opts::default()
    };
    let urn = |d: u64| json!({"agency_urn": "iam::d-1:agency:audit", "agency_session_name": "audit", "duration_seconds": d});
    let (status, v) = post(&sim, V5, urn(7200), opts.clone()).await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = post(&sim, V5, urn(3600), opts).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["credentials"]["expiration"].as_str().is_some(), "{v}");
    let c = sim.sim_admin().credentials().await;
    assert_eq!(c["issued"]["configured keys > acme/ops"], 2, "{c}");
    assert_eq!(
        c["issued"]["configured keys > acme/ops > d-1/audit"], 1,
        "{c}"
    );
    let admin = sim.sim_admin();
    assert_eq!(admin.count(ROUTE_ASSUME_ROLE, "201").await, 2);
    assert_eq!(admin.count(ROUTE_ASSUME_AGENCY, "200").await, 1);
}

/// Keys of a fresh v3 answer: (access key, secret key, token).
async fn v3_answer_keys(sim: &TestSim) -> (String, String, String) {
    let (status, v) = post(sim, V3, v3_body("ops", "acme"), Opts::default()).await;
    assert_eq!(status, 201, "{v}");
    let c = &v["credential"];
    let text = |k: &str| c[k].as_str().expect("field").to_string();
    (text("access"), text("secret"), text("securitytoken"))
}

#[tokio::test]
async fn temporary_keys_are_refused_once_expired_and_need_their_token() {
    let sim = TestSim::start(1, fast_knobs()).await;
    let keys = v3_answer_keys(&sim).await;
    let path = format!("/v1/{}/cloudservers/detail", crate::support::sim::PROJECT);
    let opts = |token: &str| Opts {
        access_key: Some(keys.0.clone()),
        secret_key: Some(keys.1.clone()),
        token: Some(token.to_string()),
        ..Opts::default()
    };
    let r = sim
        .send("GET", &path, &[("limit", "1")], None, opts(&keys.2))
        .await
        .expect("answer");
    assert_eq!(r.status(), 200);
    let r = sim
        .send(
            "GET",
            &path,
            &[("limit", "1")],
            None,
            opts("some-other-token"),
        )
        .await
        .expect("answer");
    assert_eq!(r.status(), 401);
    sim.sim_admin().expire_credentials().await;
    let r = sim
        .send("GET", &path, &[("limit", "1")], None, opts(&keys.2))
        .await
        .expect("answer");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error_code"], AUTH_FAILED);
    assert!(
        v["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains("expired at"),
        "{v}"
    );
    assert_eq!(sim.sim_admin().credentials().await["expired_refusals"], 1);
}

#[tokio::test]
async fn metadata_serves_keys_with_or_without_a_token_as_the_knob_says() {
    let sim = TestSim::start(0, fast_knobs()).await;
    let url = |p: &str| format!("{}{p}", sim.url);
    let token = sim
        .http
        .put(url("/meta-data/latest/api/token"))
        .send()
        .await
        .expect("put");
    assert_eq!(token.status(), 200);
    let token = token.text().await.expect("token");
    let read = |t: Option<String>| {
        let mut r = sim.http.get(url("/openstack/latest/securitykey"));
        if let Some(t) = t {
            r = r.header("X-Metadata-Token", t);
        }
        r.send()
    };
    let v: Value = read(None).await.expect("read").json().await.expect("json");
    assert!(v["credential"]["access"].as_str().is_some(), "{v}");
    sim.knobs(json!({"metadata_token": "required"})).await;
    assert_eq!(read(None).await.expect("read").status(), 401);
    assert_eq!(
        read(Some("forged".into())).await.expect("read").status(),
        401
    );
    assert_eq!(read(Some(token)).await.expect("read").status(), 200);
    sim.knobs(json!({"metadata_token": "unsupported"})).await;
    let put = sim
        .http
        .put(url("/meta-data/latest/api/token"))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 404);
    assert_eq!(
        sim.sim_admin().total_requests().await,
        0,
        "metadata is not an API route"
    );
}
