//! peering-acceptor end to end: the built binary, through the Lambda Runtime API, against the
//! emulator. Each test seeds its own estate in its own emulator.
use std::time::Duration;

use serde_json::Value;
use vpcwarden::domain::{LedgerAction, LedgerKey};
use vpcwarden_tests::events::{cloudtrail_peering, schedule};
use vpcwarden_tests::seed::{self, RouteTargetSpec, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const PEER: &str = "222222222222";
const BIN: &str = "peering-acceptor";

/// Accepter VPC 10.0.0.0/16 with 2 extra route tables (3 in all), in our account.
async fn accepter(stage: &Stage) -> SeededVpc {
    seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await
}

fn outcome(answer: &Value) -> &Value {
    let list = answer["peerings"].as_array().expect("answer lists peerings");
    assert_eq!(list.len(), 1, "one outcome expected: {answer:#}");
    &list[0]
}

/// `AllowDnsResolutionFromRemoteVpc` of (accepter, requester) side of `pcx`.
async fn dns_options(stage: &Stage, pcx: &str) -> (Option<bool>, Option<bool>) {
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    let described = ec2.describe_vpc_peering_connections().vpc_peering_connection_ids(pcx).send().await.unwrap();
    let p = &described.vpc_peering_connections()[0];
    let dns = |info: Option<&aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo>| {
        info.and_then(|i| i.peering_options()).and_then(|o| o.allow_dns_resolution_from_remote_vpc())
    };
    (dns(p.accepter_vpc_info()), dns(p.requester_vpc_info()))
}

async fn ledger_actions(stage: &Stage, pcx: &str) -> Vec<LedgerAction> {
    tables::peering_actions(&stage.aws, pcx).await
}

#[tokio::test]
async fn same_account_request_is_accepted_and_wired_on_both_sides() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(1).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    let f = stage.function(BIN, &[]);
    let answer = f.invoke(cloudtrail_peering("CreateVpcPeeringConnection", &pcx)).await.expect("accepted");
    let out = outcome(&answer);
    assert_eq!(out["action"], "accepted", "{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "active");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    assert_eq!(out["routes_added"].as_array().unwrap().len(), 3 + 2);
    assert_eq!(ledger_actions(&stage, &pcx).await, [LedgerAction::Accepted, LedgerAction::RoutesAdded]);
}

#[tokio::test]
async fn cross_account_request_is_found_by_the_sweep_and_requester_side_needs_the_role() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.secondary("100.64.0.0/20").create().await;
    tables::put_peering_grant(&stage.aws, None, PEER, &["10.0.0.0/8", "100.64.0.0/10"], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    // Without REQUESTER_ROLE_NAME only the accepter side is ours to wire.
    let f = stage.function(BIN, &[]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    assert_eq!(
        seed::routes_through(&stage.aws, &acc, &pcx).await,
        seed::every_table(&acc, &["10.1.0.0/16", "100.64.0.0/20"])
    );
    assert!(seed::routes_through(&stage.aws, &req, &pcx).await.is_empty());

    // With the role, the next sweep completes the requester side.
    let f = stage.function(BIN, &[("REQUESTER_ROLE_NAME", "vpcwarden-member")]);
    let answer = f.invoke(schedule()).await.expect("sweep with role");
    let out = outcome(&answer);
    assert_eq!(out["action"], "reconciled", "{answer:#}");
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    let sts_calls: Vec<_> = stage
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.service == "sts" && r.action == "AssumeRole" && r.account == ACCOUNT)
        .collect();
    assert!(!sts_calls.is_empty(), "the requester side is reached through AssumeRole");
}

#[tokio::test]
async fn cross_account_dns_option_is_set_on_the_requester_side_through_the_role() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), PEER, &[], None, Some(true)).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    let f = stage.function(BIN, &[("REQUESTER_ROLE_NAME", "vpcwarden-member")]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    assert_eq!(dns_options(&stage, &pcx).await, (Some(true), Some(true)), "requester side set through the role");
    let modified_as_member =
        stage.emu.requests().into_iter().any(|r| r.action == "ModifyVpcPeeringConnectionOptions" && r.account == PEER);
    assert!(modified_as_member, "the requester side is modified with the member role's credentials");
}

#[tokio::test]
async fn cross_region_request_is_accepted_in_the_accepter_region() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, "us-west-2", "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, "us-west-2", &pcx).await, "active");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
}

