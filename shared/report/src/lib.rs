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
//!                           error (failed), findings (ok), notes, compared_with (the time of
//!                           the previous report history compared with, if any)
//! summary         total, by_severity {critical, high, medium, low}, by_code {every code}:
//!                 counted findings only (not waived); new (counted findings new since the
//!                 previous run), resolved, waived
//! findings[]      id, code, severity, resource, account, region, message, remediation,
//!                 status (new|persisting), first_seen, waiver (null here)
//! waived[]        the findings an active waiver covers, as findings[], waiver set
//! resolved[]      findings of the previous run that are gone: id, code, resource, account,
//!                 region, first_seen, resolved_at
//! remediation[]   change (create|delete), route_table, destination, pcx, account, region,
//!                 outcome (planned|applied|unchanged|failed), error
//! estate          vpcs[], peerings[], services[]: what the drawing shows
//! ```
pub mod asff;
mod drawing;
pub mod emf;
mod estate;
pub mod events;
pub mod history;
mod html;
mod markdown;
mod merge;
pub mod ocsf;
mod requests;
pub mod wording;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use drawing::{dot, svg, MAX_DRAWN_NODES};
pub use emf::{emf_records, events_failed_record};
pub use estate::{Estate, EstateConsumer, EstatePeering, EstateService, EstateVpc, Health};
pub use html::html;
pub use markdown::markdown;
pub use ocsf::ocsf;
use vpcwarden_core::requests::OpenRequest;

use history::{compare, Previous, Resolved, Status};
use vpcwarden_core::audit::Observed;
use vpcwarden_core::domain::{Finding, FindingCode, Severity, Waiver};
use vpcwarden_core::RouteChange;

pub const SCHEMA_VERSION: u32 = 1;

/// What became of one remediation change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remedy {
    #[serde(flatten)]
    pub change: RouteChange,
    pub account: String,
    pub region: String,
    pub outcome: RemedyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// The waiver that covers a finding, by finding id (the findings listed apart).
    pub waived: BTreeMap<String, Waiver>,
    /// The scope's previous run, to tell new findings from persisting ones.
    pub previous: Previous,
}

/// The result of one scope (an account in a region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeResult {
    pub account: String,
    pub region: String,
    /// The audit, or why the scope could not be audited.
    pub outcome: Result<Box<Audited>, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeState {
    Ok,
    Failed,
}

/// A scope's line in every report of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeStatus {
    pub account: String,
    pub region: String,
    pub status: ScopeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// When the previous run that history compared with was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportScope {
    /// The accounts and regions this report covers.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// Every scope of the run, so that each report says which scopes failed and why.
    pub scopes: Vec<ScopeStatus>,
}

/// Counts of the counted (not waived) findings; every severity and every code is present (zero
/// included). `new` and `resolved` compare with the previous run, `waived` counts the findings
/// listed apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub total: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    pub by_code: BTreeMap<FindingCode, usize>,
    pub new: usize,
    pub resolved: usize,
    pub waived: usize,
}

impl Summary {
    /// The counts of `findings`, with nothing new, resolved or waived.
    pub fn of(findings: &[Finding]) -> Self {
        let mut by_severity: BTreeMap<Severity, usize> =
            [Severity::Critical, Severity::High, Severity::Medium, Severity::Low].into_iter().map(|s| (s, 0)).collect();
        let mut by_code: BTreeMap<FindingCode, usize> = FindingCode::ALL.iter().map(|c| (*c, 0)).collect();
        for f in findings {
            *by_severity.entry(f.severity()).or_default() += 1;
            *by_code.entry(f.code()).or_default() += 1;
        }
        Summary { total: findings.len(), by_severity, by_code, new: 0, resolved: 0, waived: 0 }
    }

    /// The codes found at least once, most severe first.
    pub fn found_codes(&self) -> Vec<(FindingCode, usize)> {
        let mut found: Vec<(FindingCode, usize)> =
            self.by_code.iter().filter(|(_, n)| **n > 0).map(|(c, n)| (*c, *n)).collect();
        found.sort_by_key(|(c, _)| (std::cmp::Reverse(c.severity()), *c));
        found
    }
}

/// A finding as the reports show it: its id, code and scope, its facts in words, and its
/// history (`findings[]` and `waived[]` of the JSON schema).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFinding {
    pub id: String,
    pub code: FindingCode,
    pub severity: Severity,
    pub resource: String,
    pub account: String,
    pub region: String,
    pub message: String,
    pub remediation: String,
    pub status: Status,
    pub first_seen: String,
    /// The waiver that covers it (only in `waived[]`).
    pub waiver: Option<Waiver>,
}

