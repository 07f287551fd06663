//! Peering connections as a whole, judged from the accepter's scope: requests pending without
//! a grant, granted but blocked, or pending for too long; active connections without a grant,
//! DNS resolution that differs from the grant, and CIDRs that overlap across the connection.
use super::{Desired, Findings, Scope, PENDING_LIFETIME};
use crate::decide::{decide, live_grant, Decision};
use crate::domain::cidr::overlaps;
use crate::domain::{Facts, Peering, PeeringGrant, PeeringStatus, Requester};

fn requester(p: &Peering) -> Requester {
    Requester {
        account: p.requester.account.clone(),
        vpc: p.requester.vpc_id.clone(),
        cidrs: p.requester.cidrs.clone(),
    }
}

pub(super) fn audit_peering(desired: &Desired, f: &mut Findings, scope: &Scope, p: &Peering, now: i64) {
    if !f.observed.holds(&p.accepter) {
        return;
    }
    let grant = live_grant(&desired.peering_grants, p, now);
    match &p.status {
        PeeringStatus::PendingAcceptance => {
            if grant.is_some() {
                blocked(desired, f, scope, p, now);
            }
            pending(desired, f, p, grant, now)
        }
        PeeringStatus::Active => match grant {
            None => f.push(Facts::PeeringNotAllowlisted {
                pcx: p.id.clone(),
                requester: requester(p),
                accepter_vpc: p.accepter.vpc_id.clone(),
            }),
            Some(g) => dns_drift(f, p, g),
        },
        _ => {}
    }
    if !p.status.is_dead() {
        overlap(f, p);
    }
}

fn pending(desired: &Desired, f: &mut Findings, p: &Peering, grant: Option<&PeeringGrant>, now: i64) {
    if grant.is_none() {
        f.push(Facts::PeeringPendingUnlisted {
            pcx: p.id.clone(),
            requester: requester(p),
            accepter_vpc: p.accepter.vpc_id.clone(),
        });
    }
    // Without its expiry time, how long a request has waited is unknown: never stale.
    let Some(expires_at) = p.expires_at else { return };
    let pending_for = now - (expires_at - PENDING_LIFETIME);
    if pending_for > desired.stale_pending {
        f.push(Facts::PeeringPendingStale {
            pcx: p.id.clone(),
            requester: requester(p),
            accepter_vpc: p.accepter.vpc_id.clone(),
            pending_for,
            expires_in: (expires_at - now).max(0),
            granted: grant.is_some(),
        });
    }
}

/// A granted request the acceptor would still refuse, decided by the acceptor's own rule
/// ([`decide`]) over the same managed tables of the accepter VPC: it will wait until it expires
/// unless someone acts, and the finding says which check blocks it.
fn blocked(desired: &Desired, f: &mut Findings, scope: &Scope, p: &Peering, now: i64) {
    let tables = scope.tables(&p.accepter.vpc_id, desired.route_table_tag.as_ref());
    if let Decision::Refuse { reason } = decide(p, &desired.peering_grants, &tables, now) {
        f.push(Facts::PeeringPendingBlocked {
            pcx: p.id.clone(),
            requester: requester(p),
            accepter_vpc: p.accepter.vpc_id.clone(),
            refusal: reason,
        });
    }
}

/// Only a grant with an opinion on DNS can be drifted from; the API not reporting the option
/// reads as disabled.
fn dns_drift(f: &mut Findings, p: &Peering, grant: &PeeringGrant) {
    let Some(wanted) = grant.dns_resolution else { return };
    let had = p.accepter_dns_resolution.unwrap_or(false);
    if had != wanted {
        f.push(Facts::PeeringDnsDrift { pcx: p.id.clone(), accepter_vpc: p.accepter.vpc_id.clone(), had, wanted });
    }
}

/// One finding per requester CIDR that overlaps the accepter, naming the first block it hits.
fn overlap(f: &mut Findings, p: &Peering) {
    for r in &p.requester.cidrs {
        if let Some(a) = p.accepter.cidrs.iter().find(|a| overlaps(r, a)) {
            f.push(Facts::PeeringCidrOverlap {
                pcx: p.id.clone(),
                requester: requester(p),
                accepter_vpc: p.accepter.vpc_id.clone(),
                requester_cidr: *r,
                accepter_cidr: *a,
                status: p.status.clone(),
            });
        }
    }
}
