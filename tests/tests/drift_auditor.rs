//! drift-auditor end to end: the built binary, through the Lambda Runtime API, against the
//! emulator. Each test seeds its own estate in its own emulator.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{json, Value};
use vpcwarden::domain::{LedgerAction, LedgerKey};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::{cloudtrail_peering, schedule};
use vpcwarden_tests::privatelink::{self, principal};
use vpcwarden_tests::seed::{self, RouteTargetSpec, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const BIN: &str = "drift-auditor";
use audit_seed::{PEER, STRANGER, THIRD};

/// The auditor with the report bucket (created here) and `extra` configuration.
async fn run(f: &Function, event: Value) -> Value {
    f.invoke(event).await.unwrap_or_else(|e| panic!("drift-auditor failed: {e}\n{}", f.logs()))
}

/// The JSON report of one scope, from S3.
async fn json_report(stage: &Stage, account: &str, region: &str) -> Value {
    let keys = audit_seed::report_keys(&stage.aws, &format!("nightly/{account}/{region}/")).await;
    // The newest run's: keys sort in run order.
    let key = keys.iter().rfind(|k| k.ends_with("/report.json")).unwrap_or_else(|| panic!("no JSON report: {keys:?}"));
    serde_json::from_str(&audit_seed::report_object(&stage.aws, key).await).expect("the JSON report parses")
}

/// Our hub VPC: 10.0.0.0/16, main table and `extra` more.
async fn hub(stage: &Stage, cidr: &str, extra: usize) -> SeededVpc {
    seed::vpc(&stage.aws, ACCOUNT, REGION, cidr).await.name("hub").route_tables(extra).create().await
}

async fn peer_vpc(stage: &Stage, account: &str, cidr: &str) -> SeededVpc {
    seed::vpc(&stage.aws, account, REGION, cidr).await.create().await
}

async fn route(stage: &Stage, vpc: &SeededVpc, table: &str, dest: &str, pcx: &str) {
    seed::add_route(&stage.aws, vpc, table, dest, RouteTargetSpec::Pcx(pcx.to_string())).await;
}

async fn ledger_actions(stage: &Stage, pcx: &str) -> Vec<LedgerAction> {
    tables::peering_actions(&stage.aws, pcx).await
}

#[tokio::test]
async fn an_estate_with_every_kind_of_drift_yields_every_code_once() {
    let stage = Stage::new().await;
    audit_seed::every_code_estate(&stage.aws).await;
    // Pending requests carry second-resolution times: let one second pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let f = audit_seed::auditor(&stage, &[("STALE_PENDING_HOURS", "0")]).await;
    let answer = run(&f, schedule()).await;
    assert_eq!(audit_seed::findings_by_code(&answer), audit_seed::every_code_expected(), "{answer:#}");
    assert_eq!(answer["total"], 19);
    assert_eq!(
        (answer["new"].as_u64(), answer["resolved"].as_u64(), answer["waived"].as_u64()),
        (Some(19), Some(0), Some(0))
    );
    assert_eq!(answer["trigger"], "schedule");
    let scopes = answer["scopes"].as_array().unwrap();
    assert_eq!((scopes.len(), scopes[0]["status"].as_str(), scopes[0]["findings"].as_u64()), (1, Some("ok"), Some(19)));
    assert!(scopes[0]["notes"][0].as_str().unwrap().contains("every finding is new"), "{answer:#}");
    assert_eq!(answer["remediated"], json!([]), "REMEDIATE is off by default");

    // The four reports are in S3 under REPORT_PREFIX/<account>/<region>/<run time>/, and the
    // scope's latest pointer names the JSON one.
    let run_time = answer["generated_at"].as_str().unwrap().replace(':', "");
    let keys = audit_seed::report_keys(&stage.aws, "nightly/").await;
    let mut want: Vec<String> = ["html", "json", "md", "ocsf.json"]
        .iter()
        .map(|e| format!("nightly/{ACCOUNT}/{REGION}/{run_time}/report.{e}"))
        .collect();
    want.push(format!("nightly/{ACCOUNT}/{REGION}/latest.json"));
    assert_eq!(keys, want);
    assert_eq!(answer["reports"].as_array().unwrap().len(), 4);
    let latest: Value =
        serde_json::from_str(&audit_seed::report_object(&stage.aws, &want[4]).await).expect("the pointer parses");
    assert_eq!(latest, json!({"generated_at": answer["generated_at"], "report": want[1]}));

    let report = json_report(&stage, ACCOUNT, REGION).await;
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["total"], 19);
    assert_eq!(report["summary"]["by_severity"], json!({"critical": 2, "high": 7, "medium": 5, "low": 5}));
    let findings = report["findings"].as_array().unwrap();
    for f in findings {
        for field in ["code", "severity", "resource", "account", "region", "message", "remediation"] {
            assert!(f[field].as_str().is_some_and(|s| !s.is_empty()), "{field} of {f}");
        }
        assert_eq!((f["account"].as_str(), f["region"].as_str()), (Some(ACCOUNT), Some(REGION)));
    }
    let md = audit_seed::report_object(&stage.aws, &want[2]).await;
    assert!(md.contains("| `PEERING_ROUTE_BLACKHOLE` | high | 1 |"), "{md}");

    // The ledger has the report's summary; the logs have the metrics.
    let entries = tables::ledger_entries(
        &stage.aws,
        &LedgerKey::Report { account: ACCOUNT.to_string(), region: REGION.to_string() }.to_string(),
    )
    .await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["sk"], answer["generated_at"]);
    assert_eq!(entries[0]["total"], 19);
    assert_eq!(entries[0]["status"], "ok");
    assert!(entries[0]["report"][0].as_str().unwrap().starts_with("s3://vpcwarden-reports/nightly/"));
    let logs = f.logs();
    let emf: Vec<Value> =
        logs.lines().filter(|l| l.starts_with("{\"_aws\"")).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(emf.len(), 4, "one EMF record per severity");
    assert_eq!(emf.iter().map(|r| r["Findings"].as_u64().unwrap()).sum::<u64>(), 19);
    assert_eq!(emf[0]["FindingsNew"], 19, "first run: everything is new");
    assert!(emf.iter().all(|r| r["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "vpcwarden"));
}

#[tokio::test]
async fn a_clean_estate_has_no_findings() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 1).await;
    let payments = peer_vpc(&stage, PEER, "10.1.0.0/16").await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    for table in &hub.route_tables {
        route(&stage, &hub, table, "10.1.0.0/16", &pcx).await;
    }
    tables::put_peering_grant(aws, Some(&hub.id), PEER, &["10.1.0.0/16"], None, None).await;
    let provider = privatelink::provider(aws, true).await;
    let svc = privatelink::service(aws, &provider, &[principal(PEER)]).await;
    tables::put_endpoint_grant(aws, &svc.id, PEER, Some(2), Some(vpcwarden::clock::now_epoch() + 365 * 86_400)).await;
    let consumer = privatelink::consumer(aws, PEER, "10.40.0.0/16").await;
    let endpoint = consumer.connect(&svc).await;
    audit_seed::accept_endpoints(aws, &svc.id, &[endpoint]).await;

    let f = audit_seed::auditor(&stage, &[("REMEDIATE", "true")]).await;
    let answer = run(&f, schedule()).await;
    assert_eq!(answer["total"], 0, "{answer:#}");
    assert_eq!(answer["findings"], json!({}));
    assert_eq!(answer["remediated"], json!([]));
    let report = json_report(&stage, ACCOUNT, REGION).await;
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["estate"]["peerings"][0]["status"], "active");
    assert_eq!(report["estate"]["services"][0]["consumers"][0]["account"], PEER);
}

