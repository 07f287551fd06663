//! Reliability: the scenarios of the three functions run once fault-free and with the
//! emulator failing ~30% of their calls (plus 503s, 500s and slow answers), once per round
//! (`VPCWARDEN_SOAK_ROUNDS`, 1 in `make test`, more in `make soak`), each round with its own
//! fault seed; a sweep is re-invoked (bounded) until it answers Ok, and the end state — routes,
//! statuses, connection states, ledger actions by meaning, findings — must equal the fault-free
//! run's. Then replay and concurrency (every event type at least 5 times, 16 invocations at once
//! on 16 processes: effects exactly once, no error answers), and a scan of the functions' logs
//! for credentials and whole event payloads. Figures go to `<target>/reliability/figures.jsonl`.
//!
//! Faults are only active while the functions run: the harness's own seeding and reading happen
//! with no rule in place, so only the functions' calls are faulted.
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcwarden::domain::{LedgerAction, LedgerKey};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::{cloudtrail_peering, schedule};
use vpcwarden_tests::figures::{self, soak_rounds};
use vpcwarden_tests::privatelink::{
    self, connection_states, endpoint_grant, grant_record, principal, sns_event, stream_event, Consumer, Service,
};
use vpcwarden_tests::securityhub;
use vpcwarden_tests::seed::{self, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, InvokeError, ACCOUNT, REGION};

const ACCEPTOR: &str = "peering-acceptor";
const APPROVER: &str = "endpoint-approver";
const AUDITOR: &str = "drift-auditor";
/// Invocations at once in the replay tests, each on its own process (Lambda's instances).
const CONCURRENCY: usize = 16;
const PEER: &str = "222222222222";
const STRANGER: &str = "333333333333";
const VENDOR: &str = "210987654321";
const VENDOR2: &str = "444444444444";
const ROLE: &str = "vpcwarden-member";
/// Bound on re-invocations of a sweep under faults.
const ATTEMPTS: usize = 10;
/// Bound on one invocation (the functions' Lambda timeout is larger).
const INVOKE_TIMEOUT: Duration = Duration::from_secs(90);

// -- faults -----------------------------------------------------------------------------------

/// ~30% of EC2, ELB, S3 and DynamoDB calls fail; a few 503s and 500s first; some EC2 calls are slow. `hard` are
/// rules whose errors the SDK does not retry (HTTP 400) but vpcwarden classifies as retryable, so
/// an invocation dies in the middle (e.g. between accept and routing) and answers an error.
fn inject_faults(stage: &Stage, seed: u64, hard: &[Value]) -> Vec<String> {
    let mut rules: Vec<Value> = hard.to_vec();
    rules.extend([
        json!({"service": "ec2", "count": 3, "error": "ServiceUnavailable"}),
        json!({"service": "dynamodb", "count": 2, "error": "InternalError"}),
        json!({"service": "ec2", "fraction": 0.3, "seed": seed, "error": "RequestLimitExceeded"}),
        json!({"service": "ec2", "fraction": 0.2, "seed": seed + 1, "error": null, "delay_ms": 200}),
        json!({"service": "dynamodb", "fraction": 0.3, "seed": seed + 2, "error": "ThrottlingException"}),
        json!({"service": "elasticloadbalancing", "fraction": 0.3, "seed": seed + 3, "error": "Throttling"}),
        json!({"service": "s3", "fraction": 0.3, "seed": seed + 4, "error": "InternalError", "status": 500}),
    ]);
    rules.into_iter().map(|r| stage.emu.add_fault(r)).collect()
}

#[derive(Debug, Default)]
struct FaultFigures {
    injected: u64,
    delayed: u64,
    invocations: usize,
    error_answers: usize,
}

/// The fault-free run of `scenario`, then [`soak_rounds`] faulted runs (seed `base + 100·round`),
/// each compared with it; the figures of each round are recorded.
async fn faulted_rounds<F, Fut>(scenario: &str, base: u64, run: F) -> BTreeMap<String, Value>
where
    F: Fn(Option<u64>) -> Fut,
    Fut: std::future::Future<Output = (BTreeMap<String, Value>, FaultFigures)>,
{
    let ((clean, clean_figures), mut faulted) = tokio::join!(run(None), run(Some(base)));
    assert_eq!(clean_figures.error_answers, 0, "the fault-free run answers Ok");
    for round in 0..soak_rounds() {
        let seed = base + 100 * round;
        if round > 0 {
            faulted = run(Some(seed)).await;
        }
        let (state, figures) = &faulted;
        let diff = differences(&clean, state);
        figures::record(
            scenario,
            json!({"seed": seed, "invocations": figures.invocations + if round == 0 { clean_figures.invocations } else { 0 },
                   "error_answers": figures.error_answers, "faults_injected": figures.injected,
                   "delayed": figures.delayed, "state_differences": diff.len()}),
        );
        assert!(figures.injected > 0, "faults were injected");
        assert!(figures.error_answers > 0, "an invocation died in the middle and was retried");
        assert!(diff.is_empty(), "seed {seed}: state differs from the fault-free run:\n{}", diff.join("\n"));
    }
    clean
}

