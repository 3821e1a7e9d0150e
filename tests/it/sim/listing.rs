//! ecs-sim's listing by filter over HTTP: a generated fleet shaped by the `fleet_*` knobs,
//! the filters with the service's meanings, `count`, marker paging and `limit` bounds, the
//! admin API's server fields, and the crate's client reading every page.

use serde_json::{json, Value};
use terraform_provider_ecs::api::{EcsClient, ServerQuery};
use terraform_provider_ecs::sim::Knobs;

use crate::support::sim::{ecs_code, fast_knobs, TestSim, PROJECT};

/// 12 servers `web-0` … `web-11`: tags by `i mod 3` (env=prod+team=a, env=staging, none),
/// flavors by `i mod 2`, zones by `i mod 4`.
fn shaped() -> Knobs {
    Knobs {
        fleet_name_pattern: "web-{i}".into(),
        fleet_tags: vec!["env=prod+team=a".into(), "env=staging".into(), "-".into()],
        fleet_flavors: vec!["s6.small.1".into(), "c7.large.2".into()],
        fleet_availability_zones: (1..=4).map(|z| format!("cn-north-4{z}")).collect(),
        ..fast_knobs()
    }
}

async fn list(sim: &TestSim, query: &[(&str, &str)]) -> (u16, Value) {
    let path = format!("/v1/{PROJECT}/cloudservers/detail");
    let (status, _, v) = sim.call("GET", &path, query, None).await;
    (status, v)
}