#[tokio::test]
async fn remediation_fixes_exactly_what_it_may() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 2).await;
    let (main, rt1, rt2) = (hub.route_tables[0].clone(), hub.route_tables[1].clone(), hub.route_tables[2].clone());

    // Managed and active: routed in main only; rt-2 routes its CIDR to an IGW (a conflict).
    let payments = peer_vpc(&stage, PEER, "10.1.0.0/16").await;
    let live = audit_seed::active_peering(aws, &payments, &hub, true).await;
    route(&stage, &hub, &main, "10.1.0.0/16", &live).await;
    seed::add_route(aws, &hub, &rt2, "10.1.0.0/16", RouteTargetSpec::InternetGateway).await;
    tables::put_peering_grant(aws, None, PEER, &[], None, None).await;

    // Managed (tag) and deleted: its peer route goes; a route someone added to another range stays.
    let old = peer_vpc(&stage, PEER, "10.7.0.0/16").await;
    let tagged_dead = audit_seed::active_peering(aws, &old, &hub, false).await;
    // Tagged by the requester: the emulator shows the requester's tags to both sides.
    audit_seed::tag_managed(aws, PEER, REGION, &tagged_dead).await;
    route(&stage, &hub, &main, "10.7.0.0/16", &tagged_dead).await;
    route(&stage, &hub, &rt1, "10.7.0.0/16", &tagged_dead).await;
    route(&stage, &hub, &rt1, "172.16.0.0/12", &tagged_dead).await;
    audit_seed::delete_peering(aws, ACCOUNT, REGION, &tagged_dead).await;

    // Accepted by vpcwarden per the ledger (no tag), then rejected... deleted: goes too.
    let older = peer_vpc(&stage, PEER, "10.8.0.0/16").await;
    let ledgered_dead = audit_seed::active_peering(aws, &older, &hub, false).await;
    route(&stage, &hub, &rt2, "10.8.0.0/16", &ledgered_dead).await;
    audit_seed::ledger_accepted(aws, &ledgered_dead).await;
    audit_seed::delete_peering(aws, PEER, REGION, &ledgered_dead).await;

    // Not vpcwarden's: reported, never touched.
    let foreign = peer_vpc(&stage, THIRD, "10.9.0.0/16").await;
    let foreign_dead = audit_seed::active_peering(aws, &foreign, &hub, false).await;
    route(&stage, &hub, &main, "10.9.0.0/16", &foreign_dead).await;
    audit_seed::delete_peering(aws, ACCOUNT, REGION, &foreign_dead).await;

    let before = seed::routes(aws, &hub).await;
    let f = audit_seed::auditor(&stage, &[("REMEDIATE", "true")]).await;

    // A dry run lists the plan and changes nothing.
    let dry = run(&f, json!({"dry_run": true})).await;
    assert_eq!((dry["dry_run"].as_bool(), dry["trigger"].as_str()), (Some(true), Some("invoke")));
    let planned = dry["remediated"].as_array().unwrap();
    assert_eq!(planned.len(), 1 + 2 + 1, "{dry:#}");
    assert!(planned.iter().all(|r| r["outcome"] == "planned"));
    assert_eq!(seed::routes(aws, &hub).await, before);

    // An invocation cannot turn remediation off... on: `remediate: false` keeps it off.
    let off = run(&f, json!({"remediate": false})).await;
    assert_eq!(off["remediated"], json!([]));
    assert_eq!(seed::routes(aws, &hub).await, before);

    let answer = run(&f, schedule()).await;
    assert_eq!(
        audit_seed::findings_by_code(&answer)["PEERING_ROUTE_MISSING"],
        1,
        "found before remediating: {answer:#}"
    );
    let mut done: Vec<(String, String, String, String)> = answer["remediated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("change"), s("route_table"), s("destination"), s("outcome"))
        })
        .collect();
    done.sort();
    let applied = |c: &str, t: &str, d: &str| (c.to_string(), t.to_string(), d.to_string(), "applied".to_string());
    let mut want = vec![
        applied("create", &rt1, "10.1.0.0/16"),
        applied("delete", &main, "10.7.0.0/16"),
        applied("delete", &rt1, "10.7.0.0/16"),
        applied("delete", &rt2, "10.8.0.0/16"),
    ];
    want.sort();
    assert_eq!(done, want);

    assert_eq!(seed::routes_through(&stage.aws, &hub, &live).await.len(), 2, "main and rt-1");
    assert!(
        seed::routes(aws, &hub)
            .await
            .iter()
            .any(|(t, d, target, _)| *t == rt2 && d == "10.1.0.0/16" && target.starts_with("igw-")),
        "the conflict is left as it was"
    );
    assert_eq!(
        seed::routes_through(&stage.aws, &hub, &tagged_dead).await,
        vec![(rt1.clone(), "172.16.0.0/12".to_string())]
    );
    assert!(seed::routes_through(&stage.aws, &hub, &ledgered_dead).await.is_empty());
    assert_eq!(
        seed::routes_through(&stage.aws, &hub, &foreign_dead).await,
        vec![(main.clone(), "10.9.0.0/16".to_string())]
    );

    // Each change is in the ledger, under its connection.
    assert_eq!(ledger_actions(&stage, &live).await, [LedgerAction::Accepted, LedgerAction::RoutesRestored]);
    assert_eq!(ledger_actions(&stage, &tagged_dead).await, [LedgerAction::RoutesRemoved]);
    let removed = tables::ledger_entries(&stage.aws, &LedgerKey::Peering(tagged_dead.to_string()).to_string()).await;
    assert_eq!(
        removed[0]["details"]["routes"].as_array().map(Vec::len),
        Some(2),
        "both routes in the record: {removed:#?}"
    );
    assert_eq!(ledger_actions(&stage, &ledgered_dead).await, [LedgerAction::Accepted, LedgerAction::RoutesRemoved]);
    assert!(ledger_actions(&stage, &foreign_dead).await.is_empty());

    // The next night: what could be fixed is fixed, the rest is still reported.
    let again = run(&f, schedule()).await;
    assert_eq!(again["remediated"], json!([]), "{again:#}");
    let codes = audit_seed::findings_by_code(&again);
    assert_eq!(codes.get("PEERING_ROUTE_MISSING"), None);
    assert_eq!(codes["PEERING_ROUTE_CONFLICT"], 1);
    assert_eq!(codes["PEERING_ROUTE_BLACKHOLE"], 2, "the foreign route and the one to 172.16.0.0/12");
}

