use super::*;
use crate::domain::{PeeringStatus, Route, TagFilter};
use crate::fixtures::*;

fn active() -> Peering {
    Peering { status: PeeringStatus::Active, ..peering() }
}

fn apply(tables: &mut [RouteTable], changes: &[RouteChange]) {
    for change in changes {
        let table = tables.iter_mut().find(|t| t.id == change.route_table()).unwrap();
        match change {
            RouteChange::Create { destination, pcx, .. } => table.routes.push(Route {
                destination: *destination,
                target: RouteTarget::PeeringConnection(pcx.clone()),
                blackhole: false,
            }),
            RouteChange::Delete { destination, .. } => table.routes.retain(|r| &r.destination != destination),
            RouteChange::Conflict { .. } => {}
        }
    }
}

#[test]
fn creates_every_peer_cidr_in_every_table() {
    let mut p = active();
    p.requester.cidrs = nets(&["10.1.0.0/16", "100.64.0.0/20", "2600:1f18:aaaa::/56"]);
    let tables = [table("rtb-1", "vpc-acc", &[]), table("rtb-2", "vpc-acc", &[])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    let changes = plan_routes(&p, Side::Accepter, &refs);
    assert_eq!(changes.len(), 6);
    assert!(changes.iter().all(|c| matches!(c, RouteChange::Create { pcx, .. } if pcx == &p.id)));
    assert!(changes.contains(&RouteChange::Create {
        route_table: "rtb-2".into(),
        destination: net("2600:1f18:aaaa::/56"),
        pcx: p.id.clone()
    }));
}

#[test]
fn requester_side_routes_go_to_the_accepter_cidrs() {
    let mut p = active();
    p.accepter.cidrs = nets(&["10.0.0.0/16", "10.2.0.0/20"]);
    let tables = [table("rtb-r", "vpc-req", &[])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    let dests: Vec<IpNet> = plan_routes(&p, Side::Requester, &refs).iter().map(RouteChange::destination).collect();
    assert_eq!(dests, nets(&["10.0.0.0/16", "10.2.0.0/20"]));
}

#[test]
fn existing_identical_routes_are_left_alone() {
    let p = active();
    let tables = [table("rtb-1", "vpc-acc", &[("10.1.0.0/16", pcx(&p.id))])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert!(plan_routes(&p, Side::Accepter, &refs).is_empty());
}

#[test]
fn a_destination_routed_elsewhere_is_a_conflict_never_an_overwrite() {
    let p = active();
    let tables = [table("rtb-1", "vpc-acc", &[("10.1.0.0/16", other("tgw-9"))])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert_eq!(
        plan_routes(&p, Side::Accepter, &refs),
        vec![RouteChange::Conflict {
            route_table: "rtb-1".into(),
            destination: net("10.1.0.0/16"),
            existing: other("tgw-9")
        }]
    );
}

#[test]
fn more_specific_routes_elsewhere_do_not_stop_the_peer_route() {
    let p = active();
    let tables = [table("rtb-1", "vpc-acc", &[("10.1.3.0/24", other("tgw-9"))])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert!(matches!(plan_routes(&p, Side::Accepter, &refs)[..], [RouteChange::Create { .. }]));
}

#[test]
fn planning_is_idempotent_once_applied() {
    let mut p = active();
    p.requester.cidrs = nets(&["10.1.0.0/16", "10.9.0.0/16"]);
    let mut tables = vec![
        table("rtb-1", "vpc-acc", &[("10.0.0.0/16", RouteTarget::Local)]),
        table("rtb-2", "vpc-acc", &[("10.9.0.0/16", other("vgw-1"))]),
    ];
    let first = plan_routes(&p, Side::Accepter, &tables.iter().collect::<Vec<_>>());
    apply(&mut tables, &first);
    let second = plan_routes(&p, Side::Accepter, &tables.iter().collect::<Vec<_>>());
    assert!(second.iter().all(|c| matches!(c, RouteChange::Conflict { .. })), "{second:?}");
    assert_eq!(second.len(), 1);
}

#[test]
fn cleanup_removes_only_peer_cidrs_through_the_pcx() {
    let p = active();
    let tables = [table(
        "rtb-1",
        "vpc-acc",
        &[
            ("10.1.0.0/16", pcx(&p.id)),
            ("172.16.0.0/12", pcx(&p.id)),
            ("10.1.0.0/17", pcx("pcx-other")),
            ("0.0.0.0/0", other("igw-1")),
        ],
    )];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert_eq!(
        plan_cleanup(&p.id, Some(&p.requester.cidrs), &refs),
        vec![RouteChange::Delete { route_table: "rtb-1".into(), destination: net("10.1.0.0/16"), pcx: p.id.clone() }]
    );
}

#[test]
fn cleanup_of_a_vanished_pcx_removes_every_route_through_it() {
    let tables = [table("rtb-1", "vpc-acc", &[("10.1.0.0/16", pcx("pcx-gone")), ("172.16.0.0/12", pcx("pcx-gone"))])];
    let refs: Vec<&RouteTable> = tables.iter().collect();
    assert_eq!(plan_cleanup("pcx-gone", None, &refs).len(), 2);
    assert!(plan_cleanup("pcx-else", None, &refs).is_empty());
}

#[test]
fn select_tables_honours_vpc_and_tag() {
    use crate::domain::route::select_tables;
    let mut tagged = table("rtb-t", "vpc-acc", &[]);
    tagged.tags.insert("peering".into(), "yes".into());
    let tables = [tagged, table("rtb-u", "vpc-acc", &[]), table("rtb-x", "vpc-other", &[])];
    let all: Vec<&str> = select_tables(&tables, "vpc-acc", None).iter().map(|t| t.id.as_str()).collect();
    assert_eq!(all, ["rtb-t", "rtb-u"]);
    let filter = TagFilter::parse("peering=yes").unwrap();
    let only: Vec<&str> = select_tables(&tables, "vpc-acc", Some(&filter)).iter().map(|t| t.id.as_str()).collect();
    assert_eq!(only, ["rtb-t"]);
    assert!(TagFilter::parse("novalue").is_err());
    assert!(TagFilter::parse("=x").is_err());
}
