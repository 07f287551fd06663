//! Route planning: which routes to create, delete, or report as conflicts. Pure and idempotent:
//! planning against the state a plan produced yields no further changes.
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::domain::{Peering, RouteTable, RouteTarget, Side};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum RouteChange {
    Create {
        route_table: String,
        destination: IpNet,
        pcx: String,
    },
    Delete {
        route_table: String,
        destination: IpNet,
        pcx: String,
    },
    /// The destination is already routed elsewhere: reported, never overwritten.
    Conflict {
        route_table: String,
        destination: IpNet,
        existing: RouteTarget,
    },
}

impl RouteChange {
    pub fn route_table(&self) -> &str {
        match self {
            RouteChange::Create { route_table, .. }
            | RouteChange::Delete { route_table, .. }
            | RouteChange::Conflict { route_table, .. } => route_table,
        }
    }

    pub fn destination(&self) -> IpNet {
        match self {
            RouteChange::Create { destination, .. }
            | RouteChange::Delete { destination, .. }
            | RouteChange::Conflict { destination, .. } => *destination,
        }
    }
}

/// Routes on `side` of an active peering: every peer CIDR through the pcx in every given table.
/// `tables` are the managed tables of that side's VPC (see `select_tables`).
pub fn plan_routes(peering: &Peering, side: Side, tables: &[&RouteTable]) -> Vec<RouteChange> {
    let peer_cidrs = peering.peer_cidrs(side);
    let mut changes = Vec::new();
    for table in tables {
        for destination in peer_cidrs {
            match table.route_to(destination) {
                Some(route) if route.target.is_pcx(&peering.id) => {}
                Some(route) => changes.push(RouteChange::Conflict {
                    route_table: table.id.clone(),
                    destination: *destination,
                    existing: route.target.clone(),
                }),
                None => changes.push(RouteChange::Create {
                    route_table: table.id.clone(),
                    destination: *destination,
                    pcx: peering.id.clone(),
                }),
            }
        }
    }
    changes
}

/// Routes to remove after a peering died: routes through `pcx_id` to the peer's CIDRs, the ones
/// vpcwarden creates. With `peer_cidrs = None` (the connection is no longer described at all)
/// every route through the pcx goes: it can only be a blackhole.
pub fn plan_cleanup(pcx_id: &str, peer_cidrs: Option<&[IpNet]>, tables: &[&RouteTable]) -> Vec<RouteChange> {
    tables
        .iter()
        .flat_map(|table| {
            table
                .routes
                .iter()
                .filter(|r| r.target.is_pcx(pcx_id) && peer_cidrs.is_none_or(|c| c.contains(&r.destination)))
                .map(|r| RouteChange::Delete {
                    route_table: table.id.clone(),
                    destination: r.destination,
                    pcx: pcx_id.to_string(),
                })
        })
        .collect()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
