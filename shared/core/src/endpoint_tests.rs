use super::*;
use crate::domain::TargetGroupHealth;
use crate::fixtures::{NOW, PEER};

// Endpoint fixtures live here rather than in fixtures.rs: only these tests use them.
const SVC: &str = "vpce-svc-0123456789abcdef0";
const OTHER_SVC: &str = "vpce-svc-0fedcba9876543210";
const THIRD: &str = "333333333333";

fn conn(id: &str, account: &str, state: &str, created_at: i64) -> Connection {
    Connection {
        endpoint_id: id.into(),
        service_id: SVC.into(),
        account: account.into(),
        state: ConnectionState::parse(state),
        created_at: Some(created_at),
    }
}

fn pending(id: &str, created_at: i64) -> Connection {
    conn(id, PEER, "pendingAcceptance", created_at)
}

fn egrant() -> EndpointGrant {
    crate::fixtures::endpoint_grant(SVC, PEER)
}

const IGNORE: Policy = Policy { unlisted: UnlistedAction::Ignore, revoke_on_removal: false };
const REJECT: Policy = Policy { unlisted: UnlistedAction::Reject, revoke_on_removal: false };
const REVOKE: Policy = Policy { unlisted: UnlistedAction::Ignore, revoke_on_removal: true };

fn decide(conns: &[Connection], grants: &[EndpointGrant], policy: Policy) -> Vec<Verdict> {
    decide_connections(SVC, conns, grants, &policy, &Focus::Service, NOW)
}

fn actions(verdicts: &[Verdict]) -> Vec<(&str, Action, &'static str)> {
    verdicts.iter().map(|v| (v.endpoint_id.as_str(), v.action, v.reason.code())).collect()
}

fn accounts(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// -- states ------------------------------------------------------------------------------

#[test]
fn states_parse_case_insensitively_in_every_spelling() {
    for s in ["pendingAcceptance", "PendingAcceptance", "PENDINGACCEPTANCE", " pendingacceptance "] {
        assert_eq!(ConnectionState::parse(s), ConnectionState::PendingAcceptance, "{s}");
    }
    assert_eq!(ConnectionState::parse("Available"), ConnectionState::Available);
    assert_eq!(ConnectionState::parse("available"), ConnectionState::Available);
    assert_eq!(ConnectionState::parse("REJECTED"), ConnectionState::Rejected);
    assert_eq!(ConnectionState::parse("somethingNew"), ConnectionState::Other("somethingNew".into()));
    assert_eq!(ConnectionState::PendingAcceptance.as_str(), "pendingAcceptance");
    assert_eq!(serde_json::to_value(ConnectionState::PendingAcceptance).unwrap(), "pendingAcceptance");
}

#[test]
fn slots_and_gone_states() {
    use ConnectionState::*;
    for s in [Available, Pending, Partial] {
        assert!(s.holds_a_slot() && !s.is_gone(), "{s}");
    }
    for s in [Deleting, Deleted, Rejected, Failed, Expired] {
        assert!(!s.holds_a_slot() && s.is_gone(), "{s}");
    }
    assert!(!PendingAcceptance.holds_a_slot() && !PendingAcceptance.is_gone());
}

// -- accept / unlisted ---------------------------------------------------------------------

#[test]
fn accepts_a_pending_connection_with_a_live_grant() {
    let v = decide(&[pending("vpce-1", 1)], &[egrant()], IGNORE);
    assert_eq!(
        v,
        vec![Verdict {
            endpoint_id: "vpce-1".into(),
            account: PEER.into(),
            state: ConnectionState::PendingAcceptance,
            action: Action::Accept,
            reason: Reason::Granted { max_endpoints: None, in_use: 0 },
        }]
    );
    assert!(v[0].is_decision());
}

#[test]
fn unlisted_is_left_pending_or_rejected_by_policy() {
    let conns = [pending("vpce-1", 1)];
    assert_eq!(actions(&decide(&conns, &[], IGNORE)), vec![("vpce-1", Action::Leave, "no-grant")]);
    assert!(decide(&conns, &[], IGNORE)[0].is_decision());
    assert_eq!(actions(&decide(&conns, &[], REJECT)), vec![("vpce-1", Action::Reject, "no-grant")]);
}

#[test]
fn grants_for_another_account_or_service_do_not_count() {
    let other_account = EndpointGrant { account: THIRD.into(), ..egrant() };
    let other_service = EndpointGrant { service_id: OTHER_SVC.into(), ..egrant() };
    assert_eq!(
        actions(&decide(&[pending("vpce-1", 1)], &[other_account, other_service], REJECT)),
        vec![("vpce-1", Action::Reject, "no-grant")]
    );
}

#[test]
fn connections_of_other_services_are_not_decided() {
    let mut c = pending("vpce-9", 1);
    c.service_id = OTHER_SVC.into();
    assert!(decide(&[c], &[egrant()], IGNORE).is_empty());
}

#[test]
fn an_expired_grant_is_no_grant_and_expiry_is_exclusive() {
    let expired = EndpointGrant { expires_at: Some(NOW), ..egrant() };
    let v = decide(&[pending("vpce-1", 1)], &[expired], IGNORE);
    assert_eq!(v[0].action, Action::Leave);
    assert_eq!(v[0].reason, Reason::GrantExpired { expired_at: NOW });
    let live = EndpointGrant { expires_at: Some(NOW + 1), ..egrant() };
    assert_eq!(decide(&[pending("vpce-1", 1)], &[live], IGNORE)[0].action, Action::Accept);
}

#[test]
fn quota_counts_available_and_pending_and_accepts_oldest_first() {
    let g = EndpointGrant { max_endpoints: Some(3), ..egrant() };
    let conns = [
        pending("vpce-d", 40),
        conn("vpce-a", PEER, "available", 10),
        pending("vpce-c", 30),
        conn("vpce-b", PEER, "pending", 20),
        conn("vpce-x", PEER, "rejected", 5),
        conn("vpce-y", PEER, "deleted", 6),
    ];
    let v = decide(&conns, &[g], REJECT);
    assert_eq!(
        actions(&v),
        vec![
            ("vpce-x", Action::Leave, "settled"),
            ("vpce-y", Action::Leave, "settled"),
            ("vpce-a", Action::Leave, "connected"),
            ("vpce-b", Action::Leave, "connected"),
            ("vpce-c", Action::Accept, "granted"),
            ("vpce-d", Action::Reject, "over-quota"),
        ]
    );
    assert_eq!(v[4].reason, Reason::Granted { max_endpoints: Some(3), in_use: 2 });
    assert_eq!(v[5].reason, Reason::OverQuota { max_endpoints: 3, in_use: 3 });
}

#[test]
fn over_quota_is_left_pending_under_ignore() {
    let g = EndpointGrant { max_endpoints: Some(1), ..egrant() };
    let v = decide(&[pending("vpce-1", 1), pending("vpce-2", 2)], &[g], IGNORE);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Accept, "granted"), ("vpce-2", Action::Leave, "over-quota")]);
}

