//! Property tests of the pure core ("Bad input" and the core's properties): generated peerings,
//! grants, route tables and endpoint connections, kept small so the suite stays fast.
//!
//! * after `plan_routes` is applied, `audit` finds no PEERING_ROUTE_MISSING for that peering;
//! * `plan_routes` is idempotent: planning against the state it produced creates nothing more;
//! * `decide` never accepts without a live grant that covers the request;
//! * adding a grant never turns an accept into a refusal;
//! * endpoint decisions never accept without a live grant and never exceed `max_endpoints`.
use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

use crate::audit::{audit, Desired, Observed};
use crate::domain::cidr::within;
use crate::domain::route::select_tables;
use crate::domain::UnlistedAction;
use crate::domain::{Connection, ConnectionState};
use crate::domain::{
    EndpointGrant, FindingCode, Peering, PeeringGrant, PeeringStatus, Route, RouteTable, RouteTarget, Side, TagFilter,
    VpcScope, VpcSide,
};
use crate::endpoint::{decide_connections, Action, Focus, Policy};
use crate::{decide, plan_routes, Decision, Refusal, RouteChange};

const CASES: u32 = 512;
const NOW: i64 = 1_800_000_000;
const ME: &str = "111111111111";
const PEERS: [&str; 2] = ["222222222222", "333333333333"];
const PCX: &str = "pcx-0123456789abcdef0";
const OTHER_PCX: &str = "pcx-0fedcba987654321f";
const ACC_VPC: &str = "vpc-0aaaaaaaaaaaaaaa0";
const REQ_VPC: &str = "vpc-0bbbbbbbbbbbbbbb0";
const THIRD_VPC: &str = "vpc-0ccccccccccccccc0";
const SVC: &str = "vpce-svc-0123456789abcdef0";
const OTHER_SVC: &str = "vpce-svc-0fedcba987654321f";

// -- generators -------------------------------------------------------------------------------

/// A small universe of prefixes so that nesting, equality and overlap happen often.
fn cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        4 => (0u8..3, 0u8..3, prop_oneof![Just(8u8), Just(16), Just(20), Just(24)])
            .prop_map(|(a, b, len)| format!("10.{a}.{b}.0/{len}").parse::<IpNet>().unwrap().trunc()),
        1 => (0u16..3, prop_oneof![Just(48u8), Just(56), Just(64)])
            .prop_map(|(a, len)| format!("2600:1f18:{a}::/{len}").parse::<IpNet>().unwrap().trunc()),
        1 => Just("0.0.0.0/0".parse::<IpNet>().unwrap()),
    ]
}

fn v4_cidr() -> impl Strategy<Value = IpNet> {
    (0u8..3, 0u8..3, prop_oneof![Just(16u8), Just(20), Just(24)])
        .prop_map(|(a, b, len)| format!("10.{a}.{b}.0/{len}").parse::<IpNet>().unwrap().trunc())
}

fn cidrs(max: usize) -> impl Strategy<Value = Vec<IpNet>> {
    btree_set(cidr(), 0..=max).prop_map(|s| s.into_iter().collect())
}

fn target() -> impl Strategy<Value = RouteTarget> {
    prop_oneof![
        Just(RouteTarget::Local),
        Just(RouteTarget::PeeringConnection(PCX.into())),
        Just(RouteTarget::PeeringConnection(OTHER_PCX.into())),
        Just(RouteTarget::Other("igw-0123456789abcdef0".into())),
        Just(RouteTarget::Other("tgw-0123456789abcdef0".into())),
    ]
}

/// Routes of one table: one per destination, as AWS allows.
fn routes() -> impl Strategy<Value = Vec<Route>> {
    vec((cidr(), target(), any::<bool>()), 0..5).prop_map(|rs| {
        let mut by_dest: BTreeMap<IpNet, Route> = BTreeMap::new();
        for (destination, target, blackhole) in rs {
            by_dest.entry(destination).or_insert(Route { destination, target, blackhole });
        }
        by_dest.into_values().collect()
    })
}

fn tables() -> impl Strategy<Value = Vec<RouteTable>> {
    vec((prop_oneof![Just(ACC_VPC), Just(REQ_VPC), Just(THIRD_VPC)], any::<bool>(), routes()), 0..5).prop_map(|ts| {
        ts.into_iter()
            .enumerate()
            .map(|(i, (vpc, tagged, routes))| RouteTable {
                id: format!("rtb-{i:017x}"),
                vpc_id: vpc.into(),
                tags: if tagged { BTreeMap::from([("peering".into(), "yes".into())]) } else { BTreeMap::new() },
                routes,
            })
            .collect()
    })
}

