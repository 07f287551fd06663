//! Which decisions others hear about, and how each is told: the one mapping from a ledger
//! record (its action, about a peering connection, an endpoint connection or a request) to the
//! event published for it. A decision is told when, and only when, its ledger record is
//! written, so the ledger's one-record-per-change-of-mind rule holds for events too.
use crate::domain::events::{
    arn, ApprovalRequested, DetailType, Ec2Resource, EndpointConnectionDecision, Event, PeeringDecision, PeeringSide,
    Place, RouteNote,
};
use crate::domain::{ConnectionState, LedgerAction, Peering, Side, VpcSide};
use crate::endpoint::{PrincipalChange, Verdict};
use crate::requests::ApprovalRequest;

/// What a ledger record says of a decision, as the event tells it.
#[derive(Clone, Copy, Debug)]
pub struct Told<'a> {
    pub action: LedgerAction,
    /// A stable code for why (a refusal's or a verdict's), when there is one.
    pub reason_code: Option<&'a str>,
    pub reason: &'a str,
    pub dry_run: bool,
}

/// The peering-connection actions that are told (the others are bookkeeping: deferred routes,
/// the audit's restorations, reports).
fn peering_told(action: LedgerAction) -> bool {
    matches!(
        action,
        LedgerAction::Accepted
            | LedgerAction::Rejected
            | LedgerAction::Ignored
            | LedgerAction::RoutesAdded
            | LedgerAction::RoutesRemoved
            | LedgerAction::RouteConflict
            | LedgerAction::RoutesFailed
    )
}

fn side(s: &VpcSide) -> PeeringSide {
    PeeringSide { account: s.account.clone(), vpc: s.vpc_id.clone(), region: s.region.clone(), cidrs: s.cidrs.clone() }
}

/// `Peering Decision` for a record about `pcx` (`p`: the connection, when it could be read;
/// `place`: the accepter's partition, region and account).
pub fn peering_decision(
    place: &Place<'_>,
    pcx: &str,
    p: Option<&Peering>,
    told: Told<'_>,
    routes: Vec<RouteNote>,
) -> Option<Event<PeeringDecision>> {
    if !peering_told(told.action) {
        return None;
    }
    let mut resources = vec![arn(place, Ec2Resource::PeeringConnection(pcx))];
    if let Some(p) = p {
        resources.push(arn(place, Ec2Resource::Vpc(&p.accepter.vpc_id)));
        let requester =
            Place { partition: place.partition, region: &p.requester.region, account: &p.requester.account };
        resources.push(arn(&requester, Ec2Resource::Vpc(&p.requester.vpc_id)));
    }
    for r in &routes {
        let at = match (r.side, p) {
            (Side::Requester, Some(p)) => {
                Place { partition: place.partition, region: &p.requester.region, account: &p.requester.account }
            }
            _ => place.clone(),
        };
        let table = arn(&at, Ec2Resource::RouteTable(&r.route_table));
        if !resources.contains(&table) {
            resources.push(table);
        }
    }
    Some(Event {
        detail_type: DetailType::PeeringDecision,
        resources,
        detail: PeeringDecision {
            decision: told.action.as_str().to_string(),
            pcx: pcx.to_string(),
            reason_code: told.reason_code.map(str::to_string),
            reason: told.reason.to_string(),
            requester: p.map(|p| side(&p.requester)),
            accepter: p.map(|p| side(&p.accepter)),
            routes,
            dry_run: told.dry_run,
        },
    })
}

/// `Endpoint Connection Decision` for a record about one connection of `service`. A rejected
/// connection that was already connected is told as `revoked`.
pub fn endpoint_decision(
    place: &Place<'_>,
    service: &str,
    v: &Verdict,
    told: Told<'_>,
) -> Option<Event<EndpointConnectionDecision>> {
    let decision = match told.action {
        LedgerAction::Rejected if v.state != ConnectionState::PendingAcceptance => "revoked",
        LedgerAction::Accepted
        | LedgerAction::Rejected
        | LedgerAction::Ignored
        | LedgerAction::AcceptFailed
        | LedgerAction::RejectFailed => told.action.as_str(),
        _ => return None,
    };
    let consumer = Place { partition: place.partition, region: place.region, account: &v.account };
    Some(Event {
        detail_type: DetailType::EndpointConnectionDecision,
        resources: vec![
            arn(place, Ec2Resource::EndpointService(service)),
            arn(&consumer, Ec2Resource::Endpoint(&v.endpoint_id)),
        ],
        detail: EndpointConnectionDecision {
            decision: decision.to_string(),
            service: service.to_string(),
            endpoint: Some(v.endpoint_id.clone()),
            account: Some(v.account.clone()),
            reason_code: told.reason_code.unwrap_or(v.reason.code()).to_string(),
            reason: told.reason.to_string(),
            principals_added: Vec::new(),
            principals_removed: Vec::new(),
            dry_run: told.dry_run,
        },
    })
}

/// `Endpoint Connection Decision` (`principals-synced`): a service's allowed principals set to
/// follow the grants.
pub fn principals_synced(
    place: &Place<'_>,
    service: &str,
    change: &PrincipalChange,
    dry_run: bool,
) -> Event<EndpointConnectionDecision> {
    Event {
        detail_type: DetailType::EndpointConnectionDecision,
        resources: vec![arn(place, Ec2Resource::EndpointService(service))],
        detail: EndpointConnectionDecision {
            decision: LedgerAction::PrincipalsSynced.as_str().to_string(),
            service: service.to_string(),
            endpoint: None,
            account: None,
            reason_code: "grants-changed".into(),
            reason: "allowed principals follow the accounts with live grants".into(),
            principals_added: change.add.clone(),
            principals_removed: change.remove.clone(),
            dry_run,
        },
    }
}

/// `Approval Requested`: a request waiting for a person, first seen at `first_seen`.
pub fn approval_requested(place: &Place<'_>, r: &ApprovalRequest, first_seen: &str) -> Event<ApprovalRequested> {
    let requester = Place { partition: place.partition, region: place.region, account: &r.account };
    let resources = match r.kind {
        crate::requests::RequestKind::Peering => {
            vec![arn(place, Ec2Resource::PeeringConnection(&r.id)), arn(place, Ec2Resource::Vpc(&r.target))]
        }
        crate::requests::RequestKind::Endpoint => {
            vec![arn(place, Ec2Resource::EndpointService(&r.target)), arn(&requester, Ec2Resource::Endpoint(&r.id))]
        }
    };
    Event {
        detail_type: DetailType::ApprovalRequested,
        resources,
        detail: ApprovalRequested {
            request: r.id.clone(),
            kind: r.kind.as_str().to_string(),
            account: r.account.clone(),
            region: r.region.clone(),
            target: r.target.clone(),
            requester_vpc: r.requester_vpc.clone(),
            cidrs: r.cidrs.clone(),
            checks: r.checks.iter().map(Into::into).collect(),
            first_seen: first_seen.to_string(),
            approve_command: r.approve_command(),
            deny_command: r.deny_command(),
        },
    }
}

#[cfg(test)]
#[path = "announce_tests.rs"]
mod tests;
