//! Credentials and connections end to end: the built provider under both Terraform
//! versions against ecs-sim, each scenario a few applies of one `ecs_batch_start` (a new
//! `release` trigger re-runs it, and every run reads the servers and signs its calls):
//!
//! - a KooCLI profile in `AKSK` and `SSO` mode;
//! - the instance metadata with the token step required, and without one offered;
//! - `assume_role` through IAM v3, through STS v5 (from `HW_ASSUME_ROLE_*`), and a chain;
//! - temporary keys that expire several times during one apply, with zero 401s: ecs-sim
//!   issues keys that live 6 s over an apply of about 20 s (the issue's 60 s over several
//!   minutes, scaled down so that CI stays fast; the refresh rule is relative to the
//!   lifetime, so the scale changes nothing);
//! - `cacert_file`, and a CA trusted only through `SSL_CERT_FILE`;
//! - `HTTPS_PROXY` and `NO_PROXY` with a loopback CONNECT proxy, and a dead proxy named;
//! - no secret from any source (profile, metadata answer and token, assumed keys, client
//!   key) in a `TF_LOG=trace` log, the state or the output.
//!
//! Every provider block points `sts` and `metadata` at ecs-sim: nothing is ever sent to
//! 169.254.169.254.

use serde_json::json;
use terraform_provider_ecs::sim::SimConfig;

use crate::support::proxy::{dead_proxy_url, ConnectProxy};
use crate::support::secrets::{redact, LeakCheck};
use crate::support::sim::Sim;
use crate::support::terraform::*;

on_both_versions!(
    profile_aksk_and_sso,
    metadata_with_and_without_the_token_step,
    assume_role_v3_v5_and_a_chain,
    keys_expiring_during_an_apply_are_refreshed_with_no_401,
    cacert_file_and_a_ca_trusted_only_through_ssl_cert_file,
    https_proxy_no_proxy_and_a_dead_proxy_named,
    no_secret_from_any_source_in_a_trace_log_or_state,
);

/// The provider block: every endpoint at ecs-sim, then `settings`.
fn provider(sim: &Sim, settings: &str) -> String {
    let u = &sim.url;
    provider_hcl(u, &format!("  start_rate_limit = 0\n{settings}")).replace(
        &format!("endpoints = {{ ecs = \"{u}\", iam = \"{u}\" }}"),
        &format!(
            "endpoints = {{ ecs = \"{u}\", iam = \"{u}\", sts = \"{u}\", metadata = \"{u}\" }}"
        ),
    )
}

/// Writes the provider block and the fleet at `release`, and applies.
fn apply(ws: &Workspace, sim: &Sim, settings: &str, release: &str) -> Run {
    let resource = resource_from_file(
        "fleet",
        &format!("  triggers = {{ release = \"{release}\" }}"),
    );
    ws.write("main.tf", &format!("{}{resource}", provider(sim, settings)));
    ws.apply()
}

fn workspace(version: &str, sim: &Sim) -> Workspace {
    let ws = Workspace::new(version, sim, &provider(sim, ""));
    write_ids(&ws, &sim.ids);
    ws
}

/// A workspace whose environment holds no keys.
fn keyless(version: &str, sim: &Sim) -> Workspace {
    let mut ws = workspace(version, sim);
    ws.set_env("HW_ACCESS_KEY", None);
    ws.set_env("HW_SECRET_KEY", None);
    ws
}

/// Signed requests per principal, as ecs-sim counted them.
fn requests_by(sim: &Sim, principal: &str) -> u64 {
    sim.credentials()["requests"][principal]
        .as_u64()
        .unwrap_or(0)
}

fn issued_to(sim: &Sim, principal: &str) -> u64 {
    sim.credentials()["issued"][principal].as_u64().unwrap_or(0)
}