#[test]
fn quota_ties_break_by_endpoint_id_and_missing_times_go_last() {
    let g = EndpointGrant { max_endpoints: Some(1), ..egrant() };
    let mut undated = pending("vpce-0", 0);
    undated.created_at = None;
    let conns = [undated, pending("vpce-b", 7), pending("vpce-a", 7)];
    let v = decide(&conns, &[g], IGNORE);
    assert_eq!(v[0].endpoint_id, "vpce-a");
    assert_eq!(v[0].action, Action::Accept);
    assert_eq!(v.iter().filter(|v| v.action == Action::Accept).count(), 1);
}

#[test]
fn the_decision_is_the_same_whatever_the_input_order() {
    let g = EndpointGrant { max_endpoints: Some(2), ..egrant() };
    let mut conns: Vec<Connection> = (0..6).map(|i| pending(&format!("vpce-{i}"), i)).collect();
    let first = decide(&conns, std::slice::from_ref(&g), IGNORE);
    conns.reverse();
    assert_eq!(decide(&conns, &[g], IGNORE), first);
}

#[test]
fn the_most_generous_live_grant_wins() {
    let one = EndpointGrant { max_endpoints: Some(1), ..egrant() };
    let unlimited = egrant();
    let v = decide(&[pending("vpce-1", 1), pending("vpce-2", 2)], &[one, unlimited], IGNORE);
    assert!(v.iter().all(|v| v.action == Action::Accept));
}

#[test]
fn quotas_are_per_account() {
    let g = EndpointGrant { max_endpoints: Some(1), ..egrant() };
    let g3 = EndpointGrant { account: THIRD.into(), ..g.clone() };
    let conns = [pending("vpce-1", 1), conn("vpce-3", THIRD, "pendingAcceptance", 1)];
    let v = decide(&conns, &[g, g3], IGNORE);
    assert!(v.iter().all(|v| v.action == Action::Accept), "{v:?}");
}