fn expiry() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![Just(None), Just(Some(NOW - 10)), Just(Some(NOW)), Just(Some(NOW + 10))]
}

fn peering_grant() -> impl Strategy<Value = PeeringGrant> {
    (
        prop_oneof![Just(ME), Just(PEERS[0]), Just(PEERS[1])],
        prop_oneof![Just(VpcScope::Any), Just(VpcScope::Vpc(ACC_VPC.into())), Just(VpcScope::Vpc(THIRD_VPC.into()))],
        proptest::option::of(prop_oneof![Just(vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]), cidrs(2)]),
        proptest::option::of(any::<bool>()),
        expiry(),
    )
        .prop_map(|(account, scope, allowed_cidrs, dns_resolution, expires_at)| PeeringGrant {
            scope,
            account: account.into(),
            allowed_cidrs,
            dns_resolution,
            expires_at,
            note: None,
            added_by: "proptest".into(),
            added_at: NOW - 100,
        })
}

/// A peering into ACC_VPC from REQ_VPC, either same-account (both sides held here) or from a peer.
fn peering(status: PeeringStatus) -> impl Strategy<Value = Peering> {
    let requester = prop_oneof![3 => btree_set(v4_cidr(), 1..=2).prop_map(|s| s.into_iter().collect()), 1 => cidrs(3)];
    let accepter = prop_oneof![3 => Just(vec!["172.16.0.0/16".parse::<IpNet>().unwrap()]), 1 => cidrs(2)];
    (any::<bool>(), prop_oneof![Just(PEERS[0]), Just(PEERS[1])], requester, accepter, any::<bool>()).prop_map(
        move |(same_account, peer, requester_cidrs, accepter_cidrs, managed)| Peering {
            id: PCX.into(),
            status: status.clone(),
            requester: VpcSide {
                account: if same_account { ME.into() } else { peer.into() },
                vpc_id: REQ_VPC.into(),
                region: "us-east-1".into(),
                cidrs: requester_cidrs,
            },
            accepter: VpcSide {
                account: ME.into(),
                vpc_id: ACC_VPC.into(),
                region: "us-east-1".into(),
                cidrs: accepter_cidrs,
            },
            tags: if managed {
                BTreeMap::from([(crate::domain::peering::MANAGED_TAG.into(), "true".into())])
            } else {
                BTreeMap::new()
            },
            accepter_dns_resolution: None,
            expires_at: None,
        },
    )
}

fn tag_filter() -> impl Strategy<Value = Option<TagFilter>> {
    proptest::option::of(Just(TagFilter { key: "peering".into(), value: "yes".into() }))
}

// -- helpers ----------------------------------------------------------------------------------

/// Carries out the creates of a plan, as the acceptor and the remediation do.
fn apply(tables: &mut [RouteTable], changes: &[RouteChange]) {
    for change in changes {
        if let RouteChange::Create { route_table, destination, pcx } = change {
            let table = tables.iter_mut().find(|t| &t.id == route_table).expect("planned table exists");
            if table.route_to(destination).is_none() {
                table.routes.push(Route {
                    destination: *destination,
                    target: RouteTarget::PeeringConnection(pcx.clone()),
                    blackhole: false,
                });
            }
        }
    }
}

fn sides_here(p: &Peering) -> Vec<Side> {
    [Side::Accepter, Side::Requester].into_iter().filter(|s| p.side(*s).account == ME).collect()
}

fn plan_all(p: &Peering, tables: &[RouteTable], tag: Option<&TagFilter>) -> Vec<RouteChange> {
    sides_here(p)
        .into_iter()
        .flat_map(|side| plan_routes(p, side, &select_tables(tables, &p.side(side).vpc_id, tag)))
        .collect()
}

fn conflicts(changes: &[RouteChange]) -> Vec<RouteChange> {
    changes.iter().filter(|c| matches!(c, RouteChange::Conflict { .. })).cloned().collect()
}

