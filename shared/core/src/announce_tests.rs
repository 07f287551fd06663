//! What is told and how: only decisions, with the ARNs of everything involved.
use super::*;
use crate::domain::{Connection, ConnectionState};
use crate::endpoint::{Action, Reason};
use crate::fixtures::peering;

const PLACE: Place<'static> = Place { partition: "aws", region: "us-east-1", account: "111111111111" };

fn told(action: LedgerAction) -> Told<'static> {
    Told { action, reason_code: None, reason: "why", dry_run: false }
}

#[test]
fn only_decisions_are_told() {
    let p = peering();
    for action in [LedgerAction::RoutesDeferred, LedgerAction::RoutesRestored, LedgerAction::Report] {
        assert!(peering_decision(&PLACE, &p.id, Some(&p), told(action), Vec::new()).is_none(), "{action}");
    }
    let accepted = peering_decision(&PLACE, &p.id, Some(&p), told(LedgerAction::Accepted), Vec::new()).unwrap();
    assert_eq!(accepted.detail.decision, "accepted");
    assert_eq!(accepted.detail.requester.as_ref().unwrap().account, p.requester.account);
}

#[test]
fn route_events_name_the_tables_on_each_side_in_their_own_account() {
    let p = peering();
    let note = |side, table: &str| RouteNote {
        side,
        route_table: table.into(),
        destination: "10.9.0.0/16".parse().unwrap(),
        existing_target: None,
    };
    let routes = vec![note(Side::Accepter, "rtb-a"), note(Side::Requester, "rtb-r"), note(Side::Accepter, "rtb-a")];
    let e = peering_decision(&PLACE, &p.id, Some(&p), told(LedgerAction::RoutesAdded), routes).unwrap();
    let requester_table = format!("arn:aws:ec2:{}:{}:route-table/rtb-r", p.requester.region, p.requester.account);
    assert!(e.resources.contains(&requester_table), "{:?}", e.resources);
    assert!(e.resources.contains(&"arn:aws:ec2:us-east-1:111111111111:route-table/rtb-a".to_string()));
    assert_eq!(e.resources.iter().filter(|r| r.ends_with("rtb-a")).count(), 1, "each ARN once");
    let vanished = peering_decision(&PLACE, "pcx-0a1b2c3d", None, told(LedgerAction::RoutesRemoved), Vec::new());
    assert_eq!(vanished.unwrap().detail.requester, None);
}

#[test]
fn a_connected_endpoint_rejected_is_revoked() {
    let c = Connection {
        endpoint_id: "vpce-0a1b2c3d".into(),
        service_id: "vpce-svc-0a1b2c3d".into(),
        account: "222222222222".into(),
        state: ConnectionState::Available,
        created_at: None,
    };
    let v = Verdict {
        endpoint_id: c.endpoint_id.clone(),
        account: c.account.clone(),
        state: c.state.clone(),
        action: Action::Reject,
        reason: Reason::GrantRemoved,
    };
    let e = endpoint_decision(&PLACE, &c.service_id, &v, told(LedgerAction::Rejected)).unwrap();
    assert_eq!(e.detail.decision, "revoked");
    assert_eq!(e.detail.reason_code, "grant-removed");
    assert_eq!(e.resources[1], "arn:aws:ec2:us-east-1:222222222222:vpc-endpoint/vpce-0a1b2c3d");
    let pending = Verdict { state: ConnectionState::PendingAcceptance, ..v };
    assert_eq!(
        endpoint_decision(&PLACE, &c.service_id, &pending, told(LedgerAction::Rejected)).unwrap().detail.decision,
        "rejected"
    );
    assert!(endpoint_decision(&PLACE, &c.service_id, &pending, told(LedgerAction::Report)).is_none());
}

#[test]
fn an_approval_request_carries_the_commands_that_decide_it() {
    let p = peering();
    let r = ApprovalRequest::peering(&p, &[]);
    let e = approval_requested(&PLACE, &r, "2026-11-29T03:00:00Z");
    assert_eq!(e.detail.approve_command, format!("vpcwarden approve {}", p.id));
    assert!(e.detail.deny_command.starts_with(&format!("vpcwarden deny {} --reason", p.id)));
    assert_eq!(e.detail.requester_vpc.as_deref(), Some(p.requester.vpc_id.as_str()));
    assert_eq!(e.resources[0], format!("arn:aws:ec2:us-east-1:111111111111:vpc-peering-connection/{}", p.id));
}