impl ReportFinding {
    /// `f` as first seen now (`generated_at`), not waived.
    pub fn of(f: &Finding, generated_at: &str) -> Self {
        ReportFinding {
            id: f.id(),
            status: Status::New,
            first_seen: generated_at.to_string(),
            waiver: None,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub generated_at: String,
    pub scope: ReportScope,
    pub summary: Summary,
    pub findings: Vec<ReportFinding>,
    pub waived: Vec<ReportFinding>,
    pub resolved: Vec<Resolved>,
    pub remediation: Vec<Remedy>,
    pub estate: Estate,
    /// Approval requests still waiting for a person (`UNLISTED_ACTION=ask`), oldest first, each
    /// with the commands that approve or deny it. Set by the auditor from the ledger (when it
    /// writes a report, never read back from one).
    #[serde(default, skip_deserializing)]
    pub approval_requests: Vec<OpenRequest>,
}

fn scope_status(r: &ScopeResult) -> ScopeStatus {
    let (status, error, findings, notes, compared_with) = match &r.outcome {
        Ok(a) => {
            let counted = a.findings.iter().filter(|f| !a.waived.contains_key(&f.id())).count();
            let compared = a.previous.generated_at().map(str::to_string);
            (ScopeState::Ok, None, Some(counted), a.notes.clone(), compared)
        }
        Err(e) => (ScopeState::Failed, Some(e.clone()), None, Vec::new(), None),
    };
    ScopeStatus { account: r.account.clone(), region: r.region.clone(), status, error, findings, notes, compared_with }
}

/// The findings of the audited scopes as the reports show them, with their history: the
/// counted ones, the waived ones (each most severe first, then by identity) and the resolved.
fn judged(
    audited: &[&Audited],
    generated_at: &str,
) -> (Vec<(Finding, ReportFinding)>, Vec<ReportFinding>, Vec<Resolved>) {
    let (mut counted, mut waived, mut resolved) = (Vec::new(), Vec::new(), Vec::new());
    for a in audited {
        let comparison = compare(&a.previous, &a.findings, generated_at);
        for f in &a.findings {
            let mut shown = ReportFinding::of(f, generated_at);
            if let Some((status, first_seen)) = comparison.seen.get(&shown.id) {
                (shown.status, shown.first_seen) = (*status, first_seen.clone());
            }
            shown.waiver = a.waived.get(&shown.id).cloned();
            if shown.waiver.is_some() {
                waived.push((f.clone(), shown));
            } else {
                counted.push((f.clone(), shown));
            }
        }
        resolved.extend(comparison.resolved);
    }
    // Most severe first, then by identity: code, account, region, resource, detail.
    for list in [&mut counted, &mut waived] {
        list.sort_by_cached_key(|(f, _)| (std::cmp::Reverse(f.severity()), f.identity()));
    }
    resolved.sort_by(|a, b| {
        (&a.code, &a.account, &a.region, &a.resource).cmp(&(&b.code, &b.account, &b.region, &b.resource))
    });
    (counted, waived.into_iter().map(|(_, r)| r).collect(), resolved)
}

impl Report {
    /// The report of `results` covering every scope (`covers = None`) or one (account, region);
    /// the status of every scope of the run is listed either way.
    pub fn build(generated_at: &str, results: &[ScopeResult], covers: Option<(&str, &str)>) -> Self {
        let covered: Vec<&ScopeResult> =
            results.iter().filter(|r| covers.is_none_or(|(a, g)| r.account == a && r.region == g)).collect();
        let audited: Vec<&Audited> = covered.iter().filter_map(|r| r.outcome.as_deref().ok()).collect();
        let (counted, waived, resolved) = judged(&audited, generated_at);
        let findings: Vec<Finding> = counted.iter().map(|(f, _)| f.clone()).collect();
        let new: BTreeSet<&str> =
            counted.iter().filter(|(_, r)| r.status == Status::New).map(|(_, r)| r.id.as_str()).collect();
        let mut summary = Summary::of(&findings);
        (summary.new, summary.resolved, summary.waived) = (new.len(), resolved.len(), waived.len());
        let estate = Estate::build(&audited, &findings, &new);
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
            summary,
            estate,
            findings: counted.into_iter().map(|(_, r)| r).collect(),
            waived,
            resolved,
            remediation,
            approval_requests: Vec::new(),
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

/// A waiver as the reports show it: who accepted the risk, why, and until when.
pub fn waiver_text(w: &Waiver) -> String {
    let until = history::rfc3339_of(w.expires_at);
    let scope = w.account.as_ref().map(|a| format!(" (account {a} only)")).unwrap_or_default();
    format!("{} — accepted by {} until {until}{scope}", w.reason, w.added_by)
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

#[cfg(test)]
#[path = "changes_tests.rs"]
mod changes_tests;

#[cfg(test)]
#[path = "merge_tests.rs"]
mod merge_tests;
