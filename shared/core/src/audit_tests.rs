use super::*;
use crate::domain::peering::MANAGED_TAG;
use crate::domain::TargetGroupHealth;
use crate::domain::{Route, VpcSide};
use crate::fixtures::*;

// Audit fixtures live here rather than in fixtures.rs: only these tests use them.
const REGION: &str = "us-east-1";
const SVC: &str = "vpce-svc-0123456789abcdef0";
const THIRD: &str = "333333333333";
const DAY: i64 = 24 * 3600;

fn pcx_id() -> String {
    peering().id
}

/// Active, managed: PEER's vpc-req (10.1.0.0/16) peered into my vpc-acc (10.0.0.0/16).
fn active() -> Peering {
    let mut p = Peering { status: PeeringStatus::Active, ..peering() };
    p.tags.insert(MANAGED_TAG.into(), "true".into());
    p
}

fn egrant() -> EndpointGrant {
    EndpointGrant {
        service_id: SVC.into(),
        account: PEER.into(),
        expires_at: None,
        max_endpoints: Some(2),
        note: None,
        added_by: "test".into(),
        added_at: NOW - 100,
    }
}

fn conn(id: &str, account: &str, state: &str) -> Connection {
    Connection {
        endpoint_id: id.into(),
        service_id: SVC.into(),
        account: account.into(),
        state: ConnectionState::parse(state),
        created_at: Some(NOW - 1000),
    }
}

fn healthy_lb() -> LoadBalancerHealth {
    LoadBalancerHealth {
        arn: "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/svc/1".into(),
        target_groups: vec![TargetGroupHealth {
            arn: "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/tg/1".into(),
            healthy: 1,
            total: 1,
        }],
    }
}

fn service() -> EndpointService {
    EndpointService {
        id: SVC.into(),
        name: format!("com.amazonaws.vpce.us-east-1.{SVC}"),
        acceptance_required: true,
        allowed_principals: vec![format!("arn:aws:iam::{PEER}:root")],
        connections: vec![conn("vpce-0aaa0000000000001", PEER, "available")],
        load_balancers: vec![healthy_lb()],
    }
}

fn desired() -> Desired {
    Desired {
        peering_grants: vec![grant()],
        endpoint_grants: vec![egrant()],
        route_table_tag: None,
        stale_pending: 24 * 3600,
        expiry_warning: 14 * DAY,
    }
}

/// A healthy estate: one managed active peering routed in both of my tables, one endpoint
/// service with a granted, healthy consumer.
fn observed() -> Observed {
    let id = pcx_id();
    Observed {
        account: ME.into(),
        region: REGION.into(),
        vpcs: vec![Vpc { id: "vpc-acc".into(), cidrs: nets(&["10.0.0.0/16"]), name: Some("hub".into()) }],
        peerings: vec![active()],
        route_tables: vec![
            table("rtb-a1", "vpc-acc", &[("10.0.0.0/16", RouteTarget::Local), ("10.1.0.0/16", pcx(&id))]),
            table(
                "rtb-a2",
                "vpc-acc",
                &[("10.0.0.0/16", RouteTarget::Local), ("10.1.0.0/16", pcx(&id)), ("0.0.0.0/0", other("igw-1"))],
            ),
        ],
        services: vec![service()],
        ledger_accepted: BTreeSet::new(),
        holds_allowlist: true,
    }
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

fn run(d: &Desired, o: &Observed) -> Vec<Finding> {
    audit(d, o, NOW)
}

fn only(d: &Desired, o: &Observed, code: FindingCode) -> Vec<Finding> {
    run(d, o).into_iter().filter(|f| f.code == code).collect()
}

fn route<'a>(table: &'a mut RouteTable, dest: &str) -> &'a mut Route {
    table.routes.iter_mut().find(|r| r.destination == net(dest)).expect("the route exists")
}

// -- the healthy estate ---------------------------------------------------------------------