fn endpoint_grant() -> impl Strategy<Value = EndpointGrant> {
    (
        prop_oneof![Just(SVC), Just(OTHER_SVC)],
        prop_oneof![Just(PEERS[0]), Just(PEERS[1])],
        expiry(),
        proptest::option::of(1u32..4),
    )
        .prop_map(|(service, account, expires_at, max_endpoints)| EndpointGrant {
            service_id: service.into(),
            account: account.into(),
            expires_at,
            max_endpoints,
            note: None,
            added_by: "proptest".into(),
            added_at: NOW - 100,
        })
}

fn connections() -> impl Strategy<Value = Vec<Connection>> {
    vec(
        (
            prop_oneof![4 => Just(SVC), 1 => Just(OTHER_SVC)],
            prop_oneof![Just(PEERS[0]), Just(PEERS[1])],
            prop_oneof![
                4 => Just("pendingAcceptance"),
                2 => Just("available"),
                1 => Just("pending"),
                1 => Just("rejected"),
                1 => Just("deleted"),
                1 => Just("weird"),
            ],
            proptest::option::of(0i64..5),
        ),
        0..8,
    )
    .prop_map(|cs| {
        cs.into_iter()
            .enumerate()
            .map(|(i, (service, account, state, created))| Connection {
                endpoint_id: format!("vpce-{i:017x}"),
                service_id: service.into(),
                account: account.into(),
                state: ConnectionState::parse(state),
                created_at: created.map(|c| NOW - 1000 + c),
            })
            .collect()
    })
}

fn policy() -> impl Strategy<Value = Policy> {
    (any::<bool>(), any::<bool>()).prop_map(|(reject, revoke_on_removal)| Policy {
        unlisted: if reject { UnlistedAction::Reject } else { UnlistedAction::Ignore },
        revoke_on_removal,
    })
}

fn focus() -> impl Strategy<Value = Focus> {
    let accounts = || btree_set(prop_oneof![Just(PEERS[0].to_string()), Just(PEERS[1].to_string())], 0..=2);
    prop_oneof![
        Just(Focus::Service),
        (accounts(), accounts()).prop_map(|(changed, removed)| Focus::Accounts { changed, removed })
    ]
}

