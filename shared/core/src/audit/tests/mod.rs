//! Unit tests of the audit: a healthy estate, broken one thing at a time, and the findings it
//! should produce, compared fact by fact with expected findings built below.
use super::*;
use crate::domain::peering::MANAGED_TAG;
use crate::domain::{
    AllowlistKey, ConnectionState, DeadReason, FindingCode, Requester, Route, RouteTarget, Severity, SickTargetGroup,
    TargetGroupHealth, VpcScope,
};
use crate::fixtures::*;

mod endpoints;
mod every_code;
mod ids;
mod peering;
mod remediation;
mod routes;

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

const LB: &str = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/svc/1";

fn healthy_lb() -> LoadBalancerHealth {
    LoadBalancerHealth {
        arn: LB.into(),
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
        waivers: vec![],
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
    findings.iter().map(|f| f.code().as_str()).collect()
}

fn run(d: &Desired, o: &Observed) -> Vec<Finding> {
    audit(d, o, NOW)
}

fn only(d: &Desired, o: &Observed, code: FindingCode) -> Vec<Finding> {
    run(d, o).into_iter().filter(|f| f.code() == code).collect()
}

fn route<'a>(table: &'a mut RouteTable, dest: &str) -> &'a mut Route {
    table.routes.iter_mut().find(|r| r.destination == net(dest)).expect("the route exists")
}

/// The same findings, whatever their order (the order has its own test).
fn assert_same(mut actual: Vec<Finding>, mut expected: Vec<Finding>) {
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected);
}

// -- expected findings, fact by fact -----------------------------------------------------------

/// A finding of the scope under test (ME in REGION).
fn here(facts: Facts) -> Finding {
    Finding::new(ME, REGION, facts)
}

fn requester_of(p: &Peering) -> Requester {
    Requester {
        account: p.requester.account.clone(),
        vpc: p.requester.vpc_id.clone(),
        cidrs: p.requester.cidrs.clone(),
    }
}

fn pending_unlisted(p: &Peering) -> Finding {
    here(Facts::PeeringPendingUnlisted {
        pcx: p.id.clone(),
        requester: requester_of(p),
        accepter_vpc: p.accepter.vpc_id.clone(),
    })
}

fn stale(p: &Peering, pending_for: i64, granted: bool) -> Finding {
    here(Facts::PeeringPendingStale {
        pcx: p.id.clone(),
        requester: requester_of(p),
        accepter_vpc: p.accepter.vpc_id.clone(),
        pending_for,
        expires_in: PENDING_LIFETIME - pending_for,
        granted,
    })
}

fn not_allowlisted(p: &Peering) -> Finding {
    here(Facts::PeeringNotAllowlisted {
        pcx: p.id.clone(),
        requester: requester_of(p),
        accepter_vpc: p.accepter.vpc_id.clone(),
    })
}

fn dns_drift(had: bool, wanted: bool) -> Finding {
    here(Facts::PeeringDnsDrift { pcx: pcx_id(), accepter_vpc: "vpc-acc".into(), had, wanted })
}

fn overlap(p: &Peering, requester_cidr: &str, accepter_cidr: &str) -> Finding {
    here(Facts::PeeringCidrOverlap {
        pcx: p.id.clone(),
        requester: requester_of(p),
        accepter_vpc: p.accepter.vpc_id.clone(),
        requester_cidr: net(requester_cidr),
        accepter_cidr: net(accepter_cidr),
        status: p.status.clone(),
    })
}

/// A route through `pcx` missing from `table` of `vpc` on `side`.
fn missing_on(table: &str, vpc: &str, side: Side, destination: &str, pcx: &str) -> Finding {
    here(Facts::PeeringRouteMissing {
        route_table: table.into(),
        vpc: vpc.into(),
        side,
        destination: net(destination),
        pcx: pcx.into(),
    })
}

/// A route to the peer of the managed peering missing from one of my accepter tables.
fn missing(table: &str, destination: &str) -> Finding {
    missing_on(table, "vpc-acc", Side::Accepter, destination, &pcx_id())
}

/// `destination` (inside the peer CIDR `peer`) routed to `target` in one of my accepter tables.
fn conflict_inside(table: &str, peer: &str, destination: &str, target: RouteTarget) -> Finding {
    here(Facts::PeeringRouteConflict {
        route_table: table.into(),
        vpc: "vpc-acc".into(),
        side: Side::Accepter,
        pcx: pcx_id(),
        peer_cidr: net(peer),
        destination: net(destination),
        target,
    })
}

/// The peer CIDR itself routed to `target`.
fn conflict(table: &str, destination: &str, target: RouteTarget) -> Finding {
    conflict_inside(table, destination, destination, target)
}

fn blackhole(table: &str, destination: &str, pcx: &str, why: DeadReason, managed: bool) -> Finding {
    here(Facts::PeeringRouteBlackhole {
        route_table: table.into(),
        vpc: "vpc-acc".into(),
        destination: net(destination),
        pcx: pcx.into(),
        why,
        managed,
    })
}

fn endpoint_pending(endpoint: &str, account: &str, granted: bool) -> Finding {
    here(Facts::EndpointPending { service: SVC.into(), endpoint: endpoint.into(), account: account.into(), granted })
}

fn endpoint_not_allowlisted(endpoint: &str, account: &str, state: &str) -> Finding {
    here(Facts::EndpointNotAllowlisted {
        service: SVC.into(),
        endpoint: endpoint.into(),
        account: account.into(),
        state: ConnectionState::parse(state),
    })
}

fn over_quota(account: &str, in_use: usize, max: u32) -> Finding {
    here(Facts::EndpointOverQuota { service: SVC.into(), account: account.into(), in_use, max })
}

