//! Connections as a whole: pending, blocked, not allowlisted, DNS drift, CIDR overlap.
use super::*;
use crate::decide::Decision;

// -- PEERING_PENDING_UNLISTED / PEERING_PENDING_STALE ---------------------------------------

/// A request from PEER into my vpc-acc, made `waiting` seconds ago.
pub(super) fn pending(waiting: i64) -> Peering {
    Peering { expires_at: Some(NOW - waiting + PENDING_LIFETIME), ..peering() }
}

#[test]
fn pending_without_a_grant_is_unlisted() {
    let mut o = observed();
    o.peerings = vec![pending(3600)];
    o.route_tables.clear();
    let d = Desired { peering_grants: vec![], ..desired() };
    assert_eq!(run(&d, &o), vec![pending_unlisted(&pending(3600))]);
    // With a live grant (specific or wildcard) it is not.
    assert!(run(&desired(), &o).is_empty());
    let wildcard = PeeringGrant { scope: VpcScope::Any, ..grant() };
    assert!(run(&Desired { peering_grants: vec![wildcard], ..desired() }, &o).is_empty());
    // An expired grant, or one for another account or VPC, does not count.
    for g in [
        PeeringGrant { expires_at: Some(NOW), ..grant() },
        PeeringGrant { account: THIRD.into(), ..grant() },
        PeeringGrant { scope: VpcScope::Vpc("vpc-zzz".into()), ..grant() },
    ] {
        assert_eq!(run(&Desired { peering_grants: vec![g], ..desired() }, &o), vec![pending_unlisted(&pending(3600))]);
    }
}

#[test]
fn pending_requests_of_ours_to_others_are_theirs_to_judge() {
    let mut o = observed();
    let mut p = pending(3 * DAY);
    std::mem::swap(&mut p.requester, &mut p.accepter); // we are the requester
    o.peerings = vec![p];
    o.route_tables.clear();
    assert!(run(&Desired { peering_grants: vec![], ..desired() }, &o).is_empty());
}

#[test]
fn pending_longer_than_the_threshold_is_stale() {
    let mut o = observed();
    o.route_tables.clear();
    let request = pending(25 * 3600);
    o.peerings = vec![request.clone()];
    // Granted: how long it waited, how long AWS still gives it, and that a grant covers it.
    assert_eq!(run(&desired(), &o), vec![stale(&request, 25 * 3600, true)]);
    o.peerings = vec![pending(23 * 3600)];
    assert!(run(&desired(), &o).is_empty());
    // The threshold is configurable.
    let d = Desired { stale_pending: 3600, ..desired() };
    assert_eq!(run(&d, &o), vec![stale(&pending(23 * 3600), 23 * 3600, true)]);
    // Unlisted and stale: both.
    let d = Desired { peering_grants: vec![], stale_pending: 3600, ..desired() };
    let request = pending(23 * 3600);
    assert_eq!(run(&d, &o), vec![pending_unlisted(&request), stale(&request, 23 * 3600, false)]);
}

// -- PEERING_PENDING_BLOCKED ------------------------------------------------------------------

#[test]
fn a_granted_request_the_acceptor_would_refuse_is_blocked_naming_the_check() {
    use crate::decide::Refusal;
    let request = pending(3600);
    let mut o = observed();
    o.peerings = vec![request.clone()];
    o.route_tables.clear();
    assert!(run(&desired(), &o).is_empty(), "granted and clear: the acceptor will take it");

    // Its CIDR is already routed to another target in a managed table of the accepter VPC.
    o.route_tables = vec![table("rtb-a1", "vpc-acc", &[("10.1.0.0/16", other("pcx-0other"))])];
    let routed = Refusal::CidrAlreadyRouted {
        cidr: net("10.1.0.0/16"),
        route_table: "rtb-a1".into(),
        destination: net("10.1.0.0/16"),
        target: "pcx-0other".into(),
    };
    assert_eq!(run(&desired(), &o), vec![blocked(&request, routed.clone())]);
    // ... unless that table is not managed (ROUTE_TABLE_TAG): the acceptor would not look at it.
    let tagged = Desired { route_table_tag: Some(TagFilter::parse("peering=yes").unwrap()), ..desired() };
    assert!(run(&tagged, &o).is_empty());
    // Without a live grant it is unlisted, not blocked: one finding says why it waits.
    let unlisted = Desired { peering_grants: vec![], ..desired() };
    assert_eq!(run(&unlisted, &o), vec![pending_unlisted(&request)]);

    // A CIDR outside the grant's allowed_cidrs.
    o.route_tables.clear();
    let narrow = PeeringGrant { allowed_cidrs: Some(nets(&["10.9.0.0/16"])), ..grant() };
    let outside = Refusal::CidrNotAllowed { cidr: net("10.1.0.0/16"), allowed: nets(&["10.9.0.0/16"]) };
    assert_eq!(run(&Desired { peering_grants: vec![narrow], ..desired() }, &o), vec![blocked(&request, outside)]);

    // The blocking check is a fact, not part of the identity: the same request, blocked for
    // another reason tomorrow, is the same finding.
    let other_reason = blocked(&request, Refusal::NoRequesterCidrs);
    assert_eq!(other_reason.id(), blocked(&request, routed).id());
}

