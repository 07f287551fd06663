//! The words say at least what the facts are: every id a person needs to find the drift, the
//! numbers that size it, and the way out.
use super::*;
use vpcwarden_core::domain::{PeeringStatus, Requester};
use vpcwarden_core::fixtures::{net, nets, PEER};

const PCX: &str = "pcx-0123456789abcdef0";
const SVC: &str = "vpce-svc-0123456789abcdef0";

fn requester() -> Requester {
    Requester { account: PEER.into(), vpc: "vpc-req".into(), cidrs: nets(&["10.1.0.0/16", "2600:1f18::/56"]) }
}

/// Asserts that `text` contains every one of `parts`.
fn says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "`{part}` missing from: {text}");
    }
}

#[test]
fn peering_findings_name_the_connection_the_requester_and_our_vpc() {
    let f = Facts::PeeringPendingUnlisted { pcx: PCX.into(), requester: requester(), accepter_vpc: "vpc-acc".into() };
    says(&message(&f), &[PCX, PEER, "vpc-req", "10.1.0.0/16, 2600:1f18::/56", "vpc-acc", "no live peering grant"]);
    says(&remediation(&f), &[PCX, PEER, "peering#vpc-acc", "peering#*"]);
    let f = Facts::PeeringNotAllowlisted { pcx: PCX.into(), requester: requester(), accepter_vpc: "vpc-acc".into() };
    says(&message(&f), &[PCX, PEER, "vpc-req", "vpc-acc", "active", "no live peering grant"]);
    says(&remediation(&f), &["Delete", PCX, PEER]);
    let empty = Requester { cidrs: vec![], ..requester() };
    let f = Facts::PeeringNotAllowlisted { pcx: PCX.into(), requester: empty, accepter_vpc: "vpc-acc".into() };
    says(&message(&f), &["(no CIDR)"]);
}

#[test]
fn a_stale_request_says_how_long_and_where_to_look() {
    let stale = |granted| Facts::PeeringPendingStale {
        pcx: PCX.into(),
        requester: requester(),
        accepter_vpc: "vpc-acc".into(),
        pending_for: 25 * 3600,
        expires_in: 7 * 24 * 3600 - 25 * 3600,
        granted,
    };
    says(&message(&stale(true)), &[PCX, "pending for 25 hours", "AWS expires it in 6.0 days"]);
    says(&remediation(&stale(true)), &["ledger", &format!("pcx#{PCX}")]);
    says(&remediation(&stale(false)), &["Accept", "reject", PCX]);
}

#[test]
fn overlap_and_dns_name_both_sides() {
    let f = Facts::PeeringCidrOverlap {
        pcx: PCX.into(),
        requester: requester(),
        accepter_vpc: "vpc-acc".into(),
        requester_cidr: net("10.0.128.0/17"),
        accepter_cidr: net("10.0.0.0/16"),
        status: PeeringStatus::Active,
    };
    says(&message(&f), &[PCX, "10.0.128.0/17", "10.0.0.0/16", "vpc-req", "vpc-acc", "(active)"]);
    says(&remediation(&f), &["renumber"]);
    let f = Facts::PeeringDnsDrift { pcx: PCX.into(), accepter_vpc: "vpc-acc".into(), had: false, wanted: true };
    says(&message(&f), &["vpc-acc", PCX, "is disabled, the grant says enabled"]);
    says(&remediation(&f), &["ModifyVpcPeeringConnectionOptions", PCX, "AllowDnsResolutionFromRemoteVpc=true"]);
}

