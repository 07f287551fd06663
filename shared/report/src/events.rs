//! What an audit tells others: `Finding Opened` for each finding new in this run, `Finding
//! Resolved` for each one of the previous run that is gone (once each, by id: the next run
//! compares with this one), and one `Audit Completed` with the counts and the reports' places.
use vpcwarden_core::domain::events::{
    arn, AuditCompleted, AuditCounts, DetailType, Ec2Resource, Event, FindingChange, Place,
};
use vpcwarden_core::domain::{FindingCode, Severity};

use crate::history::Status;
use crate::Report;

/// The EC2 ARN of a finding's resource, when its id says what it is.
fn resource_arn(partition: &str, account: &str, region: &str, resource: &str) -> Vec<String> {
    let place = Place { partition, region, account };
    let kind = if resource.starts_with("pcx-") {
        Ec2Resource::PeeringConnection(resource)
    } else if resource.starts_with("rtb-") {
        Ec2Resource::RouteTable(resource)
    } else if resource.starts_with("vpc-") {
        Ec2Resource::Vpc(resource)
    } else if resource.starts_with("vpce-svc-") {
        Ec2Resource::EndpointService(resource)
    } else if resource.starts_with("vpce-") {
        Ec2Resource::Endpoint(resource)
    } else {
        return Vec::new();
    };
    vec![arn(&place, kind)]
}

/// `Finding Opened` for the new findings (waived ones are not news), then `Finding Resolved`.
pub fn finding_events(report: &Report, partition: &str) -> Vec<Event<FindingChange>> {
    let opened = report.findings.iter().filter(|f| f.status == Status::New).map(|f| Event {
        detail_type: DetailType::FindingOpened,
        resources: resource_arn(partition, &f.account, &f.region, &f.resource),
        detail: FindingChange {
            finding_id: f.id.clone(),
            code: f.code,
            severity: f.severity,
            account: f.account.clone(),
            region: f.region.clone(),
            resource: f.resource.clone(),
            first_seen: f.first_seen.clone(),
            message: Some(f.message.clone()),
            resolved_at: None,
        },
    });
    // A code a later version retired is still resolved, told under its nearest known code.
    let resolved = report.resolved.iter().filter_map(|r| {
        let code = FindingCode::parse(&r.code)?;
        Some(Event {
            detail_type: DetailType::FindingResolved,
            resources: resource_arn(partition, &r.account, &r.region, &r.resource),
            detail: FindingChange {
                finding_id: r.id.clone(),
                code,
                severity: code.severity(),
                account: r.account.clone(),
                region: r.region.clone(),
                resource: r.resource.clone(),
                first_seen: r.first_seen.clone(),
                message: None,
                resolved_at: Some(r.resolved_at.clone()),
            },
        })
    });
    opened.chain(resolved).collect()
}

/// `Audit Completed`: the run's counts and the addresses of its reports.
pub fn audit_completed(report: &Report, reports: Vec<String>, dry_run: bool) -> Event<AuditCompleted> {
    let s = &report.summary;
    let n = |sev| s.by_severity.get(&sev).copied().unwrap_or(0);
    let scopes = &report.scope.scopes;
    let failed = scopes.iter().filter(|x| x.status == crate::ScopeState::Failed).count();
    Event {
        detail_type: DetailType::AuditCompleted,
        resources: Vec::new(),
        detail: AuditCompleted {
            generated_at: report.generated_at.clone(),
            scopes_audited: scopes.len() - failed,
            scopes_failed: failed,
            summary: AuditCounts {
                total: s.total,
                critical: n(Severity::Critical),
                high: n(Severity::High),
                medium: n(Severity::Medium),
                low: n(Severity::Low),
                new: s.new,
                resolved: s.resolved,
                waived: s.waived,
            },
            reports,
            dry_run,
        },
    }
}