/// Invokes `event` until the function answers Ok, at most [`ATTEMPTS`] times; every error answer
/// must be retryable (Lambda would retry it) and arrive within the timeout.
async fn until_ok(f: &Function, event: &Value, figures: &mut FaultFigures) -> Value {
    let mut errors: Vec<InvokeError> = Vec::new();
    for _ in 0..ATTEMPTS {
        figures.invocations += 1;
        let started = Instant::now();
        let result = f.invoke_with_timeout(event.clone(), INVOKE_TIMEOUT).await;
        assert!(started.elapsed() < INVOKE_TIMEOUT, "answered within its timeout");
        match result {
            Ok(answer) => return answer,
            Err(e) => {
                assert!(e.error_type.starts_with("Retryable."), "a fault must answer a retryable error: {e}");
                figures.error_answers += 1;
                errors.push(e);
            }
        }
    }
    panic!("no Ok answer in {ATTEMPTS} attempts: {errors:#?}\n{}", f.logs());
}

fn read_fault_counters(stage: &Stage, figures: &mut FaultFigures) {
    let faults = stage.emu.faults();
    figures.injected = faults["injected"].as_u64().unwrap_or_default();
    figures.delayed = faults["delayed"].as_u64().unwrap_or_default();
}

// -- peering estate ---------------------------------------------------------------------------

/// Our hub (10.0.0.0/16, 3 tables); a same-account requester (granted); a cross-account
/// requester (granted, wired on its side through the member role); a stranger (no grant).
struct PeeringEstate {
    hub: SeededVpc,
    vpcs: BTreeMap<&'static str, SeededVpc>,
    pcx: BTreeMap<&'static str, String>,
}

async fn peering_estate(stage: &Stage) -> PeeringEstate {
    let aws = &stage.aws;
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await;
    let same = seed::vpc(aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(1).create().await;
    let cross = seed::vpc(aws, PEER, REGION, "10.2.0.0/16").await.secondary("100.64.0.0/20").create().await;
    let stranger = seed::vpc(aws, STRANGER, REGION, "10.3.0.0/16").await.create().await;
    tables::put_peering_grant(aws, Some(&hub.id), ACCOUNT, &[], None, None).await;
    tables::put_peering_grant(aws, None, PEER, &["10.0.0.0/8", "100.64.0.0/10"], None, None).await;
    let mut pcx = BTreeMap::new();
    pcx.insert("same", seed::request_peering(aws, &same, &hub).await);
    pcx.insert("cross", seed::request_peering(aws, &cross, &hub).await);
    pcx.insert("stranger", seed::request_peering(aws, &stranger, &hub).await);
    let vpcs = BTreeMap::from([("same", same), ("cross", cross), ("stranger", stranger)]);
    PeeringEstate { hub, vpcs, pcx }
}

/// Everything the scenario's outcome consists of, with ids replaced by names so two emulators
/// compare: routes per (vpc, table index), peering statuses, ledger actions as sets.
async fn peering_state(stage: &Stage, estate: &PeeringEstate) -> BTreeMap<String, Value> {
    let names: BTreeMap<&str, &str> = estate.pcx.iter().map(|(k, v)| (v.as_str(), *k)).collect();
    let mut state = BTreeMap::new();
    let all: Vec<(&str, &SeededVpc)> =
        std::iter::once(("hub", &estate.hub)).chain(estate.vpcs.iter().map(|(k, v)| (*k, v))).collect();
    for (name, vpc) in all {
        let mut routes = Vec::new();
        for (rtb, dest, target, route_state) in seed::routes(&stage.aws, vpc).await {
            let table = vpc.route_tables.iter().position(|t| *t == rtb).map_or("?".into(), |i| i.to_string());
            let target = names.get(target.as_str()).map_or(target.clone(), |n| format!("pcx:{n}"));
            routes.push(format!("{table} {dest} -> {target} ({route_state})"));
        }
        routes.sort();
        state.insert(format!("routes {name}"), json!(routes));
    }
    for (name, pcx) in &estate.pcx {
        let status = seed::peering_status(&stage.aws, ACCOUNT, REGION, pcx).await;
        state.insert(format!("status {name}"), json!(status));
        let actions: BTreeSet<LedgerAction> = decisions(tables::peering_actions(&stage.aws, pcx).await);
        state.insert(format!("ledger {name}"), json!(actions));
    }
    state
}

/// Ledger actions, failure records left out (they say a try failed, not what was decided).
fn decisions(actions: Vec<LedgerAction>) -> BTreeSet<LedgerAction> {
    let failure = |a: &LedgerAction| {
        matches!(a, LedgerAction::AcceptFailed | LedgerAction::RejectFailed | LedgerAction::RoutesFailed)
    };
    actions.into_iter().filter(|a| !failure(a)).collect()
}

/// The peering scenario: sweeps until Ok, then one more sweep that must change nothing.
async fn run_peering(faults: Option<u64>) -> (BTreeMap<String, Value>, FaultFigures) {
    let stage = Stage::new().await;
    let estate = peering_estate(&stage).await;
    let f = stage.function(ACCEPTOR, &[("REQUESTER_ROLE_NAME", ROLE)]);
    let mut figures = FaultFigures::default();
    if let Some(seed) = faults {
        let hard = [
            json!({"service": "ec2", "action": "CreateRoute", "count": 2, "error": "Unavailable", "status": 400}),
            json!({"service": "ec2", "action": "DescribeRouteTables", "count": 1, "error": "InternalFailure",
                   "status": 400}),
        ];
        inject_faults(&stage, seed, &hard);
    }
    // The CloudTrail event for the same-account request, then sweeps (which find the rest).
    until_ok(&f, &cloudtrail_peering("CreateVpcPeeringConnection", &estate.pcx["same"]), &mut figures).await;
    let first = until_ok(&f, &schedule(), &mut figures).await;
    let settled = until_ok(&f, &schedule(), &mut figures).await;
    read_fault_counters(&stage, &mut figures);
    stage.emu.clear_faults();
    let added = |v: &Value| {
        v["peerings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["routes_added"].as_array().map_or(0, Vec::len))
            .sum::<usize>()
    };
    assert_eq!(added(&settled), 0, "a settled estate needs no more routes: {first:#} {settled:#}");
    (peering_state(&stage, &estate).await, figures)
}

fn differences(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: fault-free {:?} vs faulted {:?}", a.get(k), b.get(k)))
        .collect()
}

#[tokio::test]
async fn peering_acceptor_under_faults_ends_in_the_fault_free_state() {
    let clean = faulted_rounds("peering-acceptor under faults", 7, run_peering).await;
    // The expected story, so that "equal" is not "equally broken".
    assert_eq!(clean["status same"], "active", "{clean:#?}");
    assert_eq!(clean["status cross"], "active", "{clean:#?}");
    assert_eq!(clean["status stranger"], "pending-acceptance", "{clean:#?}");
    assert!(clean["ledger same"].as_array().unwrap().contains(&json!("accepted")), "{clean:#?}");
    assert_eq!(clean["routes hub"].as_array().unwrap().iter().filter(|r| r.to_string().contains("pcx:")).count(), 9);
}

/// A bug found by this scenario, kept fixed: peering-acceptor accepts, then writes the `accepted` ledger
/// record (shared/src/acceptor/mod.rs, `Decision::Accept` arm). If that write fails, the
/// invocation answers a retryable error, and every later sweep sees an active, tagged connection
/// and only reconciles its routes: the acceptance decision is never recorded. The ledger is also
/// what `cleanup_vanished` trusts to remove routes of a connection AWS no longer describes.
#[tokio::test]

async fn a_ledger_write_failing_right_after_accept_is_not_lost() {
    let stage = Stage::new().await;
    let estate = peering_estate(&stage).await;
    let f = stage.function(ACCEPTOR, &[]);
    let pcx = &estate.pcx["same"];
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "PutItem", "count": 1, "error": "InternalFailure",
                               "status": 400}));
    let err = f.invoke(cloudtrail_peering("CreateVpcPeeringConnection", pcx)).await.expect_err("ledger down");
    assert!(err.error_type.starts_with("Retryable."), "{err}");
    let mut figures = FaultFigures::default();
    until_ok(&f, &schedule(), &mut figures).await;
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, pcx).await, "active");
    let actions = tables::peering_actions(&stage.aws, pcx).await;
    assert!(actions.contains(&LedgerAction::Accepted), "the acceptance is in the ledger: {actions:?}");
}

