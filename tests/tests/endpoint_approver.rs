//! endpoint-approver end to end: the built binary, through the Lambda Runtime API, against the
//! extended emulator (endpoint connections honouring AcceptanceRequired). Each test seeds its own
//! PrivateLink estate in its own emulator: our account owns NLB-backed services, consumers in
//! other accounts create endpoints to them.
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use vpcwarden::domain::{Grant, LedgerAction, LedgerKey};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::privatelink::{
    self, allowed_principals, connection_states, endpoint_grant, grant_record, principal, sns_event,
    sns_event_with_message, stream_event, Consumer, Service,
};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function};

const BIN: &str = "endpoint-approver";
const VENDOR: &str = "210987654321";
const STRANGER: &str = "333333333333";
const OTHER: &str = "444444444444";

/// A stage with one healthy NLB and `n` services that allow `allowed` accounts.
async fn estate(n: usize, allowed: &[&str]) -> (Stage, Vec<Service>) {
    let stage = Stage::new().await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let principals: Vec<String> = allowed.iter().map(|a| principal(a)).collect();
    let mut services = Vec::new();
    for _ in 0..n {
        services.push(privatelink::service(&stage.aws, &provider, &principals).await);
    }
    (stage, services)
}

async fn consumer(stage: &Stage, account: &str) -> Consumer {
    privatelink::consumer(&stage.aws, account, "10.1.0.0/16").await
}

async fn grant(stage: &Stage, service: &Service, account: &str, max: Option<u32>, expires_at: Option<i64>) {
    let g = endpoint_grant(&service.id, account, max, expires_at);
    vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST)
        .put(&g)
        .await
        .expect("grant written");
}

async fn state(stage: &Stage, service: &Service, endpoint: &str) -> String {
    connection_states(&stage.aws, &service.id).await.get(endpoint).cloned().unwrap_or_else(|| "absent".into())
}

fn service_answer<'a>(answer: &'a Value, service: &Service) -> &'a Value {
    answer["services"]
        .as_array()
        .and_then(|list| list.iter().find(|s| s["service_id"] == service.id.as_str()))
        .unwrap_or_else(|| panic!("no answer for {}: {answer:#}", service.id))
}

