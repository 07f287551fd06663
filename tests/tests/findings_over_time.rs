//! Findings over time, end to end: two (and more) nightly audits of one estate with drift fixed,
//! drift added and a risk waived in between — stable ids, new / persisting / resolved, first
//! sightings carried over, waivers counted nowhere until they end, the Security Hub export in
//! each audited account, OCSF beside the other reports, and history that survives an
//! unreadable previous report.
use std::time::Duration;

use serde_json::{json, Value};
use vpcwarden_tests::audit_seed::{self, BUCKET, PEER, STRANGER, THIRD};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::privatelink;
use vpcwarden_tests::securityhub::{self, Seen};
use vpcwarden_tests::seed::{self, RouteTargetSpec, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

async fn night(f: &Function) -> Value {
    // Runs are named by their time: keep two nights apart by more than the clock's resolution.
    tokio::time::sleep(Duration::from_millis(20)).await;
    f.invoke(schedule()).await.unwrap_or_else(|e| panic!("drift-auditor failed: {e}\n{}", f.logs()))
}

/// The JSON report the scope's `latest` pointer names.
async fn latest_report(stage: &Stage, account: &str) -> Value {
    let pointer = audit_seed::report_object(&stage.aws, &format!("nightly/{account}/{REGION}/latest.json")).await;
    let pointer: Value = serde_json::from_str(&pointer).expect("the latest pointer parses");
    let json = audit_seed::report_object(&stage.aws, pointer["report"].as_str().unwrap()).await;
    serde_json::from_str(&json).expect("the report parses")
}

/// A finding of a report by code (exactly one expected).
fn by_code<'r>(list: &'r Value, code: &str) -> &'r Value {
    let found: Vec<&Value> = list.as_array().unwrap().iter().filter(|f| f["code"] == code).collect();
    assert_eq!(found.len(), 1, "one {code} in {list:#}");
    found[0]
}

fn seen<'s>(all: &'s [Seen], id: &str) -> &'s Seen {
    let asff = format!("vpcwarden/{id}");
    all.iter().find(|s| s.id == asff).unwrap_or_else(|| panic!("{asff} is not in Security Hub: {all:#?}"))
}

struct Estate {
    hub: SeededVpc,
    pcx: String,
    service: String,
}

