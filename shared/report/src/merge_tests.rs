use super::tests::{audited, GENERATED};
use super::*;
use vpcwarden_core::audit::{audit, Desired, Observed};
use vpcwarden_core::domain::peering::MANAGED_TAG;
use vpcwarden_core::domain::{Peering, PeeringStatus, Vpc};
use vpcwarden_core::fixtures::*;

/// The requester's side of the fixture's peering, audited in its own account: its route table
/// lacks the route back, so the same connection has findings on both sides.
fn requester_side() -> ScopeResult {
    let mut p = Peering { status: PeeringStatus::Active, ..peering() };
    p.tags.insert(MANAGED_TAG.into(), "true".into());
    let o = Observed {
        account: PEER.into(),
        region: "us-east-1".into(),
        vpcs: vec![Vpc { id: "vpc-req".into(), cidrs: nets(&["10.1.0.0/16"]), name: None }],
        route_tables: vec![table("rtb-9", "vpc-req", &[("10.1.0.0/16", vpcwarden_core::domain::RouteTarget::Local)])],
        peerings: vec![p],
        ..Observed::default()
    };
    let findings = audit(&Desired { peering_grants: vec![grant()], ..Desired::default() }, &o, NOW);
    assert!(!findings.is_empty(), "the fixture must have findings on the requester's side");
    ScopeResult {
        account: PEER.into(),
        region: "us-east-1".into(),
        outcome: Ok(Box::new(Audited { observed: o, findings, ..Audited::default() })),
    }
}

fn unreadable() -> ScopeStatus {
    ScopeStatus {
        account: "333333333333".into(),
        region: "us-east-1".into(),
        status: ScopeState::Failed,
        error: Some("no result: the scope's invocation failed (States.TaskFailed)".into()),
        findings: None,
        notes: Vec::new(),
        compared_with: None,
    }
}

/// What a scope's own invocation writes: its report, as JSON, read back.
fn written(r: &ScopeResult) -> Report {
    let json = Report::build(GENERATED, std::slice::from_ref(r), None).json();
    serde_json::from_str(&json).expect("a report reads back from its JSON")
}

#[test]
fn a_report_reads_back_from_its_json_unchanged() {
    let report = Report::build(GENERATED, &[audited(), requester_side()], None);
    assert_eq!(serde_json::from_str::<Report>(&report.json()).unwrap(), report);
}

#[test]
fn the_merged_report_equals_the_single_run_s() {
    let (mine, theirs) = (audited(), requester_side());
    let failed = ScopeResult {
        account: "333333333333".into(),
        region: "us-east-1".into(),
        outcome: Err(unreadable().error.unwrap()),
    };
    let single = Report::build(GENERATED, &[mine.clone(), theirs.clone(), failed], None);
    let merged = Report::merge(GENERATED, vec![written(&theirs), written(&mine)], vec![unreadable()]);
    let ids = |r: &Report| r.findings.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&merged), ids(&single), "the same findings, in the same order");
    assert_eq!(merged.findings, single.findings);
    assert_eq!(merged.summary, single.summary);
    assert_eq!(merged.scope, single.scope);
    assert_eq!(merged.remediation, single.remediation);
    assert_eq!(merged.estate, single.estate, "one connection seen from both sides is drawn once, coloured by both");
}

#[test]
fn a_connection_seen_from_two_scopes_is_drawn_once_with_the_worst_of_both() {
    let merged = Report::merge(GENERATED, vec![written(&audited()), written(&requester_side())], Vec::new());
    let [p] = &merged.estate.peerings[..] else { panic!("one connection: {:?}", merged.estate.peerings) };
    assert_eq!(p.status, "active");
    assert!(p.health.worst.is_some());
    let audited_vpcs: Vec<&str> = merged.estate.vpcs.iter().filter(|v| v.audited).map(|v| v.id.as_str()).collect();
    assert_eq!(audited_vpcs, ["vpc-acc", "vpc-req"], "a VPC audited in either scope is drawn as audited");
}

#[test]
fn planned_scopes_without_a_result_are_listed_as_failed() {
    let merged = Report::merge(GENERATED, vec![written(&audited())], vec![unreadable()]);
    let failed: Vec<&ScopeStatus> = merged.failed_scopes().collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].error.as_deref().unwrap().starts_with("no result"));
    assert_eq!(merged.scope.accounts, [ME, "333333333333"]);
}
