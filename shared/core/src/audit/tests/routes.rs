//! Routes: missing, conflicting, and blackholes.
use super::*;

// -- PEERING_ROUTE_MISSING / PEERING_ROUTE_CONFLICT -----------------------------------------

#[test]
fn a_managed_table_without_the_peer_route_is_missing_it() {
    let mut o = observed();
    o.route_tables[1].routes.retain(|r| !r.target.is_pcx(&pcx_id()));
    let f = only(&desired(), &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f, vec![missing("rtb-a2", "10.1.0.0/16")]);
}

#[test]
fn every_peer_cidr_is_expected_including_secondary_and_ipv6() {
    let mut o = observed();
    o.peerings[0].requester.cidrs = nets(&["10.1.0.0/16", "100.64.0.0/20", "2600:1f18:aaaa::/56"]);
    let f = only(&desired(), &o, FindingCode::PeeringRouteMissing);
    // 2 tables x 2 missing CIDRs.
    let expected = ["rtb-a1", "rtb-a2"]
        .into_iter()
        .flat_map(|t| [missing(t, "100.64.0.0/20"), missing(t, "2600:1f18:aaaa::/56")])
        .collect();
    assert_same(f, expected);
}

#[test]
fn route_missing_only_for_managed_active_peerings() {
    let mut o = observed();
    o.route_tables.iter_mut().for_each(|t| t.routes.retain(|r| !r.target.is_pcx(&pcx_id())));
    // Not managed (no tag, no ledger record): vpcwarden has no say on its routes.
    o.peerings[0].tags.clear();
    assert!(run(&desired(), &o).is_empty());
    // The ledger's word is as good as the tag.
    o.ledger_accepted.insert(pcx_id());
    let f = only(&desired(), &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f, vec![missing("rtb-a1", "10.1.0.0/16"), missing("rtb-a2", "10.1.0.0/16")]);
    // A managed tag set to anything but "true" does not count.
    o.ledger_accepted.clear();
    o.peerings[0].tags.insert(MANAGED_TAG.into(), "false".into());
    assert!(run(&desired(), &o).is_empty());
    // Managed but not active: no route is expected.
    o.peerings[0].tags.insert(MANAGED_TAG.into(), "true".into());
    o.peerings[0].status = PeeringStatus::Provisioning;
    assert!(only(&desired(), &o, FindingCode::PeeringRouteMissing).is_empty());
}

#[test]
fn route_missing_honours_route_table_tag() {
    let mut o = observed();
    o.route_tables[0].tags.insert("peering".into(), "yes".into());
    o.route_tables.iter_mut().for_each(|t| t.routes.retain(|r| !r.target.is_pcx(&pcx_id())));
    let d = Desired { route_table_tag: Some(TagFilter::parse("peering=yes").unwrap()), ..desired() };
    assert_eq!(only(&d, &o, FindingCode::PeeringRouteMissing), vec![missing("rtb-a1", "10.1.0.0/16")]);
}

#[test]
fn both_sides_are_checked_when_both_are_in_the_scope() {
    let mut o = observed();
    o.peerings[0].requester.account = ME.into();
    o.vpcs.push(Vpc { id: "vpc-req".into(), cidrs: nets(&["10.1.0.0/16"]), name: None });
    o.route_tables.push(table("rtb-r1", "vpc-req", &[("10.1.0.0/16", RouteTarget::Local)]));
    let d = Desired { peering_grants: vec![PeeringGrant { account: ME.into(), ..grant() }], ..desired() };
    let f = only(&d, &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f, vec![missing_on("rtb-r1", "vpc-req", Side::Requester, "10.0.0.0/16", &pcx_id())]);
}

#[test]
fn the_requester_side_in_another_region_is_not_this_scopes() {
    let mut o = observed();
    o.peerings[0].requester.account = ME.into();
    o.peerings[0].requester.region = "eu-west-1".into();
    o.route_tables.push(table("rtb-r1", "vpc-req", &[]));
    let d = Desired { peering_grants: vec![PeeringGrant { account: ME.into(), ..grant() }], ..desired() };
    assert!(run(&d, &o).is_empty());
}

#[test]
fn secondary_blocks_of_our_vpc_are_expected_on_the_peer_side() {
    // Our VPC gained 10.2.0.0/16 after the request: the requester's tables (held here) need it.
    let mut o = observed();
    o.peerings[0].requester.account = ME.into();
    o.vpcs[0].cidrs = nets(&["10.0.0.0/16", "10.2.0.0/16"]);
    o.vpcs.push(Vpc { id: "vpc-req".into(), cidrs: nets(&["10.1.0.0/16"]), name: None });
    o.route_tables.push(table("rtb-r1", "vpc-req", &[("10.0.0.0/16", pcx(&pcx_id()))]));
    let d = Desired { peering_grants: vec![PeeringGrant { account: ME.into(), ..grant() }], ..desired() };
    let f = only(&d, &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f, vec![missing_on("rtb-r1", "vpc-req", Side::Requester, "10.2.0.0/16", &pcx_id())]);
}

