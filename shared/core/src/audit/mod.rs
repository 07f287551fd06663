//! The pure drift audit: what the allowlist and configuration say should be ([`Desired`])
//! against what one scope — one account in one region — holds ([`Observed`]), as findings
//! carrying typed facts ([`Finding`]), and the safe part of the drift as route changes
//! ([`plan_remediation`]). No I/O, no SDK types, no wording: the reports word the facts.
//!
//! The checks live by subject: `peering` (connections as a whole), `routes` (missing,
//! conflicting and dead routes), `services` (endpoint services and their connections) and
//! `grants` (the allowlist itself).
mod grants;
mod peering;
mod routes;
mod services;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::domain::route::{managed_tables, routed_peerings, select_tables};
use crate::domain::{
    Connection, EndpointGrant, Facts, Finding, LoadBalancerHealth, Peering, PeeringGrant, PeeringStatus, RouteTable,
    Side, TagFilter, Vpc, VpcSide, Waiver,
};
use crate::plan::{plan_cleanup, plan_routes, RouteChange};

/// Where the parsing of an endpoint service's principals lives; re-exported for its old path.
pub use crate::domain::ids::principal_account;

/// AWS expires a pending peering request this long after it was made.
pub const PENDING_LIFETIME: i64 = 7 * 24 * 3600;

/// What should be: the allowlist and the auditor's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub peering_grants: Vec<PeeringGrant>,
    pub endpoint_grants: Vec<EndpointGrant>,
    /// `ROUTE_TABLE_TAG`: only tables with this tag are managed (`None`: every table).
    pub route_table_tag: Option<TagFilter>,
    /// `STALE_PENDING_HOURS`, in seconds.
    pub stale_pending: i64,
    /// `EXPIRY_WARNING_DAYS`, in seconds.
    pub expiry_warning: i64,
    /// Accepted risks: they change no finding, only how the reports count it.
    pub waivers: Vec<Waiver>,
}

/// An endpoint service this scope owns, with everything the audit looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointService {
    pub id: String,
    pub name: String,
    pub acceptance_required: bool,
    pub allowed_principals: Vec<String>,
    pub connections: Vec<Connection>,
    /// The service's load balancers and the health of their target groups.
    pub load_balancers: Vec<LoadBalancerHealth>,
}

/// What one scope (an account in a region) holds, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub account: String,
    pub region: String,
    pub vpcs: Vec<Vpc>,
    /// Every connection the scope describes, whichever side it is on.
    pub peerings: Vec<Peering>,
    pub route_tables: Vec<RouteTable>,
    pub services: Vec<EndpointService>,
    /// Connections the ledger says vpcwarden accepted (their tag may be gone with them).
    pub ledger_accepted: BTreeSet<String>,
    /// Whether this scope reports on the allowlist itself (GRANT_EXPIRING): one scope per run.
    pub holds_allowlist: bool,
}

impl Observed {
    fn holds(&self, side: &VpcSide) -> bool {
        side.account == self.account && (side.region.is_empty() || side.region == self.region)
    }

    /// vpcwarden accepted it: its tag, or its ledger.
    pub fn is_managed(&self, p: &Peering) -> bool {
        p.is_managed() || self.ledger_accepted.contains(&p.id)
    }

    /// The connection as the audit judges it: each side held here also gets the CIDRs its VPC
    /// has now (blocks associated after the request are missing from the request's VPC info).
    fn enriched(&self, p: &Peering, vpcs: &HashMap<&str, &Vpc>) -> Peering {
        let mut p = p.clone();
        for side in [Side::Accepter, Side::Requester] {
            let held = self.holds(p.side(side));
            let info = match side {
                Side::Accepter => &mut p.accepter,
                Side::Requester => &mut p.requester,
            };
            if let Some(vpc) = vpcs.get(info.vpc_id.as_str()).filter(|_| held) {
                info.cidrs.extend(vpc.cidrs.iter().copied());
                info.cidrs.sort();
                info.cidrs.dedup();
            }
        }
        p
    }

    /// The sides of `p` whose VPC lies in this scope.
    fn sides_here(&self, p: &Peering) -> Vec<Side> {
        [Side::Accepter, Side::Requester].into_iter().filter(|s| self.holds(p.side(*s))).collect()
    }
}

/// The scope indexed once per audit: the per-connection and per-route look-ups would otherwise
/// scan every VPC, table and connection (quadratic: 0.7 s for 10,000 tables).
struct Scope<'a> {
    observed: &'a Observed,
    /// Every connection, [enriched](Observed::enriched), in the observed order.
    peerings: Vec<Peering>,
    by_id: HashMap<String, usize>,
    tables_by_vpc: HashMap<&'a str, Vec<&'a RouteTable>>,
}