#[test]
fn route_findings_name_the_table_the_destination_and_the_target() {
    let f = Facts::PeeringRouteMissing {
        route_table: "rtb-1".into(),
        vpc: "vpc-acc".into(),
        side: Side::Requester,
        destination: net("10.1.0.0/16"),
        pcx: PCX.into(),
    };
    says(&message(&f), &["rtb-1", "vpc-acc", "requester side", &format!("10.1.0.0/16 -> {PCX}")]);
    says(&remediation(&f), &["rtb-1", "REMEDIATE=true"]);
    let conflict = |destination: &str, target: &str| Facts::PeeringRouteConflict {
        route_table: "rtb-1".into(),
        vpc: "vpc-acc".into(),
        side: Side::Accepter,
        pcx: PCX.into(),
        peer_cidr: net("10.1.0.0/16"),
        destination: net(destination),
        target: RouteTarget::Other(target.into()),
    };
    let f = conflict("10.1.0.0/16", "tgw-9");
    says(&message(&f), &["rtb-1", "peer CIDR 10.1.0.0/16", "tgw-9", PCX]);
    says(&remediation(&f), &["never overwrites", "tgw-9"]);
    let f = conflict("10.1.5.0/24", "nat-1");
    says(&message(&f), &["rtb-1", "10.1.5.0/24", "inside peer CIDR 10.1.0.0/16", PCX, "nat-1"]);
    says(&remediation(&f), &["more specific", "10.1.5.0/24 -> nat-1"]);
}

#[test]
fn a_blackhole_says_why_and_whose_it_is() {
    let blackhole = |why, managed| Facts::PeeringRouteBlackhole {
        route_table: "rtb-1".into(),
        vpc: "vpc-acc".into(),
        destination: net("172.16.0.0/12"),
        pcx: PCX.into(),
        why,
        managed,
    };
    let f = blackhole(DeadReason::NotDescribed, false);
    says(&message(&f), &["rtb-1", "vpc-acc", "172.16.0.0/12", PCX, "blackhole", "no longer described"]);
    says(&remediation(&f), &["did not create", "rtb-1"]);
    for status in ["deleted", "rejected", "pending-acceptance"] {
        let f = blackhole(DeadReason::Status(PeeringStatus::parse(status)), true);
        says(&message(&f), &[&format!("{PCX} is {status}")]);
        says(&remediation(&f), &["REMEDIATE=true", "rtb-1"]);
    }
    says(&message(&blackhole(DeadReason::RouteBlackhole, true)), &["state is blackhole"]);
}

#[test]
fn endpoint_findings_name_the_endpoint_the_account_and_the_service() {
    let pending = |granted| Facts::EndpointPending {
        service: SVC.into(),
        endpoint: "vpce-0ccc".into(),
        account: PEER.into(),
        granted,
    };
    says(&message(&pending(true)), &["vpce-0ccc", PEER, SVC, "although a live grant"]);
    says(&remediation(&pending(true)), &["vpce#vpce-0ccc"]);
    says(&message(&pending(false)), &["vpce-0ccc", PEER, SVC, "unlisted"]);
    says(&remediation(&pending(false)), &["Reject vpce-0ccc", PEER]);
    let f = Facts::EndpointNotAllowlisted {
        service: SVC.into(),
        endpoint: "vpce-0bbb".into(),
        account: PEER.into(),
        state: vpcwarden_core::domain::ConnectionState::Partial,
    };
    says(&message(&f), &["vpce-0bbb", PEER, SVC, "(partial)", "without a live grant"]);
    says(&remediation(&f), &["RejectVpcEndpointConnections", "vpce-0bbb"]);
    let f = Facts::EndpointOverQuota { service: SVC.into(), account: PEER.into(), in_use: 3, max: 2 };
    says(&message(&f), &[PEER, "3 endpoints", SVC, "allows 2"]);
    says(&remediation(&f), &["Reject 1 of", "max_endpoints"]);
}

