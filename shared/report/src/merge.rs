//! The one report of an organisation run, put together from the reports its scopes wrote (each
//! scope is audited by its own invocation): findings, waived, resolved and remediation side by
//! side, the summary counted again, the drawing's elements merged by id (a connection between
//! two audited scopes is seen from both), and every planned scope listed, those without a
//! result as failed with why. Memory grows with the findings and the estate, not with the
//! number of times a scope is mentioned.
use std::collections::BTreeMap;

use vpcwarden_core::domain::{FindingCode, Severity};

use super::history::Status;
use super::SCHEMA_VERSION;
use super::{Estate, EstatePeering, EstateVpc, Health, Report, ReportFinding, ReportScope, ScopeStatus, Summary};

impl Summary {
    /// The counts of findings as the reports show them (`findings` counted, `waived` apart).
    pub fn of_shown(findings: &[ReportFinding], waived: usize, resolved: usize) -> Self {
        let mut by_severity: BTreeMap<Severity, usize> =
            [Severity::Critical, Severity::High, Severity::Medium, Severity::Low].into_iter().map(|s| (s, 0)).collect();
        let mut by_code: BTreeMap<FindingCode, usize> = FindingCode::ALL.iter().map(|c| (*c, 0)).collect();
        for f in findings {
            *by_severity.entry(f.severity).or_default() += 1;
            *by_code.entry(f.code).or_default() += 1;
        }
        let new = findings.iter().filter(|f| f.status == Status::New).count();
        Summary { total: findings.len(), by_severity, by_code, new, resolved, waived }
    }
}

impl Report {
    /// The report of a whole run from the reports of its scopes (`parts`, in any order) and the
    /// planned scopes that have none (`missing`, each failed with its reason).
    pub fn merge(generated_at: &str, parts: Vec<Report>, missing: Vec<ScopeStatus>) -> Report {
        let (mut findings, mut waived, mut resolved, mut remediation) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut scopes, mut estate) = (missing, EstateMerge::default());
        for part in parts {
            findings.extend(part.findings);
            waived.extend(part.waived);
            resolved.extend(part.resolved);
            remediation.extend(part.remediation);
            scopes.extend(part.scope.scopes);
            estate.add(part.estate);
        }
        // The order of a single run's report: most severe first, then by identity.
        let order = |f: &ReportFinding| {
            (
                std::cmp::Reverse(f.severity),
                f.code,
                f.account.clone(),
                f.region.clone(),
                f.resource.clone(),
                f.id.clone(),
            )
        };
        findings.sort_by_cached_key(order);
        waived.sort_by_cached_key(order);
        resolved.sort_by(|a, b| {
            (&a.code, &a.account, &a.region, &a.resource).cmp(&(&b.code, &b.account, &b.region, &b.resource))
        });
        scopes.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        scopes.dedup_by(|a, b| a.account == b.account && a.region == b.region);
        let unique = |f: fn(&ScopeStatus) -> &String| {
            let mut v: Vec<String> = scopes.iter().map(|s| f(s).clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        Report {
            schema_version: SCHEMA_VERSION,
            generated_at: generated_at.to_string(),
            scope: ReportScope { accounts: unique(|s| &s.account), regions: unique(|s| &s.region), scopes },
            summary: Summary::of_shown(&findings, waived.len(), resolved.len()),
            findings,
            waived,
            resolved,
            remediation,
            estate: estate.finish(),
            approval_requests: Vec::new(),
        }
    }
}

/// The drawing's elements by id: a VPC audited anywhere is drawn as audited; a connection is
/// active if any side saw it active, managed if any side manages it, and coloured by the
/// findings of both sides.
#[derive(Default)]
struct EstateMerge {
    vpcs: BTreeMap<String, EstateVpc>,
    peerings: BTreeMap<String, EstatePeering>,
    services: BTreeMap<String, super::EstateService>,
}

impl EstateMerge {
    fn add(&mut self, estate: Estate) {
        for vpc in estate.vpcs {
            match self.vpcs.get_mut(&vpc.id) {
                Some(known) if known.audited || !vpc.audited => {}
                _ => {
                    self.vpcs.insert(vpc.id.clone(), vpc);
                }
            }
        }
        for p in estate.peerings {
            match self.peerings.get_mut(&p.id) {
                None => {
                    self.peerings.insert(p.id.clone(), p);
                }
                Some(known) => {
                    known.managed |= p.managed;
                    if p.status == "active" {
                        known.status = p.status;
                    }
                    known.health = both(&known.health, &p.health);
                }
            }
        }
        for s in estate.services {
            self.services.entry(s.id.clone()).or_insert(s);
        }
    }

    fn finish(self) -> Estate {
        Estate {
            vpcs: self.vpcs.into_values().collect(),
            peerings: self.peerings.into_values().collect(),
            services: self.services.into_values().collect(),
        }
    }
}

/// The health of an element from the findings of two scopes.
fn both(a: &Health, b: &Health) -> Health {
    let mut codes = a.codes.clone();
    codes.extend(b.codes.iter().copied());
    codes.sort();
    codes.dedup();
    Health { worst: a.worst.max(b.worst), codes, new: a.new || b.new }
}