#[tokio::test]
async fn refusals_are_ignored_or_rejected_and_ledgered_once() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    // Unlisted: no grant at all.
    let unlisted = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    let pcx_unlisted = seed::request_peering(&stage.aws, &unlisted, &acc).await;
    // Expired grant.
    let expired = seed::vpc(&stage.aws, "333333333333", REGION, "10.2.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), "333333333333", &[], Some(1_000_000_000), None).await;
    let pcx_expired = seed::request_peering(&stage.aws, &expired, &acc).await;
    // Granted, but its CIDR is already routed elsewhere in the accepter VPC (would capture traffic).
    let routed = seed::vpc(&stage.aws, "444444444444", REGION, "10.3.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, None, "444444444444", &[], None, None).await;
    seed::add_route(&stage.aws, &acc, acc.main_table(), "10.3.4.0/24", RouteTargetSpec::TransitGateway).await;
    let pcx_routed = seed::request_peering(&stage.aws, &routed, &acc).await;

    let f = stage.function(BIN, &[]);
    for _ in 0..2 {
        let answer = f.invoke(schedule()).await.expect("sweep");
        let list = answer["peerings"].as_array().unwrap();
        assert_eq!(list.len(), 3, "{answer:#}");
        assert!(list.iter().all(|o| o["action"] == "ignored"), "{answer:#}");
    }
    for (pcx, reason) in
        [(&pcx_unlisted, "no peering grant"), (&pcx_expired, "expired"), (&pcx_routed, "already routed in")]
    {
        assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, pcx).await, "pending-acceptance");
        let entries = tables::ledger_entries(&stage.aws, &LedgerKey::Peering(pcx.to_string()).to_string()).await;
        assert_eq!(entries.len(), 1, "one record per change of mind, not per sweep: {entries:#?}");
        assert!(entries[0]["reason"].as_str().unwrap().contains(reason), "{entries:#?}");
    }

    let f = stage.function(BIN, &[("UNLISTED_ACTION", "reject")]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    assert!(answer["peerings"].as_array().unwrap().iter().all(|o| o["action"] == "rejected"), "{answer:#}");
    for pcx in [&pcx_unlisted, &pcx_expired, &pcx_routed] {
        assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, pcx).await, "rejected");
        assert_eq!(ledger_actions(&stage, pcx).await, [LedgerAction::Ignored, LedgerAction::Rejected]);
    }
}

#[tokio::test]
async fn a_cidr_outside_the_grant_is_refused() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.secondary("172.20.0.0/20").create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), PEER, &["10.1.0.0/16"], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    let out = outcome(&answer);
    assert_eq!(out["action"], "ignored");
    assert!(
        out["reason"].as_str().unwrap().contains("172.20.0.0/20 is outside the grant's allowed_cidrs"),
        "{answer:#}"
    );
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "pending-acceptance");
}

#[tokio::test]
async fn conflicts_are_reported_and_never_overwritten() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    // The requester already sends the accepter's CIDR to a transit gateway.
    let tgw = seed::add_route(&stage.aws, &req, req.main_table(), "10.0.0.0/16", RouteTargetSpec::TransitGateway).await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    let answer = stage
        .function(BIN, &[])
        .invoke(cloudtrail_peering("CreateVpcPeeringConnection", &pcx))
        .await
        .expect("accepted");
    let out = outcome(&answer);
    assert_eq!(out["action"], "accepted");
    assert_eq!(out["conflicts"][0]["existing_target"], tgw.as_str(), "{answer:#}");
    assert_eq!(out["conflicts"][0]["side"], "requester");
    let req_routes = seed::routes(&stage.aws, &req).await;
    assert!(req_routes.iter().any(|(t, d, target, _)| t == req.main_table() && d == "10.0.0.0/16" && target == &tgw));
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert!(ledger_actions(&stage, &pcx).await.contains(&LedgerAction::RouteConflict));
}

#[tokio::test]
async fn replayed_and_concurrent_events_end_in_the_same_state_without_errors() {
    let stage = Stage::new().await;
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(6).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(6).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let event = cloudtrail_peering("CreateVpcPeeringConnection", &pcx);

    // Two instances at once (Lambda scales out), then the same event again.
    let (a, b) = (stage.function(BIN, &[]), stage.function(BIN, &[]));
    let (ra, rb) = tokio::join!(a.invoke(event.clone()), b.invoke(event.clone()));
    let (ra, rb) = (ra.expect("first instance"), rb.expect("second instance"));
    let replay = a.invoke(event).await.expect("replay");
    assert_eq!(outcome(&replay)["action"], "reconciled");
    assert!(outcome(&replay).get("routes_added").is_none(), "{replay:#}");

    let added = |v: &Value| outcome(v)["routes_added"].as_array().map_or(0, Vec::len);
    assert_eq!(added(&ra) + added(&rb), 7 + 7, "each route created exactly once: {ra:#} {rb:#}");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
    let actions = ledger_actions(&stage, &pcx).await;
    assert_eq!(actions.iter().filter(|a| **a == LedgerAction::Accepted).count(), 1, "{actions:?}");
}