fn ids(v: &Value) -> Vec<String> {
    let mut list: Vec<String> =
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect();
    list.sort();
    list
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

async fn ledger_actions(stage: &Stage, endpoint: &str) -> Vec<LedgerAction> {
    tables::endpoint_actions(&stage.aws, endpoint).await
}

fn approver(stage: &Stage, extra: &[(&str, &str)]) -> Function {
    stage.function(BIN, extra)
}

#[tokio::test]
async fn a_listed_vendor_is_accepted_on_the_sns_notification() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, None, None).await;
    let vendor = consumer(&stage, VENDOR).await;
    let endpoint = vendor.connect(svc).await;
    assert_eq!(state(&stage, svc, &endpoint).await, "pendingAcceptance");

    let f = approver(&stage, &[]);
    let answer = f
        .invoke(sns_event("Connect", &svc.id, &endpoint, VENDOR, "pendingAcceptance"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(state(&stage, svc, &endpoint).await, "available");
    let s = service_answer(&answer, svc);
    assert_eq!(ids(&s["accepted"]), vec![endpoint.clone()], "{answer:#}");
    assert_eq!(s["connections"][0]["reason"]["code"], "granted");
    assert_eq!(s["connections"][0]["outcome"]["outcome"], "done");
    assert!(s.get("warnings").is_none(), "a healthy service warns of nothing: {answer:#}");
    assert_eq!(answer["trigger"], "notification");
    assert_eq!(ledger_actions(&stage, &endpoint).await, [LedgerAction::Accepted]);
    // The consumer sees it too.
    let seen = vendor.ec2.describe_vpc_endpoints().vpc_endpoint_ids(&endpoint).send().await.unwrap();
    assert_eq!(seen.vpc_endpoints()[0].state().map(|s| s.as_str().to_ascii_lowercase()), Some("available".into()));
}

/// A ledger an older version wrote (`ignore`, not `ignored`) reads as the same decision: the
/// sweep that meets the same unlisted connection again adds no record.
#[tokio::test]
async fn a_ledger_written_under_older_action_names_is_still_understood() {
    let (stage, services) = estate(1, &[STRANGER]).await;
    let svc = &services[0];
    let endpoint = consumer(&stage, STRANGER).await.connect(svc).await;
    let key = LedgerKey::Endpoint(endpoint.clone());
    let reason = "no endpoint grant for this account and service";
    tables::put_ledger_record(&stage.aws, &key, "ignore", reason, "endpoint-approver").await;

    let answer = approver(&stage, &[]).invoke(schedule()).await.expect("sweep");
    assert_eq!(ids(&service_answer(&answer, svc)["pending"]), vec![endpoint.clone()], "{answer:#}");
    assert_eq!(ledger_actions(&stage, &endpoint).await, [LedgerAction::Ignored], "no second record");
}

#[tokio::test]
async fn an_unlisted_vendor_stays_pending_or_is_rejected() {
    let (stage, services) = estate(1, &[STRANGER]).await;
    let svc = &services[0];
    let stranger = consumer(&stage, STRANGER).await;
    let endpoint = stranger.connect(svc).await;
    let event = sns_event("Connect", &svc.id, &endpoint, STRANGER, "pendingAcceptance");

    let answer = approver(&stage, &[]).invoke(event.clone()).await.expect("ignore");
    assert_eq!(state(&stage, svc, &endpoint).await, "pendingAcceptance");
    let s = service_answer(&answer, svc);
    assert_eq!(ids(&s["pending"]), vec![endpoint.clone()]);
    assert_eq!(s["connections"][0]["reason"]["code"], "no-grant");
    assert_eq!(stage.calls("AcceptVpcEndpointConnections") + stage.calls("RejectVpcEndpointConnections"), 0);

    let answer = approver(&stage, &[("UNLISTED_ACTION", "reject")]).invoke(event).await.expect("reject");
    assert_eq!(state(&stage, svc, &endpoint).await, "rejected");
    assert_eq!(ids(&service_answer(&answer, svc)["rejected"]), vec![endpoint.clone()]);
    assert_eq!(ledger_actions(&stage, &endpoint).await, [LedgerAction::Ignored, LedgerAction::Rejected]);
}

#[tokio::test]
async fn a_grant_added_later_approves_the_waiting_connection_from_the_stream() {
    let (stage, services) = estate(1, &[VENDOR, STRANGER]).await;
    let svc = &services[0];
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;
    let strangers = consumer(&stage, STRANGER).await.connect(svc).await;
    let f = approver(&stage, &[("UNLISTED_ACTION", "reject")]);

    // Nothing granted yet, and the stranger's pending connection is left to the sweep.
    grant(&stage, svc, VENDOR, None, None).await;
    let g = endpoint_grant(&svc.id, VENDOR, None, None);
    let answer = f.invoke(stream_event(vec![grant_record("INSERT", &g, false)])).await.expect("stream");
    assert_eq!(answer["trigger"], "allowlist-stream");
    assert_eq!(state(&stage, svc, &endpoint).await, "available");
    assert_eq!(state(&stage, svc, &strangers).await, "pendingAcceptance", "only the granted account is looked at");
    assert_eq!(ids(&service_answer(&answer, svc)["accepted"]), vec![endpoint.clone()]);

    // A MODIFY replayed later changes nothing.
    let before = stage.calls("AcceptVpcEndpointConnections");
    f.invoke(stream_event(vec![grant_record("MODIFY", &g, false)])).await.expect("replay");
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), before);
    assert_eq!(ledger_actions(&stage, &endpoint).await, [LedgerAction::Accepted]);
}

