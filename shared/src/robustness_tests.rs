//! Fuzz-style robustness ("Bad input"), with proptest since `cargo fuzz` needs a
//! nightly toolchain: every event parser, the SNS message body, configuration parsing and
//! allowlist item decoding get arbitrary and mutated input. None may panic; every refusal is a
//! non-retryable error that says what is wrong; whatever is accepted is well-formed.
//!
//! The seed corpus is the real event shapes the e2e tests deliver (`crate::event_shapes`).
//!
//! Executions per run: `CASES` per property (see each `proptest!` block).
use aws_sdk_dynamodb::types::AttributeValue;
use proptest::collection::{hash_map, vec};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::acceptor::event as acceptor;
use crate::approver::event as approver;
use crate::auditor::event as auditor;
use crate::aws::grant_item::{grant_from_item, item_from_grant, Item};
use crate::config::{AcceptorConfig, ApproverConfig, AuditorConfig, Env};
use crate::domain::ids::{is_account_id, is_endpoint_service_id, is_pcx_id};
use crate::domain::{Grant, VpcScope};
use crate::error::Error;
use crate::event_shapes::{self as shapes, cloudtrail_peering, schedule, sns_event_with_message};

const CASES: u32 = 1024;
const PCX: &str = "pcx-0a1b2c3d4e5f60718";
const SVC: &str = "vpce-svc-0123456789abcdef0";
const VPCE: &str = "vpce-0123456789abcdef0";
const VENDOR: &str = "210987654321";

// -- seed corpus ------------------------------------------------------------------------------

fn sns_message(event: &str, state: &str) -> Value {
    shapes::sns_message(event, SVC, VPCE, VENDOR, state)
}

fn stream_record(event_name: &str, image: &Item, ttl: bool) -> Value {
    shapes::stream_record(event_name, image, ttl, 100)
}

fn endpoint_grant_item() -> Item {
    item_from_grant(&Grant::Endpoint(crate::domain::EndpointGrant {
        service_id: SVC.into(),
        account: VENDOR.into(),
        expires_at: Some(1_900_000_000),
        max_endpoints: Some(2),
        note: Some("ACME support contract".into()),
        added_by: "arn:aws:iam::123456789012:user/netops".into(),
        added_at: 1_767_225_600,
    }))
}

fn peering_grant_item() -> Item {
    item_from_grant(&Grant::Peering(crate::domain::PeeringGrant {
        scope: VpcScope::Vpc("vpc-0a1b2c3d4e5f60718".into()),
        account: "222222222222".into(),
        allowed_cidrs: Some(vec!["10.1.0.0/16".parse().unwrap(), "2600:1f18::/56".parse().unwrap()]),
        dns_resolution: Some(true),
        expires_at: None,
        note: None,
        added_by: "terraform".into(),
        added_at: 1_767_225_600,
    }))
}

/// Every real event shape the functions receive.
fn corpus() -> Vec<Value> {
    let stream = |records: Vec<Value>| json!({ "Records": records });
    vec![
        schedule(),
        cloudtrail_peering("CreateVpcPeeringConnection", PCX),
        cloudtrail_peering("DeleteVpcPeeringConnection", PCX),
        cloudtrail_peering("RejectVpcPeeringConnection", PCX),
        cloudtrail_peering("AcceptVpcPeeringConnection", PCX),
        sns_event_with_message(&sns_message("Connect", "pendingAcceptance").to_string()),
        sns_event_with_message(&sns_message("Delete", "deleted").to_string()),
        sns_event_with_message("not json at all"),
        stream(vec![stream_record("INSERT", &endpoint_grant_item(), false)]),
        stream(vec![
            stream_record("MODIFY", &endpoint_grant_item(), false),
            stream_record("REMOVE", &endpoint_grant_item(), true),
            stream_record("INSERT", &peering_grant_item(), false),
        ]),
        json!({"dry_run": true, "remediate": false}),
        json!({}),
    ]
}

pub(crate) fn corpus_size() -> usize {
    corpus().len()
}

// -- generators -------------------------------------------------------------------------------