#[test]
fn a_peer_cidr_routed_elsewhere_is_a_conflict_not_missing() {
    let mut o = observed();
    route(&mut o.route_tables[0], "10.1.0.0/16").target = other("tgw-9");
    assert_eq!(run(&desired(), &o), vec![conflict("rtb-a1", "10.1.0.0/16", other("tgw-9"))]);
    assert!(plan_remediation(&desired(), &o).is_empty(), "conflicts are never remediated");
}

#[test]
fn a_more_specific_route_inside_a_peer_cidr_is_a_conflict() {
    let mut o = observed();
    o.route_tables[0].routes.push(Route { destination: net("10.1.5.0/24"), target: other("nat-1"), blackhole: false });
    assert_eq!(run(&desired(), &o), vec![conflict_inside("rtb-a1", "10.1.0.0/16", "10.1.5.0/24", other("nat-1"))]);
    // A less specific one (a default route, a /8 to a TGW) is fine.
    let mut o = observed();
    o.route_tables[0].routes.push(Route { destination: net("10.0.0.0/8"), target: other("tgw-1"), blackhole: false });
    assert!(run(&desired(), &o).is_empty());
}

#[test]
fn conflicts_only_for_managed_peerings() {
    let mut o = observed();
    route(&mut o.route_tables[0], "10.1.0.0/16").target = other("tgw-9");
    o.peerings[0].tags.clear();
    assert!(only(&desired(), &o, FindingCode::PeeringRouteConflict).is_empty());
}

// -- PEERING_ROUTE_BLACKHOLE ----------------------------------------------------------------

#[test]
fn routes_to_a_dead_peering_are_blackholes_even_when_the_api_says_active() {
    for status in ["deleted", "rejected", "expired", "failed", "deleting", "pending-acceptance", "provisioning"] {
        let mut o = observed();
        o.peerings[0].status = PeeringStatus::parse(status);
        assert!(o.route_tables.iter().flat_map(|t| &t.routes).all(|r| !r.blackhole), "state says active");
        let f = only(&desired(), &o, FindingCode::PeeringRouteBlackhole);
        let why = DeadReason::Status(PeeringStatus::parse(status));
        let expected = ["rtb-a1", "rtb-a2"].map(|t| blackhole(t, "10.1.0.0/16", &pcx_id(), why.clone(), true));
        assert_eq!(f, expected, "{status}");
    }
}

#[test]
fn routes_to_an_unknown_peering_are_blackholes() {
    let mut o = observed();
    o.route_tables[0].routes.push(Route {
        destination: net("172.16.0.0/12"),
        target: pcx("pcx-0ffffffffffffffff"),
        blackhole: false,
    });
    // Unknown and not in the ledger: not vpcwarden's.
    let f = run(&desired(), &o);
    assert_eq!(f, vec![blackhole("rtb-a1", "172.16.0.0/12", "pcx-0ffffffffffffffff", DeadReason::NotDescribed, false)]);
    // In the ledger: vpcwarden's, though no longer described.
    o.ledger_accepted.insert("pcx-0ffffffffffffffff".into());
    let f = run(&desired(), &o);
    assert_eq!(f, vec![blackhole("rtb-a1", "172.16.0.0/12", "pcx-0ffffffffffffffff", DeadReason::NotDescribed, true)]);
}

#[test]
fn a_route_the_api_calls_blackhole_is_one_whatever_the_peering() {
    let mut o = observed();
    route(&mut o.route_tables[0], "10.1.0.0/16").blackhole = true;
    let f = run(&desired(), &o);
    assert_eq!(f, vec![blackhole("rtb-a1", "10.1.0.0/16", &pcx_id(), DeadReason::RouteBlackhole, true)]);
}

#[test]
fn blackholes_are_found_in_unmanaged_tables_too() {
    let mut o = observed();
    o.peerings[0].status = PeeringStatus::Deleted;
    o.route_tables[1].tags.insert("peering".into(), "no".into());
    let d = Desired { route_table_tag: Some(TagFilter::parse("peering=yes").unwrap()), ..desired() };
    let why = DeadReason::Status(PeeringStatus::Deleted);
    let expected = ["rtb-a1", "rtb-a2"].map(|t| blackhole(t, "10.1.0.0/16", &pcx_id(), why.clone(), true));
    assert_eq!(only(&d, &o, FindingCode::PeeringRouteBlackhole), expected);
    // ...but remediation stays in the managed tables (none here).
    assert!(plan_remediation(&d, &o).is_empty());
}