#[tokio::test]
async fn deletion_removes_the_routes_it_created_on_both_sides() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let f = stage.function(BIN, &[]);
    f.invoke(cloudtrail_peering("CreateVpcPeeringConnection", &pcx)).await.expect("accepted");
    // A route the user added through the same pcx to another destination stays.
    seed::add_route(&stage.aws, &acc, acc.main_table(), "192.168.50.0/24", RouteTargetSpec::Pcx(pcx.clone())).await;

    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    ec2.delete_vpc_peering_connection().vpc_peering_connection_id(&pcx).send().await.expect("delete");
    let answer = f.invoke(cloudtrail_peering("DeleteVpcPeeringConnection", &pcx)).await.expect("cleanup");
    let out = outcome(&answer);
    assert_eq!(out["action"], "cleaned-up", "{answer:#}");
    assert_eq!(out["routes_removed"].as_array().unwrap().len(), 3 + 1);
    assert_eq!(
        seed::routes_through(&stage.aws, &acc, &pcx).await,
        vec![(acc.main_table().to_string(), "192.168.50.0/24".to_string())]
    );
    assert!(seed::routes_through(&stage.aws, &req, &pcx).await.is_empty());
    assert!(ledger_actions(&stage, &pcx).await.contains(&LedgerAction::RoutesRemoved));

    // The replayed delete event, and the sweep that sees it deleted, find nothing left to do.
    let again = f.invoke(cloudtrail_peering("DeleteVpcPeeringConnection", &pcx)).await.expect("replay");
    assert!(outcome(&again).get("routes_removed").is_none(), "{again:#}");
    let sweep = f.invoke(schedule()).await.expect("sweep");
    assert!(sweep["peerings"].as_array().unwrap().is_empty(), "{sweep:#}");
}

#[tokio::test]
async fn the_sweep_repairs_a_crash_between_accept_and_routing() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    // What an invocation that died right after AcceptVpcPeeringConnection leaves behind.
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    ec2.create_tags()
        .resources(&pcx)
        .tags(aws_sdk_ec2::types::Tag::builder().key("vpcwarden:managed").value("true").build())
        .send()
        .await
        .unwrap();
    ec2.accept_vpc_peering_connection().vpc_peering_connection_id(&pcx).send().await.unwrap();
    seed::add_route(&stage.aws, &acc, acc.main_table(), "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;

    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    let out = outcome(&answer);
    assert_eq!(out["action"], "reconciled", "{answer:#}");
    assert_eq!(out["routes_added"].as_array().unwrap().len(), 2 + 1);
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]));
}

#[tokio::test]
async fn dry_run_decides_and_records_but_changes_nothing() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let before = (seed::routes(&stage.aws, &acc).await, seed::routes(&stage.aws, &req).await);

    let answer = stage.function(BIN, &[("DRY_RUN", "true")]).invoke(schedule()).await.expect("dry run");
    let out = outcome(&answer);
    assert_eq!(answer["dry_run"], true);
    assert_eq!(out["action"], "accepted");
    assert_eq!(out["planned"].as_array().unwrap().len(), 3 + 1, "{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "pending-acceptance");
    assert_eq!((seed::routes(&stage.aws, &acc).await, seed::routes(&stage.aws, &req).await), before);
    let entries = tables::ledger_entries(&stage.aws, &LedgerKey::Peering(pcx.to_string()).to_string()).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["dry_run"], true);
}

#[tokio::test]
async fn route_table_tag_and_dns_option_are_honoured() {
    let stage = Stage::new().await;
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16")
        .await
        .route_tables(1)
        .tagged_tables(2, "peering", "yes")
        .create()
        .await;
    let req =
        seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.tagged_tables(1, "peering", "yes").create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, Some(true)).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;

    let answer = stage.function(BIN, &[("ROUTE_TABLE_TAG", "peering=yes")]).invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    let tagged = |v: &SeededVpc| {
        let mut t = v.route_tables[v.route_tables.len() - 2..].to_vec();
        t.sort();
        t
    };
    let acc_tables: Vec<String> =
        seed::routes_through(&stage.aws, &acc, &pcx).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(acc_tables, tagged(&acc));
    let req_tables: Vec<String> =
        seed::routes_through(&stage.aws, &req, &pcx).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(req_tables, req.route_tables[req.route_tables.len() - 1..].to_vec());

    assert_eq!(dns_options(&stage, &pcx).await, (Some(true), Some(true)));
}

#[tokio::test]
async fn an_unreadable_allowlist_accepts_nothing_and_answers_a_retryable_error() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    stage.emu.add_fault(
        serde_json::json!({"service": "dynamodb", "action": "BatchGetItem", "error": "ThrottlingException"}),
    );

    let err = stage.function(BIN, &[]).invoke(schedule()).await.expect_err("fails closed");
    assert!(err.error_type.starts_with("Retryable."), "{err}");
    assert!(err.error_message.contains("BatchGetItem"), "{err}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "pending-acceptance");
    assert!(seed::routes_through(&stage.aws, &acc, &pcx).await.is_empty());

    stage.emu.clear_faults();
    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("recovers");
    assert_eq!(outcome(&answer)["action"], "accepted");
}