fn koocli_file(sim: &Sim, sso: &(String, String, String)) -> String {
    json!({"current": "default", "profiles": [
        {"name": "default", "mode": "AKSK", "accessKeyId": sim.access_key,
         "secretAccessKey": sim.secret_key, "region": "cn-north-4", "projectId": sim.project_id},
        {"name": "sso", "mode": "SSO", "region": "cn-north-4",
         "ssoAuth": {"stsToken": {"accessKeyId": sso.0, "secretAccessKey": sso.1, "securityToken": sso.2}}}
    ]})
    .to_string()
}

fn profile_aksk_and_sso(version: &str) {
    let sim = Sim::start(3);
    let sso = sim.issue_keys("sso user", 3600);
    let ws = keyless(version, &sim);
    ws.write("config.json", &koocli_file(&sim, &sso));
    let file = ws.path("config.json").display().to_string();
    let run = apply(
        &ws,
        &sim,
        &format!("  shared_config_file = \"{file}\""),
        "aksk",
    );
    assert_eq!(run.code, 0, "the file's current profile (AKSK): {run:?}");
    assert!(
        requests_by(&sim, "configured keys") >= 2,
        "{}",
        sim.credentials()
    );

    let mut ws = ws;
    ws.set_env("HW_SHARED_CONFIG_FILE", Some(&file));
    ws.set_env("HW_PROFILE", Some("sso"));
    let run = apply(&ws, &sim, "", "sso");
    assert_eq!(run.code, 0, "the SSO profile from HW_*: {run:?}");
    assert!(requests_by(&sim, "sso user") >= 1, "{}", sim.credentials());

    ws.set_env("HW_PROFILE", Some("nope"));
    let run = apply(&ws, &sim, "", "missing");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.flat().contains("has no profile \"nope\""), "{run:?}");
}

fn metadata_with_and_without_the_token_step(version: &str) {
    let sim = Sim::start(3);
    let ws = keyless(version, &sim);
    sim.knobs(json!({"metadata_token": "required"}));
    let run = apply(&ws, &sim, "", "required");
    assert_eq!(run.code, 0, "{run:?}");
    let c = sim.credentials();
    assert!(c["metadata_reads_with_token"].as_u64() >= Some(1), "{c}");
    assert_eq!(c["metadata_reads_without_token"], 0, "{c}");

    sim.knobs(json!({"metadata_token": "unsupported"}));
    let run = apply(&ws, &sim, "", "unsupported");
    assert_eq!(run.code, 0, "{run:?}");
    let c = sim.credentials();
    assert!(c["metadata_reads_without_token"].as_u64() >= Some(1), "{c}");
    assert!(requests_by(&sim, "instance agency") >= 4, "{c}");
    assert_eq!(requests_by(&sim, "configured keys"), 0, "{c}");
}

fn assume_role_v3_v5_and_a_chain(version: &str) {
    let sim = Sim::start(3);
    let mut ws = workspace(version, &sim);
    let v3 = "  assume_role {\n    agency_name = \"ops\"\n    domain_name = \"acme\"\n  }";
    let run = apply(&ws, &sim, v3, "v3");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        requests_by(&sim, "configured keys > acme/ops") >= 2,
        "{}",
        sim.credentials()
    );

    ws.set_env("HW_ASSUME_ROLE_AGENCY_NAME", Some("audit"));
    ws.set_env("HW_ASSUME_ROLE_DOMAIN_ID", Some("d-77"));
    ws.set_env("HW_ASSUME_ROLE_DURATION", Some("1800"));
    let run = apply(&ws, &sim, "", "v5");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        requests_by(&sim, "configured keys > d-77/audit") >= 1,
        "{}",
        sim.credentials()
    );

    let chain = format!(
        "{v3}\n  assume_role {{\n    agency_name = \"audit\"\n    domain_id   = \"d-77\"\n  }}"
    );
    let run = apply(&ws, &sim, &chain, "chain");
    assert_eq!(run.code, 0, "{run:?}");
    let top = "configured keys > acme/ops > d-77/audit";
    assert!(requests_by(&sim, top) >= 1, "{}", sim.credentials());
    assert_eq!(issued_to(&sim, top), 1, "{}", sim.credentials());
}

