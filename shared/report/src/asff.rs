//! The findings of one scope's report in the AWS Security Finding Format (ASFF), as AWS Security
//! Hub imports them (`BatchImportFindings`): each finding ACTIVE and FAILED, each resolved one
//! ARCHIVED and PASSED under the same `Id`, each waived one SUPPRESSED. Pure: the Security Hub
//! adapter sends these, field for field.
use serde::Serialize;

use super::{Report, ReportFinding, Resolved};
use vpcwarden_core::domain::{FindingCode, Severity};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// What kind of check this is, in ASFF's type taxonomy (namespace/category/classifier).
pub const FINDING_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices/Network Reachability";
/// Security Hub's limits on these fields (characters).
pub const MAX_TITLE: usize = 256;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_RECOMMENDATION: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: String,
    pub region: String,
}

/// One ASFF finding (the attributes vpcwarden sets; Security Hub adds the rest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: &'static str,
    /// `vpcwarden/<finding id>`: the same drift, the same Security Hub finding, every night.
    pub id: String,
    pub product_arn: String,
    /// `vpcwarden/<CODE>`.
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub first_observed_at: String,
    pub last_observed_at: String,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` (`INFORMATIONAL` for a resolved code this version
    /// does not know).
    pub severity_label: &'static str,
    pub title: String,
    pub description: String,
    pub recommendation: String,
    pub resources: Vec<AsffResource>,
    /// `FAILED` or `PASSED`.
    pub compliance_status: &'static str,
    /// `ACTIVE` or `ARCHIVED`.
    pub record_state: &'static str,
    /// `SUPPRESSED` for a waived finding (Security Hub keeps it only on a first import; an
    /// update needs `BatchUpdateFindings`), else none.
    pub workflow_status: Option<&'static str>,
}

/// The account's default product, the one a customer's own findings are imported under.
pub fn product_arn(partition: &str, account: &str, region: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

/// The ASFF `Id` of a finding id.
pub fn asff_id(finding_id: &str) -> String {
    format!("vpcwarden/{finding_id}")
}

pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
    }
}

/// The ASFF resource type and id of a finding's resource: AWS resources by their ARN, the rest
/// (an endpoint, a quota `<service>/<account>`, an allowlist key) as `Other`.
pub fn resource(partition: &str, account: &str, region: &str, id: &str) -> AsffResource {
    let arn = |kind: &str| format!("arn:{partition}:ec2:{region}:{account}:{kind}/{id}");
    let (kind, id) = if id.starts_with("pcx-") {
        ("AwsEc2VpcPeeringConnection", arn("vpc-peering-connection"))
    } else if id.starts_with("rtb-") {
        ("AwsEc2RouteTable", arn("route-table"))
    } else if id.starts_with("vpc-") {
        ("AwsEc2Vpc", arn("vpc"))
    } else if id.starts_with("vpce-svc-") && !id.contains('/') {
        ("AwsEc2VpcEndpointService", arn("vpc-endpoint-service"))
    } else {
        ("Other", id.to_string())
    };
    AsffResource { kind, id, partition: partition.to_string(), region: region.to_string() }
}

/// At most `max` characters (Security Hub refuses longer values).
fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max - 1).collect();
    t.push('…');
    t
}

fn current(f: &ReportFinding, partition: &str, generated_at: &str) -> AsffFinding {
    // A finding seen before keeps its first sighting: Security Hub takes CreatedAt and
    // FirstObservedAt from every import, so they must not move from run to run.
    let first_seen = f.first_seen.clone();
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: asff_id(&f.id),
        product_arn: product_arn(partition, &f.account, &f.region),
        generator_id: format!("vpcwarden/{}", f.code.as_str()),
        aws_account_id: f.account.clone(),
        region: f.region.clone(),
        types: vec![FINDING_TYPE],
        created_at: first_seen.clone(),
        updated_at: generated_at.to_string(),
        first_observed_at: first_seen,
        last_observed_at: generated_at.to_string(),
        severity_label: severity_label(f.severity),
        title: bounded(&format!("{} on {}", f.code.as_str(), f.resource), MAX_TITLE),
        description: bounded(&f.message, MAX_DESCRIPTION),
        recommendation: bounded(&f.remediation, MAX_RECOMMENDATION),
        resources: vec![resource(partition, &f.account, &f.region, &f.resource)],
        compliance_status: "FAILED",
        record_state: "ACTIVE",
        workflow_status: f.waiver.as_ref().map(|_| "SUPPRESSED"),
    }
}

fn resolved(r: &Resolved, partition: &str, generated_at: &str) -> AsffFinding {
    let severity = FindingCode::parse(&r.code).map_or("INFORMATIONAL", |c| severity_label(c.severity()));
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: asff_id(&r.id),
        product_arn: product_arn(partition, &r.account, &r.region),
        generator_id: format!("vpcwarden/{}", r.code),
        aws_account_id: r.account.clone(),
        region: r.region.clone(),
        types: vec![FINDING_TYPE],
        created_at: r.first_seen.clone(),
        updated_at: generated_at.to_string(),
        first_observed_at: r.first_seen.clone(),
        last_observed_at: r.resolved_at.clone(),
        severity_label: severity,
        title: bounded(&format!("{} on {}", r.code, r.resource), MAX_TITLE),
        description: bounded(
            &format!("Resolved: {} on {} is no longer found (first seen {}).", r.code, r.resource, r.first_seen),
            MAX_DESCRIPTION,
        ),
        recommendation: "Nothing to do: the drift is gone.".into(),
        resources: vec![resource(partition, &r.account, &r.region, &r.resource)],
        compliance_status: "PASSED",
        record_state: "ARCHIVED",
        workflow_status: None,
    }
}

/// Every finding of `report` (one scope's) in ASFF: the counted and the waived ones, then the
/// resolved ones.
pub fn findings(report: &Report, partition: &str) -> Vec<AsffFinding> {
    let at = &report.generated_at;
    let open = report.findings.iter().chain(&report.waived).map(|f| current(f, partition, at));
    open.chain(report.resolved.iter().map(|r| resolved(r, partition, at))).collect()
}

#[cfg(test)]
#[path = "asff_tests.rs"]
mod tests;
