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