/// Our hub: a managed connection routed in the main table only (PEERING_ROUTE_MISSING on the
/// other), a stranger's request (PEERING_PENDING_UNLISTED), and a service allowing `*`
/// (ENDPOINT_SERVICE_WILDCARD_PRINCIPAL).
async fn estate(stage: &Stage) -> Estate {
    let aws = &stage.aws;
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.name("hub").route_tables(1).create().await;
    let payments = seed::vpc(aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    seed::add_route(aws, &hub, hub.main_table(), "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;
    tables::put_peering_grant(aws, Some(&hub.id), PEER, &[], None, None).await;
    let stranger = seed::vpc(aws, STRANGER, REGION, "10.5.0.0/16").await.create().await;
    seed::request_peering(aws, &stranger, &hub).await;
    let provider = privatelink::provider(aws, true).await;
    let service = privatelink::service(aws, &provider, &["*".to_string()]).await.id;
    Estate { hub, pcx, service }
}

#[tokio::test]
async fn nights_tell_new_persisting_resolved_and_waived_findings_and_security_hub_follows() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let e = estate(&stage).await;
    securityhub::enable(aws, ACCOUNT, REGION).await;
    let f = audit_seed::auditor(&stage, &[("SECURITY_HUB", "true")]).await;

    // Night 1: everything is new.
    let first = night(&f).await;
    assert_eq!(
        (first["total"].as_u64(), first["new"].as_u64(), first["resolved"].as_u64()),
        (Some(3), Some(3), Some(0))
    );
    let one = latest_report(&stage, ACCOUNT).await;
    let missing = by_code(&one["findings"], "PEERING_ROUTE_MISSING").clone();
    let unlisted = by_code(&one["findings"], "PEERING_PENDING_UNLISTED").clone();
    let wildcard = by_code(&one["findings"], "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL").clone();
    for f in [&missing, &unlisted, &wildcard] {
        assert_eq!((f["status"].as_str(), f["first_seen"].as_str()), (Some("new"), first["generated_at"].as_str()));
    }
    assert_eq!(first["security_hub"][0]["imported"], 3, "{first:#}");

    // During the day: the missing route is added, a second stranger asks, and the `*` is waived
    // with the CLI.
    seed::add_route(aws, &e.hub, &e.hub.route_tables[1], "10.1.0.0/16", RouteTargetSpec::Pcx(e.pcx.clone())).await;
    let another = seed::vpc(aws, THIRD, REGION, "10.7.0.0/16").await.create().await;
    let new_pcx = seed::request_peering(aws, &another, &e.hub).await;
    let (code, out, err) = stage.cli(&[
        "waive",
        "--code",
        "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL",
        "--resource",
        &e.service,
        "--reason",
        "public data service, CHG-42",
        "--expires",
        "30d",
        "--added-by",
        "security-team",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = stage.cli(&["waivers", "list", "--json"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let listed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((listed[0]["resource"].as_str(), listed[0]["live"].as_bool()), (Some(e.service.as_str()), Some(true)));
    let (code, _, err) = stage.cli(&["grants", "list"]);
    assert!(code == 0 && !err.contains("warning"), "a waiver is no malformed grant: {err}");
    let (code, _, err) =
        stage.cli(&["waive", "--code", "PEERING_ROUTE_MISSING", "--resource", "rtb-1", "--reason", "x"]);
    assert_eq!(code, 2, "a waiver without an end is refused: {err}");
    let too_long =
        ["waive", "--code", "PEERING_ROUTE_MISSING", "--resource", "rtb-1", "--reason", "x", "--expires", "400d"];
    let (code, _, err) = stage.cli(&too_long);
    assert!(code == 2 && err.contains("more than 366 days ahead"), "{err}");

    // Night 2.
    let second = night(&f).await;
    let two = latest_report(&stage, ACCOUNT).await;
    assert_eq!((second["total"].as_u64(), second["new"].as_u64()), (Some(2), Some(1)), "{second:#}");
    assert_eq!((second["resolved"].as_u64(), second["waived"].as_u64()), (Some(1), Some(1)));
    assert_eq!(second["by_severity"]["critical"], 0, "the waived `*` is counted nowhere");
    let kept = two["findings"].as_array().unwrap().iter().find(|f| f["resource"] == unlisted["resource"]).unwrap();
    let added: Vec<&Value> =
        two["findings"].as_array().unwrap().iter().filter(|f| f["resource"] == new_pcx.as_str()).collect();
    assert_eq!(kept["id"], unlisted["id"], "the same drift keeps its id");
    assert_eq!(
        (kept["status"].as_str(), kept["first_seen"].as_str()),
        (Some("persisting"), first["generated_at"].as_str())
    );
    assert_eq!(added.len(), 1);
    assert_eq!(
        (added[0]["status"].as_str(), added[0]["first_seen"].as_str()),
        (Some("new"), second["generated_at"].as_str())
    );
    let resolved = by_code(&two["resolved"], "PEERING_ROUTE_MISSING");
    assert_eq!(resolved["id"], missing["id"]);
    assert_eq!(
        (resolved["first_seen"].as_str(), resolved["resolved_at"].as_str()),
        (first["generated_at"].as_str(), second["generated_at"].as_str())
    );
    let waived = by_code(&two["waived"], "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL");
    assert_eq!(waived["id"], wildcard["id"]);
    assert_eq!(
        (waived["waiver"]["reason"].as_str(), waived["waiver"]["added_by"].as_str()),
        (Some("public data service, CHG-42"), Some("security-team"))
    );
    assert_eq!(two["summary"]["by_severity"]["critical"], 0);
    let emf: Vec<Value> =
        f.logs().lines().filter(|l| l.starts_with("{\"_aws\"")).map(|l| serde_json::from_str(l).unwrap()).collect();
    let tonight = &emf[emf.len() - 4..];
    assert_eq!(
        tonight.iter().map(|r| r["Findings"].as_u64().unwrap()).sum::<u64>(),
        2,
        "no metric counts the waived one"
    );
    assert_eq!((tonight[0]["FindingsNew"].as_u64(), tonight[0]["FindingsResolved"].as_u64()), (Some(1), Some(1)));

    // Security Hub in our account: the open findings ACTIVE and FAILED, the resolved one
    // ARCHIVED and PASSED under its same Id, the waived one SUPPRESSED, each once.
    let all = securityhub::findings(aws, ACCOUNT, REGION, None).await;
    assert_eq!(all.len(), 4, "{all:#?}");
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let s = seen(&all, &id(&unlisted));
    assert_eq!((s.record_state.as_str(), s.compliance.as_str(), s.workflow.as_str()), ("ACTIVE", "FAILED", "NEW"));
    assert_eq!(s.first_observed, first["generated_at"].as_str().unwrap(), "first seen on night 1");
    let s = seen(&all, &id(&missing));
    assert_eq!((s.record_state.as_str(), s.compliance.as_str()), ("ARCHIVED", "PASSED"));
    assert_eq!(seen(&all, &id(&wildcard)).workflow, "SUPPRESSED");
    assert_eq!(seen(&all, &id(added[0])).record_state, "ACTIVE");
    let archived = securityhub::findings(aws, ACCOUNT, REGION, Some(("RecordState", "ARCHIVED"))).await;
    assert_eq!(archived.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), [format!("vpcwarden/{}", id(&missing))]);
    let by_generator =
        securityhub::findings(aws, ACCOUNT, REGION, Some(("GeneratorId", "vpcwarden/PEERING_PENDING_UNLISTED"))).await;
    assert_eq!(by_generator.len(), 2);

    // A replayed night imports nothing twice: the same Ids are updated.
    let replay = night(&f).await;
    assert_eq!((replay["new"].as_u64(), replay["resolved"].as_u64()), (Some(0), Some(0)), "{replay:#}");
    let again = securityhub::findings(aws, ACCOUNT, REGION, None).await;
    assert_eq!(again.len(), 4);
    for (before, after) in all.iter().zip(&again) {
        assert_eq!(
            (&before.id, &before.record_state, &before.workflow),
            (&after.id, &after.record_state, &after.workflow)
        );
    }

    // The waiver ends: the finding counts again (persisting since night 1), and Security Hub
    // shows it again.
    tables::put_waiver(aws, "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL", &e.service, vpcwarden::clock::now_epoch() - 1, None)
        .await;
    let ended = night(&f).await;
    assert_eq!((ended["total"].as_u64(), ended["waived"].as_u64()), (Some(3), Some(0)), "{ended:#}");
    assert_eq!(ended["by_severity"]["critical"], 1);
    let four = latest_report(&stage, ACCOUNT).await;
    let back = by_code(&four["findings"], "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL");
    assert_eq!(
        (back["status"].as_str(), back["first_seen"].as_str()),
        (Some("persisting"), first["generated_at"].as_str())
    );
    let s = securityhub::findings(aws, ACCOUNT, REGION, Some(("Id", &format!("vpcwarden/{}", id(&wildcard))))).await;
    assert_eq!((s.len(), s[0].workflow.as_str()), (1, "NEW"), "{s:#?}");

    // The OCSF report lies beside the others: one Compliance Finding per finding.
    let pointer: Value =
        serde_json::from_str(&audit_seed::report_object(aws, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await)
            .unwrap();
    let ocsf_key = pointer["report"].as_str().unwrap().replace("report.json", "report.ocsf.json");
    let ocsf: Vec<Value> = serde_json::from_str(&audit_seed::report_object(aws, &ocsf_key).await).unwrap();
    assert_eq!(ocsf.len(), 3);
    for event in &ocsf {
        assert_eq!((event["class_uid"].as_u64(), event["category_uid"].as_u64()), (Some(2003), Some(2)));
        assert_eq!(event["metadata"]["version"], "1.1.0");
        assert!(event["finding_info"]["uid"].is_string() && event["compliance"]["standards"][0].is_string());
    }
}

#[tokio::test]
async fn security_hub_off_in_a_member_account_is_a_note_and_the_others_are_imported_where_they_belong() {
    let stage = Stage::new().await;
    let aws = &stage.aws;
    estate(&stage).await;
    // The member account has drift of its own: a service allowing `*`.
    let provider = privatelink::provider_in(aws, THIRD, true).await;
    let their_service = privatelink::service_in(aws, THIRD, &provider, &["*".to_string()]).await.id;
    securityhub::enable(aws, ACCOUNT, REGION).await;
    let env = [
        ("SECURITY_HUB", "true"),
        ("AUDIT_ACCOUNTS", &format!("{ACCOUNT},{THIRD}")),
        ("AUDIT_ROLE_NAME", "vpcwarden-audit"),
    ];
    let f = audit_seed::auditor(&stage, &env).await;

    let answer = night(&f).await;
    let scopes = answer["scopes"].as_array().unwrap();
    assert!(scopes.iter().all(|s| s["status"] == "ok"), "not a failed audit: {answer:#}");
    let theirs = scopes.iter().find(|s| s["account"] == THIRD).unwrap();
    assert!(
        theirs["notes"].to_string().contains("Security Hub is not enabled in 333333333333/us-east-1"),
        "{answer:#}"
    );
    let hub: Vec<&Value> = answer["security_hub"].as_array().unwrap().iter().collect();
    assert_eq!(hub.iter().find(|h| h["account"] == THIRD).unwrap()["not_enabled"], true);
    assert_eq!(hub.iter().find(|h| h["account"] == ACCOUNT).unwrap()["imported"], 3);
    let report = latest_report(&stage, THIRD).await;
    assert!(report["scope"]["scopes"].to_string().contains("Security Hub is not enabled"));

    let ours = securityhub::findings(aws, ACCOUNT, REGION, None).await;
    assert_eq!(ours.len(), 3);
    assert!(ours.iter().all(|s| s.account == ACCOUNT), "nothing of theirs in our account: {ours:#?}");
    assert!(securityhub::findings(aws, ACCOUNT, REGION, Some(("AwsAccountId", THIRD))).await.is_empty());

    // Once they enable it, their findings go to their account, and only there; their `*`, waived
    // for their account only, is suppressed there (through their audit role).
    securityhub::enable(aws, THIRD, REGION).await;
    let in_a_month = vpcwarden::clock::now_epoch() + 30 * 86_400;
    tables::put_waiver(aws, "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL", &their_service, in_a_month, Some(THIRD)).await;
    let second = night(&f).await;
    assert_eq!(second["waived"], 1, "{second:#}");
    let hub = second["security_hub"].as_array().unwrap();
    let exported = hub.iter().find(|h| h["account"] == THIRD).unwrap();
    assert_eq!((exported["imported"].as_u64(), exported["suppressed"].as_u64()), (Some(1), Some(1)), "{second:#}");
    let theirs = securityhub::findings(aws, THIRD, REGION, None).await;
    assert_eq!(theirs.len(), 1, "{theirs:#?}");
    assert_eq!(
        (theirs[0].account.as_str(), theirs[0].generator.as_str()),
        (THIRD, "vpcwarden/ENDPOINT_SERVICE_WILDCARD_PRINCIPAL")
    );
    assert_eq!(theirs[0].workflow, "SUPPRESSED");
    let compliance = securityhub::findings(aws, THIRD, REGION, Some(("ComplianceStatus", "FAILED"))).await;
    assert_eq!(compliance.len(), 1);
    assert_eq!(securityhub::findings(aws, ACCOUNT, REGION, None).await.len(), 3);
}

#[tokio::test]
async fn an_unreadable_previous_report_makes_everything_new_with_a_note_never_a_failed_audit() {
    let stage = Stage::new().await;
    estate(&stage).await;
    let f = audit_seed::auditor(&stage, &[]).await;
    let first = night(&f).await;
    assert_eq!(first["new"], 3);
    let pointer = format!("nightly/{ACCOUNT}/{REGION}/latest.json");

    // The pointer is clobbered: every finding is new again, the audit says why and succeeds.
    let s3 = audit_seed::s3(&stage.aws).await;
    let junk = aws_sdk_s3::primitives::ByteStream::from_static(b"not json");
    s3.put_object().bucket(BUCKET).key(&pointer).body(junk).send().await.expect("PutObject");
    let second = night(&f).await;
    assert_eq!(
        (second["total"].as_u64(), second["new"].as_u64(), second["resolved"].as_u64()),
        (Some(3), Some(3), Some(0))
    );
    let notes = second["scopes"][0]["notes"].to_string();
    assert!(notes.contains("is not a latest pointer") && notes.contains("every finding is reported as new"), "{notes}");
    // ... and the pointer names this run again, so the next night compares with it.
    let third = night(&f).await;
    assert_eq!((third["new"].as_u64(), third["resolved"].as_u64()), (Some(0), Some(0)), "{third:#}");
    let report = latest_report(&stage, ACCOUNT).await;
    assert_eq!(report["scope"]["scopes"][0]["compared_with"], second["generated_at"]);
    let statuses: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["persisting"; 3]);
    assert_eq!(json!(report["findings"][0]["first_seen"]), second["generated_at"], "first seen when history restarted");
}
