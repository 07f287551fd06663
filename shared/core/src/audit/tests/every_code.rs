//! One estate showing every finding code at once, fact by fact.
use super::*;

#[test]
fn one_estate_can_show_every_code() {
    let mut d = desired();
    let mut o = observed();
    let id = pcx_id();
    // Managed active pcx: one table missing its route, the other routing it elsewhere, plus DNS drift.
    o.route_tables[0].routes.retain(|r| !r.target.is_pcx(&id));
    route(&mut o.route_tables[1], "10.1.0.0/16").target = other("tgw-9");
    d.peering_grants[0].dns_resolution = Some(true);
    // Active, unlisted, overlapping.
    let mut unlisted = active();
    unlisted.id = "pcx-0aaaaaaaaaaaaaaa1".into();
    unlisted.requester =
        VpcSide { account: THIRD.into(), vpc_id: "vpc-3".into(), region: REGION.into(), cidrs: nets(&["10.0.0.0/24"]) };
    // Pending, unlisted, stale.
    let mut stale_request = peering::pending(2 * DAY);
    stale_request.id = "pcx-0aaaaaaaaaaaaaaa2".into();
    stale_request.requester.account = THIRD.into();
    o.peerings.extend([unlisted.clone(), stale_request.clone()]);
    // A route to a deleted connection.
    o.route_tables[0].routes.push(Route {
        destination: net("192.168.0.0/16"),
        target: pcx("pcx-0dead"),
        blackhole: true,
    });
    // Endpoints: a pending one, an unlisted connected one, an over-quota account.
    let s = &mut o.services[0];
    s.acceptance_required = false;
    s.allowed_principals.extend(["*".to_string(), format!("arn:aws:iam::{THIRD}:root")]);
    s.connections.extend([
        conn("vpce-0aaa0000000000002", PEER, "available"),
        conn("vpce-0aaa0000000000003", PEER, "available"),
        conn("vpce-0ccc0000000000003", PEER, "pendingAcceptance"),
        conn("vpce-0ddd0000000000004", THIRD, "available"),
    ]);
    s.load_balancers[0].target_groups[0].healthy = 0;
    d.endpoint_grants[0].expires_at = Some(NOW + DAY);
    // A granted request whose CIDR the hub already routes elsewhere (rtb-a2's 0.0.0.0/0 is less
    // specific: it blocks nothing), and a waiver about to end.
    let mut held_up = peering::pending(3600);
    held_up.id = "pcx-0aaaaaaaaaaaaaaa3".into();
    held_up.requester.cidrs = nets(&["172.20.0.0/16"]);
    o.route_tables[1].routes.push(Route {
        destination: net("172.20.0.0/16"),
        target: other("tgw-9"),
        blackhole: false,
    });
    o.peerings.push(held_up.clone());
    d.waivers.push(waiver(FindingCode::PeeringRouteMissing, "rtb-zz", NOW + 2 * DAY));
    let found = run(&d, &o);
    let tg = healthy_lb().target_groups[0].arn.clone();
    let expected = vec![
        missing("rtb-a1", "10.1.0.0/16"),
        conflict("rtb-a2", "10.1.0.0/16", other("tgw-9")),
        dns_drift(false, true),
        not_allowlisted(&unlisted),
        // The unlisted connection is managed too: its routes are expected.
        missing_on("rtb-a1", "vpc-acc", Side::Accepter, "10.0.0.0/24", &unlisted.id),
        missing_on("rtb-a2", "vpc-acc", Side::Accepter, "10.0.0.0/24", &unlisted.id),
        overlap(&unlisted, "10.0.0.0/24", "10.0.0.0/16"),
        pending_unlisted(&stale_request),
        stale(&stale_request, 2 * DAY, false),
        blackhole("rtb-a1", "192.168.0.0/16", "pcx-0dead", DeadReason::NotDescribed, false),
        auto_accept(),
        wildcard(),
        principal_unlisted(&format!("arn:aws:iam::{THIRD}:root")),
        unhealthy(Some((&tg, 1))),
        endpoint_pending("vpce-0ccc0000000000003", PEER, true),
        endpoint_not_allowlisted("vpce-0ddd0000000000004", THIRD, "available"),
        over_quota(PEER, 3, 2),
        expiring(AllowlistKey::Endpoint { service_id: SVC.into(), account: PEER.into() }, DAY),
        blocked(
            &held_up,
            crate::decide::Refusal::CidrAlreadyRouted {
                cidr: net("172.20.0.0/16"),
                route_table: "rtb-a2".into(),
                destination: net("172.20.0.0/16"),
                target: "tgw-9".into(),
            },
        ),
        here(Facts::WaiverExpiring {
            waiver: AllowlistKey::Waiver { code: FindingCode::PeeringRouteMissing, resource: "rtb-zz".into() },
            expires_in: 2 * DAY,
        }),
    ];
    assert_same(found.clone(), expected);
    let found: BTreeSet<&str> = codes(&found).into_iter().collect();
    let all: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(found, all);
}