#[tokio::test]
async fn a_removed_or_expired_grant_revokes_only_when_configured() {
    let (stage, services) = estate(1, &[VENDOR, OTHER, STRANGER]).await;
    let svc = &services[0];
    let now = vpcwarden_now();
    grant(&stage, svc, VENDOR, None, None).await;
    grant(&stage, svc, OTHER, None, None).await;
    grant(&stage, svc, STRANGER, None, Some(now + 3)).await;
    let vendors = consumer(&stage, VENDOR).await.connect(svc).await;
    let others = consumer(&stage, OTHER).await.connect(svc).await;
    let strangers = consumer(&stage, STRANGER).await.connect(svc).await;
    approver(&stage, &[]).invoke(schedule()).await.expect("sweep");
    for e in [&vendors, &others, &strangers] {
        assert_eq!(state(&stage, svc, e).await, "available");
    }

    // A person deletes VENDOR's grant; DynamoDB's TTL deletes OTHER's.
    let vendor_grant = endpoint_grant(&svc.id, VENDOR, None, None);
    let other_grant = endpoint_grant(&svc.id, OTHER, None, None);
    for g in [&vendor_grant, &other_grant] {
        let Grant::Endpoint(e) = g else { unreachable!() };
        tables::delete_item(
            &stage.aws,
            tables::ALLOWLIST,
            &format!("endpoint#{}", e.service_id),
            &format!("account#{}", e.account),
        )
        .await;
    }
    let removals =
        stream_event(vec![grant_record("REMOVE", &vendor_grant, false), grant_record("REMOVE", &other_grant, true)]);

    let answer = approver(&stage, &[]).invoke(removals.clone()).await.expect("not configured");
    assert_eq!(state(&stage, svc, &vendors).await, "available", "REVOKE_ON_REMOVAL defaults to false");
    let reasons: Vec<&Value> =
        service_answer(&answer, svc)["connections"].as_array().unwrap().iter().map(|c| &c["reason"]["code"]).collect();
    assert_eq!(reasons, vec!["grant-removed", "grant-removed"], "{answer:#}");

    let revoking = approver(&stage, &[("REVOKE_ON_REMOVAL", "true")]);
    let answer = revoking.invoke(removals).await.expect("revoke");
    assert_eq!(state(&stage, svc, &vendors).await, "rejected");
    assert_eq!(state(&stage, svc, &others).await, "rejected");
    assert_eq!(state(&stage, svc, &strangers).await, "available", "STRANGER's grant is still live");
    assert_eq!(ids(&service_answer(&answer, svc)["rejected"]), sorted(vec![vendors.clone(), others.clone()]));
    let entries = tables::ledger_entries(&stage.aws, &LedgerKey::Endpoint(others.to_string()).to_string()).await;
    let revoke = entries.iter().find(|e| e["action"] == LedgerAction::Rejected.as_str()).expect("revocation recorded");
    assert_eq!(revoke["details"]["grant_expired_by_ttl"], true);

    // STRANGER's grant expires but TTL has not deleted it yet: the sweep revokes it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    revoking.invoke(schedule()).await.expect("sweep");
    assert_eq!(state(&stage, svc, &strangers).await, "rejected");
    assert_eq!(ledger_actions(&stage, &strangers).await, [LedgerAction::Accepted, LedgerAction::Rejected]);
}

fn vpcwarden_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn max_endpoints_is_enforced_oldest_first() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, Some(2), None).await;
    let vendor = consumer(&stage, VENDOR).await;
    let mut endpoints = Vec::new();
    for _ in 0..3 {
        endpoints.push(vendor.connect(svc).await);
        tokio::time::sleep(Duration::from_millis(1100)).await; // distinct creation times
    }
    let f = approver(&stage, &[]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    let states: Vec<String> = futures_states(&stage, svc, &endpoints).await;
    assert_eq!(states, vec!["available", "available", "pendingAcceptance"], "{answer:#}");
    let s = service_answer(&answer, svc);
    let third =
        s["connections"].as_array().unwrap().iter().find(|c| c["endpoint_id"] == endpoints[2].as_str()).unwrap();
    assert_eq!(third["reason"], json!({"code": "over-quota", "max_endpoints": 2, "in_use": 2}));

    // Freeing a slot lets the next sweep accept the waiting one.
    vendor.delete(&endpoints[0]).await;
    f.invoke(schedule()).await.expect("sweep");
    assert_eq!(futures_states(&stage, svc, &endpoints).await, vec!["deleted", "available", "available"]);
}

async fn futures_states(stage: &Stage, svc: &Service, endpoints: &[String]) -> Vec<String> {
    let all = connection_states(&stage.aws, &svc.id).await;
    endpoints.iter().map(|e| all.get(e).cloned().unwrap_or_else(|| "absent".into())).collect()
}

