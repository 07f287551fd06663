//! Finding ids: the same drift keeps its id whatever order the estate is read in and whatever
//! else drifts beside it; two drifts of one audit never share an id; time passing (hours
//! pending, time to expiry) changes facts, never ids.
use ipnet::IpNet;
use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;

use super::*;
use crate::domain::{Identity, LoadBalancerHealth, TargetGroupHealth};

const MY_VPCS: [(&str, &str); 3] = [("vpc-0a", "10.0.0.0/16"), ("vpc-0b", "10.1.0.0/16"), ("vpc-0c", "10.2.0.0/16")];
const ACCOUNTS: [&str; 3] = [ME, PEER, THIRD];

fn pcx_name(i: usize) -> String {
    format!("pcx-{i:017x}")
}

fn cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (0u8..4, prop_oneof![Just(16u8), Just(24)]).prop_map(|(b, len)| net(&format!("10.{b}.0.0/{len}")).trunc()),
        Just(net("2600:1f18:1::/56")),
        Just(net("192.168.0.0/16")),
    ]
}

fn status() -> impl Strategy<Value = PeeringStatus> {
    prop_oneof![
        3 => Just(PeeringStatus::Active),
        2 => Just(PeeringStatus::PendingAcceptance),
        1 => Just(PeeringStatus::Deleted),
        1 => Just(PeeringStatus::Provisioning),
    ]
}

/// Connection `i`: from its own requester VPC into one of mine.
fn peering_no(i: usize) -> impl Strategy<Value = Peering> {
    let flags = (any::<bool>(), proptest::option::of(any::<bool>()), proptest::option::of(0i64..8 * DAY));
    (status(), 0..ACCOUNTS.len(), 0..MY_VPCS.len(), btree_set(cidr(), 1..3), flags).prop_map(
        move |(status, account, vpc, cidrs, (managed, dns, waited))| {
            let mut p = Peering {
                id: pcx_name(i),
                status,
                accepter_dns_resolution: dns,
                expires_at: waited.map(|w| NOW - w + PENDING_LIFETIME),
                ..peering()
            };
            p.requester.account = ACCOUNTS[account].into();
            p.requester.vpc_id = format!("vpc-r{i}");
            p.requester.cidrs = cidrs.into_iter().collect();
            p.accepter.vpc_id = MY_VPCS[vpc].0.into();
            p.accepter.cidrs = nets(&[MY_VPCS[vpc].1]);
            if managed {
                p.tags.insert(MANAGED_TAG.into(), "true".into());
            }
            p
        },
    )
}

fn route_target() -> impl Strategy<Value = RouteTarget> {
    prop_oneof![
        Just(RouteTarget::Local),
        (0usize..5).prop_map(|i| pcx(&pcx_name(i))), // pcx 4 is never described
        Just(other("igw-1")),
        Just(other("tgw-1")),
    ]
}

/// Table `i` of one of my VPCs: one route per destination, as AWS allows.
fn table_no(i: usize) -> impl Strategy<Value = RouteTable> {
    (0..MY_VPCS.len(), any::<bool>(), btree_map(cidr(), (route_target(), any::<bool>()), 0..5)).prop_map(
        move |(vpc, tagged, routes)| {
            let mut t = table(&format!("rtb-{i}"), MY_VPCS[vpc].0, &[]);
            t.routes = routes
                .into_iter()
                .map(|(destination, (target, blackhole))| Route { destination, target, blackhole })
                .collect();
            if tagged {
                t.tags.insert("peering".into(), "yes".into());
            }
            t
        },
    )
}

fn principal() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..ACCOUNTS.len()).prop_map(|a| format!("arn:aws:iam::{}:root", ACCOUNTS[a])),
        Just("*".to_string()),
        Just("elasticloadbalancing.amazonaws.com".to_string()),
    ]
}

fn connection_state() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("pendingAcceptance"), Just("available"), Just("pending"), Just("rejected")]
}

