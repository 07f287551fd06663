//! The findings of a report as OCSF 1.1.0 Compliance Findings (class 2003, category Findings),
//! `report.ocsf.json`: one event per finding, so a security lake or a SIEM takes them without a
//! converter. A new finding is a `Create`, a persisting one an `Update`, a resolved one a
//! `Close` (compliance `Pass`, status `Resolved`); a waived one is `Suppressed`.
use serde_json::{json, Value};

use super::asff;
use super::history::{epoch_seconds, Status};
use super::{severity_name, Report, ReportFinding, Resolved};
use vpcwarden_core::domain::{FindingCode, Severity};

pub const OCSF_VERSION: &str = "1.1.0";
pub const CLASS_UID: u32 = 2003;
pub const CATEGORY_UID: u32 = 2;
/// The "standard" the checks belong to: the owners' declared state (the allowlist).
pub const STANDARD: &str = "vpcwarden allowlist (declared VPC peering and PrivateLink connectivity)";

/// OCSF `severity_id`: 2 Low, 3 Medium, 4 High, 5 Critical.
fn severity_id(s: Severity) -> u32 {
    match s {
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn capitalised(word: &str) -> String {
    let mut c = word.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Epoch milliseconds of an RFC 3339 time (OCSF `timestamp_t`).
fn millis(rfc3339: &str) -> i64 {
    epoch_seconds(rfc3339).unwrap_or(0) * 1000
}

/// What every event of the report shares: class, metadata, and its scope in the cloud profile.
struct Event<'a> {
    activity: (u32, &'static str),
    severity: Option<Severity>,
    status: (u32, &'static str),
    compliance: (u32, &'static str),
    code: &'a str,
    id: &'a str,
    account: &'a str,
    region: &'a str,
    resource: &'a str,
    message: String,
    remediation: String,
    first_seen: &'a str,
    last_seen: &'a str,
}

fn event(e: Event, partition: &str, generated_at: &str) -> Value {
    let (activity_id, activity) = e.activity;
    let (severity_id, severity) = match e.severity {
        Some(s) => (severity_id(s), capitalised(severity_name(s))),
        None => (1, "Informational".into()),
    };
    let resource = asff::resource(partition, e.account, e.region, e.resource);
    json!({
        "activity_id": activity_id,
        "activity_name": activity,
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": format!("Compliance Finding: {activity}"),
        "time": millis(generated_at),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": e.status.0,
        "status": e.status.1,
        "message": e.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "vpcwarden", "vendor_name": "vpcwarden", "version": env!("CARGO_PKG_VERSION")},
            "profiles": ["cloud"],
            "uid": format!("{}/{}", e.id, generated_at),
        },
        "cloud": {
            "provider": "AWS",
            "region": e.region,
            "account": {"uid": e.account, "type_id": 10, "type": "AWS Account"},
        },
        "finding_info": {
            "uid": e.id,
            "title": format!("{} on {}", e.code, e.resource),
            "desc": e.message,
            "types": [e.code],
            "first_seen_time": millis(e.first_seen),
            "last_seen_time": millis(e.last_seen),
        },
        "compliance": {
            "standards": [STANDARD],
            "control": e.code,
            "status_id": e.compliance.0,
            "status": e.compliance.1,
        },
        "remediation": {"desc": e.remediation},
        "resource": {
            "uid": resource.id,
            "type": resource.kind,
            "region": e.region,
            "cloud_partition": partition,
            "owner": {"account": {"uid": e.account, "type_id": 10, "type": "AWS Account"}},
        },
    })
}

fn open(f: &ReportFinding, partition: &str, generated_at: &str) -> Value {
    let activity = match f.status {
        Status::New => (1, "Create"),
        Status::Persisting => (2, "Update"),
    };
    let status = if f.waiver.is_some() { (3, "Suppressed") } else { (1, "New") };
    let e = Event {
        activity,
        severity: Some(f.severity),
        status,
        compliance: (3, "Fail"),
        code: f.code.as_str(),
        id: &f.id,
        account: &f.account,
        region: &f.region,
        resource: &f.resource,
        message: f.message.clone(),
        remediation: f.remediation.clone(),
        first_seen: &f.first_seen,
        last_seen: generated_at,
    };
    event(e, partition, generated_at)
}

fn closed(r: &Resolved, partition: &str, generated_at: &str) -> Value {
    let e = Event {
        activity: (3, "Close"),
        severity: FindingCode::parse(&r.code).map(FindingCode::severity),
        status: (4, "Resolved"),
        compliance: (1, "Pass"),
        code: &r.code,
        id: &r.id,
        account: &r.account,
        region: &r.region,
        resource: &r.resource,
        message: format!("Resolved: {} on {} is no longer found (first seen {}).", r.code, r.resource, r.first_seen),
        remediation: "Nothing to do: the drift is gone.".into(),
        first_seen: &r.first_seen,
        last_seen: &r.resolved_at,
    };
    event(e, partition, generated_at)
}

/// Every finding of `report` as OCSF events: counted, waived, then resolved.
pub fn events(report: &Report, partition: &str) -> Vec<Value> {
    let at = &report.generated_at;
    let current = report.findings.iter().chain(&report.waived).map(|f| open(f, partition, at));
    current.chain(report.resolved.iter().map(|r| closed(r, partition, at))).collect()
}

/// `report.ocsf.json`: the events as one JSON array.
pub fn ocsf(report: &Report, partition: &str) -> String {
    serde_json::to_string_pretty(&events(report, partition)).expect("OCSF events always serialise")
}

#[cfg(test)]
#[path = "ocsf_tests.rs"]
mod tests;
