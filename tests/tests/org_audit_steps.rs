//! The org audit's three steps (plan, scope, aggregate) end to end through the Runtime API, as
//! the org-audit state machine drives them: an organisation with drift in several scopes, a
//! member whose role cannot be assumed, a suspended and an excluded account, two regions. The
//! run's one report holds the findings a single invocation finds over the same estate; history
//! carries across modes; two runs never mix; bad step input is named and writes nothing.
use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::org::{run_steps, Org};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{seed, tables, Function, ACCOUNT, REGION};

const BIN: &str = "drift-auditor";
const ROLE: &str = "vpcwarden-audit";
const OTHER_REGION: &str = "eu-west-1";

async fn auditor(stage: &Stage, extra: &[(&str, &str)]) -> Function {
    let mut env = vec![("AUDIT_ROLE_NAME", ROLE), ("STALE_PENDING_HOURS", "0")];
    env.extend_from_slice(extra);
    audit_seed::auditor(stage, &env).await
}

/// The key of an `s3://bucket/key` address.
fn key_of(uri: &Value) -> String {
    uri.as_str().unwrap().strip_prefix(&format!("s3://{BUCKET}/")).unwrap().to_string()
}

async fn json_object(stage: &Stage, key: &str) -> Value {
    serde_json::from_str(&audit_seed::report_object(&stage.aws, key).await).unwrap()
}

/// The finding ids of every report a single run wrote (one per scope), waived ones included.
async fn single_run_ids(stage: &Stage) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for key in audit_seed::report_keys(&stage.aws, "nightly/").await {
        if key.ends_with("/report.json") && !key.contains("/runs/") {
            let report = json_object(stage, &key).await;
            for list in ["findings", "waived"] {
                ids.extend(report[list].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()));
            }
        }
    }
    ids
}

fn ids_of(report: &Value) -> BTreeSet<String> {
    ["findings", "waived"]
        .iter()
        .flat_map(|list| report[*list].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()))
        .collect()
}

/// Every key under a run's prefix.
async fn run_keys(stage: &Stage, plan: &Value) -> Vec<String> {
    audit_seed::report_keys(&stage.aws, plan["run_prefix"].as_str().unwrap()).await
}