#[tokio::test]
async fn fifty_pending_across_five_accounts_are_accepted_in_one_call_per_service() {
    let accounts = ["210987654321", "222222222222", "333333333333", "444444444444", "555555555555"];
    let (stage, services) = estate(2, &accounts).await;
    let mut consumers = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        consumers.push(privatelink::consumer(&stage.aws, a, &format!("10.{}.0.0/16", i + 1)).await);
        for svc in &services {
            grant(&stage, svc, a, None, None).await;
        }
    }
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in 0..50 {
        let svc = &services[i % 2];
        let endpoint = consumers[i % 5].connect(svc).await;
        expected.entry(svc.id.clone()).or_default().push(endpoint);
    }
    stage.emu.clear_requests();
    let answer = approver(&stage, &[]).invoke(schedule()).await.expect("sweep");
    let log = stage.emu.requests();
    let count = |action: &str| log.iter().filter(|r| r.action == action).count();
    assert_eq!(count("AcceptVpcEndpointConnections"), 2, "one Accept call per service");
    assert_eq!(count("RejectVpcEndpointConnections"), 0);
    assert_eq!(count("DescribeVpcEndpointConnections"), 2, "one read and one read-back for both services");
    for svc in &services {
        let states = connection_states(&stage.aws, &svc.id).await;
        assert_eq!(states.len(), 25);
        assert!(states.values().all(|s| s == "available"), "{states:?}");
        assert_eq!(ids(&service_answer(&answer, svc)["accepted"]), sorted(expected[&svc.id].clone()));
    }
}

#[tokio::test]
async fn unsuccessful_items_are_surfaced_and_judged_by_the_state_read_back() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, None, None).await;
    let vendor = consumer(&stage, VENDOR).await;
    let kept = vendor.connect(svc).await;
    let gone = vendor.connect(svc).await;
    // The Accept call is held back while the consumer deletes one endpoint.
    stage.emu.add_fault(
        json!({"service": "ec2", "action": "AcceptVpcEndpointConnections", "error": null, "delay_ms": 1500}),
    );
    let f = approver(&stage, &[]);
    let (answer, ()) = tokio::join!(f.invoke(schedule()), async {
        for _ in 0..200 {
            if stage.emu.faults()["rules"][0]["matched"].as_u64().unwrap_or(0) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        vendor.delete(&gone).await;
    });
    let answer = answer.expect("a moot failure is no error");
    let s = service_answer(&answer, svc);
    assert_eq!(ids(&s["accepted"]), vec![kept.clone()], "{answer:#}");
    let failures = s["failures"].as_array().expect("failures listed");
    assert_eq!(failures.len(), 1, "{answer:#}");
    assert_eq!(failures[0]["endpoint_id"], gone.as_str());
    assert_eq!(failures[0]["code"], "InvalidVpcEndpointState");
    assert_eq!(failures[0]["outcome"]["outcome"], "moot");
    assert_eq!(state(&stage, svc, &kept).await, "available");
}

#[tokio::test]
async fn a_refused_accept_call_is_answered_as_an_error() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, None, None).await;
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;
    stage.emu.add_fault(json!({"service": "ec2", "action": "AcceptVpcEndpointConnections", "error": "UnauthorizedOperation", "status": 403}));
    let err = approver(&stage, &[]).invoke(schedule()).await.expect_err("refused");
    assert!(err.error_message.contains("UnauthorizedOperation"), "{err}");
    assert!(err.error_message.contains(&endpoint), "{err}");
    assert_eq!(state(&stage, svc, &endpoint).await, "pendingAcceptance");
    assert_eq!(ledger_actions(&stage, &endpoint).await, [LedgerAction::Accepted, LedgerAction::AcceptFailed]);
}

#[tokio::test]
async fn an_unreadable_allowlist_accepts_nothing_and_answers_an_error() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, None, None).await;
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "Query", "error": "ThrottlingException"}));
    stage.emu.clear_requests();

    let f = approver(&stage, &[("UNLISTED_ACTION", "reject"), ("SYNC_PRINCIPALS", "true")]);
    let err = f.invoke(schedule()).await.expect_err("fails closed");
    assert!(err.error_type.starts_with("Retryable."), "{err}");
    assert!(err.error_message.contains("Query"), "{err}");
    assert_eq!(state(&stage, svc, &endpoint).await, "pendingAcceptance");
    for action in
        ["AcceptVpcEndpointConnections", "RejectVpcEndpointConnections", "ModifyVpcEndpointServicePermissions"]
    {
        assert_eq!(stage.calls(action), 0, "{action}");
    }

    stage.emu.clear_faults();
    let answer = f.invoke(schedule()).await.expect("recovers");
    assert_eq!(ids(&service_answer(&answer, svc)["accepted"]), vec![endpoint]);
}