// -- endpoint estate --------------------------------------------------------------------------

/// One service; VENDOR granted (no limit, 2 endpoints); VENDOR2 granted with max 1 (2
/// endpoints: one accepted, one over quota and rejected); STRANGER unlisted (rejected:
/// UNLISTED_ACTION=reject).
struct EndpointEstate {
    service: Service,
    endpoints: BTreeMap<String, String>,
}

async fn endpoint_estate(stage: &Stage) -> EndpointEstate {
    let provider = privatelink::provider(&stage.aws, true).await;
    let principals: Vec<String> = [VENDOR, VENDOR2, STRANGER].iter().map(|a| principal(a)).collect();
    let service = privatelink::service(&stage.aws, &provider, &principals).await;
    let allowlist = vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST);
    allowlist.put(&endpoint_grant(&service.id, VENDOR, None, None)).await.expect("grant");
    allowlist.put(&endpoint_grant(&service.id, VENDOR2, Some(1), None)).await.expect("grant");
    let mut endpoints = BTreeMap::new();
    for (account, n) in [(VENDOR, 2), (VENDOR2, 2), (STRANGER, 1)] {
        let consumer: Consumer = privatelink::consumer(&stage.aws, account, "10.1.0.0/16").await;
        for i in 0..n {
            endpoints.insert(format!("{account}/{i}"), consumer.connect(&service).await);
        }
    }
    EndpointEstate { service, endpoints }
}

/// Per consumer account, the (state, ledger actions) of its connections, sorted: which of two
/// connections made in the same second wins a quota depends on their (random) ids, so two
/// emulators are compared per account, not per endpoint.
async fn endpoint_state(stage: &Stage, estate: &EndpointEstate) -> BTreeMap<String, Value> {
    let states = connection_states(&stage.aws, &estate.service.id).await;
    let mut by_account: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, id) in &estate.endpoints {
        let account = name.split('/').next().unwrap_or_default().to_string();
        let actions = decisions(tables::endpoint_actions(&stage.aws, id).await);
        by_account.entry(account).or_default().push(json!({"state": states.get(id), "ledger": actions}));
    }
    by_account
        .into_iter()
        .map(|(account, mut list)| {
            list.sort_by_key(|v| v.to_string());
            (format!("connections {account}"), json!(list))
        })
        .collect()
}

