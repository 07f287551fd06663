//! Reports of a drift audit (issue 5): the versioned JSON document, Markdown, one
//! self-contained HTML page with a drawing of the estate, and the CloudWatch Embedded Metric
//! Format records. Pure: built from the scopes' results, rendered to strings.
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
mod html;
mod markdown;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

pub use drawing::{dot, svg, MAX_DRAWN_NODES};
pub use emf::emf_records;
pub use html::html;
pub use markdown::markdown;

use crate::domain::ConnectionState;
use crate::domain::{Finding, FindingCode, PeeringStatus, Severity};
use vpcwarden_core::audit::Observed;
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
            *by_severity.entry(f.severity).or_default() += 1;
            *by_code.entry(f.code).or_default() += 1;
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

/// The worst severity among findings about an element of the drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Health {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Severity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<FindingCode>,
}

impl Health {
    fn of<'f>(findings: impl Iterator<Item = &'f Finding>) -> Self {
        let mut codes: BTreeSet<FindingCode> = BTreeSet::new();
        let mut worst = None;
        for f in findings {
            codes.insert(f.code);
            worst = worst.max(Some(f.severity));
        }
        Health { worst, codes: codes.into_iter().collect() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EstateVpc {
    pub id: String,
    pub account: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub cidrs: Vec<String>,
    /// Audited in this run (as opposed to a peer seen only through a connection).
    pub audited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EstatePeering {
    pub id: String,
    pub status: String,
    pub requester_vpc: String,
    pub accepter_vpc: String,
    pub managed: bool,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EstateConsumer {
    pub account: String,
    /// Connection count per state (`available`, `pendingAcceptance`, …).
    pub connections: BTreeMap<String, usize>,
    #[serde(flatten)]
    pub health: Health,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EstateService {
    pub id: String,
    pub account: String,
    pub region: String,
    pub acceptance_required: bool,
    pub consumers: Vec<EstateConsumer>,
    #[serde(flatten)]
    pub health: Health,
}

/// What the drawing shows: VPCs with their CIDRs, the connections between them, and the
/// endpoint services with their consumer accounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Estate {
    pub vpcs: Vec<EstateVpc>,
    pub peerings: Vec<EstatePeering>,
    pub services: Vec<EstateService>,
}

/// The findings by the ids they are about: the resource, each of its `/`-separated prefixes,
/// and every id-like word of the message. Built once per estate, so a connection's health is a
/// look-up rather than a scan of every finding's message (quadratic at a thousand peerings).
fn findings_by_id(findings: &[Finding]) -> HashMap<&str, Vec<&Finding>> {
    let mut by_id: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings {
        let prefixes = f.resource.match_indices('/').map(|(i, _)| &f.resource[..i]);
        let words = f.message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
        let mut ids: Vec<&str> =
            std::iter::once(f.resource.as_str()).chain(prefixes).chain(words).filter(|w| !w.is_empty()).collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            by_id.entry(id).or_default().push(f);
        }
    }
    by_id
}

impl Estate {
    fn build(scopes: &[&ScopeResult], findings: &[Finding]) -> Self {
        let mut vpcs: BTreeMap<String, EstateVpc> = BTreeMap::new();
        let mut peerings: BTreeMap<String, EstatePeering> = BTreeMap::new();
        let mut services = Vec::new();
        let audited: Vec<&Audited> = scopes.iter().filter_map(|s| s.outcome.as_deref().ok()).collect();
        let by_id = findings_by_id(findings);
        for a in &audited {
            let o = &a.observed;
            for v in &o.vpcs {
                vpcs.insert(
                    v.id.clone(),
                    EstateVpc {
                        id: v.id.clone(),
                        account: o.account.clone(),
                        region: o.region.clone(),
                        name: v.name.clone(),
                        cidrs: v.cidrs.iter().map(ToString::to_string).collect(),
                        audited: true,
                    },
                );
            }
        }
        for a in &audited {
            let o = &a.observed;
            for p in &o.peerings {
                let health = Health::of(by_id.get(p.id.as_str()).into_iter().flatten().copied());
                // Dead connections are drawn only while something still points at them.
                if p.status.is_dead() && health.worst.is_none() {
                    continue;
                }
                for side in [&p.requester, &p.accepter] {
                    vpcs.entry(side.vpc_id.clone()).or_insert_with(|| EstateVpc {
                        id: side.vpc_id.clone(),
                        account: side.account.clone(),
                        region: side.region.clone(),
                        name: None,
                        cidrs: side.cidrs.iter().map(ToString::to_string).collect(),
                        audited: false,
                    });
                }
                let managed = o.is_managed(p);
                let entry = peerings.entry(p.id.clone()).or_insert_with(|| EstatePeering {
                    id: p.id.clone(),
                    status: p.status.as_str().to_string(),
                    requester_vpc: p.requester.vpc_id.clone(),
                    accepter_vpc: p.accepter.vpc_id.clone(),
                    managed,
                    health,
                });
                entry.managed |= managed;
                if p.status == PeeringStatus::Active {
                    entry.status = p.status.as_str().to_string();
                }
            }
            for s in &o.services {
                let mut by_account: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
                for c in &s.connections {
                    *by_account.entry(&c.account).or_default().entry(c.state.as_str().to_string()).or_default() += 1;
                }
                let consumers = by_account
                    .into_iter()
                    .map(|(account, connections)| {
                        let endpoints: Vec<&str> = s
                            .connections
                            .iter()
                            .filter(|c| c.account == account && c.state != ConnectionState::Deleted)
                            .map(|c| c.endpoint_id.as_str())
                            .collect();
                        let quota = format!("{}/{account}", s.id);
                        let health = Health::of(findings.iter().filter(|f| {
                            f.resource == quota
                                || endpoints.contains(&f.resource.as_str())
                                || (f.code == FindingCode::EndpointServicePrincipalUnlisted
                                    && f.message.contains(account))
                        }));
                        EstateConsumer { account: account.to_string(), connections, health }
                    })
                    .collect();
                services.push(EstateService {
                    id: s.id.clone(),
                    account: o.account.clone(),
                    region: o.region.clone(),
                    acceptance_required: s.acceptance_required,
                    consumers,
                    health: Health::of(findings.iter().filter(|f| f.resource == s.id)),
                });
            }
        }
        Estate { vpcs: vpcs.into_values().collect(), peerings: peerings.into_values().collect(), services }
    }
}

/// A report over some scopes of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub generated_at: String,
    pub scope: ReportScope,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub remediation: Vec<Remedy>,
    pub estate: Estate,
}

impl Report {
    /// The report of `results` covering every scope (`covers = None`) or one (account, region);
    /// the status of every scope of the run is listed either way.
    pub fn build(generated_at: &str, results: &[ScopeResult], covers: Option<(&str, &str)>) -> Self {
        let covered: Vec<&ScopeResult> =
            results.iter().filter(|r| covers.is_none_or(|(a, g)| r.account == a && r.region == g)).collect();
        let mut findings: Vec<Finding> =
            covered.iter().filter_map(|r| r.outcome.as_deref().ok()).flat_map(|a| a.findings.iter().cloned()).collect();
        findings.sort_by(|a, b| {
            (std::cmp::Reverse(a.severity), a.code, &a.account, &a.region, &a.resource, &a.message).cmp(&(
                std::cmp::Reverse(b.severity),
                b.code,
                &b.account,
                &b.region,
                &b.resource,
                &b.message,
            ))
        });
        let remediation =
            covered.iter().filter_map(|r| r.outcome.as_deref().ok()).flat_map(|a| a.remedies.iter().cloned()).collect();
        let unique = |f: fn(&ScopeResult) -> &String| {
            let set: BTreeSet<String> = covered.iter().map(|r| f(r).clone()).collect();
            set.into_iter().collect::<Vec<String>>()
        };
        let scopes = results
            .iter()
            .map(|r| match &r.outcome {
                Ok(a) => ScopeStatus {
                    account: r.account.clone(),
                    region: r.region.clone(),
                    status: ScopeState::Ok,
                    error: None,
                    findings: Some(a.findings.len()),
                    notes: a.notes.clone(),
                },
                Err(e) => ScopeStatus {
                    account: r.account.clone(),
                    region: r.region.clone(),
                    status: ScopeState::Failed,
                    error: Some(e.clone()),
                    findings: None,
                    notes: Vec::new(),
                },
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            generated_at: generated_at.to_string(),
            scope: ReportScope { accounts: unique(|r| &r.account), regions: unique(|r| &r.region), scopes },
            summary: Summary::of(&findings),
            estate: Estate::build(&covered, &findings),
            findings,
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

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