#[tokio::test]
async fn a_failing_scope_is_reported_while_the_others_still_are() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 0).await;
    let third = peer_vpc(&stage, THIRD, "10.3.0.0/16").await;
    audit_seed::active_peering(aws, &third, &hub, false).await; // not allowlisted
    let f = audit_seed::auditor(
        &stage,
        &[
            ("AUDIT_ACCOUNTS", &format!("{ACCOUNT},{THIRD}")),
            ("AUDIT_ROLE_NAME", "vpcwarden-audit"),
            ("AUDIT_REGIONS", "us-east-1,us-west-2"),
        ],
    )
    .await;
    // The role in the other account cannot be assumed.
    stage.emu.add_fault(json!({"service": "sts", "action": "AssumeRole", "error": "AccessDenied", "status": 403,
                               "message": "not authorized to perform sts:AssumeRole"}));

    let answer = run(&f, schedule()).await;
    let scopes = answer["scopes"].as_array().unwrap();
    let status: Vec<(&str, &str, &str)> = scopes
        .iter()
        .map(|s| (s["account"].as_str().unwrap(), s["region"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            (ACCOUNT, "us-east-1", "ok"),
            (ACCOUNT, "us-west-2", "ok"),
            (THIRD, "us-east-1", "failed"),
            (THIRD, "us-west-2", "failed")
        ]
    );
    for failed in &scopes[2..] {
        let why = failed["error"].as_str().unwrap();
        assert!(why.contains("vpcwarden-audit") && why.contains(THIRD) && why.contains("AccessDenied"), "{why}");
    }
    assert_eq!(audit_seed::findings_by_code(&answer), BTreeMap::from([("PEERING_NOT_ALLOWLISTED".to_string(), 1)]));

    // Every scope has its report, and each report says which scopes failed and why.
    let ours = json_report(&stage, ACCOUNT, REGION).await;
    assert_eq!(ours["summary"]["total"], 1);
    assert_eq!(ours["scope"]["scopes"][2]["status"], "failed");
    let theirs = json_report(&stage, THIRD, REGION).await;
    assert_eq!(theirs["scope"]["accounts"], json!([THIRD]));
    assert_eq!(theirs["findings"], json!([]));
    assert!(theirs["scope"]["scopes"][2]["error"].as_str().unwrap().contains("AccessDenied"));
    let ledgered = tables::ledger_entries(
        &stage.aws,
        &LedgerKey::Report { account: THIRD.to_string(), region: "us-west-2".into() }.to_string(),
    )
    .await;
    assert_eq!(ledgered[0]["status"], "failed");

    // With only the failing account, the run is an error (Lambda retries it).
    let only_them = stage.function(BIN, &[("AUDIT_ACCOUNTS", THIRD), ("AUDIT_ROLE_NAME", "vpcwarden-audit")]);
    let err = only_them.invoke(schedule()).await.expect_err("no scope could be audited");
    assert_eq!(err.error_type, "Retryable.Partial", "{err}");
    assert!(err.error_message.contains("AccessDenied"), "{err}");
}