#[test]
fn connected_without_a_grant_is_reported_not_revoked_by_default() {
    let v = decide(&[conn("vpce-1", PEER, "available", 1)], &[], REJECT);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Leave, "not-allowlisted")]);
    assert!(!v[0].is_decision());
}

#[test]
fn unknown_states_are_left_alone() {
    let v = decide(&[conn("vpce-1", PEER, "somethingNew", 1)], &[], REJECT);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Leave, "settled")]);
}

// -- revocation ------------------------------------------------------------------------------

#[test]
fn a_removed_grant_revokes_the_accounts_connections_when_configured() {
    let conns = [
        conn("vpce-1", PEER, "available", 1),
        pending("vpce-2", 2),
        conn("vpce-3", PEER, "rejected", 3),
        conn("vpce-4", THIRD, "available", 4),
    ];
    let focus = Focus::Accounts { changed: BTreeSet::new(), removed: accounts(&[PEER]) };
    let v = decide_connections(SVC, &conns, &[], &REVOKE, &focus, NOW);
    assert_eq!(
        actions(&v),
        vec![
            ("vpce-1", Action::Reject, "grant-removed"),
            ("vpce-2", Action::Reject, "grant-removed"),
            ("vpce-3", Action::Leave, "settled"),
        ]
    );
    let v = decide_connections(SVC, &conns, &[], &IGNORE, &focus, NOW);
    assert_eq!(
        actions(&v),
        vec![
            ("vpce-1", Action::Leave, "grant-removed"),
            ("vpce-2", Action::Leave, "grant-removed"),
            ("vpce-3", Action::Leave, "settled"),
        ]
    );
}

#[test]
fn a_removal_replayed_after_a_regrant_revokes_nothing() {
    let conns = [conn("vpce-1", PEER, "available", 1), pending("vpce-2", 2)];
    let focus = Focus::Accounts { changed: BTreeSet::new(), removed: accounts(&[PEER]) };
    let v = decide_connections(SVC, &conns, &[egrant()], &REVOKE, &focus, NOW);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Leave, "connected"), ("vpce-2", Action::Accept, "granted")]);
}

#[test]
fn an_expired_grant_still_in_the_table_revokes_in_a_sweep_when_configured() {
    let expired = EndpointGrant { expires_at: Some(NOW - 10), ..egrant() };
    let conns = [conn("vpce-1", PEER, "available", 1), pending("vpce-2", 2)];
    let v = decide(&conns, std::slice::from_ref(&expired), REVOKE);
    assert_eq!(
        actions(&v),
        vec![("vpce-1", Action::Reject, "grant-expired"), ("vpce-2", Action::Reject, "grant-expired")]
    );
    let v = decide(&conns, &[expired], IGNORE);
    assert_eq!(
        actions(&v),
        vec![("vpce-1", Action::Leave, "grant-expired"), ("vpce-2", Action::Leave, "grant-expired")]
    );
}

#[test]
fn a_sweep_never_revokes_connections_that_never_had_a_grant() {
    let v = decide(&[conn("vpce-1", PEER, "available", 1)], &[], REVOKE);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Leave, "not-allowlisted")]);
}

#[test]
fn focus_limits_the_accounts_decided() {
    let conns = [pending("vpce-1", 1), conn("vpce-3", THIRD, "pendingAcceptance", 1)];
    let focus = Focus::Accounts { changed: accounts(&[PEER]), removed: BTreeSet::new() };
    let v = decide_connections(SVC, &conns, &[egrant()], &REJECT, &focus, NOW);
    assert_eq!(actions(&v), vec![("vpce-1", Action::Accept, "granted")]);
}

#[test]
fn batches_split_accepts_and_rejects() {
    let conns =
        [pending("vpce-1", 1), conn("vpce-3", THIRD, "pendingAcceptance", 2), conn("vpce-4", THIRD, "available", 3)];
    let (accept, reject) = batches(&decide(&conns, &[egrant()], REJECT));
    assert_eq!(accept, vec!["vpce-1".to_string()]);
    assert_eq!(reject, vec!["vpce-3".to_string()]);
}

// -- principals --------------------------------------------------------------------------------

#[test]
fn principals_follow_live_grants_and_drop_everything_else() {
    let expired = EndpointGrant { account: THIRD.into(), expires_at: Some(NOW - 1), ..egrant() };
    let other_service = EndpointGrant { service_id: OTHER_SVC.into(), account: "444444444444".into(), ..egrant() };
    let current =
        vec!["*".to_string(), format!("arn:aws:iam::{THIRD}:root"), "arn:aws:iam::555555555555:role/x".to_string()];
    let change = plan_principals(SVC, &current, &[egrant(), expired, other_service], "aws", NOW);
    assert_eq!(change.add, vec![format!("arn:aws:iam::{PEER}:root")]);
    assert_eq!(
        change.remove,
        vec![
            "*".to_string(),
            "arn:aws:iam::333333333333:root".to_string(),
            "arn:aws:iam::555555555555:role/x".to_string()
        ]
    );
}