/// Keys and strings the parsers look for, so that arbitrary values reach deep into them.
const WORDS: &[&str] = &[
    "Records",
    "EventSource",
    "eventSource",
    "aws:sns",
    "aws:dynamodb",
    "Sns",
    "Message",
    "source",
    "detail-type",
    "detail",
    "aws.events",
    "aws.ec2",
    "Scheduled Event",
    "AWS API Call via CloudTrail",
    "eventName",
    "CreateVpcPeeringConnection",
    "DeleteVpcPeeringConnection",
    "errorCode",
    "responseElements",
    "requestParameters",
    "vpcPeeringConnection",
    "vpcPeeringConnectionId",
    "dynamodb",
    "Keys",
    "NewImage",
    "OldImage",
    "INSERT",
    "MODIFY",
    "REMOVE",
    "pk",
    "sk",
    "S",
    "N",
    "SS",
    "BOOL",
    "serviceId",
    "vpcEndpointId",
    "vpcEndpointOwner",
    "dry_run",
    "remediate",
    "userIdentity",
    PCX,
    SVC,
    VPCE,
    VENDOR,
    "endpoint#",
    "account#",
    "peering#*",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => ".{0,12}",
        1 => "(endpoint#|peering#|account#|pcx-|vpce-svc-|vpce-)[0-9a-fA-F*#-]{0,18}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(word(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One edit of a corpus event: replace (or delete) the node at a chosen path.
#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, Value),
    Delete(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    vec(
        prop_oneof![
            3 => (any::<usize>(), json_value()).prop_map(|(i, v)| Edit::Replace(i, v)),
            1 => any::<usize>().prop_map(Edit::Delete),
        ],
        1..4,
    )
}

fn paths(value: &Value, prefix: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{prefix}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                paths(v, p, out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                let p = format!("{prefix}/{i}");
                out.push(p.clone());
                paths(v, p, out);
            }
        }
        _ => {}
    }
}

fn mutate(mut event: Value, edits: &[Edit]) -> Value {
    for edit in edits {
        let mut all = Vec::new();
        paths(&event, String::new(), &mut all);
        if all.is_empty() {
            if let Edit::Replace(_, v) = edit {
                event = v.clone();
            }
            continue;
        }
        let (i, replacement) = match edit {
            Edit::Replace(i, v) => (*i, Some(v.clone())),
            Edit::Delete(i) => (*i, None),
        };
        let path = &all[i % all.len()];
        match replacement {
            Some(v) => *event.pointer_mut(path).expect("path exists") = v,
            None => {
                let (parent, last) = path.rsplit_once('/').expect("a non-root path");
                match event.pointer_mut(parent).expect("parent exists") {
                    Value::Object(map) => {
                        map.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Value::Array(list) => {
                        list.remove(last.parse::<usize>().expect("an index"));
                    }
                    _ => {}
                }
            }
        }
    }
    event
}

fn seeded_event() -> impl Strategy<Value = Value> {
    (proptest::sample::select(corpus()), edits()).prop_map(|(seed, edits)| mutate(seed, &edits))
}

/// A corpus event as text with a few bytes flipped, inserted or removed.
fn mutated_bytes() -> impl Strategy<Value = Vec<u8>> {
    (proptest::sample::select(corpus()), vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6)).prop_map(|(seed, ops)| {
        let mut bytes = seed.to_string().into_bytes();
        for (at, byte, op) in ops {
            let i = at % (bytes.len() + 1);
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if i < bytes.len() => {
                    bytes.remove(i);
                }
                _ => {}
            }
        }
        bytes
    })
}

// -- checks -----------------------------------------------------------------------------------

/// A refusal must be a non-retryable BadEvent with a message that says something.
fn check_bad_event(err: &Error) -> Result<(), TestCaseError> {
    prop_assert!(matches!(err, Error::BadEvent(_)), "not a BadEvent: {err:?}");
    prop_assert!(!err.is_retryable(), "a malformed event is not worth a retry: {err}");
    let text = err.to_string();
    prop_assert!(text.starts_with("malformed event: ") && text.len() > "malformed event: ".len() + 5, "{text}");
    Ok(())
}