/// The outcomes of the remediation in the run's report.
async fn outcomes(stage: &Stage, answer: Value) -> BTreeSet<String> {
    let report = json_object(stage, &key_of(&answer["reports"]["json"])).await;
    report["remediation"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_three_steps_report_what_a_single_run_reports() {
    let stage = Stage::new().await;
    let org = Org::create(&stage.aws).await;
    let (prod, dev) = (org.unit(&org.root, "prod").await, org.unit(&org.root, "dev").await);
    let m1 = org.account("payments", &prod).await;
    let m2 = org.account("ledger", &prod).await;
    let m3 = org.account("sandbox", &dev).await;
    let m4 = org.account("playground", &dev).await;
    org.suspend(&stage.emu, &m3).await;
    // Every code in our scope; an unlisted peering inside a member, in the other region.
    audit_seed::every_code_estate(&stage.aws).await;
    let a = seed::vpc(&stage.aws, &m1, OTHER_REGION, "10.50.0.0/16").await.create().await;
    let b = seed::vpc(&stage.aws, &m1, OTHER_REGION, "10.51.0.0/16").await.create().await;
    audit_seed::active_peering(&stage.aws, &a, &b, false).await;
    let denied = format!("arn:aws:iam::{m2}:role/{ROLE}");
    stage.emu.add_fault(json!({"service": "sts", "action": "AssumeRole", "error": "AccessDenied", "status": 403,
                               "message": "not authorized to perform sts:AssumeRole", "params": {"RoleArn": denied}}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let regions = format!("{REGION},{OTHER_REGION}");
    let f = auditor(&stage, &[("AUDIT_ACCOUNTS", "org"), ("AUDIT_EXCLUDE_ACCOUNTS", &m4), ("AUDIT_REGIONS", &regions)])
        .await;

    let single = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let single_ids = single_run_ids(&stage).await;
    let listed_before = stage.calls("ListAccounts");

    let steps = run_steps(&f, &stage.aws, json!({}), &[]).await;
    let answer = steps.aggregate.unwrap_or_else(|e| panic!("aggregate: {e}\n{}", f.logs()));
    assert_eq!(stage.calls("ListAccounts") - listed_before, 1, "the organisation is read once, by the plan");
    assert_eq!(steps.plan["scope_count"], 6, "our account, m1 and m2 in two regions: {}", steps.plan);
    assert_eq!((answer["scopes_audited"].as_u64(), answer["scopes_failed"].as_u64()), (Some(4), Some(2)), "{answer:#}");
    let failed_answers: Vec<&Value> = steps.scopes.iter().filter(|s| s["status"] == "failed").collect();
    assert_eq!(failed_answers.len(), 2, "a scope that cannot be read is an answer, not an error");
    assert!(failed_answers
        .iter()
        .all(|s| s["account"] == m2.as_str() && s["error"].as_str().unwrap().contains("AccessDenied")));
    let why = failed_answers[0]["error"].as_str().unwrap();
    assert!(why.contains("member-role") && why.contains("MemberRoleStackSetOUs"), "says how to fix it: {why}");

    let report = json_object(&stage, &key_of(&answer["reports"]["json"])).await;
    assert_eq!(ids_of(&report), single_ids, "the same findings as the single run");
    assert_eq!(report["summary"]["total"], single["total"]);
    assert_eq!(report["summary"]["new"], 0, "history carries across modes: the single run saw them first");
    let scopes: Vec<(String, String)> = report["scope"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                format!("{}/{}", s["account"].as_str().unwrap(), s["region"].as_str().unwrap()),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(scopes.len(), 6, "{scopes:?}");
    assert!(scopes.iter().all(|(scope, status)| (status == "failed") == scope.starts_with(&m2)), "{scopes:?}");
    let notes = answer["notes"].to_string();
    assert!(notes.contains(&m3) && notes.contains("SUSPENDED") && notes.contains(&m4), "{notes}");
    let codes: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["account"] == m1.as_str())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains("PEERING_NOT_ALLOWLISTED"), "the member's drift is in the run's report: {codes:?}");
    let html = audit_seed::report_object(&stage.aws, &key_of(&answer["reports"]["html"])).await;
    assert!(html.contains("<svg") && html.contains(&m2), "the page draws the estate and names the failed scopes");

    // Each scope's history moved on to the org run's file for it.
    let latest = json_object(&stage, &format!("nightly/{ACCOUNT}/{REGION}/latest.json")).await;
    let run_prefix = steps.plan["run_prefix"].as_str().unwrap();
    assert_eq!(latest["report"], format!("{run_prefix}scopes/{ACCOUNT}/{REGION}.json"));
}

#[tokio::test]
async fn runs_never_mix_and_a_scope_without_a_result_is_reported_failed() {
    let stage = Stage::new().await;
    seed::vpc(&stage.aws, ACCOUNT, OTHER_REGION, "10.60.0.0/16").await.create().await;
    let regions = format!("{REGION},{OTHER_REGION}");
    let f = auditor(&stage, &[("AUDIT_REGIONS", &regions)]).await;

    let first = run_steps(&f, &stage.aws, json!({}), &[(ACCOUNT, OTHER_REGION)]).await;
    let second = run_steps(&f, &stage.aws, json!({}), &[]).await;
    assert_ne!(first.plan["run_id"], second.plan["run_id"], "the same input, two runs");
    let first_answer = first.aggregate.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!((first_answer["scopes_audited"].as_u64(), first_answer["scopes_failed"].as_u64()), (Some(1), Some(1)));
    let report = json_object(&stage, &key_of(&first_answer["reports"]["json"])).await;
    let failed =
        report["scope"]["scopes"].as_array().unwrap().iter().find(|s| s["status"] == "failed").unwrap().clone();
    assert_eq!(failed["region"], OTHER_REGION);
    assert!(failed["error"].as_str().unwrap().starts_with("no result"), "{failed}");

    let second_answer = second.aggregate.unwrap();
    assert_eq!(second_answer["scopes_failed"], 0);
    let (first_keys, second_keys) = (run_keys(&stage, &first.plan).await, run_keys(&stage, &second.plan).await);
    assert_eq!(first_keys.iter().filter(|k| k.contains("/scopes/")).count(), 1, "{first_keys:?}");
    assert_eq!(second_keys.iter().filter(|k| k.contains("/scopes/")).count(), 2, "{second_keys:?}");

    // A replayed aggregate (Step Functions retries, at-least-once) writes the same report again.
    let again = f.invoke(json!({"mode": "aggregate", "run_id": second.plan["run_id"]})).await.unwrap();
    assert_eq!(again["summary"], second_answer["summary"]);
    assert_eq!(again["reports"], second_answer["reports"]);
}

#[tokio::test]
async fn dry_run_and_remediate_behave_as_in_a_single_run() {
    let stage = Stage::new().await;
    audit_seed::every_code_estate(&stage.aws).await;
    let f = auditor(&stage, &[("REMEDIATE", "true")]).await;
    let dry = run_steps(&f, &stage.aws, json!({"dry_run": true}), &[]).await;
    assert_eq!(outcomes(&stage, dry.aggregate.unwrap()).await, BTreeSet::from(["planned".to_string()]));
    let off = run_steps(&f, &stage.aws, json!({"remediate": false}), &[]).await;
    assert!(outcomes(&stage, off.aggregate.unwrap()).await.is_empty(), "remediate: false turns it off");
    let real = run_steps(&f, &stage.aws, json!({}), &[]).await;
    assert!(outcomes(&stage, real.aggregate.unwrap()).await.contains("applied"));
}

#[tokio::test]
async fn bad_step_input_is_named_and_writes_nothing() {
    let stage = Stage::new().await;
    let f = auditor(&stage, &[]).await;
    for (event, says) in [
        (json!({"mode": "scope", "run_id": "../../x", "account": ACCOUNT, "region": REGION}), "is not a run id"),
        (
            json!({"mode": "scope", "run_id": "20261129T030000Z-1a2b3c4d", "account": "1", "region": REGION}),
            "`account`",
        ),
        (json!({"mode": "plan", "accounts": "org"}), "unknown field `accounts`"),
        (json!({"mode": "map"}), "unknown `mode`"),
    ] {
        let err = f.invoke(event.clone()).await.expect_err("a malformed step");
        assert_eq!(err.error_type, "NonRetryable.BadEvent", "{event}: {err}");
        assert!(err.error_message.contains(says), "{event}: {err}");
    }
    let err =
        f.invoke(json!({"mode": "aggregate", "run_id": "20261129T030000Z-1a2b3c4d"})).await.expect_err("no such run");
    assert!(err.error_message.contains("runs/20261129T030000Z-1a2b3c4d/plan.json does not exist"), "{err}");

    Org::create(&stage.aws).await;
    let unknown_unit = auditor(&stage, &[("AUDIT_ACCOUNTS", "ou:ou-zz99-zzzzzzzz")]).await;
    let err = unknown_unit.invoke(json!({"mode": "plan"})).await.expect_err("an unknown OU");
    assert!(err.error_message.contains("ou-zz99-zzzzzzzz"), "{err}");

    let no_bucket = stage.function(BIN, &[]);
    let err = no_bucket.invoke(json!({"mode": "plan"})).await.expect_err("no bucket");
    assert_eq!(err.error_type, "NonRetryable.Config", "{err}");
    assert!(err.error_message.contains("REPORT_BUCKET"), "{err}");
    assert_eq!(audit_seed::report_keys(&stage.aws, "nightly/").await, Vec::<String>::new(), "nothing written");
}

#[tokio::test]
async fn an_aggregate_that_cannot_read_the_run_fails_retryable_writes_nothing_and_succeeds_on_retry() {
    let stage = Stage::new().await;
    let f = auditor(&stage, &[]).await;
    // The scope step reads history with GetObject; only the aggregate lists the run's results.
    let fault = stage.emu.add_fault(json!({"service": "s3", "action": "ListObjectsV2", "error": "SlowDown",
                                           "status": 503, "message": "Please reduce your request rate."}));
    let steps = run_steps(&f, &stage.aws, json!({}), &[]).await;
    assert!(steps.scopes.iter().all(|s| s["status"] == "ok"), "{:?}", steps.scopes);
    let err = steps.aggregate.expect_err("S3 throttles every listing");
    assert_eq!(err.error_type, "Retryable.Aws", "{err}");
    assert!(err.error_message.contains("ListObjectsV2") && err.error_message.contains("SlowDown"), "{err}");
    stage.emu.remove_fault(&fault);
    let keys = run_keys(&stage, &steps.plan).await;
    assert!(!keys.iter().any(|k| k.contains("/report.") || k.ends_with("announced.json")), "nothing written: {keys:?}");
    assert!(tables::ledger_entries(&stage.aws, "report#").await.is_empty(), "no summary in the ledger");

    // Step Functions retries the step: the run's report is complete.
    let answer = f.invoke(json!({"mode": "aggregate", "run_id": steps.plan["run_id"]})).await;
    let answer = answer.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    assert_eq!((answer["scopes_audited"].as_u64(), answer["scopes_failed"].as_u64()), (Some(1), Some(0)));
    assert!(run_keys(&stage, &steps.plan).await.iter().any(|k| k.ends_with("/report.html")));
}
