use super::*;
use crate::domain::RouteTarget;
use crate::fixtures::*;

fn local_table() -> RouteTable {
    table("rtb-a", "vpc-acc", &[("10.0.0.0/16", RouteTarget::Local)])
}

fn decide_with(p: &Peering, grants: &[PeeringGrant], tables: &[RouteTable]) -> Decision {
    let refs: Vec<&RouteTable> = tables.iter().collect();
    decide(p, grants, &refs, NOW)
}

fn refusal(d: Decision) -> Refusal {
    match d {
        Decision::Refuse { reason } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn accepts_with_a_vpc_grant() {
    assert_eq!(decide_with(&peering(), &[grant()], &[local_table()]), Decision::Accept { grant: grant() });
}

#[test]
fn accepts_with_a_wildcard_grant() {
    let g = PeeringGrant { scope: VpcScope::Any, ..grant() };
    assert_eq!(decide_with(&peering(), std::slice::from_ref(&g), &[local_table()]), Decision::Accept { grant: g });
}

#[test]
fn refuses_without_any_grant() {
    let r = refusal(decide_with(&peering(), &[], &[local_table()]));
    assert_eq!(r, Refusal::NoGrant { account: PEER.into(), accepter_vpc: "vpc-acc".into() });
    assert!(matches!(r, Refusal::NoGrant { .. } | Refusal::GrantExpired { .. }));
}

#[test]
fn grants_for_another_account_or_vpc_do_not_count() {
    let other_account = PeeringGrant { account: "333333333333".into(), ..grant() };
    let other_vpc = PeeringGrant { scope: VpcScope::Vpc("vpc-zzz".into()), ..grant() };
    assert_eq!(refusal(decide_with(&peering(), &[other_account, other_vpc], &[])).code(), "no-grant");
}

#[test]
fn expired_grant_refuses_and_expiry_is_exclusive() {
    let expired = PeeringGrant { expires_at: Some(NOW), ..grant() };
    assert_eq!(refusal(decide_with(&peering(), &[expired], &[])), Refusal::GrantExpired { expired_at: NOW });
    let live = PeeringGrant { expires_at: Some(NOW + 1), ..grant() };
    assert!(matches!(decide_with(&peering(), &[live], &[]), Decision::Accept { .. }));
}

#[test]
fn a_live_wildcard_rescues_an_expired_specific_grant() {
    let expired = PeeringGrant { expires_at: Some(NOW - 1), ..grant() };
    let wildcard = PeeringGrant { scope: VpcScope::Any, ..grant() };
    assert_eq!(decide_with(&peering(), &[expired, wildcard.clone()], &[]), Decision::Accept { grant: wildcard });
}

#[test]
fn the_specific_grant_is_preferred_over_the_wildcard() {
    let wildcard = PeeringGrant { scope: VpcScope::Any, dns_resolution: Some(false), ..grant() };
    let specific = PeeringGrant { dns_resolution: Some(true), ..grant() };
    let d = decide_with(&peering(), &[wildcard, specific.clone()], &[]);
    assert_eq!(d, Decision::Accept { grant: specific });
}

#[test]
fn allowed_cidrs_must_contain_every_requester_cidr_including_secondary() {
    let mut p = peering();
    p.requester.cidrs = nets(&["10.1.0.0/16", "100.64.0.0/20"]);
    let g = PeeringGrant { allowed_cidrs: Some(nets(&["10.1.0.0/16"])), ..grant() };
    assert_eq!(
        refusal(decide_with(&p, std::slice::from_ref(&g), &[])),
        Refusal::CidrNotAllowed { cidr: net("100.64.0.0/20"), allowed: nets(&["10.1.0.0/16"]) }
    );
    let wider = PeeringGrant { allowed_cidrs: Some(nets(&["10.0.0.0/8", "100.64.0.0/10"])), ..grant() };
    assert!(matches!(decide_with(&p, &[wider], &[]), Decision::Accept { .. }));
}

#[test]
fn allowed_cidrs_apply_to_ipv6_blocks_too() {
    let mut p = peering();
    p.requester.cidrs = nets(&["10.1.0.0/16", "2600:1f18:aaaa::/56"]);
    let v4_only = PeeringGrant { allowed_cidrs: Some(nets(&["10.0.0.0/8"])), ..grant() };
    assert_eq!(refusal(decide_with(&p, &[v4_only], &[])).code(), "cidr-not-allowed");
    let both = PeeringGrant { allowed_cidrs: Some(nets(&["10.0.0.0/8", "2600:1f18::/32"])), ..grant() };
    assert!(matches!(decide_with(&p, &[both], &[]), Decision::Accept { .. }));
}

#[test]
fn a_second_grant_with_wider_cidrs_accepts() {
    let narrow = PeeringGrant { allowed_cidrs: Some(nets(&["10.1.0.0/24"])), ..grant() };
    let wide = PeeringGrant { scope: VpcScope::Any, allowed_cidrs: Some(nets(&["10.0.0.0/8"])), ..grant() };
    assert_eq!(decide_with(&peering(), &[narrow, wide.clone()], &[]), Decision::Accept { grant: wide });
}

#[test]
fn overlap_with_primary_or_secondary_accepter_cidr_is_refused() {
    let mut p = peering();
    p.requester.cidrs = nets(&["10.0.128.0/17"]);
    assert_eq!(
        refusal(decide_with(&p, &[grant()], &[])),
        Refusal::CidrOverlapsAccepter { cidr: net("10.0.128.0/17"), accepter_cidr: net("10.0.0.0/16") }
    );
    let mut p = peering();
    p.accepter.cidrs = nets(&["10.0.0.0/16", "10.1.0.0/20"]);
    assert_eq!(refusal(decide_with(&p, &[grant()], &[])).code(), "cidr-overlaps-accepter");
}

#[test]
fn overlap_of_a_requester_secondary_block_is_refused() {
    let mut p = peering();
    p.requester.cidrs = nets(&["10.1.0.0/16", "10.0.5.0/24"]);
    assert_eq!(refusal(decide_with(&p, &[grant()], &[])).code(), "cidr-overlaps-accepter");
}

#[test]
fn ipv6_overlap_is_refused_but_families_never_mix() {
    let mut p = peering();
    p.requester.cidrs = nets(&["10.1.0.0/16", "2600:1f18:aaaa::/56"]);
    p.accepter.cidrs = nets(&["10.0.0.0/16", "2600:1f18:aaaa:80::/57"]);
    assert_eq!(refusal(decide_with(&p, &[grant()], &[])).code(), "cidr-overlaps-accepter");
    p.accepter.cidrs = nets(&["10.0.0.0/16", "2600:1f18:bbbb::/56"]);
    assert!(matches!(decide_with(&p, &[grant()], &[]), Decision::Accept { .. }));
}

#[test]
fn an_equal_or_more_specific_existing_route_is_refused() {
    for dest in ["10.1.0.0/16", "10.1.7.0/24"] {
        let t = table("rtb-a", "vpc-acc", &[("10.0.0.0/16", RouteTarget::Local), (dest, other("tgw-1"))]);
        assert_eq!(
            refusal(decide_with(&peering(), &[grant()], &[t])),
            Refusal::CidrAlreadyRouted {
                cidr: net("10.1.0.0/16"),
                route_table: "rtb-a".into(),
                destination: net(dest),
                target: "tgw-1".into()
            }
        );
    }
}

#[test]
fn less_specific_routes_do_not_block_peering() {
    let t = table(
        "rtb-a",
        "vpc-acc",
        &[
            ("10.0.0.0/16", RouteTarget::Local),
            ("0.0.0.0/0", other("igw-1")),
            ("10.0.0.0/8", other("tgw-1")),
            ("::/0", other("igw-1")),
        ],
    );
    assert!(matches!(decide_with(&peering(), &[grant()], &[t]), Decision::Accept { .. }));
}

#[test]
fn routes_through_this_same_pcx_are_not_captures() {
    let p = peering();
    let t = table("rtb-a", "vpc-acc", &[("10.1.0.0/16", pcx(&p.id))]);
    assert!(matches!(decide_with(&p, &[grant()], &[t]), Decision::Accept { .. }));
}

#[test]
fn a_route_through_another_pcx_is_a_capture() {
    let t = table("rtb-b", "vpc-acc", &[("10.1.0.0/16", pcx("pcx-other"))]);
    assert_eq!(refusal(decide_with(&peering(), &[grant()], &[t])).code(), "cidr-already-routed");
}

#[test]
fn network_checks_apply_before_grant_constraints_are_met() {
    // An overlap is reported even when the grant would also refuse the CIDR: the network
    // problem is what the requester must fix first.
    let mut p = peering();
    p.requester.cidrs = nets(&["10.0.0.0/16"]);
    let g = PeeringGrant { allowed_cidrs: Some(nets(&["192.168.0.0/16"])), ..grant() };
    assert_eq!(refusal(decide_with(&p, &[g], &[])).code(), "cidr-overlaps-accepter");
}

#[test]
fn a_requester_without_cidrs_is_refused() {
    let mut p = peering();
    p.requester.cidrs.clear();
    assert_eq!(refusal(decide_with(&p, &[grant()], &[])), Refusal::NoRequesterCidrs);
}

#[test]
fn refusals_read_well() {
    let r = Refusal::CidrAlreadyRouted {
        cidr: net("10.1.0.0/16"),
        route_table: "rtb-a".into(),
        destination: net("10.1.7.0/24"),
        target: "tgw-1".into(),
    };
    assert_eq!(r.to_string(), "requester CIDR 10.1.0.0/16 is already routed in rtb-a: 10.1.7.0/24 -> tgw-1");
    assert!(!matches!(r, Refusal::NoGrant { .. } | Refusal::GrantExpired { .. }));
}