#[test]
fn principals_in_step_need_no_change_and_use_the_partition() {
    let current = vec![format!("arn:aws-cn:iam::{PEER}:root")];
    let change = plan_principals(SVC, &current, &[egrant()], "aws-cn", NOW);
    assert!(change.is_empty(), "{change:?}");
    assert_eq!(plan_principals(SVC, &[], &[], "aws", NOW), PrincipalChange::default());
}

#[test]
fn a_wildcard_is_never_added() {
    let weird = EndpointGrant { account: "*".into(), ..egrant() };
    let change = plan_principals(SVC, &[], &[weird], "aws", NOW);
    assert!(change.add.is_empty());
}

// -- health ------------------------------------------------------------------------------------

#[test]
fn health_warns_on_missing_or_unhealthy_target_groups() {
    let tg = |arn: &str, healthy, total| TargetGroupHealth { arn: arn.into(), healthy, total };
    let healthy = LoadBalancerHealth { arn: "nlb-1".into(), target_groups: vec![tg("tg-1", 2, 2)] };
    assert!(health_warnings(SVC, std::slice::from_ref(&healthy)).is_empty());
    let sick = LoadBalancerHealth { arn: "nlb-2".into(), target_groups: vec![tg("tg-2", 0, 3), tg("tg-3", 1, 1)] };
    let empty = LoadBalancerHealth { arn: "nlb-3".into(), target_groups: vec![] };
    let w = health_warnings(SVC, &[healthy, sick, empty]);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("tg-2") && w[0].contains("no healthy target"));
    assert!(w[1].contains("nlb-3") && w[1].contains("no target group"));
    assert_eq!(health_warnings(SVC, &[]).len(), 1);
}

// -- outcomes ----------------------------------------------------------------------------------

fn failure(code: &str) -> Failure {
    Failure { endpoint_id: "vpce-1".into(), code: code.into(), message: "m".into() }
}

#[test]
fn outcomes_trust_the_state_read_back() {
    use ConnectionState::*;
    let f = failure("InvalidVpcEndpointState");
    assert_eq!(outcome(Action::Accept, None, Some(&Available)), Outcome::Done { state: Some(Available) });
    assert!(matches!(outcome(Action::Accept, None, Some(&Pending)), Outcome::Done { .. }));
    assert!(matches!(outcome(Action::Accept, Some(&f), Some(&Available)), Outcome::AlreadyDone { .. }));
    assert!(matches!(outcome(Action::Accept, Some(&f), Some(&Deleted)), Outcome::Moot { .. }));
    assert!(matches!(
        outcome(Action::Accept, Some(&failure("InvalidVpcEndpointId.NotFound")), None),
        Outcome::Moot { .. }
    ));
    let failed = outcome(Action::Accept, Some(&f), Some(&PendingAcceptance));
    assert!(matches!(failed, Outcome::Failed { .. }));
    assert!(matches!(outcome(Action::Accept, None, Some(&PendingAcceptance)), Outcome::Failed { .. }));
}

#[test]
fn reject_outcomes() {
    use ConnectionState::*;
    assert!(matches!(outcome(Action::Reject, None, Some(&Rejected)), Outcome::Done { .. }));
    assert!(matches!(outcome(Action::Reject, None, None), Outcome::Done { .. }));
    assert!(matches!(
        outcome(Action::Reject, Some(&failure("InvalidVpcEndpointState")), Some(&Deleted)),
        Outcome::AlreadyDone { .. }
    ));
    assert!(matches!(
        outcome(Action::Reject, Some(&failure("InternalError")), Some(&Available)),
        Outcome::Failed { .. }
    ));
}

#[test]
fn reasons_serialise_with_their_codes() {
    let r = Reason::OverQuota { max_endpoints: 2, in_use: 2 };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"code": "over-quota", "max_endpoints": 2, "in_use": 2})
    );
    assert_eq!(r.to_string(), "the account already uses 2 of its 2 endpoints");
    let settled = Reason::Settled { state: ConnectionState::Rejected };
    assert_eq!(serde_json::to_value(&settled).unwrap(), serde_json::json!({"code": "settled", "state": "rejected"}));
}