fn check_acceptor(event: Value) -> Result<(), TestCaseError> {
    match acceptor::parse(event) {
        Ok(acceptor::Trigger::Created(id) | acceptor::Trigger::Deleted(id)) => {
            prop_assert!(is_pcx_id(&id), "accepted a malformed pcx id `{id}`")
        }
        Ok(acceptor::Trigger::Sweep | acceptor::Trigger::Nothing(_)) => {}
        Ok(acceptor::Trigger::Grants { units, .. }) => {
            for u in units {
                prop_assert!(!u.sequence.is_empty());
                prop_assert!(is_account_id(&u.account), "accepted a malformed account `{}`", u.account);
            }
        }
        Err(e) => check_bad_event(&e)?,
    }
    Ok(())
}

fn check_approver(event: Value) -> Result<(), TestCaseError> {
    match approver::parse(event) {
        Ok(approver::Trigger::Sweep) => {}
        Ok(approver::Trigger::Notification { services, hints }) => {
            prop_assert!(services.iter().all(|s| is_endpoint_service_id(s)), "{services:?}");
            for h in hints {
                prop_assert!(h.owner.as_deref().is_none_or(is_account_id), "{h:?}");
            }
        }
        Ok(approver::Trigger::Grants { units, .. }) => {
            for approver::GrantUnit { service, changes, sequence } in units {
                prop_assert!(!sequence.is_empty());
                prop_assert!(is_endpoint_service_id(&service), "{service}");
                for account in changes.changed.iter().chain(&changes.removed).chain(&changes.expired) {
                    prop_assert!(is_account_id(account), "{account}");
                }
                prop_assert!(changes.expired.is_subset(&changes.removed));
            }
        }
        Err(e) => check_bad_event(&e)?,
    }
    Ok(())
}

fn check_auditor(event: Value) -> Result<(), TestCaseError> {
    match auditor::parse(event) {
        Ok(r) => prop_assert!(["schedule", "invoke"].contains(&r.trigger)),
        Err(e) => check_bad_event(&e)?,
    }
    Ok(())
}

fn check_all(event: Value) -> Result<(), TestCaseError> {
    check_acceptor(event.clone())?;
    check_approver(event.clone())?;
    check_auditor(event)
}

// -- allowlist items --------------------------------------------------------------------------

const ITEM_KEYS: &[&str] = &[
    "pk",
    "sk",
    "expires_at",
    "max_endpoints",
    "allowed_cidrs",
    "dns_resolution",
    "note",
    "added_by",
    "added_at",
    "other",
];

fn attribute() -> impl Strategy<Value = AttributeValue> {
    let text = prop_oneof![
        3 => word(),
        1 => proptest::sample::select(&["10.0.0.0/8", "10.0.0.5/33", "::/0", "2600:1f18::/56", "x"][..]).prop_map(str::to_string),
    ];
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("4294967296".to_string()),
        Just("1.5".to_string()),
        "[0-9a-z.+-]{0,8}",
    ];
    let leaf = prop_oneof![
        text.clone().prop_map(AttributeValue::S),
        number.prop_map(AttributeValue::N),
        any::<bool>().prop_map(AttributeValue::Bool),
        vec(text.clone(), 0..3).prop_map(AttributeValue::Ss),
        vec("[0-9]{1,3}", 0..3).prop_map(AttributeValue::Ns),
        Just(AttributeValue::Null(true)),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(AttributeValue::L),
            hash_map(word(), inner, 0..3).prop_map(AttributeValue::M),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    let arbitrary = hash_map(proptest::sample::select(ITEM_KEYS).prop_map(str::to_string), attribute(), 0..9);
    let edited = (
        prop_oneof![Just(endpoint_grant_item()), Just(peering_grant_item())],
        vec((proptest::sample::select(ITEM_KEYS), proptest::option::of(attribute())), 1..4),
    )
        .prop_map(|(mut item, edits)| {
            for (key, value) in edits {
                match value {
                    Some(v) => item.insert(key.to_string(), v),
                    None => item.remove(key),
                };
            }
            item
        });
    prop_oneof![1 => arbitrary, 2 => edited]
}

// -- configuration ----------------------------------------------------------------------------

