//! A person in the loop, end to end (`UNLISTED_ACTION=ask`): a stranger's request becomes one
//! approval request (ledger record and event, however often it is met), `vpcwarden requests`
//! lists it with every check's verdict, `vpcwarden approve` writes the narrowest grant and the
//! allowlist stream makes the function accept it in one invocation, `vpcwarden deny` rejects it
//! with the reason in the ledger, and a request that expires closes.
use serde_json::Value;
use vpcwarden::domain::{EndpointGrant, Grant, LedgerAction, LedgerKey, PeeringGrant, VpcScope};
use vpcwarden_tests::consumer::{summary, Consumer};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::privatelink::{self, grant_record, principal, stream_event};
use vpcwarden_tests::seed::{self, RouteTargetSpec, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const BUS: &str = "vpcwarden-events";
const STRANGER: &str = "444444444444";
const VENDOR: &str = "210987654321";
const ASK: [(&str, &str); 2] = [("UNLISTED_ACTION", "ask"), ("EVENT_BUS", BUS)];

async fn accepter(stage: &Stage) -> SeededVpc {
    seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(1).create().await
}

fn requests_json(stage: &Stage) -> Vec<Value> {
    let (code, out, err) = stage.cli(&["requests", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out}")).as_array().unwrap().clone()
}

/// The stream record DynamoDB sends for a grant just written (its keys are what counts).
fn peering_grant_inserted(vpc: &str, account: &str) -> Value {
    let grant = Grant::Peering(PeeringGrant {
        scope: VpcScope::Vpc(vpc.into()),
        account: account.into(),
        allowed_cidrs: None,
        dns_resolution: None,
        expires_at: None,
        note: None,
        added_by: tables::ADDED_BY.into(),
        added_at: 1_767_225_600,
    });
    stream_event(vec![grant_record("INSERT", &grant, false)])
}

async fn request_actions(stage: &Stage, id: &str) -> Vec<LedgerAction> {
    tables::ledger_actions(&stage.aws, &LedgerKey::Request(id.into())).await
}

async fn sweeps(f: &Function, n: usize) -> Value {
    let mut last = Value::Null;
    for _ in 0..n {
        last = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    }
    last
}

#[tokio::test]
async fn a_strangers_peering_request_is_asked_once_approved_and_accepted_from_the_stream() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let acc = accepter(&stage).await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.4.0.0/16").await.create().await;
    let pcx = seed::request_peering(&stage.aws, &stranger, &acc).await;
    let f = stage.function("peering-acceptor", &ASK);

    let answer = sweeps(&f, 3).await;
    assert_eq!(answer["peerings"][0]["action"], "asked", "{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "pending-acceptance");
    assert_eq!(request_actions(&stage, &pcx).await, [LedgerAction::ApprovalRequested]);
    assert!(tables::peering_actions(&stage.aws, &pcx).await.is_empty(), "asked, not ignored");
    let events = consumer.drain();
    assert_eq!(summary(&events).into_values().collect::<Vec<_>>(), [1], "{events:#?}");
    let asked = &events[0]["detail"];
    assert_eq!((asked["request"].as_str(), asked["account"].as_str()), (Some(pcx.as_str()), Some(STRANGER)));
    assert_eq!(asked["requester_vpc"], stranger.id.as_str());
    assert_eq!(asked["approve_command"], format!("vpcwarden approve {pcx}"));
    let checks: Vec<(&str, bool)> = asked["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["passed"] == true))
        .collect();
    assert_eq!(checks, [("grant", false), ("requester-cidrs", true), ("no-overlap", true), ("not-routed", true)]);

    let listed = requests_json(&stage);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!((listed[0]["id"].as_str(), listed[0]["cidrs"][0].as_str()), (Some(pcx.as_str()), Some("10.4.0.0/16")));
    let (code, out, err) = stage.cli(&["requests"]);
    assert!(code == 0 && out.contains(&pcx) && out.contains("vpcwarden approve"), "{out}\n{err}");

    let (code, out, err) = stage.cli(&["approve", &pcx, "--note", "CHG-7: partner onboarding", "--expires", "90d"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let grants = tables::scan(&stage.aws, tables::ALLOWLIST).await;
    assert_eq!(grants.len(), 1, "{grants:#?}");
    assert_eq!(grants[0]["pk"], format!("peering#{}", acc.id));
    assert_eq!(grants[0]["allowed_cidrs"], serde_json::json!(["10.4.0.0/16"]), "the narrowest grant");
    assert!(requests_json(&stage).is_empty(), "approved: no longer open");

    // The stream event of that grant makes the acceptor accept it in one invocation.
    let answer =
        f.invoke(peering_grant_inserted(&acc.id, STRANGER)).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "{answer:#}");
    assert_eq!(answer["peerings"][0]["action"], "accepted", "{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "active");
    assert_eq!(request_actions(&stage, &pcx).await, [LedgerAction::ApprovalRequested, LedgerAction::Approved]);
    let told = summary(&consumer.drain());
    assert_eq!(told.get(&("Peering Decision".into(), "accepted".into(), pcx.clone())), Some(&1), "{told:#?}");
}

#[tokio::test]
async fn deny_rejects_now_with_who_and_why_in_the_ledger_and_bad_ids_are_refused() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.4.0.0/16").await.create().await;
    let pcx = seed::request_peering(&stage.aws, &stranger, &acc).await;
    sweeps(&stage.function("peering-acceptor", &ASK), 1).await;

    for bad in ["pcx-NOTHEX", "vpce-svc-0123456789abcdef0", "i-0123456789abcdef0", ""] {
        let (code, _, err) = stage.cli(&["deny", bad, "--reason", "no"]);
        assert!(code == 2 && err.contains("is not a request id"), "{bad}: {err}");
        let (code, _, err) = stage.cli(&["approve", bad]);
        assert!(code == 2 && err.contains("is not a request id"), "{bad}: {err}");
    }
    let (code, _, err) = stage.cli(&["deny", &pcx]);
    assert_eq!(code, 2, "--reason is required: {err}");

    let (code, out, err) = stage.cli(&["deny", &pcx, "--reason", "unknown partner, see SEC-12"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "rejected");
    let entries = tables::ledger_entries(&stage.aws, &format!("request#{pcx}")).await;
    let denied = entries.iter().find(|e| e["action"] == "denied").unwrap_or_else(|| panic!("{entries:#?}"));
    assert!(denied["reason"].as_str().unwrap().ends_with(": unknown partner, see SEC-12"), "{denied:#}");
    assert!(denied["details"]["by"].as_str().is_some_and(|b| !b.is_empty()), "who denied it: {denied:#}");
    assert!(requests_json(&stage).is_empty());
    let (code, _, err) = stage.cli(&["deny", &pcx, "--reason", "again"]);
    assert!(code == 1 && err.contains("already closed"), "{err}");
}

#[tokio::test]
async fn approving_a_request_another_check_refuses_is_refused_naming_the_check() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    // 10.4.0.0/16 is already routed through a transit gateway in the accepter VPC.
    seed::add_route(&stage.aws, &acc, acc.main_table(), "10.4.0.0/16", RouteTargetSpec::TransitGateway).await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.4.0.0/16").await.create().await;
    let pcx = seed::request_peering(&stage.aws, &stranger, &acc).await;
    sweeps(&stage.function("peering-acceptor", &ASK), 1).await;
    let listed = requests_json(&stage);
    let routed = listed[0]["checks"].as_array().unwrap().iter().find(|c| c["check"] == "not-routed").unwrap().clone();
    assert_eq!(routed["passed"], false, "{listed:#?}");

    let (code, out, err) = stage.cli(&["approve", &pcx]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("cidr-already-routed") && err.contains("10.4.0.0/16"), "{err}");
    assert!(tables::scan(&stage.aws, tables::ALLOWLIST).await.is_empty(), "no grant written");
    assert_eq!(requests_json(&stage).len(), 1, "still open");
}

#[tokio::test]
async fn a_request_aws_expires_closes_and_the_report_lists_the_open_ones() {
    let stage = Stage::new().await;
    let acc = accepter(&stage).await;
    let first = seed::vpc(&stage.aws, STRANGER, REGION, "10.4.0.0/16").await.create().await;
    let expiring = seed::request_peering(&stage.aws, &first, &acc).await;
    let f = stage.function("peering-acceptor", &ASK);
    sweeps(&f, 1).await;
    stage.emu.advance_clock(8 * 86_400);
    let second = seed::vpc(&stage.aws, VENDOR, REGION, "10.5.0.0/16").await.create().await;
    let waiting = seed::request_peering(&stage.aws, &second, &acc).await;
    sweeps(&f, 2).await;
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &expiring).await, "expired");
    assert_eq!(
        request_actions(&stage, &expiring).await,
        [LedgerAction::ApprovalRequested, LedgerAction::RequestClosed]
    );
    let listed = requests_json(&stage);
    assert_eq!(listed.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [waiting.as_str()]);

    // The nightly report lists it, with the commands that decide it.
    vpcwarden_tests::audit_seed::ensure_bucket(&stage.aws).await;
    let bucket = vpcwarden_tests::audit_seed::BUCKET;
    let auditor = stage.function("drift-auditor", &[("REPORT_BUCKET", bucket), ("REPORT_PREFIX", "nightly")]);
    let answer = auditor.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", auditor.logs()));
    let reports: Vec<&str> = answer["reports"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let key = |ext: &str| {
        let uri =
            reports.iter().find(|r| r.ends_with(&format!("report.{ext}"))).unwrap_or_else(|| panic!("{reports:?}"));
        uri.trim_start_matches(&format!("s3://{bucket}/")).to_string()
    };
    let json: Value =
        serde_json::from_str(&vpcwarden_tests::audit_seed::report_object(&stage.aws, &key("json")).await).unwrap();
    assert_eq!(json["approval_requests"][0]["id"], waiting.as_str(), "{:#}", json["approval_requests"]);
    assert_eq!(json["approval_requests"].as_array().unwrap().len(), 1);
    let md = vpcwarden_tests::audit_seed::report_object(&stage.aws, &key("md")).await;
    assert!(md.contains("## Open approval requests") && md.contains(&format!("`vpcwarden approve {waiting}`")), "{md}");
    let html = vpcwarden_tests::audit_seed::report_object(&stage.aws, &key("html")).await;
    assert!(html.contains("Open approval requests") && html.contains(&format!("vpcwarden deny {waiting}")), "{html}");
}

#[tokio::test]
async fn an_unlisted_endpoint_is_asked_once_approved_and_accepted_from_the_stream() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let svc = privatelink::service(&stage.aws, &provider, &[principal(VENDOR), principal(STRANGER)]).await;
    let vendor = privatelink::consumer(&stage.aws, VENDOR, "10.1.0.0/16").await;
    let stranger = privatelink::consumer(&stage.aws, STRANGER, "10.2.0.0/16").await;
    let (endpoint, other) = (vendor.connect(&svc).await, stranger.connect(&svc).await);
    let f = stage.function("endpoint-approver", &ASK);
    for _ in 0..3 {
        f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    }
    let events = consumer.drain();
    let asked = summary(&events);
    assert_eq!(asked.len(), 2, "{events:#?}");
    assert!(asked.values().all(|n| *n == 1) && asked.keys().all(|k| k.0 == "Approval Requested"), "{asked:#?}");
    assert_eq!(request_actions(&stage, &endpoint).await, [LedgerAction::ApprovalRequested]);

    let (code, out, err) = stage.cli(&["approve", &endpoint, "--note", "vendor onboarding"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let grant = Grant::Endpoint(EndpointGrant {
        service_id: svc.id.clone(),
        account: VENDOR.into(),
        expires_at: None,
        max_endpoints: Some(1),
        note: None,
        added_by: tables::ADDED_BY.into(),
        added_at: 1_767_225_600,
    });
    let answer = f.invoke(stream_event(vec![grant_record("INSERT", &grant, false)])).await.expect("stream");
    let states = privatelink::connection_states(&stage.aws, &svc.id).await;
    assert_eq!(states[&endpoint], "available", "{answer:#}");
    assert_eq!(states[&other], "pendingAcceptance");
    let listed = requests_json(&stage);
    assert_eq!(listed.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), [other.as_str()]);

    let (code, out, err) = stage.cli(&["deny", &other, "--reason", "not a customer"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(privatelink::connection_states(&stage.aws, &svc.id).await[&other], "rejected");
    assert!(requests_json(&stage).is_empty());
}

#[tokio::test]
async fn denying_an_endpoint_its_owner_deleted_closes_the_request() {
    let stage = Stage::new().await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let svc = privatelink::service(&stage.aws, &provider, &[principal(STRANGER)]).await;
    let stranger = privatelink::consumer(&stage.aws, STRANGER, "10.2.0.0/16").await;
    let endpoint = stranger.connect(&svc).await;
    let f = stage.function("endpoint-approver", &ASK);
    f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(requests_json(&stage).len(), 1);
    stranger.delete(&endpoint).await;

    let (code, out, err) = stage.cli(&["deny", &endpoint, "--reason", "gone anyway"]);
    assert!(code == 0 && out.contains("no longer exists"), "{out}\n{err}");
    assert_eq!(
        request_actions(&stage, &endpoint).await,
        [LedgerAction::ApprovalRequested, LedgerAction::RequestClosed]
    );
    assert!(requests_json(&stage).is_empty());
}