#[test]
fn a_healthy_estate_has_no_findings() {
    assert_eq!(run(&desired(), &observed()), vec![]);
    assert!(plan_remediation(&desired(), &observed()).is_empty());
}

#[test]
fn findings_carry_scope_severity_message_and_remediation() {
    let mut o = observed();
    o.route_tables[0].routes.retain(|r| r.destination != net("10.1.0.0/16"));
    let f = run(&desired(), &o);
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!((f.code, f.severity), (FindingCode::PeeringRouteMissing, crate::domain::Severity::High));
    assert_eq!((f.account.as_str(), f.region.as_str(), f.resource.as_str()), (ME, REGION, "rtb-a1"));
    assert!(f.message.contains("10.1.0.0/16") && f.message.contains(&pcx_id()), "{}", f.message);
    assert!(!f.remediation.is_empty());
}

#[test]
fn findings_are_ordered_most_severe_first() {
    let mut o = observed();
    o.services[0].allowed_principals.push("*".into()); // critical
    o.peerings[0].status = PeeringStatus::PendingAcceptance; // blackholes (high) and overlap-free
    o.peerings[0].expires_at = Some(NOW + 7 * DAY - 3600); // fresh
    let d = Desired { peering_grants: vec![], ..desired() };
    let f = run(&d, &o);
    let severities: Vec<_> = f.iter().map(|f| f.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
    assert_eq!(f[0].code, FindingCode::EndpointServiceWildcardPrincipal);
}

// -- PEERING_PENDING_UNLISTED / PEERING_PENDING_STALE ---------------------------------------

fn pending(waiting: i64) -> Peering {
    Peering { expires_at: Some(NOW - waiting + PENDING_LIFETIME), ..peering() }
}

#[test]
fn pending_without_a_grant_is_unlisted() {
    let mut o = observed();
    o.peerings = vec![pending(3600)];
    o.route_tables.clear();
    let d = Desired { peering_grants: vec![], ..desired() };
    assert_eq!(codes(&run(&d, &o)), ["PEERING_PENDING_UNLISTED"]);
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
        assert_eq!(codes(&run(&Desired { peering_grants: vec![g], ..desired() }, &o)), ["PEERING_PENDING_UNLISTED"]);
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
    o.peerings = vec![pending(25 * 3600)];
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["PEERING_PENDING_STALE"]);
    assert!(f[0].message.contains("25 hours"), "{}", f[0].message);
    assert!(f[0].remediation.contains("ledger"), "a granted stale request points at the acceptor");
    o.peerings = vec![pending(23 * 3600)];
    assert!(run(&desired(), &o).is_empty());
    // The threshold is configurable.
    let d = Desired { stale_pending: 3600, ..desired() };
    assert_eq!(codes(&run(&d, &o)), ["PEERING_PENDING_STALE"]);
    // Unlisted and stale: both.
    let d = Desired { peering_grants: vec![], stale_pending: 3600, ..desired() };
    assert_eq!(codes(&run(&d, &o)), ["PEERING_PENDING_UNLISTED", "PEERING_PENDING_STALE"]);
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
        assert_eq!(codes(&f), ["PEERING_NOT_ALLOWLISTED"]);
        assert_eq!(f[0].resource, pcx_id());
    }
}

#[test]
fn dns_drift_follows_the_grant_that_speaks_for_the_peering() {
    let mut o = observed();
    let want_dns = PeeringGrant { dns_resolution: Some(true), ..grant() };
    let d = Desired { peering_grants: vec![want_dns.clone()], ..desired() };
    // Not reported by the API reads as disabled.
    assert_eq!(codes(&run(&d, &o)), ["PEERING_DNS_DRIFT"]);
    o.peerings[0].accepter_dns_resolution = Some(false);
    assert_eq!(codes(&run(&d, &o)), ["PEERING_DNS_DRIFT"]);
    o.peerings[0].accepter_dns_resolution = Some(true);
    assert!(run(&d, &o).is_empty());
    // Enabled while the grant says disabled.
    let d2 = Desired { peering_grants: vec![PeeringGrant { dns_resolution: Some(false), ..grant() }], ..desired() };
    assert_eq!(codes(&run(&d2, &o)), ["PEERING_DNS_DRIFT"]);
    // A grant without an opinion never drifts.
    assert!(run(&desired(), &o).is_empty());
    // The specific grant speaks over the wildcard.
    let wildcard = PeeringGrant { scope: VpcScope::Any, dns_resolution: Some(false), ..grant() };
    let d3 = Desired { peering_grants: vec![wildcard, want_dns], ..desired() };
    assert!(run(&d3, &o).is_empty());
}