async fn run_endpoints(faults: Option<u64>) -> (BTreeMap<String, Value>, FaultFigures) {
    let stage = Stage::new().await;
    let estate = endpoint_estate(&stage).await;
    let f = stage.function(APPROVER, &[("UNLISTED_ACTION", "reject")]);
    let mut figures = FaultFigures::default();
    if let Some(seed) = faults {
        let hard = [
            json!({"service": "ec2", "action": "AcceptVpcEndpointConnections", "count": 1, "error": "Unavailable",
                   "status": 400}),
            json!({"service": "dynamodb", "action": "PutItem", "count": 1, "error": "InternalFailure", "status": 400}),
        ];
        inject_faults(&stage, seed, &hard);
    }
    let first = &estate.endpoints[&format!("{VENDOR}/0")];
    let note = sns_event("Connect", &estate.service.id, first, VENDOR, "pendingAcceptance");
    until_ok(&f, &note, &mut figures).await;
    until_ok(&f, &schedule(), &mut figures).await;
    read_fault_counters(&stage, &mut figures);
    stage.emu.clear_faults();
    (endpoint_state(&stage, &estate).await, figures)
}

#[tokio::test]
async fn endpoint_approver_under_faults_ends_in_the_fault_free_state() {
    let clean = faulted_rounds("endpoint-approver under faults", 11, run_endpoints).await;
    let states: Vec<&Value> = clean.values().flat_map(|list| list.as_array().unwrap()).map(|c| &c["state"]).collect();
    // VENDOR's two, VENDOR2's oldest (max_endpoints 1); VENDOR2's second (over quota) and the
    // stranger's are rejected (UNLISTED_ACTION=reject).
    assert_eq!(states.iter().filter(|s| **s == "available").count(), 3, "{clean:#?}");
    assert_eq!(states.iter().filter(|s| **s == "rejected").count(), 2, "{clean:#?}");
    assert_eq!(clean[&format!("connections {STRANGER}")][0]["state"], "rejected", "{clean:#?}");
}

// -- audit estate -----------------------------------------------------------------------------

/// Every finding code once (audit_seed::every_code_estate), audited two nights with Security Hub
/// on; during the day one drift goes (a waiver about to end is removed), one comes (another such
/// waiver) and one finding is waived. What is compared, in terms that do not depend on the
/// emulator's random ids: the second night's findings, history and Security Hub state, that
/// first sightings carried over, the files of the newest run and the newest ledger summary.
async fn run_audit(faults: Option<u64>) -> (BTreeMap<String, Value>, FaultFigures) {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    audit_seed::every_code_estate(aws).await;
    audit_seed::ensure_bucket(aws).await;
    securityhub::enable(aws, ACCOUNT, REGION).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // pending requests: second-resolution times
    let env = [
        ("REPORT_BUCKET", BUCKET),
        ("REPORT_PREFIX", "nightly"),
        ("STALE_PENDING_HOURS", "0"),
        ("SECURITY_HUB", "true"),
    ];
    let f = stage.function(AUDITOR, &env);
    let mut figures = FaultFigures::default();
    let first = audit_night(&stage, &f, faults, &mut figures).await;
    let report_one = latest_report(&stage).await;

    let auto_accept =
        report_one["findings"].as_array().unwrap().iter().find(|f| f["code"] == "ENDPOINT_SERVICE_AUTO_ACCEPT");
    let service = auto_accept.and_then(|f| f["resource"].as_str()).expect("the auto-accepting service").to_string();
    tables::delete_item(aws, tables::ALLOWLIST, "waiver#PEERING_ROUTE_MISSING", "resource#rtb-0000000000000000f").await;
    let now = vpcwarden::clock::now_epoch();
    tables::put_waiver(aws, "PEERING_ROUTE_MISSING", "rtb-0000000000000000e", now + 2 * 86_400, None).await;
    tables::put_waiver(aws, "ENDPOINT_SERVICE_AUTO_ACCEPT", &service, now + 30 * 86_400, None).await;
    let second = audit_night(&stage, &f, faults.map(|s| s + 50), &mut figures).await;

    let report = latest_report(&stage).await;
    let list = |name: &str, fields: &[&str]| -> Value {
        let mut rows: Vec<String> = report[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| fields.iter().map(|k| f[*k].as_str().unwrap_or("").to_string()).collect::<Vec<_>>().join(" "))
            .collect();
        rows.sort();
        json!(rows)
    };
    let persisting_since_night_one = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "persisting")
        .all(|f| f["first_seen"] == first["generated_at"]);
    let hub: Vec<String> = securityhub::findings(aws, ACCOUNT, REGION, None)
        .await
        .into_iter()
        .map(|s| format!("{} {} {} {}", s.generator, s.record_state, s.compliance, s.workflow))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let hub_count = securityhub::findings(aws, ACCOUNT, REGION, None).await.len();
    let pointer: Value =
        serde_json::from_str(&audit_seed::report_object(aws, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await)
            .unwrap();
    let run_dir = pointer["report"].as_str().unwrap().trim_end_matches("report.json").to_string();
    let files: Vec<String> =
        audit_seed::report_keys(aws, &run_dir).await.into_iter().map(|k| k.replace(&run_dir, "")).collect();
    let summaries = tables::ledger_entries(
        aws,
        &LedgerKey::Report { account: ACCOUNT.to_string(), region: REGION.to_string() }.to_string(),
    )
    .await;
    let mut scopes = second["scopes"].clone();
    let compared = scopes[0].as_object_mut().and_then(|s| s.remove("compared_with"));
    let state = BTreeMap::from([
        ("findings".to_string(), second["findings"].clone()),
        (
            "totals".to_string(),
            json!([first["total"], second["total"], second["new"], second["resolved"], second["waived"]]),
        ),
        ("scopes".to_string(), scopes),
        ("history: compared with night one".to_string(), json!(compared.as_ref() == Some(&first["generated_at"]))),
        ("history: findings".to_string(), list("findings", &["code", "status"])),
        ("history: resolved".to_string(), list("resolved", &["code"])),
        ("history: waived".to_string(), list("waived", &["code", "status"])),
        ("history: first sightings carried over".to_string(), json!(persisting_since_night_one)),
        ("security hub".to_string(), json!(hub)),
        ("security hub findings".to_string(), json!(hub_count)),
        ("report files".to_string(), json!(files)),
        ("newest ledger summary".to_string(), summaries.last().map(|s| s["total"].clone()).unwrap_or_default()),
    ]);
    (state, figures)
}