/// Metadata keys and a chain of two agencies, each living 6 s; the servers take 15 to 20 s
/// to start, so the job polls outlive several generations of keys.
fn keys_expiring_during_an_apply_are_refreshed_with_no_401(version: &str) {
    let sim = Sim::start(20);
    sim.knobs(json!({"credential_lifetime_secs": 6, "start_duration_ms": [15000, 20000]}));
    let ws = keyless(version, &sim);
    let chain = "  assume_role {\n    agency_name = \"ops\"\n    domain_name = \"acme\"\n  }\n  assume_role {\n    agency_name = \"audit\"\n    domain_name = \"acme\"\n  }";
    let started = std::time::Instant::now();
    let run = apply(&ws, &sim, chain, "long");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        started.elapsed().as_secs() >= 15,
        "the apply outlived the keys"
    );
    let top = "instance agency > acme/ops > acme/audit";
    let c = sim.credentials();
    assert_eq!(c["expired_refusals"], 0, "{c}");
    assert_eq!(sim.count_all("401"), 0, "zero 401s");
    assert!(issued_to(&sim, top) >= 3, "refreshed during the apply: {c}");
    let api: u64 = [
        "configured keys",
        "instance agency",
        "instance agency > acme/ops",
    ]
    .iter()
    .map(|p| requests_by(&sim, p))
    .sum();
    assert_eq!(
        api,
        issued_to(&sim, top) + issued_to(&sim, "instance agency > acme/ops"),
        "only agency calls are signed below the top: the identity never switched: {c}"
    );
    assert_eq!(sim.stats()["servers"]["ACTIVE"], 20);
}

fn tls_sim(servers: usize) -> Sim {
    Sim::start_with(SimConfig {
        servers,
        tls: true,
        ..SimConfig::default()
    })
}

fn cacert_file_and_a_ca_trusted_only_through_ssl_cert_file(version: &str) {
    let sim = tls_sim(2);
    let mut ws = workspace(version, &sim);
    ws.write("ca.pem", &sim.ca_pem());
    let ca = ws.path("ca.pem").display().to_string();
    let run = apply(&ws, &sim, &format!("  cacert_file = \"{ca}\""), "cacert");
    assert_eq!(run.code, 0, "{run:?}");

    ws.set_env("SSL_CERT_FILE", Some(&ca));
    ws.set_env(
        "SSL_CERT_DIR",
        Some(&ws.path("no-such-dir").display().to_string()),
    );
    let run = apply(&ws, &sim, "", "system");
    assert_eq!(run.code, 0, "trusted through SSL_CERT_FILE: {run:?}");

    ws.set_env("SSL_CERT_FILE", None);
    let run = apply(&ws, &sim, "", "untrusted");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.text().contains("UnknownIssuer"), "{run:?}");
}

fn https_proxy_no_proxy_and_a_dead_proxy_named(version: &str) {
    let sim = tls_sim(2);
    let proxy = ConnectProxy::start();
    let mut ws = workspace(version, &sim);
    ws.write("ca.pem", &sim.ca_pem());
    let ca = format!("  cacert_file = \"{}\"", ws.path("ca.pem").display());
    ws.set_env("HTTPS_PROXY", Some(&proxy.url()));
    let run = apply(&ws, &sim, &ca, "proxied");
    assert_eq!(run.code, 0, "{run:?}");
    let tunnels = proxy.targets().len();
    assert!(tunnels >= 1, "through the proxy");

    ws.set_env("no_proxy", Some("127.0.0.1"));
    let run = apply(&ws, &sim, &ca, "direct");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(proxy.targets().len(), tunnels, "NO_PROXY went around it");

    let dead = dead_proxy_url();
    ws.set_env("no_proxy", None);
    ws.set_env(
        "HTTPS_PROXY",
        Some(&dead.replace("http://", "http://u:proxy-pass-8c1f@")),
    );
    let run = apply(&ws, &sim, &format!("{ca}\n  max_retries = 1"), "dead");
    assert_eq!(run.code, 1, "{run:?}");
    let text = run.flat();
    let shown = dead.replace("http://", "http://u:***@");
    assert!(
        text.contains(&format!("through the proxy {shown}")),
        "{run:?}"
    );
    assert!(
        !text.contains("proxy-pass-8c1f"),
        "the proxy password is masked"
    );
}