// -- PEERING_ROUTE_MISSING / PEERING_ROUTE_CONFLICT -----------------------------------------

#[test]
fn a_managed_table_without_the_peer_route_is_missing_it() {
    let mut o = observed();
    o.route_tables[1].routes.retain(|r| !r.target.is_pcx(&pcx_id()));
    let f = only(&desired(), &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].resource, "rtb-a2");
}

#[test]
fn every_peer_cidr_is_expected_including_secondary_and_ipv6() {
    let mut o = observed();
    o.peerings[0].requester.cidrs = nets(&["10.1.0.0/16", "100.64.0.0/20", "2600:1f18:aaaa::/56"]);
    let f = only(&desired(), &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f.len(), 4, "2 tables x 2 missing CIDRs: {f:#?}");
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
    assert_eq!(only(&desired(), &o, FindingCode::PeeringRouteMissing).len(), 2);
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
    let f = only(&d, &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f.iter().map(|f| f.resource.as_str()).collect::<Vec<_>>(), ["rtb-a1"]);
}

#[test]
fn both_sides_are_checked_when_both_are_in_the_scope() {
    let mut o = observed();
    o.peerings[0].requester.account = ME.into();
    o.vpcs.push(Vpc { id: "vpc-req".into(), cidrs: nets(&["10.1.0.0/16"]), name: None });
    o.route_tables.push(table("rtb-r1", "vpc-req", &[("10.1.0.0/16", RouteTarget::Local)]));
    let d = Desired { peering_grants: vec![PeeringGrant { account: ME.into(), ..grant() }], ..desired() };
    let f = only(&d, &o, FindingCode::PeeringRouteMissing);
    assert_eq!(f.len(), 1);
    assert!(f[0].resource == "rtb-r1" && f[0].message.contains("10.0.0.0/16"), "{f:#?}");
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
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("10.2.0.0/16"));
}

#[test]
fn a_peer_cidr_routed_elsewhere_is_a_conflict_not_missing() {
    let mut o = observed();
    route(&mut o.route_tables[0], "10.1.0.0/16").target = other("tgw-9");
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["PEERING_ROUTE_CONFLICT"]);
    assert!(f[0].message.contains("tgw-9"));
    assert!(plan_remediation(&desired(), &o).is_empty(), "conflicts are never remediated");
}

#[test]
fn a_more_specific_route_inside_a_peer_cidr_is_a_conflict() {
    let mut o = observed();
    o.route_tables[0].routes.push(Route { destination: net("10.1.5.0/24"), target: other("nat-1"), blackhole: false });
    assert_eq!(codes(&run(&desired(), &o)), ["PEERING_ROUTE_CONFLICT"]);
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
        assert_eq!(f.len(), 2, "{status}: {f:#?}");
        assert!(f[0].message.contains(status), "{}", f[0].message);
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
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["PEERING_ROUTE_BLACKHOLE"]);
    assert!(f[0].message.contains("no longer described"), "{}", f[0].message);
    assert!(f[0].remediation.contains("did not create"), "unknown and not in the ledger: not ours");
}

#[test]
fn a_route_the_api_calls_blackhole_is_one_whatever_the_peering() {
    let mut o = observed();
    route(&mut o.route_tables[0], "10.1.0.0/16").blackhole = true;
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["PEERING_ROUTE_BLACKHOLE"]);
    assert!(f[0].message.contains("state is blackhole"));
}