#[test]
fn a_blocked_request_is_decided_exactly_as_the_acceptor_decides_it() {
    // The overlap check of the acceptor's decision, on the CIDRs the accepter VPC has now.
    let mut request = pending(3600);
    request.requester.cidrs = nets(&["10.0.128.0/17"]);
    let mut o = observed();
    o.route_tables.clear();
    o.peerings = vec![request.clone()];
    let tables: Vec<&RouteTable> = Vec::new();
    let Decision::Refuse { reason } = crate::decide::decide(&request, &desired().peering_grants, &tables, NOW) else {
        panic!("the acceptor refuses an overlap")
    };
    let found = only(&desired(), &o, FindingCode::PeeringPendingBlocked);
    assert_eq!(found, vec![blocked(&request, reason)]);
}

#[test]
fn a_stale_request_about_to_expire_has_no_time_left_not_negative_time() {
    let mut o = observed();
    o.route_tables.clear();
    let request = pending(PENDING_LIFETIME + 3600);
    o.peerings = vec![request.clone()];
    let f = run(&desired(), &o);
    let Facts::PeeringPendingStale { pending_for, expires_in, .. } = &f[0].facts else { panic!("{f:?}") };
    assert_eq!((*pending_for, *expires_in), (PENDING_LIFETIME + 3600, 0));
}

#[test]
fn a_pending_request_without_expiry_time_is_never_stale() {
    let mut o = observed();
    o.route_tables.clear();
    o.peerings = vec![peering()];
    assert!(run(&desired(), &o).is_empty());
}

// -- PEERING_NOT_ALLOWLISTED / PEERING_DNS_DRIFT ---------------------------------------------

#[test]
fn active_peering_without_a_live_grant_is_not_allowlisted() {
    let o = observed();
    let expired = PeeringGrant { expires_at: Some(NOW - 1), ..grant() };
    for grants in [vec![], vec![expired]] {
        let f = run(&Desired { peering_grants: grants, ..desired() }, &o);
        assert_eq!(f, vec![not_allowlisted(&active())]);
        assert_eq!(f[0].resource(), pcx_id());
    }
}

#[test]
fn dns_drift_follows_the_grant_that_speaks_for_the_peering() {
    let mut o = observed();
    let want_dns = PeeringGrant { dns_resolution: Some(true), ..grant() };
    let d = Desired { peering_grants: vec![want_dns.clone()], ..desired() };
    // Not reported by the API reads as disabled.
    assert_eq!(run(&d, &o), vec![dns_drift(false, true)]);
    o.peerings[0].accepter_dns_resolution = Some(false);
    assert_eq!(run(&d, &o), vec![dns_drift(false, true)]);
    o.peerings[0].accepter_dns_resolution = Some(true);
    assert!(run(&d, &o).is_empty());
    // Enabled while the grant says disabled.
    let d2 = Desired { peering_grants: vec![PeeringGrant { dns_resolution: Some(false), ..grant() }], ..desired() };
    assert_eq!(run(&d2, &o), vec![dns_drift(true, false)]);
    // A grant without an opinion never drifts.
    assert!(run(&desired(), &o).is_empty());
    // The specific grant speaks over the wildcard.
    let wildcard = PeeringGrant { scope: VpcScope::Any, dns_resolution: Some(false), ..grant() };
    let d3 = Desired { peering_grants: vec![wildcard, want_dns], ..desired() };
    assert!(run(&d3, &o).is_empty());
}

// -- PEERING_CIDR_OVERLAP -------------------------------------------------------------------

#[test]
fn overlapping_peered_vpcs_are_reported() {
    let mut o = observed();
    o.peerings[0].requester.cidrs = nets(&["10.1.0.0/16", "10.0.128.0/17"]);
    let f = only(&desired(), &o, FindingCode::PeeringCidrOverlap);
    assert_eq!(f, vec![overlap(&o.peerings[0], "10.0.128.0/17", "10.0.0.0/16")]);
}

#[test]
fn a_secondary_block_added_to_our_vpc_later_can_overlap() {
    let mut o = observed();
    o.vpcs[0].cidrs = nets(&["10.0.0.0/16", "10.1.0.0/24"]);
    let f = only(&desired(), &o, FindingCode::PeeringCidrOverlap);
    assert_eq!(f, vec![overlap(&active(), "10.1.0.0/16", "10.1.0.0/24")]);
}

#[test]
fn dead_or_disjoint_peerings_do_not_overlap() {
    let mut o = observed();
    assert!(only(&desired(), &o, FindingCode::PeeringCidrOverlap).is_empty());
    o.peerings[0].requester.cidrs = nets(&["10.0.0.0/16"]);
    o.peerings[0].status = PeeringStatus::Failed;
    assert!(only(&desired(), &o, FindingCode::PeeringCidrOverlap).is_empty());
    // IPv4 and IPv6 never overlap.
    o.peerings[0].status = PeeringStatus::Active;
    o.peerings[0].requester.cidrs = nets(&["2600:1f18::/56"]);
    assert!(only(&desired(), &o, FindingCode::PeeringCidrOverlap).is_empty());
}
