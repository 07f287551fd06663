use serde_json::json;

use super::*;

const SVC: &str = "vpce-svc-0123456789abcdef0";
const SVC2: &str = "vpce-svc-0fedcba9876543210";
const ACCT: &str = "222222222222";

fn sns(messages: &[&str]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "EventSource": "aws:sns", "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:vpce-events:1",
                "Sns": {
                    "Type": "Notification", "MessageId": "m-1",
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:vpce-events",
                    "Subject": "VPC Endpoint Connection Notification",
                    "Message": m, "Timestamp": "2026-01-01T00:00:00.000Z",
                    "SignatureVersion": "1", "Signature": "x",
                    "SigningCertUrl": "https://example.invalid/cert.pem",
                    "UnsubscribeUrl": "https://example.invalid/unsub",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

fn body(service: &str, endpoint: &str) -> String {
    json!({"eventType": "Connect", "notificationType": "Connect", "serviceId": service,
        "vpcEndpointId": endpoint, "vpcEndpointOwner": ACCT, "vpcEndpointState": "pendingAcceptance",
        "vpcEndpointConnectionId": "vpce-con-0123456789abcdef0", "region": "us-east-1"})
    .to_string()
}

fn stream_record(name: &str, pk: &str, sk: &str, image: Option<Value>, ttl: bool) -> Value {
    let keys = json!({"pk": {"S": pk}, "sk": {"S": sk}});
    let mut change = json!({"Keys": keys, "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": 1_767_225_600.0, "SequenceNumber": "1"});
    if let Some(image) = image {
        let key = if name == "REMOVE" { "OldImage" } else { "NewImage" };
        change[key] = image;
    }
    let mut record = json!({"eventID": "e-1", "eventName": name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": change,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/allow/stream/x"});
    if ttl {
        record["userIdentity"] = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
    }
    record
}

fn grant_image(pk: &str, sk: &str) -> Value {
    json!({"pk": {"S": pk}, "sk": {"S": sk}, "added_by": {"S": "alice"}, "added_at": {"N": "1700000000"}})
}

fn endpoint_pk() -> String {
    format!("endpoint#{SVC}")
}

fn account_sk() -> String {
    format!("account#{ACCT}")
}

#[test]
fn a_schedule_is_a_sweep() {
    let e = json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-26T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {}});
    assert_eq!(parse(e).unwrap(), Trigger::Sweep);
}

#[test]
fn a_notification_names_its_service_and_keeps_the_hint() {
    let t = parse(sns(&[&body(SVC, "vpce-0123456789abcdef0")])).unwrap();
    let Trigger::Notification { services, hints } = t else { panic!("notification expected") };
    assert_eq!(services.into_iter().collect::<Vec<_>>(), vec![SVC.to_string()]);
    assert_eq!(
        hints,
        vec![Hint {
            event: Some("Connect".into()),
            service_id: Some(SVC.into()),
            endpoint_id: Some("vpce-0123456789abcdef0".into()),
            owner: Some(ACCT.into()),
            state: Some("pendingAcceptance".into()),
        }]
    );
}

#[test]
fn notifications_for_several_services_settle_each() {
    let t = parse(sns(&[&body(SVC, "vpce-0123456789abcdef0"), &body(SVC2, "vpce-0123456789abcdef1")])).unwrap();
    assert!(matches!(t, Trigger::Notification { services, .. } if services.len() == 2));
}

#[test]
fn a_body_without_ids_or_not_json_wakes_every_service() {
    for message in ["not json at all", "{}", "[1,2]", r#"{"eventType": "Connect"}"#] {
        let t = parse(sns(&[message])).unwrap();
        assert!(
            matches!(&t, Trigger::Notification { services, hints } if services.is_empty() && hints.len() == 1),
            "{message}: {t:?}"
        );
    }
    // One record without a service among named ones still wakes everything.
    let t = parse(sns(&[&body(SVC, "vpce-0123456789abcdef0"), "hello"])).unwrap();
    assert!(matches!(t, Trigger::Notification { services, .. } if services.is_empty()));
}

#[test]
fn malformed_ids_in_a_notification_are_refused() {
    for (svc, endpoint) in [("svc-1", "vpce-0123456789abcdef0"), (SVC, "i-0123")] {
        let err = parse(sns(&[&body(svc, endpoint)])).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{err}");
        assert!(!err.is_retryable());
    }
    let bad_owner = json!({"serviceId": SVC, "vpcEndpointOwner": "me"}).to_string();
    assert!(parse(sns(&[&bad_owner])).unwrap_err().to_string().contains("vpcEndpointOwner"));
}

#[test]
fn a_truncated_sns_event_is_named() {
    let e = json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]});
    assert!(parse(e).unwrap_err().to_string().starts_with("malformed event: SNS event"));
}

