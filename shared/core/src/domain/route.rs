//! Route tables and routes.
use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum RouteTarget {
    Local,
    PeeringConnection(String),
    /// Any other target (internet/transit/NAT gateway, ENI, endpoint...), by its id.
    Other(String),
}

impl RouteTarget {
    pub fn is_pcx(&self, pcx_id: &str) -> bool {
        matches!(self, RouteTarget::PeeringConnection(id) if id == pcx_id)
    }
}

impl std::fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteTarget::Local => f.write_str("local"),
            RouteTarget::PeeringConnection(id) | RouteTarget::Other(id) => f.write_str(id),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub destination: IpNet,
    pub target: RouteTarget,
    /// `true` when the API reports the route as `blackhole`.
    pub blackhole: bool,
}

impl Route {
    /// Whether this route takes traffic meant for `cidr` through `pcx`: a destination equal to or
    /// inside `cidr` with a target other than `local` and `pcx` itself. A less specific route (a
    /// default route, a /8 to a transit gateway) loses to the peering's longer prefix and takes
    /// nothing.
    pub(crate) fn captures(&self, cidr: &IpNet, pcx: &str) -> bool {
        !matches!(self.target, RouteTarget::Local)
            && !self.target.is_pcx(pcx)
            && crate::domain::cidr::within(&self.destination, cidr)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub tags: BTreeMap<String, String>,
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Whether vpcwarden manages this table under `ROUTE_TABLE_TAG` (`None`: every table).
    pub fn is_managed(&self, filter: Option<&TagFilter>) -> bool {
        filter.is_none_or(|f| f.matches(&self.tags))
    }

    pub fn route_to(&self, destination: &IpNet) -> Option<&Route> {
        self.routes.iter().find(|r| &r.destination == destination)
    }
}

/// `ROUTE_TABLE_TAG=key=value`: only tables carrying that tag are managed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
}

impl TagFilter {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(TagFilter { key: k.trim().into(), value: v.trim().into() }),
            _ => Err(format!("`{text}` is not of the form key=value")),
        }
    }

    pub fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(&self.key).is_some_and(|v| v == &self.value)
    }
}

/// The tables vpcwarden manages among `tables`, whatever their VPC.
pub fn managed_tables<'a>(
    tables: impl IntoIterator<Item = &'a RouteTable>,
    filter: Option<&TagFilter>,
) -> Vec<&'a RouteTable> {
    tables.into_iter().filter(|t| t.is_managed(filter)).collect()
}

/// The tables of `vpc_id` that vpcwarden manages.
pub fn select_tables<'a>(
    tables: impl IntoIterator<Item = &'a RouteTable>,
    vpc_id: &str,
    filter: Option<&TagFilter>,
) -> Vec<&'a RouteTable> {
    tables.into_iter().filter(|t| t.vpc_id == vpc_id && t.is_managed(filter)).collect()
}

/// Every peering connection some route of `tables` points at.
pub fn routed_peerings(tables: &[RouteTable]) -> BTreeSet<&str> {
    tables
        .iter()
        .flat_map(|t| t.routes.iter())
        .filter_map(|r| match &r.target {
            RouteTarget::PeeringConnection(id) => Some(id.as_str()),
            _ => None,
        })
        .collect()
}
