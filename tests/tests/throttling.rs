//! peering-acceptor under EC2's request throttling (the emulator's model of the documented
//! token buckets) and near its invocation's deadline, end to end.
use std::time::Duration;

use serde_json::json;
use vpcwarden::domain::LedgerAction;
use vpcwarden::routes::DEADLINE_MARGIN;
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::seed::{self, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, ACCOUNT, REGION};

const BIN: &str = "peering-acceptor";
/// Route tables a side (the main one included).
const TABLES: usize = 10;

/// A granted, pending same-account request between two VPCs of `TABLES` route tables each.
async fn pending_pair(stage: &Stage) -> (SeededVpc, SeededVpc, String) {
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(TABLES - 1).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(TABLES - 1).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    (acc, req, pcx)
}

#[tokio::test]
async fn near_its_deadline_the_acceptor_stops_starting_routes_records_them_and_the_next_invocation_finishes() {
    let stage = Stage::new().await;
    let (acc, req, pcx) = pending_pair(&stage).await;
    // CreateRoute's bucket: 5 at once, then 2 a second. 20 routes need at least 7.5 s.
    stage.emu.throttle(json!({"categories": {"mutating": {"size": 5, "rate": 2}}}));
    let f = stage.function(BIN, &[]);

    // Told it has 2 s more than the margin: it cannot wire the 20 routes in that time.
    let deadline = DEADLINE_MARGIN + Duration::from_secs(2);
    let err = f.invoke_with_deadline(schedule(), deadline, Duration::from_secs(60)).await.unwrap_err();
    assert_eq!(err.error_type, "Retryable.Partial", "{err}\n{}", f.logs());
    assert!(err.error_message.contains("not started: the invocation was near its deadline"), "{err}");
    let wired = seed::routes_through(&stage.aws, &acc, &pcx).await.len()
        + seed::routes_through(&stage.aws, &req, &pcx).await.len();
    assert!(wired < 2 * TABLES, "{wired} routes wired before the deadline");
    let actions = tables::peering_actions(&stage.aws, &pcx).await;
    assert!(
        actions.contains(&LedgerAction::Accepted) && actions.contains(&LedgerAction::RoutesDeferred),
        "{actions:?}"
    );

    // Lambda's retry (or the next sweep), with the whole timeout ahead of it, finishes the job.
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let out = &answer["peerings"][0];
    assert_eq!(out["action"], "reconciled", "{answer:#}");
    assert_eq!(out["routes_added"].as_array().map_or(0, Vec::len), 2 * TABLES - wired);
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    // Each route created once: what was done before the deadline was not done again.
    assert_eq!(stage.calls("CreateRoute"), 2 * TABLES);
    assert_eq!(stage.emu.throttling()["throttled_by_action"]["AcceptVpcPeeringConnection"], json!(null));
}

#[tokio::test]
async fn under_the_documented_buckets_every_route_is_wired_in_one_invocation() {
    let stage = Stage::new().await;
    let (acc, req, pcx) = pending_pair(&stage).await;
    // The documented numbers, with CreateRoute's bucket already spent by another tool.
    stage.emu.throttle(json!({"actions": {"CreateRoute": {"size": 1}}}));
    let f = stage.function(BIN, &[]);
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(answer["peerings"][0]["action"], "accepted", "{answer:#}");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    let throttling = stage.emu.throttling();
    assert!(throttling["throttled_by_action"]["CreateRoute"].as_u64().unwrap_or(0) > 0, "{throttling:#}");
    assert_eq!(stage.calls("CreateRoute"), 2 * TABLES, "each route created once");
}
