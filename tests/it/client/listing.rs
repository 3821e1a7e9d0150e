//! Listing by filter through a stub: the wire query of each filter, marker paging until a
//! short page, a page that does not advance, and a body that is not a list.

use serde_json::json;
use terraform_provider_ecs::api::{ApiError, ServerQuery};

use crate::support::stub::*;

fn page(ids: &[&str]) -> Reply {
    let servers: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": id, "status": "SHUTOFF"}))
        .collect();
    Reply::json(200, json!({"count": 5, "servers": servers}))
}

#[tokio::test]
async fn every_page_is_read_after_the_last_id_until_a_short_one() {
    let stub = Stub::sequence(vec![page(&["a", "b"]), page(&["c", "d"]), page(&["e"])]).await;
    let client = client(&stub.url());
    let query = ServerQuery {
        tags: vec![("env".into(), "prod".into())],
        not_tags: vec![("keep".into(), "yes".into())],
        status: Some("SHUTOFF".into()),
        limit: 2,
        ..ServerQuery::default()
    };
    let mut seen_ids = Vec::new();
    let pages = client
        .list_all_servers(&query, |p| seen_ids.extend(p.into_iter().map(|s| s.id)))
        .await
        .expect("lists");
    assert_eq!(pages, 3);
    assert_eq!(seen_ids, ["a", "b", "c", "d", "e"]);
    stub.assert_all_signed();
    let queries: Vec<String> = stub
        .seen()
        .iter()
        .map(|s| s.raw_query.clone().unwrap_or_default())
        .collect();
    let base = "limit=2&not-tags=keep%3Dyes&status=SHUTOFF&tags=env%3Dprod";
    assert_eq!(queries[0], base);
    assert_eq!(queries[1], format!("limit=2&marker=b&{}", &base[8..]));
    assert_eq!(queries[2], format!("limit=2&marker=d&{}", &base[8..]));
    assert!(stub
        .seen()
        .iter()
        .all(|s| s.path == format!("/v1/{PROJECT}/cloudservers/detail")));
}

#[tokio::test]
async fn the_count_ends_the_listing_on_a_full_last_page() {
    // `page` answers count 5: the third page ends it although it is full.
    let stub = Stub::sequence(vec![
        page(&["a", "b"]),
        page(&["c", "d"]),
        page(&["e", "f"]),
    ])
    .await;
    let client = client(&stub.url());
    let query = ServerQuery {
        limit: 2,
        ..ServerQuery::default()
    };
    let pages = client
        .list_all_servers(&query, |_| {})
        .await
        .expect("lists");
    assert_eq!((pages, stub.count()), (3, 3));
}

#[tokio::test]
async fn a_full_last_page_costs_one_empty_page_and_an_empty_fleet_one_call() {
    // A count equal to the page's length is not trusted as the total.
    let page = |ids: &[&str]| {
        let servers: Vec<_> = ids.iter().map(|id| json!({"id": id})).collect();
        Reply::json(200, json!({"count": ids.len(), "servers": servers}))
    };
    let stub = Stub::sequence(vec![page(&["a", "b"]), page(&[]), page(&[])]).await;
    let client = client(&stub.url());
    let query = ServerQuery {
        limit: 2,
        ..ServerQuery::default()
    };
    let mut n = 0;
    let pages = client
        .list_all_servers(&query, |p| n += p.len())
        .await
        .expect("lists");
    assert_eq!((pages, n), (2, 2));
    let pages = client
        .list_all_servers(&query, |p| n += p.len())
        .await
        .expect("lists");
    assert_eq!((pages, n), (1, 2));
}

#[tokio::test]
async fn a_page_that_does_not_advance_is_an_error_not_a_loop() {
    let stub = Stub::start(|_, _| page(&["a", "b"])).await;
    let client = client(&stub.url());
    let query = ServerQuery {
        limit: 2,
        ..ServerQuery::default()
    };
    match client.list_all_servers(&query, |_| {}).await {
        Err(ApiError::InvalidResponse { message, .. }) => {
            assert!(
                message.contains("did not advance past marker b"),
                "{message}"
            )
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn a_body_that_is_not_a_server_list_is_an_invalid_response() {
    let stub = Stub::sequence(vec![Reply::json(200, json!([{"id": "a"}]))]).await;
    let client = client(&stub.url());
    match client.list_servers(&ServerQuery::default(), None).await {
        Err(ApiError::InvalidResponse { message, .. }) => {
            assert!(message.contains("not a server list"), "{message}")
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    let too_many = ServerQuery {
        limit: 1001,
        ..ServerQuery::default()
    };
    assert!(matches!(
        client.list_servers(&too_many, None).await,
        Err(ApiError::InvalidArgument(_))
    ));
    assert_eq!(stub.count(), 1, "an out-of-range limit is not sent");
}