#[tokio::test]
async fn replays_and_concurrent_runs_converge_within_the_quota() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, Some(3), None).await;
    let vendor = consumer(&stage, VENDOR).await;
    let mut endpoints = Vec::new();
    for _ in 0..5 {
        endpoints.push(vendor.connect(svc).await);
    }
    let (a, b) = (approver(&stage, &[]), approver(&stage, &[]));
    let event = sns_event("Connect", &svc.id, &endpoints[4], VENDOR, "pendingAcceptance");
    let (ra, rb) = tokio::join!(a.invoke(schedule()), b.invoke(event.clone()));
    ra.unwrap_or_else(|e| panic!("{e}\n{}", a.logs()));
    rb.unwrap_or_else(|e| panic!("{e}\n{}", b.logs()));
    let states = connection_states(&stage.aws, &svc.id).await;
    let available = states.values().filter(|s| *s == "available").count();
    assert_eq!((available, states.len()), (3, 5), "{states:?}");

    // Replays change nothing and record nothing new about accepted connections.
    let accepts = stage.calls("AcceptVpcEndpointConnections");
    let ledger = tables::ledger_entries(&stage.aws, "vpce#")
        .await
        .iter()
        .filter(|e| e["action"] == LedgerAction::Accepted.as_str())
        .count();
    for f in [&a, &b] {
        let answer = f.invoke(event.clone()).await.expect("replay");
        assert!(ids(&service_answer(&answer, svc)["accepted"]).is_empty(), "{answer:#}");
    }
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), accepts);
    let after = tables::ledger_entries(&stage.aws, "vpce#")
        .await
        .iter()
        .filter(|e| e["action"] == LedgerAction::Accepted.as_str())
        .count();
    assert_eq!(after, ledger);
    assert_eq!(connection_states(&stage.aws, &svc.id).await, states);
}

#[tokio::test]
async fn allowed_principals_follow_the_live_grants() {
    let (stage, services) = estate(1, &[STRANGER]).await;
    let svc = &services[0];
    stage
        .aws
        .ec2(vpcwarden_tests::ACCOUNT, vpcwarden_tests::REGION)
        .await
        .modify_vpc_endpoint_service_permissions()
        .service_id(&svc.id)
        .add_allowed_principals("*")
        .send()
        .await
        .expect("wildcard added");
    grant(&stage, svc, VENDOR, None, None).await;
    grant(&stage, svc, OTHER, None, Some(1)).await; // long expired

    let f = approver(&stage, &[("SYNC_PRINCIPALS", "true")]);
    let answer = f.invoke(schedule()).await.expect("sync");
    assert_eq!(allowed_principals(&stage.aws, &svc.id).await, vec![principal(VENDOR)]);
    let change = &service_answer(&answer, svc)["principals"];
    assert_eq!(ids(&change["add"]), vec![principal(VENDOR)]);
    assert_eq!(ids(&change["remove"]), sorted(vec!["*".into(), principal(STRANGER)]));

    let modifies = stage.calls("ModifyVpcEndpointServicePermissions");
    f.invoke(schedule()).await.expect("in step");
    assert_eq!(stage.calls("ModifyVpcEndpointServicePermissions"), modifies, "nothing to change");
    // The vendor can now connect, and is accepted on its notification.
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;
    f.invoke(sns_event("Connect", &svc.id, &endpoint, VENDOR, "pendingAcceptance")).await.expect("accept");
    assert_eq!(state(&stage, svc, &endpoint).await, "available");
}

#[tokio::test]
async fn dry_run_decides_and_records_but_changes_nothing() {
    let (stage, services) = estate(1, &[VENDOR, STRANGER]).await;
    let svc = &services[0];
    grant(&stage, svc, VENDOR, None, None).await;
    let vendors = consumer(&stage, VENDOR).await.connect(svc).await;
    let strangers = consumer(&stage, STRANGER).await.connect(svc).await;
    stage.emu.clear_requests();
    let f = approver(&stage, &[("DRY_RUN", "true"), ("UNLISTED_ACTION", "reject"), ("SYNC_PRINCIPALS", "true")]);
    let answer = f.invoke(schedule()).await.expect("dry run");
    assert_eq!(answer["dry_run"], true);
    let s = service_answer(&answer, svc);
    assert_eq!(ids(&s["accepted"]), vec![vendors.clone()]);
    assert_eq!(ids(&s["rejected"]), vec![strangers.clone()]);
    assert_eq!(ids(&s["principals"]["remove"]), vec![principal(STRANGER)]);
    for e in [&vendors, &strangers] {
        assert_eq!(state(&stage, svc, e).await, "pendingAcceptance");
    }
    for action in
        ["AcceptVpcEndpointConnections", "RejectVpcEndpointConnections", "ModifyVpcEndpointServicePermissions"]
    {
        assert_eq!(stage.calls(action), 0, "{action}");
    }
    let entries = tables::ledger_entries(&stage.aws, &LedgerKey::Endpoint(vendors.to_string()).to_string()).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0]["action"].as_str(), entries[0]["dry_run"].as_bool()),
        (Some(LedgerAction::Accepted.as_str()), Some(true))
    );
}