#[test]
fn stream_inserts_and_modifies_approve_and_removes_revoke() {
    let mut e = json!({"Records": [
        stream_record("INSERT", &endpoint_pk(), &account_sk(), Some(grant_image(&endpoint_pk(), &account_sk())), false),
        stream_record("MODIFY", &format!("endpoint#{SVC2}"), &account_sk(), None, false),
        stream_record("REMOVE", &endpoint_pk(), "account#333333333333", None, false),
        stream_record("REMOVE", &endpoint_pk(), "account#444444444444", None, true),
    ]});
    for (n, record) in e["Records"].as_array_mut().unwrap().iter_mut().enumerate() {
        record["dynamodb"]["SequenceNumber"] = json!((n + 1).to_string());
    }
    let Trigger::Grants { units, ignored, malformed } = parse(e).unwrap() else { panic!("grants expected") };
    assert!(ignored.is_empty() && malformed.is_empty(), "{malformed:?}");
    // In the stream's order: a service's records go together only while they are consecutive.
    let services: Vec<&str> = units.iter().map(|u| u.service.as_str()).collect();
    assert_eq!(services, [SVC, SVC2, SVC]);
    assert_eq!(units.iter().map(|u| u.sequence.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    assert_eq!(units[0].changes.changed.iter().collect::<Vec<_>>(), vec![ACCT]);
    assert_eq!(units[1].changes.changed.iter().collect::<Vec<_>>(), vec![ACCT]);
    let last = &units[2].changes;
    assert_eq!(last.removed.iter().collect::<Vec<_>>(), vec!["333333333333", "444444444444"]);
    assert_eq!(last.expired.iter().collect::<Vec<_>>(), vec!["444444444444"]);
    assert!(last.changed.is_empty());
}

#[test]
fn a_stream_record_without_a_sequence_number_cannot_be_reported_and_is_refused() {
    let mut record = stream_record("INSERT", &endpoint_pk(), &account_sk(), None, false);
    record["dynamodb"].as_object_mut().unwrap().remove("SequenceNumber");
    let err = parse(json!({"Records": [record]})).unwrap_err();
    assert!(err.to_string().contains("no dynamodb.SequenceNumber"), "{err}");
}

#[test]
fn peering_grants_and_waivers_are_ignored_and_bad_items_reported_not_granted() {
    let bad_image = json!({"pk": {"S": endpoint_pk()}, "sk": {"S": account_sk()}, "max_endpoints": {"N": "-1"},
        "added_by": {"S": "alice"}, "added_at": {"N": "1"}});
    let e = json!({"Records": [
        stream_record("INSERT", "peering#*", &account_sk(), None, false),
        stream_record("MODIFY", "waiver#ENDPOINT_SERVICE_AUTO_ACCEPT", &format!("resource#{SVC}"), None, false),
        stream_record("INSERT", "endpoint#junk", &account_sk(), None, false),
        stream_record("INSERT", &endpoint_pk(), "account#12", None, false),
        stream_record("INSERT", &endpoint_pk(), &account_sk(), Some(bad_image), false),
    ]});
    let Trigger::Grants { units, ignored, malformed } = parse(e).unwrap() else { panic!("grants expected") };
    assert_eq!(ignored.len(), 2, "a peering grant and a waiver are not the approver's: {ignored:?}");
    assert!(ignored[1].contains("a waiver"), "{ignored:?}");
    assert_eq!(malformed.len(), 3, "{malformed:?}");
    assert!(malformed[0].contains("endpoint#junk"));
    assert!(malformed[2].contains("max_endpoints"), "{}", malformed[2]);
    // The valid key is still looked at: the table re-read decides (and skips the bad item).
    assert_eq!(units.len(), 1);
    assert!(units[0].service == SVC && units[0].changes.changed.contains(ACCT));
}

#[test]
fn malformed_events_are_named() {
    let no_keys = json!({"Records": [{"eventID": "e-9", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "dynamodb": {"SizeBytes": 1}}]});
    let cases = [
        (json!({"hello": "world"}), "not an SNS, DynamoDB stream or EventBridge event"),
        (json!("text"), "not an SNS, DynamoDB stream or EventBridge event"),
        (json!({"Records": []}), "`Records` is empty"),
        (json!({"Records": [{"eventSource": "aws:s3"}]}), "records from `aws:s3`"),
        (
            json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
            "unsupported event source `aws.s3`",
        ),
        (no_keys, "stream record e-9: Keys must hold pk and sk"),
        (
            json!({"Records": [stream_record("TRUNCATE", &endpoint_pk(), &account_sk(), None, false)]}),
            "unknown eventName `TRUNCATE`",
        ),
    ];
    for (event, expected) in cases {
        let err = parse(event.clone()).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{event}: {err}");
        assert!(err.to_string().contains(expected), "{event}: {err}");
    }
}
