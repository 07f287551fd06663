use super::*;
use crate::domain::ConnectionState;
use crate::fixtures::*;

fn checks(r: &ApprovalRequest) -> Vec<(&str, bool)> {
    r.checks.iter().map(|c| (c.check.as_str(), c.passed)).collect()
}

#[test]
fn a_peering_request_carries_every_check_with_its_verdict() {
    let table = table("rtb-1", "vpc-acc", &[("10.1.2.0/24", other("tgw-1"))]);
    let r = ApprovalRequest::peering(&peering(), &[&table]);
    assert_eq!((r.kind, r.account.as_str(), r.target.as_str()), (RequestKind::Peering, PEER, "vpc-acc"));
    assert_eq!(r.requester_vpc.as_deref(), Some("vpc-req"));
    assert_eq!(r.cidrs, nets(&["10.1.0.0/16"]));
    assert_eq!(checks(&r), [("grant", false), ("requester-cidrs", true), ("no-overlap", true), ("not-routed", false)]);
    assert!(r.checks[3].detail.contains("rtb-1"), "{}", r.checks[3].detail);
    let mut overlapping = peering();
    overlapping.requester.cidrs = nets(&["10.0.128.0/17"]);
    let r = ApprovalRequest::peering(&overlapping, &[]);
    assert_eq!(checks(&r)[2], ("no-overlap", false));
    assert!(r.checks[2].detail.contains("10.0.0.0/16"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(serde_json::from_value::<ApprovalRequest>(json).unwrap(), r, "the ledger reads back what it wrote");
}

#[test]
fn the_narrowest_peering_grant_admits_exactly_the_request_or_names_what_still_refuses_it() {
    let grant = peering_grant_for(&peering(), &[], ("ops", NOW), Some(NOW + 86_400), Some("ticket 42".into())).unwrap();
    assert_eq!(grant.scope, VpcScope::Vpc("vpc-acc".into()));
    assert_eq!((grant.account.as_str(), grant.allowed_cidrs.clone()), (PEER, Some(nets(&["10.1.0.0/16"]))));
    assert_eq!((grant.expires_at, grant.added_by.as_str(), grant.added_at), (Some(NOW + 86_400), "ops", NOW));
    let mut overlapping = peering();
    overlapping.requester.cidrs = nets(&["10.0.0.0/16"]);
    let refusal = peering_grant_for(&overlapping, &[], ("ops", NOW), None, None).unwrap_err();
    assert_eq!(refusal.code(), "cidr-overlaps-accepter");
    let routed = table("rtb-1", "vpc-acc", &[("10.1.0.0/16", other("tgw-1"))]);
    let refusal = peering_grant_for(&peering(), &[&routed], ("ops", NOW), None, None).unwrap_err();
    assert_eq!(refusal.code(), "cidr-already-routed");
}

#[test]
fn the_narrowest_endpoint_grant_counts_the_connections_the_account_holds() {
    let c = Connection {
        endpoint_id: "vpce-0123456789abcdef0".into(),
        service_id: "vpce-svc-0123456789abcdef0".into(),
        account: PEER.into(),
        state: ConnectionState::PendingAcceptance,
        created_at: Some(NOW),
    };
    let g = endpoint_grant_for(&c, 2, ("ops", NOW), None, None);
    assert_eq!((g.service_id.as_str(), g.account.as_str(), g.max_endpoints), (c.service_id.as_str(), PEER, Some(3)));
    let r = ApprovalRequest::endpoint(&c, "us-east-1");
    assert_eq!(
        (r.kind, r.target.as_str(), checks(&r)),
        (RequestKind::Endpoint, c.service_id.as_str(), vec![("grant", false)])
    );
}
