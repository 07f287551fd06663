//! Events out, end to end: the built functions publish on `EVENT_BUS`, a rule on the bus delivers
//! to an SQS queue, and the test reads the queue as any consumer would. Every event read is valid
//! against its JSON Schema (`Consumer::drain`); each decision is told once, however often the
//! function runs; injected `PutEvents` failures lose no event and change no decision; a bus that
//! does not exist is a counted failure, never a failed decision.
use std::collections::BTreeMap;

use serde_json::{json, Value};
use vpcwarden::domain::LedgerAction;
use vpcwarden_tests::consumer::{summary, Consumer};
use vpcwarden_tests::events::{cloudtrail_peering, schedule};
use vpcwarden_tests::privatelink::{self, endpoint_grant, grant_record, principal, sns_event, stream_event};
use vpcwarden_tests::seed::{self, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const ACCEPTOR: &str = "peering-acceptor";
const APPROVER: &str = "endpoint-approver";
const BUS: &str = "vpcwarden-events";
const STRANGER: &str = "444444444444";
const VENDOR: &str = "210987654321";
const PARTNER: &str = "555555555555";

type Told = BTreeMap<(String, String, String), usize>;

fn told(list: &[(&str, &str, &str)]) -> Told {
    let mut m = BTreeMap::new();
    for (t, what, subject) in list {
        *m.entry((t.to_string(), what.to_string(), subject.to_string())).or_insert(0) += 1;
    }
    m
}

/// The peering story: a granted request from our own account, a stranger's request, and a
/// partner's whose CIDR its grant does not allow.
struct PeeringStory {
    acc: SeededVpc,
    granted: String,
    stranger: String,
    outside: String,
}

async fn peering_story(stage: &Stage) -> PeeringStory {
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(1).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.4.0.0/16").await.create().await;
    let partner = seed::vpc(&stage.aws, PARTNER, REGION, "10.5.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), PARTNER, &["10.9.0.0/16"], None, None).await;
    let granted = seed::request_peering(&stage.aws, &req, &acc).await;
    let stranger = seed::request_peering(&stage.aws, &stranger, &acc).await;
    let outside = seed::request_peering(&stage.aws, &partner, &acc).await;
    PeeringStory { acc, granted, stranger, outside }
}

fn acceptor(stage: &Stage, extra: &[(&str, &str)]) -> Function {
    let mut env = vec![("EVENT_BUS", BUS)];
    env.extend_from_slice(extra);
    stage.function(ACCEPTOR, &env)
}

#[tokio::test]
async fn the_peering_story_tells_each_decision_once_however_often_it_runs() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let story = peering_story(&stage).await;
    let f = acceptor(&stage, &[]);
    for _ in 0..5 {
        f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    }
    let events = consumer.drain();
    let expected = told(&[
        ("Peering Decision", "accepted", &story.granted),
        ("Peering Decision", "routes-added", &story.granted),
        ("Peering Decision", "ignored", &story.stranger),
        ("Peering Decision", "ignored", &story.outside),
    ]);
    assert_eq!(summary(&events), expected, "{events:#?}");
    let detail = |pcx: &str| events.iter().find(|e| e["detail"]["pcx"] == pcx).unwrap()["detail"].clone();
    assert_eq!(detail(&story.stranger)["reason_code"], "no-grant");
    assert_eq!(detail(&story.outside)["reason_code"], "cidr-not-allowed");
    let accepted = events.iter().find(|e| e["detail"]["decision"] == "accepted").unwrap();
    let pcx_arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-peering-connection/{}", story.granted);
    assert!(accepted["resources"].as_array().unwrap().contains(&json!(pcx_arn)), "{accepted:#}");
    let routes = events.iter().find(|e| e["detail"]["decision"] == "routes-added").unwrap();
    assert_eq!(routes["detail"]["routes"].as_array().unwrap().len(), 2 + 1, "accepter tables and the requester's");

    // The connection deleted: its routes removed, told once.
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    ec2.delete_vpc_peering_connection().vpc_peering_connection_id(&story.granted).send().await.unwrap();
    for _ in 0..3 {
        f.invoke(cloudtrail_peering("DeleteVpcPeeringConnection", &story.granted)).await.expect("cleanup");
    }
    assert_eq!(summary(&consumer.drain()), told(&[("Peering Decision", "routes-removed", &story.granted)]));
    assert!(seed::routes_through(&stage.aws, &story.acc, &story.granted).await.is_empty());
}

#[tokio::test]
async fn sixteen_invocations_at_once_tell_the_acceptance_once() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(2).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let functions: Vec<Function> = (0..16).map(|_| acceptor(&stage, &[])).collect();
    let event = cloudtrail_peering("CreateVpcPeeringConnection", &pcx);
    let answers = futures::future::join_all(functions.iter().map(|f| f.invoke(event.clone()))).await;
    for (a, f) in answers.iter().zip(&functions) {
        assert!(a.is_ok(), "{a:?}\n{}", f.logs());
    }
    let events = consumer.drain();
    let counts = summary(&events);
    assert_eq!(counts.get(&("Peering Decision".into(), "accepted".into(), pcx.clone())), Some(&1), "{counts:#?}");
    // Each route is created by one invocation: every route is told once, whichever told it.
    let mut routes: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["detail"]["decision"] == "routes-added")
        .flat_map(|e| e["detail"]["routes"].as_array().unwrap().clone())
        .map(|r| (r["route_table"].as_str().unwrap().to_string(), r["destination"].as_str().unwrap().to_string()))
        .collect();
    routes.sort();
    let before = routes.len();
    routes.dedup();
    assert_eq!((before, routes.len()), (3 + 3, 3 + 3), "{events:#?}");
}

