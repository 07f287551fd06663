use super::*;
use crate::domain::VpcScope;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn base(pk: &str) -> Vec<(&'static str, AttributeValue)> {
    vec![("pk", s(pk)), ("sk", s("account#222222222222")), ("added_by", s("alice")), ("added_at", n("1700000000"))]
}

#[test]
fn decodes_a_full_peering_grant() {
    let mut pairs = base("peering#vpc-0a1b2c3d4e5f60718");
    pairs.push(("allowed_cidrs", AttributeValue::Ss(vec!["10.1.0.0/16".into(), "2600:1f18::/40".into()])));
    pairs.push(("dns_resolution", AttributeValue::Bool(true)));
    pairs.push(("expires_at", n("1900000000")));
    pairs.push(("note", s("payments")));
    let Grant::Peering(g) = grant_from_item(&item(&pairs)).unwrap() else { panic!("peering grant expected") };
    assert_eq!(g.scope, VpcScope::Vpc("vpc-0a1b2c3d4e5f60718".into()));
    assert_eq!(g.account, "222222222222");
    assert_eq!(g.allowed_cidrs.unwrap().len(), 2);
    assert_eq!(
        (g.dns_resolution, g.expires_at, g.note.as_deref()),
        (Some(true), Some(1_900_000_000), Some("payments"))
    );
}

#[test]
fn decodes_a_wildcard_peering_grant_and_an_endpoint_grant() {
    assert!(matches!(
        grant_from_item(&item(&base("peering#*"))),
        Ok(Grant::Peering(PeeringGrant { scope: VpcScope::Any, .. }))
    ));
    let mut pairs = base("endpoint#vpce-svc-0123456789abcdef0");
    pairs.push(("max_endpoints", n("2")));
    let Grant::Endpoint(g) = grant_from_item(&item(&pairs)).unwrap() else { panic!("endpoint grant expected") };
    assert_eq!((g.service_id.as_str(), g.max_endpoints), ("vpce-svc-0123456789abcdef0", Some(2)));
}

#[test]
fn round_trips_through_the_item_mapping() {
    for pk in ["peering#vpc-0a1b2c3d", "peering#*", "endpoint#vpce-svc-0123456789abcdef0"] {
        let mut pairs = base(pk);
        if pk.starts_with("peering") {
            pairs.push(("allowed_cidrs", AttributeValue::Ss(vec!["10.1.0.0/16".into()])));
        }
        let grant = grant_from_item(&item(&pairs)).unwrap();
        assert_eq!(grant_from_item(&item_from_grant(&grant)).unwrap(), grant);
    }
}

#[test]
fn malformed_items_are_named_and_grant_nothing() {
    let cases: Vec<(Vec<(&str, AttributeValue)>, &str)> = vec![
        (base("peering#not-a-vpc"), "pk must be peering#<vpc-id> or peering#*"),
        (base("endpoint#svc-1"), "pk must be"),
        (base("bogus"), "pk must be"),
        (
            vec![("pk", s("peering#*")), ("sk", s("account#12")), ("added_by", s("a")), ("added_at", n("1"))],
            "sk must be account#<12 digits>",
        ),
        (vec![("pk", s("peering#*")), ("sk", s("account#222222222222")), ("added_at", n("1"))], "added_by"),
        (vec![("pk", s("peering#*")), ("sk", s("account#222222222222")), ("added_by", s("a"))], "added_at"),
        (
            [base("peering#*"), vec![("allowed_cidrs", AttributeValue::Ss(vec!["10.1.0.0/33".into()]))]].concat(),
            "not a CIDR",
        ),
        (
            [base("peering#*"), vec![("expires_at", s("tomorrow"))]].concat(),
            "allowlist item peering#*/account#222222222222",
        ),
        ([base("endpoint#vpce-svc-0123456789abcdef0"), vec![("max_endpoints", n("0"))]].concat(), "max_endpoints"),
        ([base("peering#*"), vec![("max_endpoints", n("3"))]].concat(), "endpoint grants only"),
        (vec![("sk", s("account#222222222222"))], "allowlist item ?/account#222222222222"),
    ];
    for (pairs, expected) in cases {
        let err = grant_from_item(&item(&pairs)).unwrap_err();
        assert!(err.contains(expected), "{err:?} should contain {expected:?}");
        assert!(err.starts_with("allowlist item "), "{err}");
    }
}

fn waiver_pairs() -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("pk", s("waiver#ENDPOINT_SERVICE_WILDCARD_PRINCIPAL")),
        ("sk", s("resource#vpce-svc-0123456789abcdef0")),
        ("reason", s("public data service, CHG-42")),
        ("expires_at", n("1730000000")),
        ("added_by", s("alice")),
        ("added_at", n("1700000000")),
    ]
}

#[test]
fn decodes_a_waiver_and_round_trips_it() {
    let Entry::Waiver(w) = entry_from_item(&item(&waiver_pairs())).unwrap() else { panic!("waiver expected") };
    assert_eq!(w.code, crate::domain::FindingCode::EndpointServiceWildcardPrincipal);
    assert_eq!((w.resource.as_str(), w.account.as_deref()), ("vpce-svc-0123456789abcdef0", None));
    assert_eq!((w.reason.as_str(), w.expires_at), ("public data service, CHG-42", 1_730_000_000));
    assert_eq!(entry_from_item(&item_from_waiver(&w)).unwrap(), Entry::Waiver(w.clone()));
    let scoped = [waiver_pairs(), vec![("account", s("222222222222"))]].concat();
    let Entry::Waiver(w) = entry_from_item(&item(&scoped)).unwrap() else { panic!("waiver expected") };
    assert_eq!(w.account.as_deref(), Some("222222222222"));
    // A reader of grants is told it is a waiver, and grants nothing.
    assert!(grant_from_item(&item(&waiver_pairs())).unwrap_err().contains("a waiver, not a grant"));
}

#[test]
fn malformed_waivers_are_named_and_waive_nothing() {
    let without = |name: &str| waiver_pairs().into_iter().filter(|(k, _)| *k != name).collect::<Vec<_>>();
    let with = |extra: (&'static str, AttributeValue)| [waiver_pairs(), vec![extra]].concat();
    let replaced = |name: &'static str, v: AttributeValue| {
        waiver_pairs().into_iter().map(|(k, old)| (k, if k == name { v.clone() } else { old })).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<(&str, AttributeValue)>, &str)> = vec![
        (without("expires_at"), "a waiver must end"),
        (without("reason"), "reason (S) is required"),
        (replaced("reason", s("  ")), "must not be blank"),
        (without("added_by"), "added_by"),
        (replaced("expires_at", n("1800000000")), "366 days"),
        (replaced("expires_at", n("1600000000")), "later than added_at"),
        (replaced("pk", s("waiver#NO_SUCH_CODE")), "no finding code"),
        (replaced("sk", s("account#222222222222")), "resource#<resource id>"),
        (with(("account", s("12"))), "12 digits"),
        (with(("max_endpoints", n("2"))), "apply to grants only"),
        (with(("allowed_cidrs", AttributeValue::Ss(vec!["10.0.0.0/8".into()]))), "apply to grants only"),
    ];
    for (pairs, expected) in cases {
        let err = entry_from_item(&item(&pairs)).unwrap_err();
        assert!(err.contains(expected), "{err:?} should contain {expected:?}");
        assert!(err.starts_with("allowlist item "), "{err}");
    }
    // And a grant does not take a waiver's attributes.
    let err = grant_from_item(&item(&[base("peering#*"), vec![("reason", s("x"))]].concat())).unwrap_err();
    assert!(err.contains("apply to waivers only"), "{err}");
}
