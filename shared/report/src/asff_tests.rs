//! The ASFF produced is checked against what Security Hub requires of an imported finding (the
//! BatchImportFindings reference and the ASFF syntax page): the required attributes, their
//! formats and enumerations, and the length limits.
use super::*;
use crate::changes_tests::over_time;

/// ASFF's required top-level attributes (AWS Security Hub User Guide, "Required attributes").
const REQUIRED: [&str; 12] = [
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Severity",
    "Title",
    "Types",
    "UpdatedAt",
];

/// The finding as the adapter sends it: `Severity.Label`, `Remediation.Recommendation.Text`,
/// `Compliance.Status`, `Workflow.Status` nested as in the API.
fn as_sent(f: &AsffFinding) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap();
    let o = v.as_object_mut().unwrap();
    let label = o.remove("SeverityLabel").unwrap();
    o.insert("Severity".into(), serde_json::json!({"Label": label}));
    let text = o.remove("Recommendation").unwrap();
    o.insert("Remediation".into(), serde_json::json!({"Recommendation": {"Text": text}}));
    let status = o.remove("ComplianceStatus").unwrap();
    o.insert("Compliance".into(), serde_json::json!({"Status": status}));
    match o.remove("WorkflowStatus").unwrap() {
        serde_json::Value::Null => {}
        w => {
            o.insert("Workflow".into(), serde_json::json!({"Status": w}));
        }
    }
    v
}

fn is_timestamp(s: &str) -> bool {
    crate::history::epoch_seconds(s).is_some()
}

/// Why `v` is not a finding Security Hub imports, if it is not.
fn problem(v: &serde_json::Value) -> Option<String> {
    for name in REQUIRED {
        let present = match &v[name] {
            serde_json::Value::Null => false,
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Array(a) => !a.is_empty(),
            _ => true,
        };
        if !present {
            return Some(format!("{name} is required"));
        }
    }
    if v["SchemaVersion"] != SCHEMA_VERSION {
        return Some("SchemaVersion".into());
    }
    for t in ["CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"] {
        if !v[t].as_str().is_some_and(is_timestamp) {
            return Some(format!("{t} is not an ISO 8601 time"));
        }
    }
    let enums = [
        ("Severity.Label", &v["Severity"]["Label"], &["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"][..]),
        ("Compliance.Status", &v["Compliance"]["Status"], &["PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"][..]),
        ("RecordState", &v["RecordState"], &["ACTIVE", "ARCHIVED"][..]),
    ];
    for (name, value, allowed) in enums {
        if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
            return Some(format!("{name} = {value}"));
        }
    }
    for r in v["Resources"].as_array().unwrap() {
        if r["Id"].as_str().is_none_or(str::is_empty) || r["Type"].as_str().is_none_or(str::is_empty) {
            return Some(format!("a resource lacks Id or Type: {r}"));
        }
    }
    let type_ok = |t: &serde_json::Value| t.as_str().is_some_and(|t| (1..=3).contains(&t.split('/').count()));
    if !v["Types"].as_array().unwrap().iter().all(type_ok) {
        return Some("Types are namespace/category/classifier".into());
    }
    let long = |field: &serde_json::Value, max: usize| field.as_str().is_some_and(|s| s.chars().count() > max);
    if long(&v["Title"], MAX_TITLE)
        || long(&v["Description"], MAX_DESCRIPTION)
        || long(&v["Remediation"]["Recommendation"]["Text"], MAX_RECOMMENDATION)
    {
        return Some("over a length limit".into());
    }
    None
}

#[test]
fn every_finding_of_a_report_is_valid_asff_with_security_hubs_required_fields() {
    let (report, persisting, gone) = over_time();
    let all = findings(&report, "aws");
    assert_eq!(all.len(), report.findings.len() + report.waived.len() + report.resolved.len());
    for f in &all {
        let sent = as_sent(f);
        assert_eq!(problem(&sent), None, "{sent:#}");
        assert_eq!(
            f.product_arn,
            format!("arn:aws:securityhub:us-east-1:{}:product/{}/default", f.aws_account_id, f.aws_account_id)
        );
    }
    let by_id = |id: &str| all.iter().find(|f| f.id == asff_id(id)).unwrap();
    // A persisting finding keeps its first sighting; the run's time is its update.
    let kept = by_id(&persisting.id());
    assert_eq!(
        (kept.created_at.as_str(), kept.updated_at.as_str()),
        ("2027-01-10T03:00:00Z", report.generated_at.as_str())
    );
    assert_eq!((kept.compliance_status, kept.record_state, kept.workflow_status), ("FAILED", "ACTIVE", None));
    assert_eq!(kept.generator_id, "vpcwarden/PEERING_ROUTE_MISSING");
    assert_eq!(kept.resources[0].kind, "AwsEc2RouteTable");
    // A resolved one is archived and passed under the same Id.
    let fixed = by_id(&gone.id());
    assert_eq!((fixed.compliance_status, fixed.record_state), ("PASSED", "ARCHIVED"));
    assert_eq!(fixed.resources[0].kind, "AwsEc2VpcEndpointService");
    // A waived one is suppressed.
    let waived = by_id(&report.waived[0].id);
    assert_eq!((waived.workflow_status, waived.compliance_status), (Some("SUPPRESSED"), "FAILED"));
}

#[test]
fn resources_map_to_asff_types_and_long_words_are_cut() {
    let r = |id: &str| resource("aws", "111111111111", "eu-west-1", id);
    assert_eq!(r("pcx-0a").id, "arn:aws:ec2:eu-west-1:111111111111:vpc-peering-connection/pcx-0a");
    assert_eq!((r("vpc-0a").kind, r("rtb-0a").kind), ("AwsEc2Vpc", "AwsEc2RouteTable"));
    assert_eq!(r("vpce-svc-0a").kind, "AwsEc2VpcEndpointService");
    assert_eq!((r("vpce-0a").kind, r("vpce-0a").id.as_str()), ("Other", "vpce-0a"));
    assert_eq!(r("vpce-svc-0a/222222222222").kind, "Other", "a quota is not the service itself");
    assert_eq!(r("peering#*/account#222222222222").kind, "Other");
    let long = "é".repeat(2000);
    let cut = bounded(&long, MAX_DESCRIPTION);
    assert_eq!(cut.chars().count(), MAX_DESCRIPTION);
    assert!(cut.ends_with('…'));
    assert_eq!(bounded("short", 10), "short");
}