// -- properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::fixtures::proptest_cases(CASES), ..ProptestConfig::default() })]

    /// After the planned routes exist, the audit finds none of them missing.
    #[test]
    fn applied_plan_leaves_no_missing_route(
        mut p in peering(PeeringStatus::Active),
        mut tables in tables(),
        tag in tag_filter(),
    ) {
        p.tags.insert(crate::domain::peering::MANAGED_TAG.into(), "true".into());
        let plan = plan_all(&p, &tables, tag.as_ref());
        apply(&mut tables, &plan);
        let desired = Desired { route_table_tag: tag, stale_pending: 24 * 3600, expiry_warning: 0, ..Desired::default() };
        let observed = Observed {
            account: ME.into(),
            region: "us-east-1".into(),
            peerings: vec![p.clone()],
            route_tables: tables.clone(),
            ..Observed::default()
        };
        let findings = audit(&desired, &observed, NOW);
        let missing: Vec<_> = findings.iter().filter(|f| f.code() == FindingCode::PeeringRouteMissing).collect();
        prop_assert!(missing.is_empty(), "plan {plan:?} applied to {tables:?} still misses {missing:?}");
    }

    /// Planning against the state a plan produced creates nothing and reports the same conflicts.
    #[test]
    fn plan_routes_is_idempotent(
        p in peering(PeeringStatus::Active),
        mut tables in tables(),
        tag in tag_filter(),
    ) {
        let first = plan_all(&p, &tables, tag.as_ref());
        apply(&mut tables, &first);
        let second = plan_all(&p, &tables, tag.as_ref());
        prop_assert!(
            second.iter().all(|c| matches!(c, RouteChange::Conflict { .. })),
            "second plan still changes something: {second:?}"
        );
        prop_assert_eq!(conflicts(&first), second);
        // And a third time: a fixed point.
        let third = plan_all(&p, &tables, tag.as_ref());
        apply(&mut tables, &third);
        prop_assert_eq!(plan_all(&p, &tables, tag.as_ref()), conflicts(&first));
    }

    /// An accept always names a live grant, from the list, for this requester and accepter VPC,
    /// whose allowed_cidrs (if any) hold every requester CIDR.
    #[test]
    fn decide_never_accepts_without_a_live_grant(
        p in peering(PeeringStatus::PendingAcceptance),
        grants in vec(peering_grant(), 0..4),
        tables in tables(),
    ) {
        let accepter_tables = select_tables(&tables, ACC_VPC, None);
        let live_cover = grants.iter().any(|g| {
            g.is_live(NOW) && g.account == p.requester.account && g.covers_vpc(ACC_VPC)
        });
        match decide(&p, &grants, &accepter_tables, NOW) {
            Decision::Accept { grant } => {
                prop_assert!(live_cover);
                prop_assert!(grants.contains(&grant), "accepted with a grant not in the list");
                prop_assert!(grant.is_live(NOW));
                prop_assert_eq!(&grant.account, &p.requester.account);
                prop_assert!(grant.covers_vpc(ACC_VPC));
                prop_assert!(!p.requester.cidrs.is_empty());
                if let Some(allowed) = &grant.allowed_cidrs {
                    for c in &p.requester.cidrs {
                        prop_assert!(allowed.iter().any(|a| within(c, a)), "{c} outside {allowed:?}");
                    }
                }
            }
            Decision::Refuse { reason } => {
                if !live_cover {
                    prop_assert!(matches!(reason, Refusal::NoGrant { .. } | Refusal::GrantExpired { .. }), "no live grant but refused as {}", reason.code());
                }
            }
        }
        // Removing every live grant always refuses.
        let dead: Vec<PeeringGrant> = grants.iter().filter(|g| !g.is_live(NOW)).cloned().collect();
        let refused = matches!(decide(&p, &dead, &accepter_tables, NOW), Decision::Refuse { .. });
        prop_assert!(refused);
    }

    /// Adding a grant (live, expired, for anyone) never turns an accept into a refusal.
    #[test]
    fn adding_a_grant_never_refuses_what_was_accepted(
        p in peering(PeeringStatus::PendingAcceptance),
        grants in vec(peering_grant(), 1..4),
        extra in peering_grant(),
        at in 0usize..4,
        tables in tables(),
    ) {
        let accepter_tables = select_tables(&tables, ACC_VPC, None);
        if let Decision::Accept { .. } = decide(&p, &grants, &accepter_tables, NOW) {
            let mut more = grants.clone();
            more.insert(at.min(more.len()), extra);
            let after = decide(&p, &more, &accepter_tables, NOW);
            prop_assert!(matches!(after, Decision::Accept { .. }), "adding a grant refused: {after:?}");
        }
    }

    /// Endpoint decisions: an accept has a live grant for (service, account), and no account ends
    /// up above its most generous live `max_endpoints` through this run's accepts.
    #[test]
    fn endpoint_decisions_respect_grants_and_quota(
        conns in connections(),
        grants in vec(endpoint_grant(), 0..4),
        policy in policy(),
        focus in focus(),
    ) {
        let verdicts = decide_connections(SVC, &conns, &grants, &policy, &focus, NOW);
        let mut accepted: BTreeMap<&str, u32> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for v in &verdicts {
            prop_assert!(seen.insert(v.endpoint_id.clone()), "{} decided twice", v.endpoint_id);
            let conn = conns.iter().find(|c| c.endpoint_id == v.endpoint_id).expect("verdict about a known connection");
            prop_assert_eq!(&conn.service_id, SVC, "verdict about another service's connection");
            if v.action == Action::Accept {
                prop_assert_eq!(&conn.state, &ConnectionState::PendingAcceptance, "accepted a non-pending connection");
                let live = grants.iter().any(|g| g.service_id == SVC && g.account == v.account && g.is_live(NOW));
                prop_assert!(live, "accepted {} without a live grant", v.endpoint_id);
                *accepted.entry(v.account.as_str()).or_default() += 1;
            }
        }
        for (account, n) in accepted {
            let max = grants
                .iter()
                .filter(|g| g.service_id == SVC && g.account == account && g.is_live(NOW))
                .map(|g| g.max_endpoints.map_or(u64::MAX, u64::from))
                .max()
                .expect("a live grant exists");
            let in_use = conns
                .iter()
                .filter(|c| c.service_id == SVC && c.account == account && c.state.holds_a_slot())
                .count() as u64;
            prop_assert!(in_use + u64::from(n) <= max, "{account}: {in_use} in use + {n} accepted > {max}");
        }
    }
}