#[tokio::test]
async fn malformed_events_and_grant_items_grant_nothing() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;
    let f = approver(&stage, &[]);
    let before = stage.emu.requests().len();
    for (event, expected) in [
        (json!({"hello": "world"}), "not an SNS, DynamoDB stream or EventBridge event"),
        (json!({"Records": [{"eventSource": "aws:s3"}]}), "records from `aws:s3`"),
        (
            sns_event("Connect", "vpce-svc-NOT!", &endpoint, VENDOR, "pendingAcceptance"),
            "names `vpce-svc-NOT!` as serviceId",
        ),
        (json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}), "SNS event"),
    ] {
        let err = f.invoke(event).await.expect_err("malformed");
        assert_eq!(err.error_type, "NonRetryable.BadEvent", "{err}");
        assert!(err.error_message.contains(expected), "{err}");
    }
    assert_eq!(stage.emu.requests().len(), before, "nothing is read or changed for a malformed event");

    // A grant item with max_endpoints 0 and no added_by grants nothing, and is named.
    let mut item = vpcwarden::aws::grant_item::item_from_grant(&endpoint_grant(&svc.id, VENDOR, None, None));
    item.insert("max_endpoints".into(), aws_sdk_dynamodb::types::AttributeValue::N("0".into()));
    tables::put_raw_item(&stage.aws, tables::ALLOWLIST, item.clone()).await;
    let answer = f
        .invoke(stream_event(vec![privatelink::stream_record("INSERT", &item, false)]))
        .await
        .expect("a malformed item is no event error");
    assert_eq!(state(&stage, svc, &endpoint).await, "pendingAcceptance");
    let malformed = answer["malformed_grants"].as_array().expect("named");
    assert!(
        malformed.iter().all(|m| m.as_str().unwrap().contains(&format!("endpoint#{}/account#{VENDOR}", svc.id))),
        "{answer:#}"
    );
    let answer = f.invoke(sns_event_with_message("not json")).await.expect("lenient wake-up");
    assert_eq!(ids(&service_answer(&answer, svc)["pending"]), vec![endpoint]);
}