const VARIABLES: &[&str] = &[
    "ALLOWLIST_TABLE",
    "LEDGER_TABLE",
    "DRY_RUN",
    "ROUTE_TABLE_TAG",
    "REQUESTER_ROLE_NAME",
    "UNLISTED_ACTION",
    "ACTIVE_WAIT_SECONDS",
    "REVOKE_ON_REMOVAL",
    "SYNC_PRINCIPALS",
    "ENDPOINT_SERVICE_IDS",
    "REPORT_BUCKET",
    "REPORT_PREFIX",
    "REMEDIATE",
    "STALE_PENDING_HOURS",
    "EXPIRY_WARNING_DAYS",
    "AUDIT_ACCOUNTS",
    "AUDIT_ROLE_NAME",
    "AUDIT_REGIONS",
];

fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "true",
                "false",
                "TRUE",
                "yes",
                "maybe",
                "",
                " ",
                "ignore",
                "reject",
                "drop",
                "peering=yes",
                "=x",
                "nokey",
                "vpcwarden-member",
                "bad role/name",
                "30",
                "-3",
                "99999999999999999999",
                SVC,
                "vpce-svc-0123456789abcdef0,vpce-svc-0fedcba987654321f",
                "vpce-svc-XYZ",
                "123456789012,210987654321",
                "12345",
                "us-east-1,eu-west-1",
                "us_east_1",
                "my-report-bucket",
                "Bad_Bucket",
                "reports/",
                "/a//b/",
                "allow",
                "ledger",
            ][..]
        )
        .prop_map(str::to_string),
        ".{0,16}",
    ]
}

fn env_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let base = prop_oneof![
        3 => Just(vec![("ALLOWLIST_TABLE".to_string(), "allow".to_string()), ("LEDGER_TABLE".to_string(), "ledger".to_string())]),
        1 => Just(Vec::new()),
    ];
    (base, vec((proptest::sample::select(VARIABLES).prop_map(str::to_string), env_value()), 0..8)).prop_map(
        |(mut base, extra)| {
            base.extend(extra);
            base
        },
    )
}

/// A configuration error is non-retryable and names a variable.
fn check_config<T>(result: crate::error::Result<T>) -> Result<(), TestCaseError> {
    if let Err(err) = result {
        prop_assert!(matches!(err, Error::Config(_)), "{err:?}");
        prop_assert!(!err.is_retryable());
        let text = err.to_string();
        prop_assert!(VARIABLES.iter().any(|v| text.contains(v)), "the error names no variable: {text}");
    }
    Ok(())
}