#[tokio::test]
async fn thirty_percent_of_entries_failing_lose_no_event_and_change_no_decision() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let story = peering_story(&stage).await;
    stage.emu.add_fault(json!({"service": "events", "action": "PutEvents", "entries_fraction": 0.3, "seed": 7}));
    let f = acceptor(&stage, &[("UNLISTED_ACTION", "reject")]);
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert!(stage.emu.faults()["failed_entries"].as_u64().unwrap() > 0, "the fault fired: {}", stage.emu.faults());
    let events = consumer.drain();
    let expected = told(&[
        ("Peering Decision", "accepted", &story.granted),
        ("Peering Decision", "routes-added", &story.granted),
        ("Peering Decision", "rejected", &story.stranger),
        ("Peering Decision", "rejected", &story.outside),
    ]);
    assert_eq!(summary(&events), expected, "{events:#?}\n{answer:#}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &story.granted).await, "active");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &story.stranger).await, "rejected");
    assert!(!f.logs().contains("EventsFailed"), "every entry got through on a retry");
}

#[tokio::test]
async fn a_bus_that_does_not_exist_is_counted_and_decides_as_before() {
    let stage = Stage::new().await;
    let story = peering_story(&stage).await;
    let f = stage.function(ACCEPTOR, &[("EVENT_BUS", "no-such-bus")]);
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &story.granted).await, "active", "{answer:#}");
    let logs = f.logs();
    assert!(logs.contains("EVENT_BUS no-such-bus does not exist"), "{logs}");
    let metric = logs.lines().find(|l| l.contains("\"EventsFailed\"")).unwrap_or_else(|| panic!("{logs}"));
    let metric: Value = serde_json::from_str(metric).unwrap();
    assert_eq!((metric["Function"].as_str(), metric["EventsFailed"].as_u64()), (Some(ACCEPTOR), Some(1)));
    assert_eq!(stage.calls("PutEvents"), 0, "nothing sent to a bus known to be missing");
    assert_eq!(tables::peering_actions(&stage.aws, &story.granted).await[0], LedgerAction::Accepted);
}

#[tokio::test]
async fn the_vendor_onboarding_story_tells_each_endpoint_decision_once() {
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let svc = privatelink::service(&stage.aws, &provider, &[principal(VENDOR), principal(STRANGER)]).await;
    let grant = endpoint_grant(&svc.id, VENDOR, Some(2), None);
    vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST).put(&grant).await.unwrap();
    let vendor = privatelink::consumer(&stage.aws, VENDOR, "10.1.0.0/16").await;
    let stranger = privatelink::consumer(&stage.aws, STRANGER, "10.2.0.0/16").await;
    let (v1, s1) = (vendor.connect(&svc).await, stranger.connect(&svc).await);
    let env = [("EVENT_BUS", BUS), ("SYNC_PRINCIPALS", "true"), ("REVOKE_ON_REMOVAL", "true")];
    let f = stage.function(APPROVER, &env);
    f.invoke(sns_event("Connect", &svc.id, &v1, VENDOR, "pendingAcceptance")).await.expect("notification");
    for _ in 0..5 {
        f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    }
    let events = consumer.drain();
    let expected = told(&[
        ("Endpoint Connection Decision", "accepted", &v1),
        ("Endpoint Connection Decision", "ignored", &s1),
        ("Endpoint Connection Decision", "principals-synced", &svc.id),
    ]);
    assert_eq!(summary(&events), expected, "{events:#?}");
    let synced = events.iter().find(|e| e["detail"]["decision"] == "principals-synced").unwrap();
    assert_eq!(synced["detail"]["principals_removed"], json!([principal(STRANGER)]));

    // The vendor's grant removed: its endpoint revoked, told once.
    let removal = stream_event(vec![grant_record("REMOVE", &grant, false)]);
    vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST)
        .delete(&grant.key())
        .await
        .unwrap();
    for _ in 0..3 {
        f.invoke(removal.clone()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    }
    let counts = summary(&consumer.drain());
    assert_eq!(
        counts.get(&("Endpoint Connection Decision".into(), "revoked".into(), v1.clone())),
        Some(&1),
        "{counts:#?}"
    );
}

