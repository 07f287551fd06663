//! Endpoint services, their connections, and the grants that admit them.
use super::*;

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
        assert_eq!(f, vec![endpoint_not_allowlisted("vpce-0bbb0000000000002", THIRD, state)], "{state}");
        assert_eq!(f[0].resource(), "vpce-0bbb0000000000002");
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
    // A live grant covers it: the approver missed it.
    assert_eq!(run(&desired(), &o), vec![endpoint_pending("vpce-0ccc0000000000003", PEER, true)]);
    o.services[0].connections.push(conn("vpce-0ddd0000000000004", THIRD, "pendingAcceptance"));
    let f = only(&desired(), &o, FindingCode::EndpointPending);
    assert_eq!(
        f,
        vec![
            endpoint_pending("vpce-0ccc0000000000003", PEER, true),
            endpoint_pending("vpce-0ddd0000000000004", THIRD, false),
        ]
    );
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
    assert_eq!(f, vec![over_quota(PEER, 3, 2)]);
    assert_eq!(f[0].resource(), format!("{SVC}/{PEER}"));
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
    assert_eq!(f, vec![auto_accept()]);
    assert_eq!(f[0].resource(), SVC);
}

#[test]
fn a_wildcard_principal_is_critical_and_not_also_unlisted() {
    let mut o = observed();
    o.services[0].allowed_principals.push(" * ".into());
    let f = run(&desired(), &o);
    assert_eq!(f, vec![wildcard()]);
    assert_eq!(f[0].severity(), Severity::Critical);
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
    assert_eq!(
        f,
        vec![
            principal_unlisted(&format!("arn:aws:iam::{THIRD}:root")),
            principal_unlisted("elasticloadbalancing.amazonaws.com"),
        ]
    );
    // An expired grant does not list a principal.
    let mut o = observed();
    o.services[0].connections.clear();
    let d = Desired { endpoint_grants: vec![EndpointGrant { expires_at: Some(NOW - 5), ..egrant() }], ..desired() };
    assert_eq!(run(&d, &o), vec![principal_unlisted(&format!("arn:aws:iam::{PEER}:root"))]);
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
    assert_eq!(run(&desired(), &o), vec![unhealthy(Some(("tg-2", 3)))]);
    // A load balancer without any target group answers nobody either.
    let mut o = observed();
    o.services[0].load_balancers[0].target_groups.clear();
    assert_eq!(run(&desired(), &o), vec![unhealthy(None)]);
}

// -- GRANT_EXPIRING ---------------------------------------------------------------------------

fn peering_key(scope: VpcScope) -> AllowlistKey {
    AllowlistKey::Peering { scope, account: PEER.into() }
}

fn endpoint_key() -> AllowlistKey {
    AllowlistKey::Endpoint { service_id: SVC.into(), account: PEER.into() }
}

#[test]
fn grants_expiring_within_the_warning_window_are_reported_once() {
    let mut d = desired();
    d.peering_grants[0].expires_at = Some(NOW + 3 * DAY);
    d.endpoint_grants[0].expires_at = Some(NOW + 14 * DAY);
    let f = run(&d, &observed());
    assert_eq!(
        f,
        vec![expiring(endpoint_key(), 14 * DAY), expiring(peering_key(VpcScope::Vpc("vpc-acc".into())), 3 * DAY)]
    );
    let resources: Vec<String> = f.iter().map(Finding::resource).collect();
    assert_eq!(resources, [format!("endpoint#{SVC}/account#{PEER}"), format!("peering#vpc-acc/account#{PEER}")]);
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
    assert_eq!(
        run(&d, &observed()),
        vec![expiring(endpoint_key(), 15 * DAY), expiring(peering_key(VpcScope::Any), 15 * DAY)]
    );
    // Already expired: the grant no longer grants (other findings say so), it is not "expiring".
    let mut d = desired();
    d.endpoint_grants.push(EndpointGrant { account: THIRD.into(), expires_at: Some(NOW - 1), ..egrant() });
    assert!(run(&d, &observed()).is_empty());
}

#[test]
fn waivers_ending_within_the_warning_window_are_reported_like_grants() {
    let mut d = desired();
    d.waivers = vec![
        waiver(FindingCode::EndpointServiceAutoAccept, SVC, NOW + 3 * DAY),
        waiver(FindingCode::PeeringRouteMissing, "rtb-a1", NOW + 30 * DAY), // outside the window
        waiver(FindingCode::EndpointServiceWildcardPrincipal, SVC, NOW - 1), // already ended
    ];
    let f = run(&d, &observed());
    let key = AllowlistKey::Waiver { code: FindingCode::EndpointServiceAutoAccept, resource: SVC.into() };
    assert_eq!(f, vec![here(Facts::WaiverExpiring { waiver: key, expires_in: 3 * DAY })]);
    assert_eq!(f[0].resource(), format!("waiver#ENDPOINT_SERVICE_AUTO_ACCEPT/resource#{SVC}"));
    assert_eq!(f[0].severity(), Severity::Low);
    // Only the scope holding the allowlist reports them.
    assert!(run(&d, &Observed { holds_allowlist: false, ..observed() }).is_empty());
}