#[test]
fn service_findings_name_the_service_and_what_is_wrong_with_it() {
    let f = Facts::EndpointServiceAutoAccept { service: SVC.into(), name: "com.example.svc".into() };
    says(&message(&f), &[SVC, "com.example.svc", "AcceptanceRequired=false"]);
    says(&remediation(&f), &["AcceptanceRequired=true"]);
    let f = Facts::EndpointServiceWildcardPrincipal { service: SVC.into() };
    says(&message(&f), &[SVC, "`*`"]);
    says(&remediation(&f), &["ModifyVpcEndpointServicePermissions", "SYNC_PRINCIPALS"]);
    let f = Facts::EndpointServicePrincipalUnlisted {
        service: SVC.into(),
        principal: "arn:aws:iam::333333333333:root".into(),
    };
    says(&message(&f), &[SVC, "arn:aws:iam::333333333333:root", "no live endpoint grant"]);
    says(&remediation(&f), &[&format!("endpoint#{SVC} / account#333333333333")]);
    let f = Facts::EndpointServiceUnhealthy {
        service: SVC.into(),
        load_balancer: "lb-1".into(),
        target_group: Some(SickTargetGroup { arn: "tg-2".into(), registered: 3 }),
    };
    says(&message(&f), &[SVC, "tg-2", "lb-1", "3 registered"]);
    let f = Facts::EndpointServiceUnhealthy { service: SVC.into(), load_balancer: "lb-1".into(), target_group: None };
    says(&message(&f), &[SVC, "lb-1", "no target group"]);
}

#[test]
fn an_expiring_grant_names_its_key_and_when() {
    let f = Facts::GrantExpiring {
        grant: AllowlistKey::Peering { scope: VpcScope::Any, account: PEER.into() },
        expires_in: 3 * 24 * 3600,
    };
    says(&message(&f), &[PEER, "any VPC (*)", "3.0 days"]);
    says(&remediation(&f), &[&format!("peering#*/account#{PEER}"), "expires_at"]);
    let f = Facts::GrantExpiring {
        grant: AllowlistKey::Endpoint { service_id: SVC.into(), account: PEER.into() },
        expires_in: 5 * 3600,
    };
    says(&message(&f), &[PEER, SVC, "5 hours"]);
    says(&remediation(&f), &[&format!("endpoint#{SVC}/account#{PEER}"), "REVOKE_ON_REMOVAL"]);
}

#[test]
fn a_blocked_request_names_the_check_as_the_acceptor_does() {
    let refusal = vpcwarden_core::Refusal::CidrAlreadyRouted {
        cidr: net("10.1.0.0/16"),
        route_table: "rtb-1".into(),
        destination: net("10.1.0.0/16"),
        target: "pcx-0other".into(),
    };
    let f = Facts::PeeringPendingBlocked {
        pcx: PCX.into(),
        requester: requester(),
        accepter_vpc: "vpc-acc".into(),
        refusal: refusal.clone(),
    };
    says(&message(&f), &[PCX, PEER, "vpc-acc", "live grant", &refusal.to_string()]);
    says(&remediation(&f), &["10.1.0.0/16 -> pcx-0other", "rtb-1", "next sweep"]);
}

#[test]
fn an_expiring_waiver_names_its_key_and_when() {
    let waiver = AllowlistKey::Waiver {
        code: vpcwarden_core::domain::FindingCode::EndpointServiceAutoAccept,
        resource: SVC.into(),
    };
    let f = Facts::WaiverExpiring { waiver, expires_in: 3 * 24 * 3600 };
    says(&message(&f), &["ENDPOINT_SERVICE_AUTO_ACCEPT", SVC, "3.0 days"]);
    says(&remediation(&f), &[&format!("waiver#ENDPOINT_SERVICE_AUTO_ACCEPT/resource#{SVC}"), "366 days"]);
}

#[test]
fn durations_read_in_hours_then_days() {
    assert_eq!(duration(0), "0 hours");
    assert_eq!(duration(25 * 3600), "25 hours");
    assert_eq!(duration(47 * 3600), "47 hours");
    assert_eq!(duration(48 * 3600), "2.0 days");
    assert_eq!(duration(7 * 24 * 3600 - 3600), "7.0 days");
}

