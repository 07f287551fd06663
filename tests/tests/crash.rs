//! Reliability: a crash in the middle. Each function is killed (SIGKILL, as a
//! crash or a Lambda timeout would end it) at the worst moment, or a dependency becomes
//! unreachable there so the invocation answers an error (Lambda retries it, or sends it to the
//! on-failure destination); then the next invocation converges on what an uninterrupted run gives.
//!
//! The moment is held open by the emulator: a fault rule delays the call that comes right after
//! the step under test, and the test kills the process once the step's effect is visible.
use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcwarden::domain::{LedgerAction, LedgerKey};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::{cloudtrail_peering, schedule};
use vpcwarden_tests::figures;
use vpcwarden_tests::privatelink::{self, connection_states, endpoint_grant, principal, sns_event};
use vpcwarden_tests::seed;
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const VENDOR: &str = "210987654321";
/// How long the emulator holds the call after the step under test.
const HOLD_MS: u64 = 4_000;

/// Runs `event` on `f` and kills the process `after` `moment` holds; panics if it answers first.
async fn kill_when<F, Fut>(f: &Function, event: Value, moment: F, after: Duration)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let watch = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !moment().await {
            assert!(Instant::now() < deadline, "the moment to crash never came:\n{}", f.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(after).await;
        f.kill();
    };
    tokio::select! {
        answer = f.invoke(event) => panic!("answered before the crash: {answer:?}\n{}", f.logs()),
        () = watch => {}
    }
}

#[tokio::test]
async fn peering_acceptor_crashing_between_accept_and_routing_converges_on_the_next_sweep() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await;
    let req = seed::vpc(aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(1).create().await;
    tables::put_peering_grant(aws, Some(&hub.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(aws, &req, &hub).await;
    let pk = LedgerKey::Peering(pcx.clone());

    // 1. Killed: accepted and ledgered, no route yet (every CreateRoute is held, then fails).
    stage.emu.add_fault(json!({"service": "ec2", "action": "CreateRoute", "error": "ServiceUnavailable",
                               "delay_ms": HOLD_MS}));
    let f = stage.function("peering-acceptor", &[]);
    let accepted = || async { tables::ledger_actions(aws, &pk).await.contains(&LedgerAction::Accepted) };
    kill_when(&f, cloudtrail_peering("CreateVpcPeeringConnection", &pcx), accepted, Duration::ZERO).await;
    assert_eq!(seed::peering_status(aws, ACCOUNT, REGION, &pcx).await, "active");
    assert!(
        seed::routes_through(&stage.aws, &hub, &pcx).await.is_empty()
            && seed::routes_through(&stage.aws, &req, &pcx).await.is_empty()
    );

    // 2. EC2 unreachable for routes: the invocation answers a retryable error, changes nothing.
    stage.emu.clear_faults();
    stage.emu.add_fault(json!({"service": "ec2", "action": "CreateRoute", "error": "Unavailable", "status": 400}));
    let g = stage.function("peering-acceptor", &[]);
    let err = g.invoke(schedule()).await.expect_err("routes cannot be added");
    assert!(err.error_type.starts_with("Retryable."), "{err}");
    assert!(err.error_message.contains("CreateRoute"), "the error names the call: {err}");
    assert!(seed::routes_through(&stage.aws, &hub, &pcx).await.is_empty());

    // 3. The next sweep converges: every table on both sides, the acceptance ledgered once.
    stage.emu.clear_faults();
    let answer = g.invoke(schedule()).await.unwrap_or_else(|e| panic!("sweep: {e}\n{}", g.logs()));
    assert_eq!(seed::routes_through(aws, &hub, &pcx).await, seed::every_table(&hub, &["10.1.0.0/16"]), "{answer:#}");
    assert_eq!(seed::routes_through(aws, &req, &pcx).await, seed::every_table(&req, &["10.0.0.0/16"]), "{answer:#}");
    let actions = tables::ledger_actions(aws, &pk).await;
    assert_eq!(actions.iter().filter(|a| **a == LedgerAction::Accepted).count(), 1, "{actions:?}");
    let again = g.invoke(schedule()).await.expect("settled sweep");
    let added: usize =
        again["peerings"].as_array().unwrap().iter().map(|o| o["routes_added"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(added, 0, "{again:#}");
    figures::record("peering-acceptor crash between accept and routing", crash_figures(4));
}

/// Each crash test: one kill, one error answer, then converging invocations; no difference left.
fn crash_figures(invocations: usize) -> Value {
    json!({"invocations": invocations, "kills": 1, "error_answers": 1, "state_differences": 0})
}

#[tokio::test]
async fn endpoint_approver_crashing_between_approval_and_its_answer_converges_on_the_next_sweep() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let provider = privatelink::provider(aws, true).await;
    let service = privatelink::service(aws, &provider, &[principal(VENDOR)]).await;
    let vendor = privatelink::consumer(aws, VENDOR, "10.1.0.0/16").await;
    let (first, second) = (vendor.connect(&service).await, vendor.connect(&service).await);
    let allowlist = vpcwarden::aws::allowlist::Allowlist::new(aws.dynamodb().await, tables::ALLOWLIST);
    allowlist.put(&endpoint_grant(&service.id, VENDOR, None, None)).await.expect("grant");
    let decided = |e: &str| {
        let pk = LedgerKey::Endpoint(e.to_string());
        async move { tables::ledger_actions(aws, &pk).await.contains(&LedgerAction::Accepted) }
    };

    // 1. DynamoDB unreachable when the decision is recorded: an error answer, nothing accepted
    //    (a decision is recorded before it is carried out).
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "PutItem", "error": "InternalFailure",
                               "status": 400}));
    let f = stage.function("endpoint-approver", &[]);
    let note = sns_event("Connect", &service.id, &first, VENDOR, "pendingAcceptance");
    let err = f.invoke(note.clone()).await.expect_err("the ledger is unreachable");
    assert!(err.error_type.starts_with("Retryable."), "{err}");
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), 0, "nothing is accepted unrecorded");
    assert_eq!(connection_states(aws, &service.id).await[&first], "pendingAcceptance");

    // 2. Killed after the approval was sent: AWS carries it out, the function never hears back.
    stage.emu.clear_faults();
    stage.emu.add_fault(json!({"service": "ec2", "action": "AcceptVpcEndpointConnections", "count": 1,
                               "error": null, "delay_ms": HOLD_MS}));
    let g = stage.function("endpoint-approver", &[]);
    // The decision is recorded just before the call: a second later the call is in flight (held).
    kill_when(&g, note, || decided(&first), Duration::from_secs(1)).await;
    let settle = Instant::now() + Duration::from_millis(HOLD_MS + 3_000);
    while connection_states(aws, &service.id).await[&first] != "available" && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(connection_states(aws, &service.id).await[&first], "available", "the approval took effect");

    // 3. The next sweep converges: the rest accepted once, the ledger holds every decision.
    let h = stage.function("endpoint-approver", &[]);
    let answer = h.invoke(schedule()).await.unwrap_or_else(|e| panic!("sweep: {e}\n{}", h.logs()));
    let states = connection_states(aws, &service.id).await;
    assert_eq!((states[&first].as_str(), states[&second].as_str()), ("available", "available"), "{answer:#}");
    assert!(decided(&first).await && decided(&second).await);
    let accepts_before = stage.calls("AcceptVpcEndpointConnections");
    h.invoke(schedule()).await.expect("settled sweep");
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), accepts_before, "a settled estate needs nothing");
    figures::record("endpoint-approver crash between approval and answer", crash_figures(4));
}