/// Service `i`, with uniquely named connections, load balancers and target groups.
fn service_no(i: usize) -> impl Strategy<Value = EndpointService> {
    let conns = vec((0..ACCOUNTS.len(), connection_state()), 0..5);
    let lbs = vec(vec((0u32..2, 0u32..3), 0..3), 0..3);
    (any::<bool>(), btree_set(principal(), 0..4), conns, lbs).prop_map(move |(acceptance, principals, conns, lbs)| {
        let id = format!("vpce-svc-{i:017x}");
        let connections = conns
            .into_iter()
            .enumerate()
            .map(|(j, (a, state))| Connection {
                service_id: id.clone(),
                ..conn(&format!("vpce-{i}{j:016x}"), ACCOUNTS[a], state)
            })
            .collect();
        let load_balancers = lbs
            .into_iter()
            .enumerate()
            .map(|(l, tgs)| LoadBalancerHealth {
                arn: format!("lb-{i}-{l}"),
                target_groups: tgs
                    .into_iter()
                    .enumerate()
                    .map(|(t, (healthy, total))| TargetGroupHealth { arn: format!("tg-{i}-{l}-{t}"), healthy, total })
                    .collect(),
            })
            .collect();
        EndpointService {
            id: id.clone(),
            name: format!("svc {i}"),
            acceptance_required: acceptance,
            allowed_principals: principals.into_iter().collect(),
            connections,
            load_balancers,
        }
    })
}

fn expires_at() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of((-DAY..30 * DAY).prop_map(|d| NOW + d))
}

/// Grants with distinct keys, as the allowlist holds them.
fn grants() -> impl Strategy<Value = (Vec<PeeringGrant>, Vec<EndpointGrant>)> {
    let scope = prop_oneof![Just(VpcScope::Any), (0..MY_VPCS.len()).prop_map(|v| VpcScope::Vpc(MY_VPCS[v].0.into()))];
    let peering = btree_map((scope, 0..ACCOUNTS.len()), (proptest::option::of(any::<bool>()), expires_at()), 0..5);
    let endpoint = btree_map((0usize..2, 0..ACCOUNTS.len()), (proptest::option::of(0u32..3), expires_at()), 0..5);
    (peering, endpoint).prop_map(|(peering, endpoint)| {
        let peering = peering
            .into_iter()
            .map(|((scope, a), (dns_resolution, expires_at))| PeeringGrant {
                scope,
                account: ACCOUNTS[a].into(),
                dns_resolution,
                expires_at,
                ..grant()
            })
            .collect();
        let endpoint = endpoint
            .into_iter()
            .map(|((s, a), (max_endpoints, expires_at))| EndpointGrant {
                service_id: format!("vpce-svc-{s:017x}"),
                account: ACCOUNTS[a].into(),
                max_endpoints,
                expires_at,
                ..egrant()
            })
            .collect();
        (peering, endpoint)
    })
}

/// Waivers of some findings' codes on some resources, ending within a month (or ended).
fn waivers() -> impl Strategy<Value = Vec<crate::domain::Waiver>> {
    let code = (0..FindingCode::ALL.len()).prop_map(|i| FindingCode::ALL[i]);
    let resource = prop_oneof![(0usize..5).prop_map(pcx_name), (0usize..5).prop_map(|i| format!("rtb-{i}"))];
    btree_map((code, resource), -DAY..30 * DAY, 0..4).prop_map(|w| {
        w.into_iter()
            .map(|((code, resource), ends_in)| crate::domain::Waiver {
                code,
                resource,
                account: None,
                reason: "accepted".into(),
                expires_at: NOW + ends_in,
                added_by: "test".into(),
                added_at: NOW - 2 * DAY,
            })
            .collect()
    })
}

/// An estate with a bit of every kind of drift, and what the allowlist says of it.
fn estate() -> impl Strategy<Value = (Desired, Observed)> {
    let peerings = (0usize..4).prop_flat_map(|n| (0..n).map(peering_no).collect::<Vec<_>>());
    let tables = (0usize..5).prop_flat_map(|n| (0..n).map(table_no).collect::<Vec<_>>());
    let services = (0usize..3).prop_flat_map(|n| (0..n).map(service_no).collect::<Vec<_>>());
    let ledger = btree_set((0usize..5).prop_map(pcx_name), 0..3);
    (peerings, tables, services, ledger, (grants(), waivers()), any::<bool>()).prop_map(
        |(peerings, route_tables, services, ledger_accepted, ((peering_grants, endpoint_grants), waivers), tagged)| {
            let desired = Desired {
                peering_grants,
                endpoint_grants,
                waivers,
                route_table_tag: tagged.then(|| TagFilter::parse("peering=yes").unwrap()),
                ..desired()
            };
            let observed = Observed {
                vpcs: MY_VPCS.iter().map(|(id, c)| Vpc { id: (*id).into(), cidrs: nets(&[c]), name: None }).collect(),
                peerings,
                route_tables,
                services,
                ledger_accepted,
                ..observed()
            };
            (desired, observed)
        },
    )
}