#[tokio::test]
async fn malformed_events_get_clear_errors_and_the_process_keeps_serving() {
    let stage = Stage::new().await;
    let f = stage.function(BIN, &[]);
    let before = stage.emu.requests().len();
    for (event, expected) in [
        (serde_json::json!({"hello": "world"}), "not an EventBridge event"),
        (serde_json::json!([1, 2, 3]), "not an EventBridge event"),
        (cloudtrail_peering("DeleteVpcPeeringConnection", "pcx-nothex!"), "is not a peering connection id"),
    ] {
        let err = f.invoke(event).await.expect_err("malformed");
        assert_eq!(err.error_type, "NonRetryable.BadEvent", "{err}");
        assert!(err.error_message.contains(expected), "{err}");
    }
    assert_eq!(stage.emu.requests().len(), before, "nothing is read or changed for a malformed event");
    let answer = f.invoke(schedule()).await.expect("still serving");
    assert_eq!(answer["trigger"], "sweep");
}

#[tokio::test]
async fn missing_or_malformed_configuration_fails_at_start_naming_the_variable() {
    let stage = Stage::new().await;
    let mut env = stage.env(&[("UNLISTED_ACTION", "drop")]);
    env.retain(|(k, _)| k != "LEDGER_TABLE");
    let mut f = Function::spawn(&vpcwarden_tests::bin_path(BIN), &env);
    assert!(f.wait_exit(Duration::from_secs(20)).is_some_and(|s| !s.success()), "exits non-zero");
    assert!(f.logs().contains("LEDGER_TABLE is required but not set"), "{}", f.logs());

    let mut f = stage.function(BIN, &[("UNLISTED_ACTION", "drop")]);
    assert!(f.wait_exit(Duration::from_secs(20)).is_some_and(|s| !s.success()));
    assert!(f.logs().contains("UNLISTED_ACTION"), "{}", f.logs());
}

#[tokio::test]
async fn two_pending_requests_for_the_same_cidr_never_both_win_one_sweep() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let first = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    let second = seed::vpc(&stage.aws, "333333333333", REGION, "10.1.0.0/16").await.create().await;
    for account in [PEER, "333333333333"] {
        tables::put_peering_grant(&stage.aws, Some(&acc.id), account, &[], None, None).await;
    }
    let pcx_first = seed::request_peering(&stage.aws, &first, &acc).await;
    let pcx_second = seed::request_peering(&stage.aws, &second, &acc).await;

    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    let mut actions: Vec<String> =
        answer["peerings"].as_array().unwrap().iter().map(|o| o["action"].as_str().unwrap().to_string()).collect();
    actions.sort();
    assert_eq!(actions, ["accepted", "ignored"], "{answer:#}");
    let statuses = [
        seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx_first).await,
        seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx_second).await,
    ];
    assert_eq!(statuses.iter().filter(|s| *s == "active").count(), 1, "{statuses:?}");
    let ignored = answer["peerings"].as_array().unwrap().iter().find(|o| o["action"] == "ignored").unwrap();
    assert!(ignored["reason"].as_str().unwrap().contains("is already routed in"), "{answer:#}");
}

#[tokio::test]
async fn ipv6_blocks_are_checked_and_routed_on_both_sides() {
    let stage = Stage::new().await;
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.ipv6().create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.ipv6().create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    // The emulator may spell a block with leading zeros; routes carry the canonical form.
    let canonical = |cidr: &str| {
        let (addr, len) = cidr.split_once('/').expect("a CIDR");
        format!("{}/{len}", addr.parse::<std::net::Ipv6Addr>().expect("an IPv6 address"))
    };
    let (acc_v6, req_v6) = (canonical(&acc.cidrs[1]), canonical(&req.cidrs[1]));
    assert!(acc_v6.contains(':') && req_v6.contains(':'), "{acc:?} {req:?}");

    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16", &req_v6]));
    assert_eq!(seed::routes_through(&stage.aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16", &acc_v6]));
}

#[tokio::test]
async fn a_sweep_works_against_unmodified_moto() {
    let stage = Stage::unmodified().await;
    let acc = accepter(&stage).await;
    let req = seed::vpc(&stage.aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), PEER, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let answer = stage.function(BIN, &[]).invoke(schedule()).await.expect("sweep");
    assert_eq!(outcome(&answer)["action"], "accepted", "{answer:#}");
    assert_eq!(seed::routes_through(&stage.aws, &acc, &pcx).await, seed::every_table(&acc, &["10.1.0.0/16"]));
}
