//! The safe part of the drift: route changes that recreate and clean up, never more.
use super::*;

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
    let why = DeadReason::Status(PeeringStatus::Deleted);
    let reported = ["10.1.0.0/16", "172.16.0.0/12"]
        .map(|d| blackhole("rtb-a1", d, &pcx_id(), why.clone(), false))
        .into_iter()
        .chain([blackhole("rtb-a2", "10.1.0.0/16", &pcx_id(), why.clone(), false)])
        .collect();
    assert_same(only(&desired(), &o, FindingCode::PeeringRouteBlackhole), reported);
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