#[tokio::test]
async fn a_member_account_is_audited_through_its_role() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 0).await;
    let third = peer_vpc(&stage, THIRD, "10.3.0.0/16").await;
    audit_seed::active_peering(aws, &third, &hub, false).await; // not allowlisted
    let provider = privatelink::provider_in(aws, THIRD, true).await;
    let service = privatelink::service_in(aws, THIRD, &provider, &[]).await;
    let f = audit_seed::auditor(
        &stage,
        &[("AUDIT_ACCOUNTS", &format!("{ACCOUNT},{THIRD}")), ("AUDIT_ROLE_NAME", "vpcwarden-audit")],
    )
    .await;

    let answer = run(&f, schedule()).await;
    let status: Vec<(&str, &str)> = answer["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["account"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status, [(ACCOUNT, "ok"), (THIRD, "ok")], "{answer:#}");
    let theirs = json_report(&stage, THIRD, REGION).await;
    let services: Vec<&str> =
        theirs["estate"]["services"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(services, [service.id.as_str()], "{theirs:#}");

    // Everything in the member account was read with the role's credentials, as that account.
    let reads: BTreeSet<String> = stage
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.account == THIRD && r.service != "sts")
        .map(|r| r.action)
        .collect();
    for action in [
        "DescribeVpcPeeringConnections",
        "DescribeRouteTables",
        "DescribeVpcEndpointServicePermissions",
        "DescribeTargetHealth",
    ] {
        assert!(reads.contains(action), "{action} not made as {THIRD}: {reads:?}");
    }
}

#[tokio::test]
async fn the_html_report_renders_in_headless_chromium() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 1).await;
    let payments = peer_vpc(&stage, PEER, "10.1.0.0/16").await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    route(&stage, &hub, hub.main_table(), "10.1.0.0/16", &pcx).await; // rt-1 lacks it
    let stranger = peer_vpc(&stage, STRANGER, "10.5.0.0/16").await;
    seed::request_peering(aws, &stranger, &hub).await;
    let provider = privatelink::provider(aws, true).await;
    let svc = privatelink::service(aws, &provider, &["*".to_string()]).await;
    let consumer = privatelink::consumer(aws, PEER, "10.40.0.0/16").await;
    consumer.connect(&svc).await;

    let f = audit_seed::auditor(&stage, &[]).await;
    let answer = run(&f, schedule()).await;
    let html_uri =
        answer["reports"].as_array().unwrap().iter().filter_map(Value::as_str).find(|u| u.ends_with(".html")).unwrap();
    let html = audit_seed::report_object(aws, html_uri.strip_prefix(&format!("s3://{BUCKET}/")).unwrap()).await;
    let dir = std::env::temp_dir().join(format!("vpcwarden-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();

    let dom = audit_seed::dump_dom(&page);
    let _ = std::fs::remove_dir_all(&dir);
    let start = dom.find("<div id=\"estate\">").unwrap_or_else(|| panic!("no drawing in the rendered page:\n{dom}"));
    let drawing = &dom[start..];
    let svg_start = drawing.find("<svg").expect("an SVG element");
    let svg = &drawing[svg_start..drawing.find("</svg>").expect("a closed SVG") + 6];
    let size = |attr: &str| -> f64 {
        let at = svg.find(&format!("{attr}=\"")).unwrap_or_else(|| panic!("no {attr}")) + attr.len() + 2;
        svg[at..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(size("width") > 100.0 && size("height") > 100.0, "{}", &svg[..200]);
    assert!(svg.matches("<rect").count() >= 4, "VPC and service boxes are drawn");
    assert!(svg.contains("<path") || svg.contains("<line"), "edges are drawn");
    for text in [&hub.id, &pcx, &svc.id, "10.1.0.0/16", "10.5.0.0/16", PEER] {
        assert!(svg.contains(text), "{text} is in the drawing");
    }
    assert!(dom.contains("PEERING_ROUTE_MISSING") && dom.contains("ENDPOINT_SERVICE_WILDCARD_PRINCIPAL"));
    assert!(!html.contains("<script") && !html.contains("<link"), "self-contained");
}

#[tokio::test]
async fn bad_events_and_bad_configuration_are_refused() {
    let stage = Stage::new().await;
    let f = audit_seed::auditor(&stage, &[]).await;
    let err = f.invoke(cloudtrail_peering("CreateVpcPeeringConnection", "pcx-0123456789abcdef0")).await.unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.BadEvent", "{err}");
    let err = f.invoke(json!({"dry_run": "please"})).await.unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.BadEvent", "{err}");
    // The process keeps serving.
    assert_eq!(run(&f, json!({})).await["total"], 0);

    for (k, v) in [("AUDIT_REGIONS", "mars-north-1x"), ("REPORT_BUCKET", "Not_A_Bucket"), ("AUDIT_ACCOUNTS", "12")] {
        let mut bad = stage.function(BIN, &[(k, v)]);
        assert!(bad.wait_exit(Duration::from_secs(20)).is_some_and(|s| !s.success()), "{k}={v} stops the start");
        assert!(bad.logs().contains(k), "{k}: {}", bad.logs());
    }
}

#[tokio::test]
async fn the_cli_runs_the_same_audit_and_remediation() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = hub(&stage, "10.0.0.0/16", 1).await;
    let payments = peer_vpc(&stage, PEER, "10.1.0.0/16").await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    route(&stage, &hub, hub.main_table(), "10.1.0.0/16", &pcx).await; // rt-1 lacks it
    tables::put_peering_grant(aws, Some(&hub.id), PEER, &[], None, None).await;
    let stranger = peer_vpc(&stage, STRANGER, "10.5.0.0/16").await;
    seed::request_peering(aws, &stranger, &hub).await;

    // The table (not a terminal: no colours, no progress bar).
    let (code, out, err) = stage.cli(&["audit"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("PEERING_ROUTE_MISSING") && out.contains("PEERING_PENDING_UNLISTED"), "{out}");
    assert!(out.contains("2 finding(s): 0 critical, 1 high, 1 medium, 0 low"), "{out}");
    assert!(!out.contains('\u{1b}') && !err.contains('\u{1b}'), "no escape codes off a terminal");

    // JSON on stdout, the three reports in --out, and the remediation (ledgered).
    let dir = std::env::temp_dir().join(format!("vpcwarden-cli-audit-{}", std::process::id()));
    let (code, out, err) =
        stage.cli(&["audit", "--format", "json", "--out", dir.to_str().unwrap(), "--remediate", "--regions", REGION]);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["summary"]["total"], 2);
    assert_eq!(report["remediation"][0]["outcome"], "applied");
    for name in ["report.json", "report.md", "report.html", "report.ocsf.json"] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(seed::routes_through(&stage.aws, &hub, &pcx).await.len(), 2);
    assert_eq!(ledger_actions(&stage, &pcx).await, [LedgerAction::Accepted, LedgerAction::RoutesRestored]);

    // Bad input is refused before anything is read.
    let (code, _, err) = stage.cli(&["audit", "--accounts", "12"]);
    assert_ne!(code, 0);
    assert!(err.contains("--accounts: `12` is not an AWS account id"), "{err}");
}

#[tokio::test]
async fn the_demo_hook_copies_the_nightly_reports_into_a_directory() {
    let stage = Stage::new().await;
    let hub = hub(&stage, "10.0.0.0/16", 0).await;
    let stranger = peer_vpc(&stage, STRANGER, "10.5.0.0/16").await;
    seed::request_peering(&stage.aws, &stranger, &hub).await;
    let dir = std::env::temp_dir().join(format!("vpcwarden-demo-out-{}", std::process::id()));
    let html = vpcwarden_tests::demo_audit::audit_demo(&stage, &dir).await;
    assert!(html.ends_with(format!("{ACCOUNT}/{REGION}/report.html")), "{}", html.display());
    let json: Value = serde_json::from_str(&std::fs::read_to_string(html.with_extension("json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["by_code"]["PEERING_PENDING_UNLISTED"], 1);
    assert!(html.with_extension("md").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