/// A deterministic shuffle (xorshift), so that a failing case replays.
fn shuffle<T>(items: &mut [T], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        items.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}

/// The same estate, every list in another order.
fn permuted(d: &Desired, o: &Observed, seed: u64) -> (Desired, Observed) {
    let (mut d, mut o, mut seed) = (d.clone(), o.clone(), seed | 1);
    shuffle(&mut d.peering_grants, &mut seed);
    shuffle(&mut d.endpoint_grants, &mut seed);
    shuffle(&mut d.waivers, &mut seed);
    shuffle(&mut o.vpcs, &mut seed);
    shuffle(&mut o.peerings, &mut seed);
    shuffle(&mut o.route_tables, &mut seed);
    for t in &mut o.route_tables {
        shuffle(&mut t.routes, &mut seed);
    }
    shuffle(&mut o.services, &mut seed);
    for s in &mut o.services {
        shuffle(&mut s.allowed_principals, &mut seed);
        shuffle(&mut s.connections, &mut seed);
        shuffle(&mut s.load_balancers, &mut seed);
        for lb in &mut s.load_balancers {
            shuffle(&mut lb.target_groups, &mut seed);
        }
    }
    (d, o)
}

/// Drift of its own, sharing no id with anything the generated estate holds: a stranger's
/// request into a VPC of its own, a table there routing to a connection nobody knows, and an
/// auto-accepting service open to everyone.
fn with_unrelated_drift(o: &Observed) -> Observed {
    let mut o = o.clone();
    let mut stranger = peering();
    stranger.id = "pcx-0eeeeeeeeeeeeeee9".into();
    stranger.requester.account = "444444444444".into();
    stranger.requester.vpc_id = "vpc-stranger".into();
    stranger.accepter.vpc_id = "vpc-new".into();
    o.peerings.push(stranger);
    o.route_tables.push(table("rtb-new", "vpc-new", &[("172.16.0.0/12", pcx("pcx-0gone"))]));
    o.services.push(EndpointService {
        id: "vpce-svc-new".into(),
        acceptance_required: false,
        allowed_principals: vec!["*".into()],
        ..service()
    });
    o
}

