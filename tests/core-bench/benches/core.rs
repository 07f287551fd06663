//! Criterion benchmarks of the pure core on a large estate: `audit` over 10,000 route tables
//! (5,000 VPCs, each with a main table and a managed one tagged `peering=yes`; 5,000 active
//! managed peerings routed in both VPCs' managed tables, one route in fifty missing) and
//! `plan_routes` for one peering into a VPC with 10,000 route tables.
//! `cargo bench -p vpcwarden-core-bench --bench core` (target: audit under 50 ms).
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ipnet::IpNet;
use vpcwarden_core::audit::{audit, Desired, Observed};
use vpcwarden_core::domain::peering::MANAGED_TAG;
use vpcwarden_core::domain::TagFilter;
use vpcwarden_core::domain::{
    Peering, PeeringGrant, PeeringStatus, Route, RouteTable, RouteTarget, Side, Vpc, VpcScope, VpcSide,
};
use vpcwarden_core::plan_routes;

const ACCOUNT: &str = "123456789012";
const VPCS: usize = 5_000;
const NOW: i64 = 1_800_000_000;

fn cidr(i: usize) -> IpNet {
    format!("10.{}.{}.0/24", i / 250, i % 250).parse().expect("a CIDR")
}

fn side(i: usize) -> VpcSide {
    VpcSide {
        account: ACCOUNT.into(),
        vpc_id: format!("vpc-{i:08x}"),
        region: "us-east-1".into(),
        cidrs: vec![cidr(i)],
    }
}

fn peering(k: usize) -> Peering {
    Peering {
        id: format!("pcx-{k:08x}"),
        status: PeeringStatus::Active,
        requester: side(k),
        accepter: side((k + 1) % VPCS),
        tags: BTreeMap::from([(MANAGED_TAG.to_string(), "true".to_string())]),
        accepter_dns_resolution: None,
        expires_at: None,
    }
}

fn route(destination: IpNet, target: RouteTarget) -> Route {
    Route { destination, target, blackhole: false }
}

/// 5,000 VPCs with two tables each: a main table, and a table routing to both peers.
fn estate() -> Observed {
    let peerings: Vec<Peering> = (0..VPCS).map(peering).collect();
    let mut route_tables = Vec::with_capacity(2 * VPCS);
    for i in 0..VPCS {
        let vpc = format!("vpc-{i:08x}");
        let local = route(cidr(i), RouteTarget::Local);
        route_tables.push(RouteTable {
            id: format!("rtb-m{i:07x}"),
            vpc_id: vpc.clone(),
            tags: BTreeMap::new(),
            routes: vec![local.clone()],
        });
        let (to_next, to_prev) = (&peerings[i], &peerings[(i + VPCS - 1) % VPCS]);
        let mut routes = vec![local, route(cidr((i + 1) % VPCS), RouteTarget::PeeringConnection(to_next.id.clone()))];
        if i % 50 != 7 {
            routes.push(route(cidr((i + VPCS - 1) % VPCS), RouteTarget::PeeringConnection(to_prev.id.clone())));
        }
        let managed = BTreeMap::from([("peering".to_string(), "yes".to_string())]);
        route_tables.push(RouteTable { id: format!("rtb-p{i:07x}"), vpc_id: vpc, tags: managed, routes });
    }
    Observed {
        account: ACCOUNT.into(),
        region: "us-east-1".into(),
        vpcs: (0..VPCS).map(|i| Vpc { id: format!("vpc-{i:08x}"), cidrs: vec![cidr(i)], name: None }).collect(),
        peerings,
        route_tables,
        services: Vec::new(),
        ledger_accepted: BTreeSet::new(),
        holds_allowlist: true,
    }
}

fn desired() -> Desired {
    Desired {
        peering_grants: vec![PeeringGrant {
            scope: VpcScope::Any,
            account: ACCOUNT.into(),
            allowed_cidrs: None,
            dns_resolution: None,
            expires_at: None,
            note: None,
            added_by: "bench".into(),
            added_at: NOW - 100,
        }],
        // As drift-auditor runs in the audit bench: the tagged table is the managed one.
        route_table_tag: Some(TagFilter { key: "peering".into(), value: "yes".into() }),
        ..Desired::default()
    }
}

fn benches(c: &mut Criterion) {
    let (desired, observed) = (desired(), estate());
    assert_eq!(observed.route_tables.len(), 10_000);
    let findings = audit(&desired, &observed, NOW);
    assert_eq!(findings.len(), VPCS / 50, "the seeded missing routes, and nothing else");
    c.bench_function("audit 10,000 route tables, 5,000 peerings", |b| {
        b.iter(|| audit(black_box(&desired), black_box(&observed), NOW))
    });

    // One peering into a VPC with 10,000 tables, half of them already routed.
    let p = peering(0);
    let tables: Vec<RouteTable> = (0..10_000)
        .map(|t| {
            let mut routes = vec![route(cidr(1), RouteTarget::Local)];
            if t % 2 == 0 {
                routes.push(route(cidr(0), RouteTarget::PeeringConnection(p.id.clone())));
            }
            RouteTable { id: format!("rtb-{t:08x}"), vpc_id: p.accepter.vpc_id.clone(), tags: BTreeMap::new(), routes }
        })
        .collect();
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert_eq!(plan_routes(&p, Side::Accepter, &refs).len(), 5_000);
    c.bench_function("plan_routes into 10,000 route tables", |b| {
        b.iter(|| plan_routes(black_box(&p), Side::Accepter, black_box(&refs)))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