/// A profile (SSO keys) with an agency and a client certificate, then the metadata (token
/// step) with a chain, both under TF_LOG=trace: no secret ecs-sim or the files handed out
/// appears in the log, the state or the output.
fn no_secret_from_any_source_in_a_trace_log_or_state(version: &str) {
    // Its own secret key, not the demo key compiled into the binaries.
    let sim = Sim::start_with(SimConfig {
        servers: 2,
        secret_key: terraform_provider_ecs::api::Secret::new("e2e-profile-secret-3b9d1f0c7a"),
        ..SimConfig::default()
    });
    let sso = sim.issue_keys("sso user", 3600);
    let mut ws = keyless(version, &sim);
    // The sources themselves hold secrets: they sit in a folder the scan skips.
    std::fs::create_dir_all(ws.path("sources")).expect("sources");
    ws.write("sources/config.json", &koocli_file(&sim, &sso));
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["client".to_string()]).expect("params");
    ws.write(
        "sources/client.pem",
        &cert.self_signed(&key).expect("cert").pem(),
    );
    ws.write("sources/client.key", &key.serialize_pem());
    ws.set_env("TF_LOG", Some("trace"));
    ws.set_env(
        "TF_LOG_PATH",
        Some(&ws.path("trace-profile.log").display().to_string()),
    );
    let profile = format!(
        "  shared_config_file = \"{}\"\n  profile = \"sso\"\n  cert = \"{}\"\n  key = \"{}\"\n  assume_role {{\n    agency_name = \"ops\"\n    domain_name = \"acme\"\n  }}",
        ws.path("sources/config.json").display(),
        ws.path("sources/client.pem").display(),
        ws.path("sources/client.key").display()
    );
    let mut check = LeakCheck::new();
    let first = apply(&ws, &sim, &profile, "profile");
    check.add("the profile apply's output", first.text());
    ws.set_env(
        "TF_LOG_PATH",
        Some(&ws.path("trace-metadata.log").display().to_string()),
    );
    let chain = "  assume_role {\n    agency_name = \"ops\"\n    domain_name = \"acme\"\n  }\n  assume_role {\n    agency_name = \"audit\"\n    domain_id = \"d-1\"\n  }";
    let second = apply(&ws, &sim, chain, "metadata");
    check.add("the metadata apply's output", second.text());
    check.add_dir("the workspace", ws.dir.path(), &[".terraform", "sources"]);

    let mut secrets: Vec<(String, String)> = sim.issued_secrets();
    secrets.push(("the profile's secret key".into(), sim.secret_key.clone()));
    secrets.push((
        "the client key".into(),
        key.serialize_pem()
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string(),
    ));
    let named: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(first.code, 0, "{}", redact(&format!("{first:?}"), &named));
    assert_eq!(second.code, 0, "{}", redact(&format!("{second:?}"), &named));
    assert!(
        requests_by(&sim, "sso user > acme/ops") >= 1,
        "{}",
        sim.credentials()
    );
    assert!(requests_by(&sim, "instance agency > acme/ops > d-1/audit") >= 1);
    let log = std::fs::read_to_string(ws.path("trace-metadata.log")).expect("trace log");
    assert!(
        log.contains("temporary credentials fetched"),
        "the log is not vacuous"
    );
    assert!(secrets.len() >= 8, "{} secrets", secrets.len());
    // Positive control: the project id (no secret) is found where the debug lines put it.
    let holders = check.found_in(&sim.project_id);
    assert!(
        holders.iter().any(|h| h.ends_with("trace-metadata.log")),
        "{holders:?}"
    );
    check.assert_absent(&named);
}
