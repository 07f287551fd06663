//! The demo's organisation chapter: the nightly audit of a whole AWS Organization, in the three
//! steps the org-audit state machine runs (plan, one scope per account and region as its
//! Distributed Map runs them, aggregate), through the Lambda Runtime API. A fresh estate: an
//! organisation with units, a suspended account, an excluded one, and a member whose audit role
//! is missing; the run's one report is copied out.
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::audit_seed::{self, report_keys, report_object, BUCKET};
use crate::org::{run_steps, Sample};
use crate::stage::Stage;
use crate::{seed, ACCOUNT, REGION};

const ROLE: &str = "vpcwarden-audit";
const OTHER_REGION: &str = "eu-west-1";

fn heading(text: &str) {
    println!("\n== {text}");
}

async fn organisation(stage: &Stage) -> Sample {
    let org = Sample::create(stage).await;
    println!("  management account {ACCOUNT} (ours, holds the allowlist), organisation root {}", org.root);
    println!(
        "  ou prod: payments {}, ledger {}; ou prod/prod-eu: payments-eu {}",
        org.payments, org.ledger, org.payments_eu
    );
    println!("  ou dev:  sandbox {} (closed: SUSPENDED), playground {}", org.sandbox, org.playground);
    org
}

/// Drift in a member's other region, and a member whose audit role refuses us.
async fn drift(stage: &Stage, m: &Sample) {
    let a = seed::vpc(&stage.aws, &m.payments, OTHER_REGION, "10.50.0.0/16").await.name("batch").create().await;
    let b = seed::vpc(&stage.aws, &m.payments, OTHER_REGION, "10.51.0.0/16").await.name("reports").create().await;
    let pcx = audit_seed::active_peering(&stage.aws, &a, &b, false).await;
    println!("  payments, {OTHER_REGION}: {pcx} peers {} and {} with no grant and no ledger record", a.id, b.id);
    let denied = format!("arn:aws:iam::{}:role/{ROLE}", m.ledger);
    stage.emu.add_fault(json!({"service": "sts", "action": "AssumeRole", "error": "AccessDenied", "status": 403,
                               "message": "not authorized to perform sts:AssumeRole", "params": {"RoleArn": denied}}));
    println!("  ledger: its {ROLE} role was never deployed (AssumeRole is denied)");
}

pub async fn story(out_dir: &Path) {
    heading("A whole organisation (AUDIT_ACCOUNTS=org): a fresh estate");
    let stage = Stage::new().await;
    let members = organisation(&stage).await;
    drift(&stage, &members).await;
    let regions = format!("{REGION},{OTHER_REGION}");
    let env = [
        ("AUDIT_ROLE_NAME", ROLE),
        ("AUDIT_ACCOUNTS", "org"),
        ("AUDIT_EXCLUDE_ACCOUNTS", members.playground.as_str()),
        ("AUDIT_REGIONS", regions.as_str()),
    ];
    println!("  AUDIT_ACCOUNTS=org  AUDIT_EXCLUDE_ACCOUNTS={}  AUDIT_REGIONS={regions}", members.playground);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let auditor = audit_seed::auditor(&stage, &env).await;

    heading("The org-audit state machine's steps: plan, a scope per item (Distributed Map), aggregate");
    let steps = run_steps(&auditor, &stage.aws, json!({}), &[]).await;
    let plan = &steps.plan;
    println!(
        "  plan       {} scope(s), items in s3://{BUCKET}/{}",
        plan["scope_count"],
        plan["scopes_key"].as_str().unwrap_or("")
    );
    for s in &steps.scopes {
        let (account, region) = (s["account"].as_str().unwrap_or(""), s["region"].as_str().unwrap_or(""));
        match s["status"].as_str() {
            Some("ok") => println!("  scope      {account}/{region:<10} ok      {} finding(s)", s["findings"]),
            _ => println!("  scope      {account}/{region:<10} failed  {}", s["error"].as_str().unwrap_or("")),
        }
    }
    let answer = steps.aggregate.unwrap_or_else(|e| panic!("aggregate: {e}\n{}", auditor.logs()));
    aggregate_lines(&answer);
    copy_run_report(&stage, plan, out_dir).await;
}

fn aggregate_lines(answer: &Value) {
    let summary = &answer["summary"];
    println!(
        "  aggregate  {} scope(s) audited, {} failed; {} finding(s), {} critical, {} high",
        answer["scopes_audited"],
        answer["scopes_failed"],
        summary["total"],
        summary["by_severity"]["critical"],
        summary["by_severity"]["high"]
    );
    for note in answer["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        println!("    note: {note}");
    }
    for failed in answer["failed"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        println!("    failed scope (in the report, with its reason): {failed}");
    }
}

/// Copies the run's report (`report.{json,md,html,ocsf.json}` under the run's prefix) to `out_dir`.
async fn copy_run_report(stage: &Stage, plan: &Value, out_dir: &Path) {
    let prefix = plan["run_prefix"].as_str().expect("the plan names its prefix");
    std::fs::create_dir_all(out_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let keys = report_keys(&stage.aws, prefix).await;
    let scope_results = keys.iter().filter(|k| k.contains("/scopes/")).count();
    for key in keys.iter().filter(|k| k.rsplit('/').next().is_some_and(|f| f.starts_with("report."))) {
        let file = key.rsplit('/').next().unwrap_or(key);
        let path = out_dir.join(file);
        std::fs::write(&path, report_object(&stage.aws, key).await)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    println!("  s3://{BUCKET}/{prefix}: plan.json, scopes.json, {scope_results} scope result(s), the run's report");
    let html = out_dir.join("report.html");
    println!("  open {}", std::fs::canonicalize(&html).unwrap_or(html).display());
}