#[tokio::test]
async fn drift_auditor_crashing_mid_audit_leaves_nothing_half_written_and_the_next_run_reports() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    audit_seed::every_code_estate(aws).await;
    audit_seed::ensure_bucket(aws).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // pending requests: second-resolution times
    let env = [("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "nightly"), ("STALE_PENDING_HOURS", "0")];
    let reports = || async { audit_seed::report_keys(aws, "nightly/").await };

    // 1. Killed while reading the estate (target health held).
    stage.emu.add_fault(json!({"service": "elasticloadbalancing", "action": "DescribeTargetHealth",
                               "error": "ServiceUnavailable", "delay_ms": HOLD_MS}));
    let f = stage.function("drift-auditor", &env);
    let reading = || async { stage.emu.requests().iter().any(|r| r.action == "DescribeTargetGroups") };
    kill_when(&f, schedule(), reading, Duration::ZERO).await;
    assert!(reports().await.is_empty(), "no report from a run that did not finish");
    assert!(tables::ledger_entries(aws, "report#").await.is_empty());

    // 2. The ledger unreachable at the end: an error answer; the reports written are whole.
    stage.emu.clear_faults();
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "PutItem", "error": "InternalFailure",
                               "status": 400}));
    let g = stage.function("drift-auditor", &env);
    let err = g.invoke(schedule()).await.expect_err("the ledger is unreachable");
    assert!(err.error_type.starts_with("Retryable."), "{err}");

    // 3. The next run reports every finding once, with the ledger summary.
    stage.emu.clear_faults();
    let answer = g.invoke(schedule()).await.unwrap_or_else(|e| panic!("audit: {e}\n{}", g.logs()));
    assert_eq!(audit_seed::findings_by_code(&answer), audit_seed::every_code_expected(), "{answer:#}");
    // Both runs wrote their four reports (named by their time); only the one that finished
    // became what the next run compares with.
    let keys = reports().await;
    assert_eq!(keys.len(), 2 * 4 + 1, "json, md, html, ocsf of each run, and the latest pointer: {keys:?}");
    for key in &keys {
        assert!(!audit_seed::report_object(aws, key).await.is_empty(), "{key} is whole");
    }
    let latest = audit_seed::report_object(aws, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await;
    let latest: serde_json::Value = serde_json::from_str(&latest).expect("a whole pointer");
    assert_eq!(latest["generated_at"], answer["generated_at"], "the failed run is not history");
    assert_eq!(answer["new"], 19, "the failed run is not compared with: {answer:#}");
    let summary = tables::ledger_entries(
        aws,
        &LedgerKey::Report { account: ACCOUNT.to_string(), region: REGION.to_string() }.to_string(),
    )
    .await;
    assert_eq!(summary.len(), 1, "{summary:#?}");
    assert_eq!(summary[0]["total"], 19);
    figures::record("drift-auditor crash mid-audit", crash_figures(3));
}