#[test]
fn blackholes_are_found_in_unmanaged_tables_too() {
    let mut o = observed();
    o.peerings[0].status = PeeringStatus::Deleted;
    o.route_tables[1].tags.insert("peering".into(), "no".into());
    let d = Desired { route_table_tag: Some(TagFilter::parse("peering=yes").unwrap()), ..desired() };
    assert_eq!(only(&d, &o, FindingCode::PeeringRouteBlackhole).len(), 2);
    // ...but remediation stays in the managed tables (none here).
    assert!(plan_remediation(&d, &o).is_empty());
}

// -- PEERING_CIDR_OVERLAP -------------------------------------------------------------------

#[test]
fn overlapping_peered_vpcs_are_reported() {
    let mut o = observed();
    o.peerings[0].requester.cidrs = nets(&["10.1.0.0/16", "10.0.128.0/17"]);
    let f = only(&desired(), &o, FindingCode::PeeringCidrOverlap);
    assert_eq!(f.len(), 1);
    assert!(f[0].message.contains("10.0.128.0/17") && f[0].message.contains("10.0.0.0/16"));
}

#[test]
fn a_secondary_block_added_to_our_vpc_later_can_overlap() {
    let mut o = observed();
    o.vpcs[0].cidrs = nets(&["10.0.0.0/16", "10.1.0.0/24"]);
    assert_eq!(only(&desired(), &o, FindingCode::PeeringCidrOverlap).len(), 1);
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

// -- endpoint connections ---------------------------------------------------------------------

#[test]
fn a_connected_endpoint_without_a_live_grant_is_not_allowlisted() {
    for state in ["available", "pending", "partial"] {
        let mut o = observed();
        o.services[0].connections.push(conn("vpce-0bbb0000000000002", THIRD, state));
        o.services[0].allowed_principals.push(format!("arn:aws:iam::{THIRD}:root"));
        let d = Desired {
            endpoint_grants: vec![egrant(), EndpointGrant { account: THIRD.into(), ..egrant() }],
            ..desired()
        };
        assert!(run(&d, &o).is_empty(), "{state} with a grant");
        let expired = EndpointGrant { account: THIRD.into(), expires_at: Some(NOW), ..egrant() };
        let d = Desired { endpoint_grants: vec![egrant(), expired], ..desired() };
        let f = only(&d, &o, FindingCode::EndpointNotAllowlisted);
        assert_eq!(f.len(), 1, "{state}");
        assert_eq!(f[0].resource, "vpce-0bbb0000000000002");
    }
}

#[test]
fn gone_connections_are_not_findings() {
    for state in ["rejected", "deleted", "failed", "expired", "deleting"] {
        let mut o = observed();
        o.services[0].connections.push(conn("vpce-0bbb0000000000002", THIRD, state));
        assert!(run(&desired(), &o).is_empty(), "{state}");
    }
}

#[test]
fn pending_connections_are_reported_with_or_without_a_grant() {
    let mut o = observed();
    o.services[0].connections.push(conn("vpce-0ccc0000000000003", PEER, "pendingAcceptance"));
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_PENDING"]);
    assert!(f[0].message.contains("although a live grant"), "{}", f[0].message);
    o.services[0].connections.push(conn("vpce-0ddd0000000000004", THIRD, "pendingAcceptance"));
    let f = only(&desired(), &o, FindingCode::EndpointPending);
    assert_eq!(f.len(), 2);
    assert!(f.iter().any(|f| f.message.contains("unlisted")));
    // Connections of another service are not this service's.
    let mut o = observed();
    o.services[0].connections.push(Connection {
        service_id: "vpce-svc-0fedcba9876543210".into(),
        ..conn("vpce-1", PEER, "pendingAcceptance")
    });
    assert!(run(&desired(), &o).is_empty());
}

#[test]
fn more_connected_endpoints_than_the_grant_allows_is_over_quota() {
    let mut o = observed();
    o.services[0].connections.push(conn("vpce-0aaa0000000000002", PEER, "available"));
    assert!(run(&desired(), &o).is_empty(), "2 of 2");
    o.services[0].connections.push(conn("vpce-0aaa0000000000003", PEER, "pending"));
    o.services[0].connections.push(conn("vpce-0aaa0000000000004", PEER, "rejected"));
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_OVER_QUOTA"]);
    assert_eq!(f[0].resource, format!("{SVC}/{PEER}"));
    assert!(f[0].message.contains("3 endpoints") && f[0].message.contains("allows 2"));
    // Without a limit there is no quota.
    let d = Desired { endpoint_grants: vec![EndpointGrant { max_endpoints: None, ..egrant() }], ..desired() };
    assert!(run(&d, &o).is_empty());
    // The most generous live grant counts.
    let d =
        Desired { endpoint_grants: vec![egrant(), EndpointGrant { max_endpoints: Some(5), ..egrant() }], ..desired() };
    assert!(run(&d, &o).is_empty());
}

// -- endpoint services ------------------------------------------------------------------------

#[test]
fn a_service_accepting_without_acceptance_is_auto_accept() {
    let mut o = observed();
    o.services[0].acceptance_required = false;
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_SERVICE_AUTO_ACCEPT"]);
    assert_eq!(f[0].resource, SVC);
}

#[test]
fn a_wildcard_principal_is_critical_and_not_also_unlisted() {
    let mut o = observed();
    o.services[0].allowed_principals.push(" * ".into());
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_SERVICE_WILDCARD_PRINCIPAL"]);
    assert_eq!(f[0].severity, crate::domain::Severity::Critical);
}

#[test]
fn allowed_principals_without_a_live_grant_are_unlisted() {
    let mut o = observed();
    o.services[0].allowed_principals = vec![
        format!("arn:aws:iam::{PEER}:root"),
        format!("arn:aws:iam::{PEER}:role/consumer"),
        format!("arn:aws:iam::{THIRD}:root"),
        "elasticloadbalancing.amazonaws.com".into(),
    ];
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_SERVICE_PRINCIPAL_UNLISTED", "ENDPOINT_SERVICE_PRINCIPAL_UNLISTED"]);
    assert!(f.iter().any(|f| f.message.contains(THIRD)));
    assert!(f.iter().any(|f| f.message.contains("elasticloadbalancing")));
    // An expired grant does not list a principal.
    let mut o = observed();
    o.services[0].connections.clear();
    let d = Desired { endpoint_grants: vec![EndpointGrant { expires_at: Some(NOW - 5), ..egrant() }], ..desired() };
    assert_eq!(codes(&run(&d, &o)), ["ENDPOINT_SERVICE_PRINCIPAL_UNLISTED"]);
}

#[test]
fn principal_accounts_parse() {
    assert_eq!(principal_account("arn:aws:iam::222222222222:root"), Some("222222222222"));
    assert_eq!(principal_account("arn:aws-us-gov:iam::222222222222:role/x"), Some("222222222222"));
    assert_eq!(principal_account("222222222222"), Some("222222222222"));
    assert_eq!(principal_account("*"), None);
    assert_eq!(principal_account("arn:aws:iam::22:root"), None);
    assert_eq!(principal_account("arn:aws:sts::222222222222:assumed-role/x/y"), None);
}

#[test]
fn a_target_group_without_a_healthy_target_is_unhealthy() {
    let mut o = observed();
    o.services[0].load_balancers[0].target_groups.push(TargetGroupHealth { arn: "tg-2".into(), healthy: 0, total: 3 });
    let f = run(&desired(), &o);
    assert_eq!(codes(&f), ["ENDPOINT_SERVICE_UNHEALTHY"]);
    assert!(f[0].message.contains("tg-2") && f[0].message.contains("3 registered"));
    // A load balancer without any target group answers nobody either.
    let mut o = observed();
    o.services[0].load_balancers[0].target_groups.clear();
    assert_eq!(codes(&run(&desired(), &o)), ["ENDPOINT_SERVICE_UNHEALTHY"]);
}

// -- GRANT_EXPIRING ---------------------------------------------------------------------------

#[test]
fn grants_expiring_within_the_warning_window_are_reported_once() {
    let mut d = desired();
    d.peering_grants[0].expires_at = Some(NOW + 3 * DAY);
    d.endpoint_grants[0].expires_at = Some(NOW + 14 * DAY);
    let f = run(&d, &observed());
    assert_eq!(codes(&f), ["GRANT_EXPIRING", "GRANT_EXPIRING"]);
    let resources: Vec<&str> = f.iter().map(|f| f.resource.as_str()).collect();
    assert!(resources.contains(&"peering#vpc-acc/account#222222222222"), "{resources:?}");
    assert!(resources.contains(&format!("endpoint#{SVC}/account#{PEER}").as_str()), "{resources:?}");
    // Only the scope holding the allowlist reports them.
    let o = Observed { holds_allowlist: false, ..observed() };
    assert!(run(&d, &o).is_empty());
}

#[test]
fn grants_outside_the_window_or_already_expired_are_not_expiring() {
    let mut d = desired();
    d.peering_grants.push(PeeringGrant { scope: VpcScope::Any, expires_at: Some(NOW + 15 * DAY), ..grant() });
    d.endpoint_grants[0].expires_at = Some(NOW + 15 * DAY);
    assert!(run(&d, &observed()).is_empty());
    let d = Desired { expiry_warning: 30 * DAY, ..d };
    assert_eq!(codes(&run(&d, &observed())), ["GRANT_EXPIRING", "GRANT_EXPIRING"]);
    // Already expired: the grant no longer grants (other findings say so), it is not "expiring".
    let mut d = desired();
    d.endpoint_grants.push(EndpointGrant { account: THIRD.into(), expires_at: Some(NOW - 1), ..egrant() });
    assert!(run(&d, &observed()).is_empty());
}

// -- every code at once ------------------------------------------------------------------------

#[test]
fn one_estate_can_show_every_code() {
    let mut d = desired();
    let mut o = observed();
    let id = pcx_id();
    // Managed active pcx: one table missing its route, the other routing it elsewhere, plus DNS drift.
    o.route_tables[0].routes.retain(|r| !r.target.is_pcx(&id));
    route(&mut o.route_tables[1], "10.1.0.0/16").target = other("tgw-9");
    d.peering_grants[0].dns_resolution = Some(true);
    // Active, unlisted, overlapping.
    let mut unlisted = active();
    unlisted.id = "pcx-0aaaaaaaaaaaaaaa1".into();
    unlisted.requester =
        VpcSide { account: THIRD.into(), vpc_id: "vpc-3".into(), region: REGION.into(), cidrs: nets(&["10.0.0.0/24"]) };
    // Pending, unlisted, stale.
    let mut stale = pending(2 * DAY);
    stale.id = "pcx-0aaaaaaaaaaaaaaa2".into();
    stale.requester.account = THIRD.into();
    o.peerings.extend([unlisted, stale]);
    // A route to a deleted connection.
    o.route_tables[0].routes.push(Route {
        destination: net("192.168.0.0/16"),
        target: pcx("pcx-0dead"),
        blackhole: true,
    });
    // Endpoints: a pending one, an unlisted connected one, an over-quota account.
    let s = &mut o.services[0];
    s.acceptance_required = false;
    s.allowed_principals.extend(["*".to_string(), format!("arn:aws:iam::{THIRD}:root")]);
    s.connections.extend([
        conn("vpce-0aaa0000000000002", PEER, "available"),
        conn("vpce-0aaa0000000000003", PEER, "available"),
        conn("vpce-0ccc0000000000003", PEER, "pendingAcceptance"),
        conn("vpce-0ddd0000000000004", THIRD, "available"),
    ]);
    s.load_balancers[0].target_groups[0].healthy = 0;
    d.endpoint_grants[0].expires_at = Some(NOW + DAY);
    let found: BTreeSet<&str> = codes(&run(&d, &o)).into_iter().collect();
    let all: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(found, all);
}

// -- remediation ---------------------------------------------------------------------------

#[test]
fn remediation_recreates_missing_routes_of_managed_peerings_only() {
    let mut o = observed();
    o.route_tables.iter_mut().for_each(|t| t.routes.retain(|r| !r.target.is_pcx(&pcx_id())));
    let plan = plan_remediation(&desired(), &o);
    assert_eq!(
        plan,
        vec![
            RouteChange::Create { route_table: "rtb-a1".into(), destination: net("10.1.0.0/16"), pcx: pcx_id() },
            RouteChange::Create { route_table: "rtb-a2".into(), destination: net("10.1.0.0/16"), pcx: pcx_id() },
        ]
    );
    o.peerings[0].tags.clear();
    assert!(plan_remediation(&desired(), &o).is_empty());
}

#[test]
fn remediation_deletes_peer_routes_through_a_dead_managed_peering() {
    let mut o = observed();
    o.peerings[0].status = PeeringStatus::Deleted;
    // A route someone else added through the same pcx to another range stays.
    o.route_tables[0].routes.push(Route { destination: net("172.16.0.0/12"), target: pcx(&pcx_id()), blackhole: true });
    let plan = plan_remediation(&desired(), &o);
    assert_eq!(plan.len(), 2);
    assert!(plan
        .iter()
        .all(|c| matches!(c, RouteChange::Delete { destination, .. } if *destination == net("10.1.0.0/16"))));
    // Not ours: left alone (but reported).
    o.peerings[0].tags.clear();
    assert!(plan_remediation(&desired(), &o).is_empty());
    assert_eq!(only(&desired(), &o, FindingCode::PeeringRouteBlackhole).len(), 3);
}

#[test]
fn remediation_deletes_every_route_through_a_vanished_peering_the_ledger_knows() {
    let mut o = observed();
    o.peerings.clear();
    assert!(plan_remediation(&desired(), &o).is_empty(), "not in the ledger: not ours");
    o.ledger_accepted.insert(pcx_id());
    let plan = plan_remediation(&desired(), &o);
    assert_eq!(plan.len(), 2);
    assert!(plan.iter().all(|c| matches!(c, RouteChange::Delete { pcx, .. } if *pcx == pcx_id())));
}

#[test]
fn remediation_leaves_pending_or_provisioning_peerings_alone() {
    let mut o = observed();
    o.peerings[0].status = PeeringStatus::Provisioning;
    assert!(plan_remediation(&desired(), &o).is_empty());
    o.peerings[0].status = PeeringStatus::PendingAcceptance;
    assert!(plan_remediation(&desired(), &o).is_empty());
}

#[test]
fn remediation_is_idempotent_once_applied() {
    let mut o = observed();
    o.route_tables[0].routes.retain(|r| !r.target.is_pcx(&pcx_id()));
    let mut dead = active();
    dead.id = "pcx-0dead000000000001".into();
    dead.status = PeeringStatus::Rejected;
    dead.requester.cidrs = nets(&["10.9.0.0/16"]);
    o.route_tables[1].routes.push(Route { destination: net("10.9.0.0/16"), target: pcx(&dead.id), blackhole: true });
    o.peerings.push(dead);
    let plan = plan_remediation(&desired(), &o);
    assert_eq!(plan.len(), 2, "{plan:#?}");
    for change in &plan {
        let t = o.route_tables.iter_mut().find(|t| t.id == change.route_table()).unwrap();
        match change {
            RouteChange::Create { destination, pcx: id, .. } => {
                t.routes.push(Route { destination: *destination, target: pcx(id), blackhole: false })
            }
            RouteChange::Delete { destination, .. } => t.routes.retain(|r| &r.destination != destination),
            RouteChange::Conflict { .. } => unreachable!("never planned"),
        }
    }
    assert!(plan_remediation(&desired(), &o).is_empty());
    assert!(run(&desired(), &o).is_empty());
}