#[tokio::test]
async fn a_service_without_healthy_targets_is_reported_not_refused() {
    let stage = Stage::new().await;
    let provider = privatelink::provider(&stage.aws, false).await;
    let svc = privatelink::service(&stage.aws, &provider, &[principal(VENDOR)]).await;
    grant(&stage, &svc, VENDOR, None, None).await;
    let endpoint = consumer(&stage, VENDOR).await.connect(&svc).await;
    let f = approver(&stage, &[]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    assert_eq!(state(&stage, &svc, &endpoint).await, "available");
    let warnings = ids(&service_answer(&answer, &svc)["warnings"]);
    assert_eq!(warnings.len(), 1, "{answer:#}");
    assert!(warnings[0].contains("has no target group"), "{warnings:?}");
    assert!(f.logs().contains("has no target group"));
}

#[tokio::test]
async fn endpoint_service_ids_limit_the_services_managed() {
    let (stage, services) = estate(2, &[VENDOR]).await;
    let vendor = consumer(&stage, VENDOR).await;
    let mut endpoints = Vec::new();
    for svc in &services {
        grant(&stage, svc, VENDOR, None, None).await;
        endpoints.push(vendor.connect(svc).await);
    }
    let f = approver(&stage, &[("ENDPOINT_SERVICE_IDS", &services[0].id)]);
    let answer = f.invoke(schedule()).await.expect("sweep");
    assert_eq!(answer["services"].as_array().unwrap().len(), 1);
    assert_eq!(state(&stage, &services[0], &endpoints[0]).await, "available");
    assert_eq!(state(&stage, &services[1], &endpoints[1]).await, "pendingAcceptance");
    let answer = f
        .invoke(sns_event("Connect", &services[1].id, &endpoints[1], VENDOR, "pendingAcceptance"))
        .await
        .expect("skip");
    assert!(answer["notes"][0].as_str().unwrap().contains("skipped"), "{answer:#}");
    assert_eq!(state(&stage, &services[1], &endpoints[1]).await, "pendingAcceptance");
}

#[tokio::test]
async fn missing_or_malformed_configuration_fails_at_start_naming_the_variable() {
    let stage = Stage::new().await;
    for (drop, extra, expected) in [
        ("ALLOWLIST_TABLE", ("SYNC_PRINCIPALS", "true"), "ALLOWLIST_TABLE is required but not set"),
        ("", ("REVOKE_ON_REMOVAL", "sometimes"), "REVOKE_ON_REMOVAL"),
        ("", ("ENDPOINT_SERVICE_IDS", "vpce-svc-0123456789abcdef0,svc-9"), "ENDPOINT_SERVICE_IDS"),
    ] {
        let mut env = stage.env(&[extra]);
        env.retain(|(k, _)| k != drop);
        let mut f = Function::spawn(&vpcwarden_tests::bin_path(BIN), &env);
        assert!(f.wait_exit(Duration::from_secs(20)).is_some_and(|s| !s.success()), "exits non-zero");
        assert!(f.logs().contains(expected), "{}", f.logs());
    }
}

#[tokio::test]
async fn the_cli_writes_the_grants_the_approver_reads() {
    let (stage, services) = estate(1, &[VENDOR]).await;
    let svc = &services[0];
    let endpoint = consumer(&stage, VENDOR).await.connect(svc).await;

    let (code, out, err) = stage.cli(&[
        "grant",
        "endpoint",
        "--service",
        &svc.id,
        "--account",
        VENDOR,
        "--max-endpoints",
        "2",
        "--expires",
        "30d",
        "--note",
        "vendor",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("account {VENDOR} may connect to {}", svc.id)), "{out}");
    let (code, out, _) =
        stage.cli(&["grant", "peering", "--account", OTHER, "--any-vpc", "--cidr", "10.9.0.0/16", "--dns"]);
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = stage.cli(&["grants", "list"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("KIND"), "a table by default: {out}");
    assert_eq!(out.lines().count(), 3, "{out}");
    let (_, out, _) = stage.cli(&["grants", "list", "--service", &svc.id, "--json"]);
    let listed: Value = serde_json::from_str(&out).expect("JSON on request");
    assert_eq!(listed[0]["kind"], "endpoint");
    assert_eq!((listed[0]["max_endpoints"].as_u64(), listed[0]["live"].as_bool()), (Some(2), Some(true)));

    let (_, out, _) = stage.cli(&["connections", "--service", &svc.id, "--json"]);
    let rows: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(rows[0]["endpoint_id"], endpoint.as_str());
    assert_eq!((rows[0]["state"].as_str(), rows[0]["decision"].as_str()), (Some("pendingAcceptance"), Some("granted")));
    assert_eq!(rows[0]["grant"]["status"], "live");

    approver(&stage, &[]).invoke(schedule()).await.expect("sweep");
    assert_eq!(state(&stage, svc, &endpoint).await, "available");
    let (_, out, _) = stage.cli(&["connections", "--service", &svc.id]);
    assert!(out.lines().nth(1).is_some_and(|l| l.contains("available") && l.contains("connected")), "{out}");

    let (code, out, _) = stage.cli(&["revoke", "endpoint", "--service", &svc.id, "--account", VENDOR]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = stage.cli(&["revoke", "endpoint", "--service", &svc.id, "--account", VENDOR]);
    assert_ne!(code, 0);
    assert!(err.contains("there is no endpoint grant"), "{err}");
    let (code, _, err) = stage.cli(&["grant", "endpoint", "--service", "vpce-svc-1", "--account", VENDOR]);
    assert_eq!(code, 2);
    assert!(err.contains("is not an endpoint service id"), "{err}");
    let (code, _, err) =
        stage.cli(&["grant", "peering", "--account", OTHER, "--vpc", "vpc-0a1b2c3d", "--expires", "2001-01-01"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not in the future"), "{err}");
}