fn names(v: &Value) -> Vec<String> {
    v["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn a_generated_fleet_carries_the_fleet_knobs() {
    let sim = TestSim::start(12, shaped()).await;
    let (status, v) = list(&sim, &[("limit", "1")]).await;
    assert_eq!(status, 200);
    assert_eq!(v["count"], 12);
    let s = &v["servers"][0];
    assert_eq!(s["name"], "web-0");
    assert_eq!(s["tags"], json!(["env=prod", "team=a"]));
    assert_eq!(s["flavor"]["id"], "s6.small.1");
    assert_eq!(s["OS-EXT-AZ:availability_zone"], "cn-north-41");
    assert_eq!(s["enterprise_project_id"], "0");
    assert_eq!(s["addresses"]["ecs-sim-net"][0]["addr"], "10.0.0.1");
    assert_eq!(s["addresses"]["ecs-sim-net"][0]["OS-EXT-IPS:type"], "fixed");
    assert_eq!(s["locked"], false);
}

#[tokio::test]
async fn filters_combine_with_and_and_count_what_matches() {
    let sim = TestSim::start(12, shaped()).await;
    let (_, v) = list(&sim, &[("tags", "env=prod"), ("flavor", "c7.large.2")]).await;
    assert_eq!(names(&v), ["web-3", "web-9"]);
    assert_eq!(v["count"], 2);
    let (_, v) = list(&sim, &[("tags", "env=prod"), ("tags", "team=a")]).await;
    assert_eq!(v["count"], 4);
    let (_, v) = list(
        &sim,
        &[("not-tags", "env=prod"), ("not-tags", "env=staging")],
    )
    .await;
    assert_eq!(names(&v), ["web-2", "web-5", "web-8", "web-11"]);
    let (_, v) = list(&sim, &[("name", "web-1."), ("limit", "100")]).await;
    assert_eq!(names(&v), ["web-10", "web-11"], "`.` is any one character");
    let (_, v) = list(&sim, &[("ip_eq", "10.0.0.1")]).await;
    assert_eq!(names(&v), ["web-0"]);
    let (_, v) = list(&sim, &[("ip", "10.0.0.1")]).await;
    assert_eq!(v["count"], 4, "10.0.0.1, .10, .11, .12");
    let (_, v) = list(&sim, &[("enterprise_project_id", "all_granted_eps")]).await;
    assert_eq!(v["count"], 12);
    let (_, v) = list(&sim, &[("enterprise_project_id", "ep-other")]).await;
    assert_eq!(v["count"], 0);
}

#[tokio::test]
async fn a_status_filter_has_the_services_aliases() {
    let sim = TestSim::start(0, shaped()).await;
    sim.knobs(json!({"reboot_duration_ms": [600000, 600000]}))
        .await;
    sim.sim_admin()
        .set_servers(json!([
            {"id": "5e7e5000-0000-4000-8000-000000000001", "status": "ACTIVE", "name": "a"},
            {"id": "5e7e5000-0000-4000-8000-000000000002", "status": "ACTIVE", "name": "r",
             "task_state": "rebooting"},
            {"id": "5e7e5000-0000-4000-8000-000000000003", "status": "SHUTOFF", "name": "s"},
        ]))
        .await;
    let (_, v) = list(&sim, &[("status", "ACTIVE")]).await;
    assert_eq!(names(&v), ["a", "r"], "ACTIVE also lists REBOOT");
    let (_, v) = list(&sim, &[("status", "REBOOT")]).await;
    assert_eq!(names(&v), ["r"]);
    let (_, v) = list(&sim, &[("status", "SHUTOFF")]).await;
    assert_eq!(names(&v), ["s"]);
}

#[tokio::test]
async fn marker_pages_and_limit_bounds() {
    let sim = TestSim::start(12, shaped()).await;
    let ids = sim.ids();
    let (_, v) = list(&sim, &[("limit", "5"), ("marker", &ids[4])]).await;
    assert_eq!(names(&v), ["web-5", "web-6", "web-7", "web-8", "web-9"]);
    assert_eq!(v["count"], 12, "count is every match, whatever the marker");
    let (_, v) = list(&sim, &[("marker", &ids[11])]).await;
    assert_eq!(v["servers"], json!([]));
    let (status, v) = list(&sim, &[("marker", "5e7e5000-0000-4000-8000-00000000dead")]).await;
    assert_eq!((status, ecs_code(&v)), (400, "Ecs.0005"));
    for bad in ["0", "1001"] {
        let (status, v) = list(&sim, &[("limit", bad), ("tags", "env=prod")]).await;
        assert_eq!((status, ecs_code(&v)), (400, "Ecs.0005"), "limit {bad}");
    }
}

#[tokio::test]
async fn admin_servers_take_names_tags_and_placement() {
    let sim = TestSim::start(0, fast_knobs()).await;
    let id = "5e7e5000-0000-4000-8000-000000000007";
    sim.sim_admin()
        .set_servers(
            json!([{"id": id, "name": "db-1", "tags": {"env": "prod", "tier": "db"},
            "flavor_id": "m6.large.8", "availability_zone": "cn-north-4b",
            "enterprise_project_id": "ep-1", "private_ip": "192.168.7.9", "locked": true}]),
        )
        .await;
    let s = &sim.sim_admin().server(id).await["server"];
    assert_eq!(s["tags"], json!(["env=prod", "tier=db"]));
    assert_eq!(s["flavor"]["id"], "m6.large.8");
    assert_eq!(s["OS-EXT-AZ:availability_zone"], "cn-north-4b");
    assert_eq!(s["enterprise_project_id"], "ep-1");
    assert_eq!(s["addresses"]["ecs-sim-net"][0]["addr"], "192.168.7.9");
    assert_eq!(s["locked"], true);
    let (_, v) = list(
        &sim,
        &[("ip_eq", "192.168.7.9"), ("enterprise_project_id", "ep-1")],
    )
    .await;
    assert_eq!(names(&v), ["db-1"]);
}

#[tokio::test]
async fn the_client_reads_every_page_of_a_filtered_fleet() {
    let sim = TestSim::start(2500, shaped()).await;
    let client = EcsClient::new(sim.client_config()).expect("client");
    let query = ServerQuery {
        tags: vec![("env".into(), "staging".into())],
        ..ServerQuery::default()
    };
    let mut ids = Vec::new();
    let pages = client
        .list_all_servers(&query, |p| ids.extend(p.into_iter().map(|s| s.id)))
        .await
        .expect("lists");
    assert_eq!(ids.len(), 833, "every third server from the second");
    assert_eq!(pages, 1);
    let all = ServerQuery {
        limit: 1000,
        ..ServerQuery::default()
    };
    let mut n = 0;
    let pages = client
        .list_all_servers(&all, |p| n += p.len())
        .await
        .expect("lists");
    assert_eq!((pages, n), (3, 2500));
}
