//! Reports of a drift audit: the findings worded for people ([`wording`]), the versioned JSON
//! document, Markdown, one self-contained HTML page with a drawing of the estate, and the
//! CloudWatch Embedded Metric Format records. Pure: built from the scopes' results, rendered to
//! strings; no I/O, no AWS SDK.
//!
//! The audit (crate `vpcwarden-core`) says *what* drifted, as typed facts; this crate says it in
//! words, so the facts can be tested for equality and the words improved without touching them.
//!
//! JSON schema (`schema_version` 1):
//!
//! ```text
//! schema_version  1
//! generated_at    RFC 3339 time of the audit
//! scope           accounts, regions: what this report covers
//!                 scopes[]: every scope of the run: account, region, status (ok|failed),
//!                           error (failed), findings (ok), notes
//! summary         total, by_severity {critical, high, medium, low}, by_code {every code}
//! findings[]      code, severity, resource, account, region, message, remediation
//! remediation[]   change (create|delete), route_table, destination, pcx, account, region,
//!                 outcome (planned|applied|unchanged|failed), error
//! estate          vpcs[], peerings[], services[]: what the drawing shows
//! ```
mod drawing;
pub mod emf;
mod estate;
mod html;
mod markdown;
pub mod wording;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use drawing::{dot, svg, MAX_DRAWN_NODES};
pub use emf::{emf_records, events_failed_record};
pub use estate::{Estate, EstateConsumer, EstatePeering, EstateService, EstateVpc, Health};
pub use html::html;
pub use markdown::markdown;

use vpcwarden_core::audit::Observed;
use vpcwarden_core::domain::{Finding, FindingCode, Severity};
use vpcwarden_core::RouteChange;

pub const SCHEMA_VERSION: u32 = 1;

/// What became of one remediation change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemedyOutcome {
    /// Dry run, or remediation not carried out.
    Planned,
    Applied,
    /// Someone (a sweep, a person) got there first: nothing left to do.
    Unchanged,
    Failed,
}

impl RemedyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RemedyOutcome::Planned => "planned",
            RemedyOutcome::Applied => "applied",
            RemedyOutcome::Unchanged => "unchanged",
            RemedyOutcome::Failed => "failed",
        }
    }
}

/// One route change of the remediation, in one scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Remedy {
    #[serde(flatten)]
    pub change: RouteChange,
    pub account: String,
    pub region: String,
    pub outcome: RemedyOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One audited scope: what was read, what was found, what was done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audited {
    pub observed: Observed,
    pub findings: Vec<Finding>,
    pub remedies: Vec<Remedy>,
    /// Things worth saying that are not findings (a configured service not owned here...).
    pub notes: Vec<String>,
}

/// The result of one scope (an account in a region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeResult {
    pub account: String,
    pub region: String,
    /// The audit, or why the scope could not be audited.
    pub outcome: Result<Box<Audited>, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeState {
    Ok,
    Failed,
}

/// A scope's line in every report of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeStatus {
    pub account: String,
    pub region: String,
    pub status: ScopeState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportScope {
    /// The accounts and regions this report covers.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Every scope of the run, so that each report says which scopes failed and why.
    pub scopes: Vec<ScopeStatus>,
}

/// Counts; every severity and every code is present (zero included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_code: BTreeMap<FindingCode, usize>,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let mut by_severity: BTreeMap<Severity, usize> =
            [Severity::Critical, Severity::High, Severity::Medium, Severity::Low].into_iter().map(|s| (s, 0)).collect();
        let mut by_code: BTreeMap<FindingCode, usize> = FindingCode::ALL.iter().map(|c| (*c, 0)).collect();
        for f in findings {
            *by_severity.entry(f.severity()).or_default() += 1;
            *by_code.entry(f.code()).or_default() += 1;
        }
        Summary { total: findings.len(), by_severity, by_code }
    }

    /// The codes found at least once, most severe first.
    pub fn found_codes(&self) -> Vec<(FindingCode, usize)> {
        let mut found: Vec<(FindingCode, usize)> =
            self.by_code.iter().filter(|(_, n)| **n > 0).map(|(c, n)| (*c, *n)).collect();
        found.sort_by_key(|(c, _)| (std::cmp::Reverse(c.severity()), *c));
        found
    }
}