/// One finding of every kind.
fn every_kind() -> Vec<Facts> {
    let pcx = || PCX.to_string();
    let table = || "rtb-1".to_string();
    let vpc = || "vpc-acc".to_string();
    let svc = || SVC.to_string();
    let account = || PEER.to_string();
    vec![
        Facts::PeeringPendingUnlisted { pcx: pcx(), requester: requester(), accepter_vpc: vpc() },
        Facts::PeeringPendingStale {
            pcx: pcx(),
            requester: requester(),
            accepter_vpc: vpc(),
            pending_for: 90_000,
            expires_in: 3600,
            granted: false,
        },
        Facts::PeeringNotAllowlisted { pcx: pcx(), requester: requester(), accepter_vpc: vpc() },
        Facts::PeeringRouteMissing {
            route_table: table(),
            vpc: vpc(),
            side: Side::Accepter,
            destination: net("10.1.0.0/16"),
            pcx: pcx(),
        },
        Facts::PeeringRouteBlackhole {
            route_table: table(),
            vpc: vpc(),
            destination: net("10.1.0.0/16"),
            pcx: pcx(),
            why: DeadReason::NotDescribed,
            managed: true,
        },
        Facts::PeeringRouteConflict {
            route_table: table(),
            vpc: vpc(),
            side: Side::Accepter,
            pcx: pcx(),
            peer_cidr: net("10.1.0.0/16"),
            destination: net("10.1.0.0/16"),
            target: RouteTarget::Other("tgw-9".into()),
        },
        Facts::PeeringCidrOverlap {
            pcx: pcx(),
            requester: requester(),
            accepter_vpc: vpc(),
            requester_cidr: net("10.1.0.0/16"),
            accepter_cidr: net("10.1.0.0/24"),
            status: PeeringStatus::PendingAcceptance,
        },
        Facts::PeeringDnsDrift { pcx: pcx(), accepter_vpc: vpc(), had: true, wanted: false },
        Facts::EndpointNotAllowlisted {
            service: svc(),
            endpoint: "vpce-1".into(),
            account: account(),
            state: vpcwarden_core::domain::ConnectionState::Available,
        },
        Facts::EndpointPending { service: svc(), endpoint: "vpce-2".into(), account: account(), granted: false },
        Facts::EndpointOverQuota { service: svc(), account: account(), in_use: 4, max: 1 },
        Facts::EndpointServiceAutoAccept { service: svc(), name: "svc".into() },
        Facts::EndpointServiceWildcardPrincipal { service: svc() },
        Facts::EndpointServicePrincipalUnlisted { service: svc(), principal: format!("arn:aws:iam::{PEER}:root") },
        Facts::EndpointServiceUnhealthy { service: svc(), load_balancer: "lb-1".into(), target_group: None },
        Facts::GrantExpiring {
            grant: AllowlistKey::Peering { scope: VpcScope::Vpc(vpc()), account: account() },
            expires_in: 3600,
        },
        Facts::PeeringPendingBlocked {
            pcx: pcx(),
            requester: requester(),
            accepter_vpc: vpc(),
            refusal: vpcwarden_core::Refusal::CidrAlreadyRouted {
                cidr: net("10.1.0.0/16"),
                route_table: table(),
                destination: net("10.1.0.0/16"),
                target: "pcx-0other".into(),
            },
        },
        Facts::WaiverExpiring {
            waiver: AllowlistKey::Waiver {
                code: vpcwarden_core::domain::FindingCode::EndpointServiceAutoAccept,
                resource: svc(),
            },
            expires_in: 3600,
        },
    ]
}

#[test]
fn every_kind_of_finding_is_worded_with_every_id_it_is_about() {
    let kinds = every_kind();
    let codes: std::collections::BTreeSet<_> = kinds.iter().map(Facts::code).collect();
    assert_eq!(codes.len(), vpcwarden_core::domain::FindingCode::ALL.len(), "one of every code");
    for facts in &kinds {
        assert_eq!(serde_json::to_value(facts).unwrap()["code"], facts.code().as_str(), "tagged with its code");
        let (message, remediation) = (message(facts), remediation(facts));
        assert!(!message.is_empty() && !remediation.is_empty(), "{facts:?}");
        let words = format!("{message} {remediation}");
        for id in facts.subjects() {
            assert!(words.contains(id), "{}: `{id}` unsaid in: {words}", facts.code().as_str());
        }
    }
}
