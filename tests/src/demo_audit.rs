//! The demo's last act: drift-auditor's nightly runs on the demo's estate, through the Lambda
//! Runtime API, their reports written to S3 (in the emulator) and copied to a directory, with
//! what changed since the night before.
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::audit_seed::{report_keys, report_object, BUCKET};
use crate::events::schedule;
use crate::stage::Stage;

/// Runs the auditor on whatever `stage` holds, copies its reports into `out_dir` (as
/// `<account>/<region>/report.{json,md,html,ocsf.json}`), prints a summary and the path of the
/// HTML report, and returns that path.
pub async fn audit_demo(stage: &Stage, out_dir: &Path) -> PathBuf {
    night(stage, out_dir, "drift-auditor, nightly schedule, through the Lambda Runtime API").await
}

/// One nightly run (the first, or a later one compared with the one before), as [`audit_demo`].
pub async fn night(stage: &Stage, out_dir: &Path, title: &str) -> PathBuf {
    println!("\n== {title}");
    let auditor = crate::audit_seed::auditor(stage, &[]).await;
    let answer =
        auditor.invoke(schedule()).await.unwrap_or_else(|e| panic!("drift-auditor failed: {e}\n{}", auditor.logs()));
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    println!(
        "  {} finding(s): {} critical, {} high, {} medium, {} low",
        count(&answer["total"]),
        count(&answer["by_severity"]["critical"]),
        count(&answer["by_severity"]["high"]),
        count(&answer["by_severity"]["medium"]),
        count(&answer["by_severity"]["low"])
    );
    for (code, n) in answer["findings"].as_object().into_iter().flatten() {
        println!("    {code:<38} {n}");
    }
    println!(
        "  since the last run: {} new, {} resolved; {} waived (listed apart, counted nowhere)",
        count(&answer["new"]),
        count(&answer["resolved"]),
        count(&answer["waived"])
    );
    for scope in answer["scopes"].as_array().into_iter().flatten() {
        if scope["status"] == "failed" {
            println!("  scope {}/{} failed: {}", scope["account"], scope["region"], scope["error"]);
        }
    }

    let mut html = None;
    for uri in answer["reports"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        let key = uri.strip_prefix(&format!("s3://{BUCKET}/")).unwrap_or(uri);
        // nightly/<account>/<region>/<run time>/report.<ext>
        let parts: Vec<&str> = key.split('/').collect();
        let (account, region, file) = match parts.as_slice() {
            [.., account, region, _date, file] => (*account, *region, *file),
            _ => continue,
        };
        let dir = out_dir.join(account).join(region);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(file);
        std::fs::write(&path, report_object(&stage.aws, key).await)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        if file.ends_with(".html") && html.is_none() {
            html = Some(path);
        }
    }
    let Some(html) = html else {
        panic!("no HTML report among {:?}", report_keys(&stage.aws, "").await);
    };
    changes(&html);
    let html = std::fs::canonicalize(&html).unwrap_or(html);
    println!("  reports in S3 under s3://{BUCKET}/nightly/ and copied to {}", out_dir.display());
    println!("  open {}", html.display());
    html
}

/// What changed, from the copied JSON report beside `html`: new, resolved and waived findings.
fn changes(html: &Path) {
    let Ok(text) = std::fs::read_to_string(html.with_extension("json")) else { return };
    let Ok(report) = serde_json::from_str::<Value>(&text) else { return };
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    for f in report["findings"].as_array().into_iter().flatten().filter(|f| f["status"] == "new") {
        println!("    new       {:<34} {}", s(f, "code"), s(f, "resource"));
    }
    for f in report["resolved"].as_array().into_iter().flatten() {
        println!("    resolved  {:<34} {} (open since {})", s(f, "code"), s(f, "resource"), s(f, "first_seen"));
    }
    for f in report["waived"].as_array().into_iter().flatten() {
        println!("    waived    {:<34} {} ({})", s(f, "code"), s(f, "resource"), s(&f["waiver"], "reason"));
    }
}
