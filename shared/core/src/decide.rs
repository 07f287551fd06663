//! The peering decision: accept only what a live grant covers and what cannot hijack traffic.
use ipnet::IpNet;
use serde::Serialize;

use crate::domain::cidr::{overlaps, within};
use crate::domain::{Peering, PeeringGrant, RouteTable, VpcScope};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Decision {
    Accept { grant: PeeringGrant },
    Refuse { reason: Refusal },
}

/// Why a request is refused; `code()` is stable (ledger, answers, logs).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Refusal {
    NoGrant { account: String, accepter_vpc: String },
    GrantExpired { expired_at: i64 },
    NoRequesterCidrs,
    CidrNotAllowed { cidr: IpNet, allowed: Vec<IpNet> },
    CidrOverlapsAccepter { cidr: IpNet, accepter_cidr: IpNet },
    CidrAlreadyRouted { cidr: IpNet, route_table: String, destination: IpNet, target: String },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NoGrant { .. } => "no-grant",
            Refusal::GrantExpired { .. } => "grant-expired",
            Refusal::NoRequesterCidrs => "no-requester-cidrs",
            Refusal::CidrNotAllowed { .. } => "cidr-not-allowed",
            Refusal::CidrOverlapsAccepter { .. } => "cidr-overlaps-accepter",
            Refusal::CidrAlreadyRouted { .. } => "cidr-already-routed",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoGrant { account, accepter_vpc } => {
                write!(f, "no peering grant for account {account} into {accepter_vpc} (nor peering#*)")
            }
            Refusal::GrantExpired { expired_at } => write!(f, "the matching grant expired at {expired_at} (epoch s)"),
            Refusal::NoRequesterCidrs => f.write_str("the requester VPC reports no CIDR block"),
            Refusal::CidrNotAllowed { cidr, allowed } => {
                let allowed: Vec<String> = allowed.iter().map(ToString::to_string).collect();
                write!(f, "requester CIDR {cidr} is outside the grant's allowed_cidrs [{}]", allowed.join(", "))
            }
            Refusal::CidrOverlapsAccepter { cidr, accepter_cidr } => {
                write!(f, "requester CIDR {cidr} overlaps accepter VPC CIDR {accepter_cidr}")
            }
            Refusal::CidrAlreadyRouted { cidr, route_table, destination, target } => {
                write!(f, "requester CIDR {cidr} is already routed in {route_table}: {destination} -> {target}")
            }
        }
    }
}

/// Decides a pending request. `grants` are the grants read for the requester account (any
/// scope; non-matching ones are ignored here), `accepter_tables` the route tables that would be
/// wired. A VPC-specific grant wins over `peering#*`; the first grant that passes every check
/// accepts, otherwise the most specific grant's refusal is reported.
pub fn decide(peering: &Peering, grants: &[PeeringGrant], accepter_tables: &[&RouteTable], now: i64) -> Decision {
    let requester = &peering.requester;
    let accepter = &peering.accepter;
    let candidates = candidate_grants(grants, peering);

    let Some(first) = candidates.first() else {
        return refuse(Refusal::NoGrant { account: requester.account.clone(), accepter_vpc: accepter.vpc_id.clone() });
    };
    let live: Vec<&PeeringGrant> = candidates.iter().copied().filter(|g| g.is_live(now)).collect();
    if live.is_empty() {
        return refuse(Refusal::GrantExpired { expired_at: first.expires_at.unwrap_or_default() });
    }
    if requester.cidrs.is_empty() {
        return refuse(Refusal::NoRequesterCidrs);
    }
    if let Some(refusal) = network_refusal(peering, accepter_tables) {
        return refuse(refusal);
    }
    let mut first_refusal = None;
    for grant in live {
        match cidrs_outside_grant(&requester.cidrs, grant) {
            None => return Decision::Accept { grant: grant.clone() },
            Some(r) => {
                first_refusal.get_or_insert(r);
            }
        }
    }
    refuse(first_refusal.expect("at least one live grant was checked"))
}

/// The grants that could admit `peering`, in the order they are tried: a VPC-specific grant
/// before `peering#*`, then the latest expiry, so the choice never depends on read order.
pub(crate) fn candidate_grants<'g>(grants: &'g [PeeringGrant], peering: &Peering) -> Vec<&'g PeeringGrant> {
    let mut candidates: Vec<&PeeringGrant> = grants
        .iter()
        .filter(|g| g.account == peering.requester.account && g.covers_vpc(&peering.accepter.vpc_id))
        .collect();
    candidates.sort_by_key(|g| (matches!(g.scope, VpcScope::Any), std::cmp::Reverse(g.expires_at.unwrap_or(i64::MAX))));
    candidates
}

/// The live grant that speaks for `peering` (the first [`candidate_grants`] that is live).
pub(crate) fn live_grant<'g>(grants: &'g [PeeringGrant], peering: &Peering, now: i64) -> Option<&'g PeeringGrant> {
    candidate_grants(grants, peering).into_iter().find(|g| g.is_live(now))
}

fn refuse(reason: Refusal) -> Decision {
    Decision::Refuse { reason }
}

fn cidrs_outside_grant(cidrs: &[IpNet], grant: &PeeringGrant) -> Option<Refusal> {
    let allowed = grant.allowed_cidrs.as_ref()?;
    cidrs
        .iter()
        .find(|c| !allowed.iter().any(|a| within(c, a)))
        .map(|c| Refusal::CidrNotAllowed { cidr: *c, allowed: allowed.clone() })
}

/// Checks that hold whatever the grant: no overlap with the accepter VPC, and no existing route
/// (other than `local` and routes through this very connection) as specific as or more specific
/// than a requester CIDR. Less specific routes (a default route, a /8 to a TGW) are fine.
pub(crate) fn network_refusal(peering: &Peering, accepter_tables: &[&RouteTable]) -> Option<Refusal> {
    peering
        .requester
        .cidrs
        .iter()
        .find_map(|cidr| overlapping(peering, cidr).or_else(|| captured(peering, cidr, accepter_tables)))
}

/// The same two checks, each on its own (for a person deciding an approval request): the first
/// overlap, and the first requester CIDR already routed.
pub(crate) fn network_checks(peering: &Peering, accepter_tables: &[&RouteTable]) -> (Option<Refusal>, Option<Refusal>) {
    let cidrs = &peering.requester.cidrs;
    (
        cidrs.iter().find_map(|c| overlapping(peering, c)),
        cidrs.iter().find_map(|c| captured(peering, c, accepter_tables)),
    )
}

fn overlapping(peering: &Peering, cidr: &IpNet) -> Option<Refusal> {
    let accepter_cidr = peering.accepter.cidrs.iter().find(|a| overlaps(cidr, a))?;
    Some(Refusal::CidrOverlapsAccepter { cidr: *cidr, accepter_cidr: *accepter_cidr })
}

fn captured(peering: &Peering, cidr: &IpNet, accepter_tables: &[&RouteTable]) -> Option<Refusal> {
    accepter_tables.iter().find_map(|table| {
        let route = table.routes.iter().find(|r| r.captures(cidr, &peering.id))?;
        Some(Refusal::CidrAlreadyRouted {
            cidr: *cidr,
            route_table: table.id.clone(),
            destination: route.destination,
            target: route.target.to_string(),
        })
    })
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