fn ids(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(Finding::id).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: proptest_cases(256), ..ProptestConfig::default() })]

    /// Waivers change no finding (they only change how reports count them): without them, the
    /// same findings with the same ids, less WAIVER_EXPIRING.
    #[test]
    fn waivers_never_change_an_id((d, o) in estate()) {
        let with = ids(&audit(&d, &o, NOW).into_iter().filter(|f| f.code() != FindingCode::WaiverExpiring).collect::<Vec<_>>());
        let without = ids(&audit(&Desired { waivers: vec![], ..d }, &o, NOW));
        prop_assert_eq!(with, without);
    }

    /// Reading the estate in another order changes nothing: the same findings, in the same
    /// order, with the same ids.
    #[test]
    fn permuting_the_estate_never_changes_an_id((d, o) in estate(), seed in any::<u64>()) {
        let before = audit(&d, &o, NOW);
        let (pd, po) = permuted(&d, &o, seed);
        let after = audit(&pd, &po, NOW);
        prop_assert_eq!(ids(&before), ids(&after));
        prop_assert_eq!(before, after);
    }

    /// Unrelated drift adds findings, and leaves every earlier one (and its id) as it was.
    #[test]
    fn adding_unrelated_drift_never_changes_an_id((d, o) in estate()) {
        let before = audit(&d, &o, NOW);
        let after = audit(&d, &with_unrelated_drift(&o), NOW);
        prop_assert!(after.len() > before.len());
        let after_ids: BTreeSet<String> = ids(&after).into_iter().collect();
        for f in &before {
            prop_assert!(after.contains(f), "{f:?} changed or vanished");
            prop_assert!(after_ids.contains(&f.id()), "{f:?} lost its id");
        }
    }

    /// Within one audit, distinct findings are distinct drifts, and distinct drifts have
    /// distinct ids.
    #[test]
    fn distinct_drifts_never_share_an_id((d, o) in estate()) {
        let findings = audit(&d, &with_unrelated_drift(&o), NOW);
        let identities: BTreeSet<Identity> = findings.iter().map(Finding::identity).collect();
        let ids: BTreeSet<String> = ids(&findings).into_iter().collect();
        prop_assert_eq!(identities.len(), findings.len(), "two findings of one drift: {:#?}", findings);
        prop_assert_eq!(ids.len(), findings.len());
    }

    /// Time passing changes the volatile facts of a finding, never its id.
    #[test]
    fn time_passing_never_changes_an_id((d, o) in estate(), later in 0i64..3600) {
        let now = audit(&d, &o, NOW);
        let then = audit(&d, &o, NOW + later);
        let then_ids: BTreeSet<String> = ids(&then).into_iter().collect();
        for f in now.iter().filter(|f| matches!(f.code(), FindingCode::PeeringPendingStale | FindingCode::GrantExpiring)) {
            let same = then.iter().find(|g| g.identity() == f.identity());
            if let Some(g) = same {
                prop_assert_eq!(f.id(), g.id());
                prop_assert!(then_ids.contains(&f.id()));
            }
        }
    }
}

#[test]
fn volatile_facts_are_not_identity() {
    let mut o = observed();
    o.route_tables.clear();
    o.peerings = vec![peering::pending(2 * DAY)];
    let now = run(&desired(), &o);
    let later = audit(&desired(), &o, NOW + 3600);
    assert_eq!(codes(&now), ["PEERING_PENDING_STALE"]);
    assert_ne!(now[0].facts, later[0].facts, "an hour more pending");
    assert_eq!(now[0].identity(), later[0].identity());
    assert_eq!(now[0].id(), later[0].id());
    // So is whether a grant covers it: the same request, waiting as long.
    let unlisted = only(&Desired { peering_grants: vec![], ..desired() }, &o, FindingCode::PeeringPendingStale);
    assert_ne!(unlisted[0].facts, now[0].facts);
    assert_eq!(unlisted[0].id(), now[0].id());
}

#[test]
fn identity_names_what_tells_a_drift_apart() {
    let f = missing("rtb-a1", "10.1.0.0/16");
    let identity = f.identity();
    assert_eq!(
        (identity.code, identity.account.as_str(), identity.region.as_str(), identity.resource.as_str()),
        (FindingCode::PeeringRouteMissing, ME, REGION, "rtb-a1")
    );
    assert_eq!(identity.detail, [("destination", "10.1.0.0/16".to_string()), ("pcx", pcx_id())]);
    // Another destination, another connection, another scope: another drift.
    let others = [
        missing("rtb-a1", "10.9.0.0/16"),
        missing_on("rtb-a1", "vpc-acc", Side::Accepter, "10.1.0.0/16", "pcx-0other"),
        Finding { region: "eu-west-1".into(), ..f.clone() },
        Finding { account: PEER.into(), ..f.clone() },
        missing("rtb-a2", "10.1.0.0/16"),
    ];
    for other in others {
        assert_ne!(other.id(), f.id(), "{other:?}");
    }
    assert_eq!(endpoint_pending("vpce-1", PEER, true).id(), endpoint_pending("vpce-1", PEER, false).id());
    assert_ne!(endpoint_pending("vpce-1", PEER, true).id(), endpoint_pending("vpce-2", PEER, true).id());
    assert_ne!(principal_unlisted("a").id(), principal_unlisted("b").id());
    assert_ne!(unhealthy(Some(("tg-1", 1))).id(), unhealthy(None).id());
    assert_eq!(unhealthy(Some(("tg-1", 1))).id(), unhealthy(Some(("tg-1", 5))).id());
}