fn auto_accept() -> Finding {
    here(Facts::EndpointServiceAutoAccept { service: SVC.into(), name: service().name })
}

fn wildcard() -> Finding {
    here(Facts::EndpointServiceWildcardPrincipal { service: SVC.into() })
}

fn principal_unlisted(principal: &str) -> Finding {
    here(Facts::EndpointServicePrincipalUnlisted { service: SVC.into(), principal: principal.into() })
}

/// The service's load balancer without a target group (`None`) or with a sick one.
fn unhealthy(target_group: Option<(&str, u32)>) -> Finding {
    here(Facts::EndpointServiceUnhealthy {
        service: SVC.into(),
        load_balancer: LB.into(),
        target_group: target_group.map(|(arn, registered)| SickTargetGroup { arn: arn.into(), registered }),
    })
}

fn blocked(p: &Peering, refusal: crate::decide::Refusal) -> Finding {
    here(Facts::PeeringPendingBlocked {
        pcx: p.id.clone(),
        requester: requester_of(p),
        accepter_vpc: p.accepter.vpc_id.clone(),
        refusal,
    })
}

fn waiver(code: FindingCode, resource: &str, expires_at: i64) -> crate::domain::Waiver {
    crate::domain::Waiver {
        code,
        resource: resource.into(),
        account: None,
        reason: "accepted".into(),
        expires_at,
        added_by: "test".into(),
        added_at: NOW - DAY,
    }
}

fn expiring(grant: AllowlistKey, expires_in: i64) -> Finding {
    here(Facts::GrantExpiring { grant, expires_in })
}

// -- the healthy estate ---------------------------------------------------------------------

#[test]
fn a_healthy_estate_has_no_findings() {
    assert_eq!(run(&desired(), &observed()), vec![]);
    assert!(plan_remediation(&desired(), &observed()).is_empty());
}

#[test]
fn findings_carry_scope_severity_and_facts() {
    let mut o = observed();
    o.route_tables[0].routes.retain(|r| r.destination != net("10.1.0.0/16"));
    let f = run(&desired(), &o);
    assert_eq!(f, vec![missing("rtb-a1", "10.1.0.0/16")]);
    let f = &f[0];
    assert_eq!((f.code(), f.severity()), (FindingCode::PeeringRouteMissing, Severity::High));
    assert_eq!((f.account.as_str(), f.region.as_str(), f.resource().as_str()), (ME, REGION, "rtb-a1"));
    assert_eq!(f.subjects(), ["rtb-a1", "vpc-acc", pcx_id().as_str()]);
}

#[test]
fn findings_are_ordered_most_severe_first() {
    let mut o = observed();
    o.services[0].allowed_principals.push("*".into()); // critical
    o.peerings[0].status = PeeringStatus::PendingAcceptance; // blackholes (high) and overlap-free
    o.peerings[0].expires_at = Some(NOW + 7 * DAY - 3600); // fresh
    let d = Desired { peering_grants: vec![], ..desired() };
    let f = run(&d, &o);
    let keys: Vec<_> = f.iter().map(|f| (std::cmp::Reverse(f.severity()), f.code(), f.resource())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "most severe first, then by code and resource");
    assert_eq!(f[0].code(), FindingCode::EndpointServiceWildcardPrincipal);
    assert_eq!(
        codes(&f),
        [
            "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL",
            "PEERING_ROUTE_BLACKHOLE",
            "PEERING_ROUTE_BLACKHOLE",
            "PEERING_PENDING_UNLISTED"
        ]
    );
}

#[test]
fn the_same_finding_twice_is_reported_once() {
    let mut o = observed();
    o.services[0].allowed_principals.extend(["*".to_string(), " * ".to_string()]);
    assert_eq!(run(&desired(), &o), vec![wildcard()]);
}

#[test]
fn resources_are_the_ids_reports_file_findings_under() {
    let key = AllowlistKey::Peering { scope: VpcScope::Vpc("vpc-acc".into()), account: PEER.into() };
    let cases = [
        (pending_unlisted(&peering()), pcx_id()),
        (missing("rtb-a1", "10.1.0.0/16"), "rtb-a1".to_string()),
        (endpoint_pending("vpce-1", PEER, true), "vpce-1".to_string()),
        (over_quota(PEER, 3, 2), format!("{SVC}/{PEER}")),
        (wildcard(), SVC.to_string()),
        (expiring(key, DAY), format!("peering#vpc-acc/account#{PEER}")),
        (
            expiring(AllowlistKey::Endpoint { service_id: SVC.into(), account: PEER.into() }, DAY),
            format!("endpoint#{SVC}/account#{PEER}"),
        ),
    ];
    for (finding, resource) in cases {
        assert_eq!(finding.resource(), resource, "{finding:?}");
    }
}

#[test]
fn subjects_name_every_id_a_finding_is_about() {
    let p = active();
    assert_eq!(not_allowlisted(&p).subjects(), [p.id.as_str(), "vpc-acc", "vpc-req", PEER]);
    assert_eq!(
        conflict("rtb-a2", "10.1.0.0/16", other("tgw-9")).subjects(),
        ["rtb-a2", "vpc-acc", p.id.as_str(), "tgw-9"]
    );
    assert_eq!(endpoint_pending("vpce-1", PEER, false).subjects(), [SVC, "vpce-1", PEER]);
    let principal = format!("arn:aws:iam::{THIRD}:root");
    assert_eq!(principal_unlisted(&principal).subjects(), [SVC, principal.as_str(), THIRD]);
    assert_eq!(principal_unlisted("elasticloadbalancing.amazonaws.com").subjects().len(), 2);
    let key = AllowlistKey::Endpoint { service_id: SVC.into(), account: PEER.into() };
    assert_eq!(expiring(key, DAY).subjects(), [SVC, PEER]);
}