impl<'a> Scope<'a> {
    fn new(observed: &'a Observed) -> Self {
        let vpcs: HashMap<&str, &Vpc> = observed.vpcs.iter().map(|v| (v.id.as_str(), v)).collect();
        let peerings: Vec<Peering> = observed.peerings.iter().map(|p| observed.enriched(p, &vpcs)).collect();
        let mut by_id = HashMap::with_capacity(peerings.len());
        for (i, p) in peerings.iter().enumerate() {
            by_id.entry(p.id.clone()).or_insert(i);
        }
        let mut tables_by_vpc: HashMap<&str, Vec<&RouteTable>> = HashMap::new();
        for t in &observed.route_tables {
            tables_by_vpc.entry(t.vpc_id.as_str()).or_default().push(t);
        }
        Scope { observed, peerings, by_id, tables_by_vpc }
    }

    fn peering(&self, id: &str) -> Option<&Peering> {
        self.by_id.get(id).map(|i| &self.peerings[*i])
    }

    /// The tables of `vpc` that `tag` selects, in the observed order.
    /// A VPC's route tables (those the tag selects), by id: what a finding names (the first
    /// table routing a CIDR, say) must not depend on the order EC2 listed them in, or its id would.
    fn tables(&self, vpc: &str, tag: Option<&TagFilter>) -> Vec<&'a RouteTable> {
        let all = self.tables_by_vpc.get(vpc).map(Vec::as_slice).unwrap_or_default();
        let mut tables = select_tables(all.iter().copied(), vpc, tag);
        tables.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        tables
    }
}

/// The findings of one scope as the checks add them.
struct Findings<'a> {
    observed: &'a Observed,
    out: Vec<Finding>,
}

impl Findings<'_> {
    fn push(&mut self, facts: Facts) {
        self.out.push(Finding::new(&self.observed.account, &self.observed.region, facts));
    }
}

/// Every finding of one scope, most severe first, then by code, resource and identity; equal
/// findings once.
///
/// Peering findings about a connection as a whole (pending, grant, overlap, DNS) come from the
/// accepter's scope; route findings from the scope that holds the route table. A route to a
/// connection that is not `active` — deleted, rejected, expired, failed, still pending, or no
/// longer described at all — is a blackhole whatever the route's own state says.
pub fn audit(desired: &Desired, observed: &Observed, now: i64) -> Vec<Finding> {
    let mut f = Findings { observed, out: Vec::new() };
    let scope = Scope::new(observed);
    for p in &scope.peerings {
        peering::audit_peering(desired, &mut f, &scope, p, now);
        routes::audit_peering_routes(desired, &mut f, &scope, p);
    }
    routes::audit_blackholes(&mut f, &scope);
    for service in &observed.services {
        services::audit_service(desired, &mut f, service, now);
    }
    if observed.holds_allowlist {
        grants::audit_grants(desired, &mut f, now);
    }
    let mut out = f.out;
    // The full order first, so that equal findings sit together for `dedup` and findings of
    // the same identity (which differ only in volatile facts) come out in a fixed order.
    out.sort_unstable();
    out.dedup();
    out.sort_by_cached_key(|f| (std::cmp::Reverse(f.severity()), f.code(), f.resource(), f.identity()));
    out
}

/// The safe part of the drift, as route changes in this scope: recreate the missing routes of
/// active connections vpcwarden manages, and delete the routes vpcwarden created through
/// connections that are dead (deleted, rejected, expired, failed) or no longer described. Only
/// managed tables are touched, never a conflict, never a route vpcwarden did not create.
pub fn plan_remediation(desired: &Desired, observed: &Observed) -> Vec<RouteChange> {
    let tag = desired.route_table_tag.as_ref();
    let mut changes = Vec::new();
    let scope = Scope::new(observed);
    for p in scope.peerings.iter().filter(|p| p.status == PeeringStatus::Active && observed.is_managed(p)) {
        for side in observed.sides_here(p) {
            let tables = scope.tables(&p.side(side).vpc_id, tag);
            changes
                .extend(plan_routes(p, side, &tables).into_iter().filter(|c| matches!(c, RouteChange::Create { .. })));
        }
    }
    // Dead or vanished connections that vpcwarden accepted, routed from a managed table here.
    let routed = routed_peerings(&observed.route_tables);
    let managed = managed_tables(&observed.route_tables, tag);
    for pcx in routed {
        let known = scope.peering(pcx);
        let (dead, ours) = match known {
            Some(p) => (p.status.is_dead(), observed.is_managed(p)),
            None => (true, observed.ledger_accepted.contains(pcx)),
        };
        if !dead || !ours {
            continue;
        }
        match known {
            // Only the routes vpcwarden makes: the peer's CIDRs, in the tables of a side held here.
            Some(p) => {
                for side in observed.sides_here(p) {
                    let tables = scope.tables(&p.side(side).vpc_id, tag);
                    // A connection described without CIDRs: every route through it is dead.
                    let peer = p.peer_cidrs(side);
                    changes.extend(plan_cleanup(pcx, (!peer.is_empty()).then_some(peer), &tables));
                }
            }
            // Not described any more: every route through it can only be a blackhole.
            None => changes.extend(plan_cleanup(pcx, None, &managed)),
        }
    }
    changes
}

#[cfg(test)]
mod tests;
