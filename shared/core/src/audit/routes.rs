//! Routes, judged from the scope that holds the route table: the routes an active connection
//! vpcwarden manages should have and lacks, the routes that take its traffic elsewhere, and
//! the routes through connections that carry nothing (blackholes).
use super::{Desired, Findings, Scope};
use crate::domain::{DeadReason, Facts, Peering, PeeringStatus, RouteTable, RouteTarget, Side};
use crate::plan::{plan_routes, RouteChange};

/// Missing and conflicting routes of an active connection vpcwarden manages, in the managed
/// tables of each side held here.
pub(super) fn audit_peering_routes(desired: &Desired, f: &mut Findings, scope: &Scope, p: &Peering) {
    if p.status != PeeringStatus::Active || !f.observed.is_managed(p) {
        return;
    }
    for side in f.observed.sides_here(p) {
        let vpc = &p.side(side).vpc_id;
        let tables = scope.tables(vpc, desired.route_table_tag.as_ref());
        for change in plan_routes(p, side, &tables) {
            match change {
                RouteChange::Create { route_table, destination, pcx } => {
                    f.push(Facts::PeeringRouteMissing { route_table, vpc: vpc.clone(), side, destination, pcx })
                }
                RouteChange::Conflict { route_table, destination, existing } => f.push(Facts::PeeringRouteConflict {
                    route_table,
                    vpc: vpc.clone(),
                    side,
                    pcx: p.id.clone(),
                    peer_cidr: destination,
                    destination,
                    target: existing,
                }),
                RouteChange::Delete { .. } => {}
            }
        }
        more_specific_routes(f, p, side, &tables);
    }
}

/// More specific routes inside a peer CIDR capture that part of the peer's traffic. A route
/// for a peer CIDR itself is the plan's conflict, reported above, and only there.
fn more_specific_routes(f: &mut Findings, p: &Peering, side: Side, tables: &[&RouteTable]) {
    let peer = p.peer_cidrs(side);
    for table in tables {
        for route in table.routes.iter().filter(|r| !peer.contains(&r.destination)) {
            if let Some(cidr) = peer.iter().find(|c| route.captures(c, &p.id)) {
                f.push(Facts::PeeringRouteConflict {
                    route_table: table.id.clone(),
                    vpc: table.vpc_id.clone(),
                    side,
                    pcx: p.id.clone(),
                    peer_cidr: *cidr,
                    destination: route.destination,
                    target: route.target.clone(),
                });
            }
        }
    }
}

/// Why a route through `pcx` carries nothing, or `None` when it works.
fn dead_reason(known: Option<&Peering>, route_blackhole: bool) -> Option<DeadReason> {
    match known {
        None => Some(DeadReason::NotDescribed),
        Some(p) if p.status != PeeringStatus::Active => Some(DeadReason::Status(p.status.clone())),
        Some(_) if route_blackhole => Some(DeadReason::RouteBlackhole),
        Some(_) => None,
    }
}

/// Every route through a connection that carries nothing, in every table of the scope
/// (managed or not: a blackhole is worth knowing wherever it is).
pub(super) fn audit_blackholes(f: &mut Findings, scope: &Scope) {
    for table in &scope.observed.route_tables {
        for route in &table.routes {
            let RouteTarget::PeeringConnection(pcx) = &route.target else { continue };
            let known = scope.peering(pcx);
            let Some(why) = dead_reason(known, route.blackhole) else { continue };
            let managed = known.is_some_and(|p| f.observed.is_managed(p)) || f.observed.ledger_accepted.contains(pcx);
            f.push(Facts::PeeringRouteBlackhole {
                route_table: table.id.clone(),
                vpc: table.vpc_id.clone(),
                destination: route.destination,
                pcx: pcx.clone(),
                why,
                managed,
            });
        }
    }
}