/// One night under `faults` (seeded), invoked until it answers Ok.
async fn audit_night(stage: &Stage, f: &Function, faults: Option<u64>, figures: &mut FaultFigures) -> Value {
    if let Some(seed) = faults {
        let hard = [
            json!({"service": "elasticloadbalancing", "action": "DescribeTargetHealth", "count": 1,
                   "error": "ValidationError", "status": 400}),
            json!({"service": "dynamodb", "action": "PutItem", "count": 1, "error": "InternalFailure", "status": 400}),
            json!({"service": "securityhub", "action": "BatchImportFindings", "count": 1,
                   "error": "InternalException", "status": 400}),
        ];
        inject_faults(stage, seed, &hard);
    }
    let answer = until_ok(f, &schedule(), figures).await;
    let before = (figures.injected, figures.delayed);
    read_fault_counters(stage, figures);
    figures.injected = figures.injected.max(before.0);
    figures.delayed = figures.delayed.max(before.1);
    stage.emu.clear_faults();
    answer
}

/// The JSON report the scope's `latest` pointer names.
async fn latest_report(stage: &Stage) -> Value {
    let pointer = audit_seed::report_object(&stage.aws, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await;
    let pointer: Value = serde_json::from_str(&pointer).expect("the latest pointer parses");
    serde_json::from_str(&audit_seed::report_object(&stage.aws, pointer["report"].as_str().unwrap()).await).unwrap()
}

#[tokio::test]
async fn drift_auditor_under_faults_ends_in_the_fault_free_state() {
    let clean = faulted_rounds("drift-auditor under faults", 13, run_audit).await;
    let mut expected = audit_seed::every_code_expected();
    expected.remove("ENDPOINT_SERVICE_AUTO_ACCEPT"); // waived on the second night
    assert_eq!(clean["findings"], json!(expected), "{clean:#?}");
    assert_eq!(clean["totals"], json!([19, 18, 1, 1, 1]), "{clean:#?}");
    assert_eq!(clean["history: resolved"], json!(["WAIVER_EXPIRING"]));
    assert_eq!(clean["history: waived"], json!(["ENDPOINT_SERVICE_AUTO_ACCEPT persisting"]));
    assert_eq!(clean["history: first sightings carried over"], json!(true));
    assert_eq!(clean["history: compared with night one"], json!(true));
    assert_eq!(clean["security hub findings"], json!(20), "18 open, 1 waived, 1 resolved: {clean:#?}");
    let hub = clean["security hub"].to_string();
    assert!(hub.contains("vpcwarden/WAIVER_EXPIRING ARCHIVED PASSED"), "{hub}");
    assert!(hub.contains("vpcwarden/ENDPOINT_SERVICE_AUTO_ACCEPT ACTIVE FAILED SUPPRESSED"), "{hub}");
    let files = json!(["report.html", "report.json", "report.md", "report.ocsf.json"]);
    assert_eq!(clean["report files"], files, "{clean:#?}");
    assert_eq!(clean["newest ledger summary"], json!(18), "{clean:#?}");
}

// -- replay and concurrency -------------------------------------------------------------------

/// Runs `events` [`CONCURRENCY`] at a time over `functions` (round robin); every answer.
async fn concurrently(functions: &[Function], events: Vec<Value>) -> Vec<Result<Value, InvokeError>> {
    let mut answers = Vec::new();
    for chunk in events.chunks(CONCURRENCY) {
        let runs = chunk
            .iter()
            .enumerate()
            .map(|(i, e)| functions[i % functions.len()].invoke_with_timeout(e.clone(), INVOKE_TIMEOUT));
        answers.extend(futures::future::join_all(runs).await);
    }
    answers
}

fn all_ok(answers: Vec<Result<Value, InvokeError>>, logs: impl Fn() -> String) -> Vec<Value> {
    let errors: Vec<String> = answers.iter().filter_map(|a| a.as_ref().err()).map(ToString::to_string).collect();
    assert!(errors.is_empty(), "error answers while racing: {errors:#?}\n{}", logs());
    answers.into_iter().map(Result::unwrap).collect()
}

#[tokio::test]
async fn peering_events_replayed_and_racing_take_effect_exactly_once() {
    let stage = Stage::new().await;
    let hub = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(3).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.1.0.0/16").await.route_tables(2).create().await;
    tables::put_peering_grant(&stage.aws, Some(&hub.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &hub).await;
    let functions: Vec<Function> = (0..CONCURRENCY).map(|_| stage.function(ACCEPTOR, &[])).collect();
    let logs = || functions.iter().map(Function::logs).collect::<Vec<_>>().join("\n---\n");

    // Create event ×8 and schedule ×8, interleaved, all at once.
    let create = cloudtrail_peering("CreateVpcPeeringConnection", &pcx);
    let events: Vec<Value> = (0..CONCURRENCY).map(|i| if i % 2 == 0 { create.clone() } else { schedule() }).collect();
    let answers = all_ok(concurrently(&functions, events).await, logs);
    let of_pcx = |a: &Value| -> Vec<Value> {
        a["peerings"].as_array().into_iter().flatten().filter(|o| o["pcx"] == pcx.as_str()).cloned().collect()
    };
    let added: usize = answers.iter().flat_map(of_pcx).map(|o| o["routes_added"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(added, 4 + 3, "each route created exactly once across the answers");
    let accepted = answers.iter().flat_map(of_pcx).filter(|o| o["action"] == "accepted").count();
    assert!(accepted >= 1, "{answers:#?}");
    let actions = tables::peering_actions(&stage.aws, &pcx).await;
    assert_eq!(actions.iter().filter(|a| **a == LedgerAction::Accepted).count(), 1, "one accepted record: {actions:?}");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await, "active");

    // Delete event ×5 and schedule ×5 after the pcx is deleted: routes removed exactly once.
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    ec2.delete_vpc_peering_connection().vpc_peering_connection_id(&pcx).send().await.expect("delete");
    let delete = cloudtrail_peering("DeleteVpcPeeringConnection", &pcx);
    let events: Vec<Value> = (0..CONCURRENCY).map(|i| if i % 2 == 0 { delete.clone() } else { schedule() }).collect();
    let answers = all_ok(concurrently(&functions, events).await, logs);
    let removed: usize =
        answers.iter().flat_map(of_pcx).map(|o| o["routes_removed"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(removed, 4 + 3, "each route removed exactly once across the answers: {answers:#?}");
    let left: Vec<_> = [seed::routes(&stage.aws, &hub).await, seed::routes(&stage.aws, &req).await]
        .concat()
        .into_iter()
        .filter(|(_, _, target, _)| *target == pcx)
        .collect();
    assert!(left.is_empty(), "no blackhole left: {left:?}");
    figures::record(
        "peering-acceptor replay and race",
        json!({"invocations": 2 * CONCURRENCY, "concurrent": CONCURRENCY, "replays_per_event_type": CONCURRENCY / 2,
               "event_types": ["CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "schedule"],
               "error_answers": 0, "duplicate_effects": 0}),
    );
}

#[tokio::test]
async fn endpoint_events_replayed_and_racing_take_effect_exactly_once() {
    let stage = Stage::new().await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let service = privatelink::service(&stage.aws, &provider, &[principal(VENDOR), principal(VENDOR2)]).await;
    let vendor = privatelink::consumer(&stage.aws, VENDOR, "10.1.0.0/16").await;
    let endpoint = vendor.connect(&service).await;
    let vendor2 = privatelink::consumer(&stage.aws, VENDOR2, "10.2.0.0/16").await;
    let quota = [vendor2.connect(&service).await, vendor2.connect(&service).await];
    let allowlist = vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST);
    let g1 = endpoint_grant(&service.id, VENDOR, None, None);
    let g2 = endpoint_grant(&service.id, VENDOR2, Some(1), None);
    allowlist.put(&g1).await.expect("grant");
    allowlist.put(&g2).await.expect("grant");
    let functions: Vec<Function> = (0..CONCURRENCY).map(|_| stage.function(APPROVER, &[])).collect();
    let logs = || functions.iter().map(Function::logs).collect::<Vec<_>>().join("\n---\n");

    // SNS ×6, schedule ×5, stream INSERT ×5, interleaved, all at once.
    let note = sns_event("Connect", &service.id, &endpoint, VENDOR, "pendingAcceptance");
    let stream = stream_event(vec![grant_record("INSERT", &g1, false), grant_record("INSERT", &g2, false)]);
    let events: Vec<Value> =
        (0..CONCURRENCY).map(|i| [note.clone(), schedule(), stream.clone()][i % 3].clone()).collect();
    let answers = all_ok(concurrently(&functions, events).await, logs);

    let states = connection_states(&stage.aws, &service.id).await;
    assert_eq!(states[&endpoint], "available");
    let quota_states: BTreeSet<&str> = quota.iter().map(|e| states[e].as_str()).collect();
    assert_eq!(quota_states, BTreeSet::from(["available", "pendingAcceptance"]), "max_endpoints=1 holds");
    // `accepted` lists what this run accepted or found already accepted (a racing run did it);
    // the accept that took effect is the one whose outcome is `done`.
    let connections: Vec<Value> = answers
        .iter()
        .flat_map(|a| a["services"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| s["connections"].as_array().cloned().unwrap_or_default())
        .collect();
    let done: Vec<String> = connections
        .iter()
        .filter(|c| c["outcome"]["outcome"] == "done")
        .map(|c| c["endpoint_id"].as_str().unwrap_or_default().to_string())
        .collect();
    let listed: usize = answers
        .iter()
        .flat_map(|a| a["services"].as_array().cloned().unwrap_or_default())
        .map(|s| s["accepted"].as_array().map_or(0, Vec::len))
        .sum();
    let mut accept_records = 0;
    for e in [&endpoint, &quota[0], &quota[1]] {
        accept_records +=
            tables::endpoint_actions(&stage.aws, e).await.iter().filter(|a| **a == LedgerAction::Accepted).count();
    }
    figures::record(
        "endpoint-approver replay and race",
        json!({"invocations": CONCURRENCY, "concurrent": CONCURRENCY, "replays_per_event_type": CONCURRENCY / 3,
               "event_types": ["sns Connect", "schedule", "allowlist stream INSERT"], "error_answers": 0,
               "accepts_done": done.len(), "listed_as_accepted": listed, "accept_ledger_records": accept_records}),
    );
    let mut expected =
        vec![endpoint.clone(), states.iter().find(|(e, s)| quota.contains(e) && *s == "available").unwrap().0.clone()];
    expected.sort();
    let mut done = done;
    done.sort();
    assert_eq!(done, expected, "each connection accepted exactly once across the answers: {connections:#?}");
}

#[tokio::test]
async fn audits_replayed_and_racing_report_the_same_findings() {
    let stage = Stage::new().await;
    audit_seed::every_code_estate(&stage.aws).await;
    audit_seed::ensure_bucket(&stage.aws).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let env = [("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "nightly"), ("STALE_PENDING_HOURS", "0")];
    let runs = 5;
    let functions: Vec<Function> = (0..runs).map(|_| stage.function(AUDITOR, &env)).collect();
    let logs = || functions.iter().map(Function::logs).collect::<Vec<_>>().join("\n---\n");
    let answers = all_ok(concurrently(&functions, vec![schedule(); runs]).await, logs);
    for answer in &answers {
        assert_eq!(audit_seed::findings_by_code(answer), audit_seed::every_code_expected(), "{answer:#}");
    }
    // Each run writes its own four objects (named by its time), one latest pointer names one of
    // them (whole objects, the last write wins), and each run has its own summary.
    let keys = audit_seed::report_keys(&stage.aws, "nightly/").await;
    assert_eq!(keys.len(), 4 * runs + 1, "{keys:?}");
    let latest = audit_seed::report_object(&stage.aws, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await;
    let latest: Value = serde_json::from_str(&latest).expect("a whole pointer");
    let json_key = latest["report"].as_str().unwrap();
    assert!(keys.iter().any(|k| k == json_key), "the pointer names a run's report: {latest}");
    let report: Value =
        serde_json::from_str(&audit_seed::report_object(&stage.aws, json_key).await).expect("whole JSON");
    assert_eq!(report["summary"]["total"], 19);
    let summaries = tables::ledger_entries(
        &stage.aws,
        &LedgerKey::Report { account: ACCOUNT.to_string(), region: REGION.to_string() }.to_string(),
    )
    .await;
    assert_eq!(summaries.len(), runs, "one summary per run (runs in the same millisecond would share one)");
    figures::record(
        "drift-auditor replay and race",
        json!({"invocations": runs, "concurrent": runs, "replays_per_event_type": runs, "event_types": ["schedule"],
               "error_answers": 0}),
    );
}

// -- logs -------------------------------------------------------------------------------------

/// Up to 160 characters of `logs` around `needle`, for a readable failure.
fn around(logs: &str, at: usize) -> String {
    let start = logs.floor_char_boundary(at.saturating_sub(80));
    let end = logs.ceil_char_boundary((at + 80).min(logs.len()));
    logs[start..end].to_string()
}

/// What must never be in a function's logs: credentials and whole event payloads. The SDK's
/// debug logs name credential fields with the value redacted; those are fine.
fn assert_clean_logs(name: &str, logs: &str, payload_markers: &[&str]) {
    assert!(!logs.is_empty(), "{name} logged something");
    let mut scrubbed = logs.to_string();
    for redacted in [
        "secret_access_key: \\\"** redacted **\\\"",
        "session_token: \\\"** redacted **\\\"",
        "secret_access_key: \"** redacted **\"",
        "session_token: \"** redacted **\"",
    ] {
        scrubbed = scrubbed.replace(redacted, "");
    }
    let lower = scrubbed.to_ascii_lowercase();
    for field in ["secret_access_key", "secretaccesskey", "session_token", "sessiontoken", "x-amz-security-token"] {
        if let Some(at) = lower.find(field) {
            panic!("{name} logs a credential field `{field}`: …{}…", around(&scrubbed, at));
        }
    }
    // The harness's dummy secret is "testing": never as a value.
    for pattern in ["\"testing\"", "\\\"testing\\\"", "=testing", ": testing"] {
        if let Some(at) = scrubbed.find(pattern) {
            panic!("{name} logs the secret key (`{pattern}`): …{}…", around(&scrubbed, at));
        }
    }
    // moto's session tokens (from AssumeRole) start like AWS's; a signed request header.
    for pattern in ["FQoGZXIvYXdzE", "AWS4-HMAC-SHA256 Credential", "Signature="] {
        if let Some(at) = scrubbed.find(pattern) {
            panic!("{name} logs a credential (`{pattern}`): …{}…", around(&scrubbed, at));
        }
    }
    for marker in payload_markers {
        if let Some(at) = scrubbed.find(marker) {
            panic!("{name} logs the whole event (`{marker}` found): …{}…", around(&scrubbed, at));
        }
    }
}

#[tokio::test]
async fn logs_hold_no_credentials_or_whole_event_payloads() {
    // peering-acceptor: CloudTrail event and a sweep that assumes the member role.
    let stage = Stage::new().await;
    let estate = peering_estate(&stage).await;
    let f = stage.function(ACCEPTOR, &[("REQUESTER_ROLE_NAME", ROLE), ("RUST_LOG", "debug")]);
    f.invoke(cloudtrail_peering("CreateVpcPeeringConnection", &estate.pcx["same"])).await.expect("create");
    f.invoke(schedule()).await.expect("sweep");
    f.invoke(json!({"hello": "world", "secret": "unrelated"})).await.expect_err("bad event");
    // Fields of the CloudTrail event the function never needs: present only if it logs it whole.
    assert_clean_logs(ACCEPTOR, &f.logs(), &["203.0.113.10", "aws-cli/2.15.0", "7bf73129-1428-4cd3-a780-95db273d1602"]);

    // endpoint-approver: SNS notification (the raw message body must not be logged whole) and
    // the allowlist stream.
    let estate = endpoint_estate(&stage).await;
    let f = stage.function(APPROVER, &[("RUST_LOG", "debug")]);
    let first = &estate.endpoints[&format!("{VENDOR}/0")];
    let note = sns_event("Connect", &estate.service.id, first, VENDOR, "pendingAcceptance");
    let body = note["Records"][0]["Sns"]["Message"].as_str().unwrap().to_string();
    f.invoke(note).await.expect("notification");
    let g = endpoint_grant(&estate.service.id, VENDOR2, Some(1), None);
    f.invoke(stream_event(vec![grant_record("INSERT", &g, false)])).await.expect("stream");
    assert_clean_logs(
        APPROVER,
        &f.logs(),
        &[&body, "vpce-con-0123456789abcdef0", "vpce-nfn-0123456789abcdef0", "SimpleNotificationService-0000.pem"],
    );
}

#[tokio::test]
async fn assumed_role_sessions_are_named_after_the_function_and_as_short_as_sts_allows() {
    let stage = Stage::new().await;
    let estate = peering_estate(&stage).await; // its cross-account requester needs the member role
    let acceptor = stage.function(ACCEPTOR, &[("REQUESTER_ROLE_NAME", ROLE)]);
    acceptor.invoke(schedule()).await.expect("sweep");
    assert_eq!(seed::peering_status(&stage.aws, ACCOUNT, REGION, &estate.pcx["cross"]).await, "active");
    audit_seed::ensure_bucket(&stage.aws).await;
    let auditor = stage.function(
        AUDITOR,
        &[
            ("REPORT_BUCKET", BUCKET),
            ("AUDIT_ACCOUNTS", &format!("{ACCOUNT},{PEER}")),
            ("AUDIT_ROLE_NAME", "vpcwarden-audit"),
        ],
    );
    auditor.invoke(schedule()).await.expect("audit");

    let sessions: BTreeSet<(String, String, String)> = stage
        .emu
        .requests()
        .into_iter()
        .filter(|r| {
            r.action == "AssumeRole" && [ACCEPTOR, AUDITOR].map(|f| format!("vpcwarden-{f}")).contains(&r.source_key)
        })
        .map(|r| {
            let p = |k: &str| r.params.get(k).cloned().unwrap_or_default();
            (p("RoleArn"), p("RoleSessionName"), p("DurationSeconds"))
        })
        .collect();
    let expected = BTreeSet::from([
        (format!("arn:aws:iam::{PEER}:role/{ROLE}"), ACCEPTOR.to_string(), "900".to_string()),
        (format!("arn:aws:iam::{PEER}:role/vpcwarden-audit"), AUDITOR.to_string(), "900".to_string()),
    ]);
    assert_eq!(sessions, expected, "every session named after its function, 900 s (STS's minimum)");
}
