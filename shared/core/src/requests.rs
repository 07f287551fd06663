//! Approval requests (`UNLISTED_ACTION=ask`): what a person needs to decide a request no grant
//! admits — who asks, for what, and the verdict of every check — and the narrowest grant that
//! admits exactly that request, checked with the acceptor's own decision before it is written.
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::decide::{decide, network_checks, Decision, Refusal};
use crate::domain::events::CheckVerdict;
use crate::domain::{Connection, EndpointGrant, Peering, PeeringGrant, RouteTable, VpcScope};

/// What is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    Peering,
    Endpoint,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Peering => "peering",
            RequestKind::Endpoint => "endpoint",
        }
    }
}

/// A request waiting for a person, as its ledger record (`request#<id>`) keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// `pcx-…` or `vpce-…`.
    pub id: String,
    pub kind: RequestKind,
    /// The requester (peering) or the endpoint's owner.
    pub account: String,
    pub region: String,
    /// Our VPC the peering would join, or our endpoint service.
    pub target: String,
    /// The requester's VPC (peering only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_vpc: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<IpNet>,
    pub checks: Vec<CheckVerdictRecord>,
}

/// A request still waiting for a person, as `vpcwarden requests` and the nightly report list
/// it: when it was first seen, everything about it, and the commands that decide it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenRequest {
    pub first_seen: String,
    #[serde(flatten)]
    pub request: ApprovalRequest,
    pub approve_command: String,
    pub deny_command: String,
}

impl OpenRequest {
    pub fn new(first_seen: String, request: ApprovalRequest) -> Self {
        let (approve_command, deny_command) = (request.approve_command(), request.deny_command());
        OpenRequest { first_seen, request, approve_command, deny_command }
    }

    /// The checks that failed, by name.
    pub fn failed_checks(&self) -> Vec<&str> {
        self.request.checks.iter().filter(|c| !c.passed).map(|c| c.check.as_str()).collect()
    }
}

/// A check's verdict as the ledger keeps it (the events carry the same fields).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckVerdictRecord {
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

impl From<&CheckVerdictRecord> for CheckVerdict {
    fn from(c: &CheckVerdictRecord) -> Self {
        CheckVerdict { check: c.check.clone(), passed: c.passed, detail: c.detail.clone() }
    }
}

fn verdict(check: &str, refusal: Option<Refusal>, ok: &str) -> CheckVerdictRecord {
    match refusal {
        Some(r) => CheckVerdictRecord { check: check.into(), passed: false, detail: r.to_string() },
        None => CheckVerdictRecord { check: check.into(), passed: true, detail: ok.into() },
    }
}

impl ApprovalRequest {
    /// The command that approves it, as a person would type it.
    pub fn approve_command(&self) -> String {
        format!("vpcwarden approve {}", self.id)
    }

    /// The command that denies it (the reason is the person's to write).
    pub fn deny_command(&self) -> String {
        format!("vpcwarden deny {} --reason '<why>'", self.id)
    }

    /// The checks that failed other than the grant's: what approving cannot fix.
    pub fn blocking_checks(&self) -> Vec<&CheckVerdictRecord> {
        self.checks.iter().filter(|c| !c.passed && c.check != "grant").collect()
    }

    /// A pending peering request no grant admits: every check the acceptor makes, with its
    /// verdict (the grant's is the one that failed).
    pub fn peering(p: &Peering, accepter_tables: &[&RouteTable]) -> Self {
        let no_grant =
            Refusal::NoGrant { account: p.requester.account.clone(), accepter_vpc: p.accepter.vpc_id.clone() };
        let (overlap, routed) = network_checks(p, accepter_tables);
        let cidrs = (p.requester.cidrs.is_empty()).then_some(Refusal::NoRequesterCidrs);
        ApprovalRequest {
            id: p.id.clone(),
            kind: RequestKind::Peering,
            account: p.requester.account.clone(),
            region: p.accepter.region.clone(),
            target: p.accepter.vpc_id.clone(),
            requester_vpc: Some(p.requester.vpc_id.clone()),
            cidrs: p.requester.cidrs.clone(),
            checks: vec![
                verdict("grant", Some(no_grant), ""),
                verdict("requester-cidrs", cidrs, "the requester VPC reports its CIDR blocks"),
                verdict("no-overlap", overlap, "no requester CIDR overlaps the accepter VPC"),
                verdict("not-routed", routed, "no existing route captures a requester CIDR"),
            ],
        }
    }

    /// A pending endpoint connection no grant admits.
    pub fn endpoint(c: &Connection, region: &str) -> Self {
        ApprovalRequest {
            id: c.endpoint_id.clone(),
            kind: RequestKind::Endpoint,
            account: c.account.clone(),
            region: region.to_string(),
            target: c.service_id.clone(),
            requester_vpc: None,
            cidrs: Vec::new(),
            checks: vec![CheckVerdictRecord {
                check: "grant".into(),
                passed: false,
                detail: format!("no endpoint grant for account {} on {}", c.account, c.service_id),
            }],
        }
    }
}

/// The narrowest peering grant that admits exactly `p`: its requester account into its accepter
/// VPC, no CIDR but the requester's. The acceptor's own decision must accept `p` with it (other
/// checks, such as an overlap, still refuse it: the refusal says which).
pub fn peering_grant_for(
    p: &Peering,
    accepter_tables: &[&RouteTable],
    who: (&str, i64),
    expires_at: Option<i64>,
    note: Option<String>,
) -> Result<PeeringGrant, Refusal> {
    let (added_by, now) = who;
    let grant = PeeringGrant {
        scope: VpcScope::Vpc(p.accepter.vpc_id.clone()),
        account: p.requester.account.clone(),
        allowed_cidrs: Some(p.requester.cidrs.clone()),
        dns_resolution: None,
        expires_at,
        note,
        added_by: added_by.to_string(),
        added_at: now,
    };
    match decide(p, std::slice::from_ref(&grant), accepter_tables, now) {
        Decision::Accept { .. } => Ok(grant),
        Decision::Refuse { reason } => Err(reason),
    }
}

/// The narrowest endpoint grant that admits exactly `c`: its account on its service, for as many
/// endpoints as the account would then hold (the ones connected, plus this one).
pub fn endpoint_grant_for(
    c: &Connection,
    connected: u32,
    who: (&str, i64),
    expires_at: Option<i64>,
    note: Option<String>,
) -> EndpointGrant {
    let (added_by, now) = who;
    EndpointGrant {
        service_id: c.service_id.clone(),
        account: c.account.clone(),
        expires_at,
        max_endpoints: Some(connected + 1),
        note,
        added_by: added_by.to_string(),
        added_at: now,
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