#[tokio::test]
async fn nights_tell_each_finding_opened_and_resolved_once_and_every_audit_completed() {
    use vpcwarden_tests::audit_seed::{self, BUCKET, PEER};
    use vpcwarden_tests::seed::RouteTargetSpec;
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let aws = &stage.aws;
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(1).create().await;
    let payments = seed::vpc(aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    seed::add_route(aws, &hub, hub.main_table(), "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;
    tables::put_peering_grant(aws, Some(&hub.id), PEER, &[], None, None).await;
    let stranger = seed::vpc(aws, STRANGER, REGION, "10.5.0.0/16").await.create().await;
    let pending = seed::request_peering(aws, &stranger, &hub).await;
    audit_seed::ensure_bucket(aws).await;
    let env = [("EVENT_BUS", BUS), ("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "nightly")];
    let f = stage.function("drift-auditor", &env);
    let night = || async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()))
    };

    let first = night().await;
    let events = consumer.drain();
    let opened: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "Finding Opened").collect();
    let mut codes: Vec<&str> = opened.iter().map(|e| e["detail"]["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["PEERING_PENDING_UNLISTED", "PEERING_ROUTE_MISSING"], "{events:#?}");
    let missing = opened.iter().find(|e| e["detail"]["code"] == "PEERING_ROUTE_MISSING").unwrap();
    assert_eq!(missing["detail"]["severity"], "high");
    let unlisted = opened.iter().find(|e| e["detail"]["code"] == "PEERING_PENDING_UNLISTED").unwrap();
    let pending_arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-peering-connection/{pending}");
    assert_eq!(unlisted["resources"], json!([pending_arn]));
    let completed: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "Audit Completed").collect();
    assert_eq!(completed.len(), 1, "{events:#?}");
    let c = &completed[0]["detail"];
    assert_eq!((c["summary"]["total"].as_u64(), c["summary"]["new"].as_u64()), (Some(2), Some(2)));
    assert_eq!(c["reports"], first["reports"], "the reports' addresses");
    assert!(c["reports"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().ends_with(".html")));

    // Nothing changed: nothing opened again, one more audit completed.
    night().await;
    assert_eq!(summary(&consumer.drain()).keys().map(|k| k.0.as_str()).collect::<Vec<_>>(), ["Audit Completed"]);

    // The missing route added: that finding resolved, by the id it was opened with.
    seed::add_route(aws, &hub, &hub.route_tables[1], "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;
    night().await;
    let events = consumer.drain();
    let resolved: Vec<&Value> = events.iter().filter(|e| e["detail-type"] == "Finding Resolved").collect();
    assert_eq!(resolved.len(), 1, "{events:#?}");
    assert_eq!(resolved[0]["detail"]["finding_id"], missing["detail"]["finding_id"]);
    assert_eq!(events.len(), 2, "resolved and completed only: {events:#?}");
}

#[tokio::test]
async fn an_org_run_tells_once_however_often_its_aggregate_step_is_replayed() {
    use vpcwarden_tests::{audit_seed, org::run_steps};
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    let hub = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.create().await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.5.0.0/16").await.create().await;
    seed::request_peering(&stage.aws, &stranger, &hub).await;
    let f = audit_seed::auditor(&stage, &[("EVENT_BUS", BUS)]).await;
    let metric_lines = || f.logs().lines().filter(|l| l.contains("\"FindingsNew\"")).count();

    let steps = run_steps(&f, &stage.aws, json!({}), &[]).await;
    steps.aggregate.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let events = consumer.drain();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["detail-type"].as_str().unwrap(), e["detail"]["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds.len(), 2, "{events:#?}");
    assert!(
        kinds.contains(&("Finding Opened", "PEERING_PENDING_UNLISTED")) && kinds.contains(&("Audit Completed", ""))
    );
    let receipt_key = format!("{}announced.json", steps.plan["run_prefix"].as_str().unwrap());
    let receipt: Value = serde_json::from_str(&audit_seed::report_object(&stage.aws, &receipt_key).await).unwrap();
    assert_eq!((receipt["events_published"].as_u64(), receipt["events_failed"].as_u64()), (Some(2), Some(0)));
    let metrics = metric_lines();
    assert!(metrics > 0, "the aggregate's EMF record:\n{}", f.logs());

    // Step Functions retries the step, or a person re-drives the execution: the report is written
    // again, and no one is told twice (neither the bus nor CloudWatch).
    let again = json!({"mode": "aggregate", "run_id": steps.plan["run_id"]});
    f.invoke(again).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!(consumer.drain(), Vec::<Value>::new(), "a replayed aggregate publishes nothing");
    assert_eq!(metric_lines(), metrics, "nor counts its findings again");
    assert!(f.logs().contains("aggregate replayed"), "and says why:\n{}", f.logs());
}