/// A finding as the reports show it: its code and scope, and its facts in words
/// (`findings[]` of the JSON schema).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportFinding {
    pub code: FindingCode,
    pub severity: Severity,
    pub resource: String,
    pub account: String,
    pub region: String,
    pub message: String,
    pub remediation: String,
}

impl ReportFinding {
    pub fn of(f: &Finding) -> Self {
        ReportFinding {
            code: f.code(),
            severity: f.severity(),
            resource: f.resource(),
            account: f.account.clone(),
            region: f.region.clone(),
            message: wording::message(&f.facts),
            remediation: wording::remediation(&f.facts),
        }
    }
}

/// A report over some scopes of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub generated_at: String,
    pub scope: ReportScope,
    pub summary: Summary,
    pub findings: Vec<ReportFinding>,
    pub remediation: Vec<Remedy>,
    pub estate: Estate,
}

fn scope_status(r: &ScopeResult) -> ScopeStatus {
    let (status, error, findings, notes) = match &r.outcome {
        Ok(a) => (ScopeState::Ok, None, Some(a.findings.len()), a.notes.clone()),
        Err(e) => (ScopeState::Failed, Some(e.clone()), None, Vec::new()),
    };
    ScopeStatus { account: r.account.clone(), region: r.region.clone(), status, error, findings, notes }
}

impl Report {
    /// The report of `results` covering every scope (`covers = None`) or one (account, region);
    /// the status of every scope of the run is listed either way.
    pub fn build(generated_at: &str, results: &[ScopeResult], covers: Option<(&str, &str)>) -> Self {
        let covered: Vec<&ScopeResult> =
            results.iter().filter(|r| covers.is_none_or(|(a, g)| r.account == a && r.region == g)).collect();
        let audited: Vec<&Audited> = covered.iter().filter_map(|r| r.outcome.as_deref().ok()).collect();
        let mut findings: Vec<Finding> = audited.iter().flat_map(|a| a.findings.iter().cloned()).collect();
        // Most severe first, then by identity: code, account, region, resource, detail.
        findings.sort_by_cached_key(|f| (std::cmp::Reverse(f.severity()), f.identity()));
        let remediation = audited.iter().flat_map(|a| a.remedies.iter().cloned()).collect();
        let unique = |f: fn(&ScopeResult) -> &String| {
            let set: BTreeSet<String> = covered.iter().map(|r| f(r).clone()).collect();
            set.into_iter().collect::<Vec<String>>()
        };
        Report {
            schema_version: SCHEMA_VERSION,
            generated_at: generated_at.to_string(),
            scope: ReportScope {
                accounts: unique(|r| &r.account),
                regions: unique(|r| &r.region),
                scopes: results.iter().map(scope_status).collect(),
            },
            summary: Summary::of(&findings),
            estate: Estate::build(&audited, &findings),
            findings: findings.iter().map(ReportFinding::of).collect(),
            remediation,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports always serialise")
    }

    pub fn failed_scopes(&self) -> impl Iterator<Item = &ScopeStatus> {
        self.scope.scopes.iter().filter(|s| s.status == ScopeState::Failed)
    }
}

/// A severity as the JSON report spells it.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

/// A route change as the remediation tables show it: what kind, and through which connection.
fn change_and_pcx(change: &RouteChange) -> (&'static str, &str) {
    match change {
        RouteChange::Create { pcx, .. } => ("create", pcx),
        RouteChange::Delete { pcx, .. } => ("delete", pcx),
        RouteChange::Conflict { .. } => ("conflict", ""),
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