// -- properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: vpcwarden_core::fixtures::proptest_cases(CASES), ..ProptestConfig::default() })]

    /// Arbitrary JSON (shaped by the keys the parsers read) into every event parser.
    #[test]
    fn event_parsers_survive_arbitrary_json(event in json_value()) {
        check_all(event)?;
    }

    /// Real event shapes with fields replaced by arbitrary values or removed.
    #[test]
    fn event_parsers_survive_mutated_real_events(event in seeded_event()) {
        check_all(event)?;
    }

    /// Arbitrary bytes and corpus events with bytes flipped: whatever still decodes as JSON goes
    /// into the parsers (the Lambda runtime rejects the rest before a handler sees it).
    #[test]
    fn event_parsers_survive_arbitrary_and_mutated_bytes(
        bytes in prop_oneof![vec(any::<u8>(), 0..64), mutated_bytes()],
    ) {
        if let Ok(event) = serde_json::from_slice::<Value>(&bytes) {
            check_all(event)?;
        }
    }

    /// The SNS message body is only a hint: any text is a wake-up or a clear error, and only
    /// well-formed ids are ever taken from it.
    #[test]
    fn sns_message_bodies_are_read_leniently(
        body in prop_oneof![
            ".{0,64}",
            json_value().prop_map(|v| v.to_string()),
            (proptest::sample::select(&["Connect", "Accept", "Reject", "Delete"][..]), edits())
                .prop_map(|(e, edits)| mutate(sns_message(e, "pendingAcceptance"), &edits).to_string()),
        ],
    ) {
        let result = approver::parse(sns_event_with_message(&body));
        match &result {
            Ok(approver::Trigger::Notification { hints, .. }) => prop_assert_eq!(hints.len(), 1),
            Ok(other) => prop_assert!(false, "an SNS record parsed as {other:?}"),
            Err(e) => {
                check_bad_event(e)?;
                // Only a present but malformed id is refused, and the error names the field.
                let text = e.to_string();
                prop_assert!(
                    ["serviceId", "vpcEndpointId", "vpcEndpointOwner"].iter().any(|f| text.contains(f)),
                    "{text}"
                );
            }
        }
        check_approver(sns_event_with_message(&body))?;
    }

    /// Stream records whose images are arbitrary items: no panic, and a malformed image is
    /// reported, never trusted.
    #[test]
    fn stream_records_with_arbitrary_images(
        image in item(),
        name in proptest::sample::select(&["INSERT", "MODIFY", "REMOVE", "UPSERT"][..]),
        ttl in any::<bool>(),
    ) {
        check_approver(json!({"Records": [stream_record(name, &image, ttl)]}))?;
    }

    /// Arbitrary and edited allowlist items: a grant comes out only when it is valid, and an
    /// error names the item.
    #[test]
    fn grant_items_decode_or_fail_clearly(item in item()) {
        match grant_from_item(&item) {
            Ok(grant) => {
                // A decoded grant is valid and survives the round trip through the one mapping.
                match &grant {
                    Grant::Endpoint(g) => {
                        prop_assert!(is_endpoint_service_id(&g.service_id) && is_account_id(&g.account));
                        prop_assert!(g.max_endpoints.is_none_or(|n| n > 0));
                        prop_assert!(!g.added_by.is_empty());
                    }
                    Grant::Peering(g) => {
                        prop_assert!(is_account_id(&g.account));
                        prop_assert!(!g.added_by.is_empty());
                        if let VpcScope::Vpc(v) = &g.scope {
                            prop_assert!(crate::domain::ids::is_vpc_id(v));
                        }
                    }
                }
                let again = grant_from_item(&item_from_grant(&grant));
                prop_assert_eq!(again.as_ref(), Ok(&grant));
            }
            Err(why) => {
                prop_assert!(why.starts_with("allowlist item "), "{why}");
                prop_assert!(why.len() > "allowlist item ?/?: ".len(), "{why}");
            }
        }
    }

    /// Arbitrary environments into each function's configuration.
    #[test]
    fn configuration_parsers_fail_naming_the_variable(pairs in env_pairs()) {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let env = Env::from_pairs(&borrowed);
        check_config(AcceptorConfig::from_env(&env))?;
        check_config(ApproverConfig::from_env(&env))?;
        check_config(AuditorConfig::from_env(&env))?;
    }
}

#[test]
fn the_seed_corpus_parses_as_the_functions_expect() {
    let corpus = corpus();
    assert_eq!(corpus_size(), 12);
    assert_eq!(acceptor::parse(corpus[0].clone()).unwrap(), acceptor::Trigger::Sweep);
    assert_eq!(acceptor::parse(corpus[1].clone()).unwrap(), acceptor::Trigger::Created(PCX.into()));
    assert_eq!(acceptor::parse(corpus[2].clone()).unwrap(), acceptor::Trigger::Deleted(PCX.into()));
    assert!(matches!(approver::parse(corpus[5].clone()).unwrap(), approver::Trigger::Notification { .. }));
    assert!(matches!(approver::parse(corpus[8].clone()).unwrap(), approver::Trigger::Grants { .. }));
    assert_eq!(auditor::parse(corpus[10].clone()).unwrap().dry_run, Some(true));
    for event in corpus {
        check_all(event).unwrap();
    }
}

/// Error messages reach the Lambda error answer and the logs: they must name what is wrong, not
/// echo an arbitrarily large (possibly sensitive) payload (`Error::BadEvent` bounds the excerpt).
#[test]
fn error_messages_do_not_echo_whole_payloads() {
    let big = "PAYLOAD".repeat(1000);
    let events = [
        json!(big.clone()),
        json!([big.clone()]),
        json!({"source": big.clone(), "detail-type": "x"}),
        sns_event_with_message(&json!({"serviceId": big.clone()}).to_string()),
    ];
    for event in events {
        for (name, result) in [
            ("acceptor", acceptor::parse(event.clone()).err()),
            ("approver", approver::parse(event.clone()).err()),
            ("auditor", auditor::parse(event.clone()).err()),
        ] {
            if let Some(err) = result {
                let text = err.to_string();
                assert!(text.len() < 1024, "{name}: a {}-character error for {}", text.len(), &text[..80]);
            }
        }
    }
}
