//! Fixture builders for unit tests of the pure core: plain data, readable defaults.
use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::domain::*;

pub const ME: &str = "111111111111";
pub const PEER: &str = "222222222222";
pub const NOW: i64 = 1_800_000_000;

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| net(s)).collect()
}

/// A pending request from PEER's vpc-req (10.1.0.0/16) to my vpc-acc (10.0.0.0/16).
pub fn peering() -> Peering {
    Peering {
        id: "pcx-0123456789abcdef0".into(),
        status: PeeringStatus::PendingAcceptance,
        requester: VpcSide {
            account: PEER.into(),
            vpc_id: "vpc-req".into(),
            region: "us-east-1".into(),
            cidrs: nets(&["10.1.0.0/16"]),
        },
        accepter: VpcSide {
            account: ME.into(),
            vpc_id: "vpc-acc".into(),
            region: "us-east-1".into(),
            cidrs: nets(&["10.0.0.0/16"]),
        },
        tags: BTreeMap::new(),
        accepter_dns_resolution: None,
        expires_at: None,
    }
}

pub fn grant() -> PeeringGrant {
    PeeringGrant {
        scope: VpcScope::Vpc("vpc-acc".into()),
        account: PEER.into(),
        allowed_cidrs: None,
        dns_resolution: None,
        expires_at: None,
        note: None,
        added_by: "test".into(),
        added_at: NOW - 100,
    }
}

/// A live endpoint grant for `account` on `service`, without a limit, added at `NOW - 100`.
pub fn endpoint_grant(service: &str, account: &str) -> EndpointGrant {
    EndpointGrant {
        service_id: service.into(),
        account: account.into(),
        expires_at: None,
        max_endpoints: None,
        note: None,
        added_by: "test".into(),
        added_at: NOW - 100,
    }
}

pub fn table(id: &str, vpc: &str, routes: &[(&str, RouteTarget)]) -> RouteTable {
    RouteTable {
        id: id.into(),
        vpc_id: vpc.into(),
        tags: BTreeMap::new(),
        routes: routes
            .iter()
            .map(|(d, t)| Route { destination: net(d), target: t.clone(), blackhole: false })
            .collect(),
    }
}

pub fn pcx(id: &str) -> RouteTarget {
    RouteTarget::PeeringConnection(id.into())
}

pub fn other(id: &str) -> RouteTarget {
    RouteTarget::Other(id.into())
}

/// Cases per property: `default` in `make test`, `PROPTEST_CASES` in `make soak`.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
