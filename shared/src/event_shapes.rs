//! The events the functions receive, shaped exactly as AWS delivers them (EventBridge schedule,
//! CloudTrail through EventBridge, SNS connection notifications, DynamoDB stream records), for
//! tests: the robustness corpus here and the end-to-end harness (`tests/`, feature `fixtures`)
//! build them from this one place. Account `123456789012`, region `us-east-1`.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Map, Value};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// An EventBridge scheduled event (the sweep trigger).
pub fn schedule() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": "2026-11-26T03:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/vpcwarden-sweep")], "detail": {}
    })
}

/// "AWS API Call via CloudTrail" for a peering API call on `pcx`, as EventBridge delivers it.
pub fn cloudtrail_peering(event_name: &str, pcx: &str) -> Value {
    let (request, response) = if event_name == "CreateVpcPeeringConnection" {
        (
            json!({"vpcId": "vpc-0a1b2c3d", "peerVpcId": "vpc-0e1f2a3b", "peerOwnerId": ACCOUNT}),
            json!({"requestId": "c0ffee00-0000-4000-8000-000000000001",
                   "vpcPeeringConnection": {"vpcPeeringConnectionId": pcx,
                       "status": {"code": "initiating-request", "message": "Initiating Request to 123456789012"}}}),
        )
    } else {
        (
            json!({"vpcPeeringConnectionId": pcx}),
            json!({"requestId": "c0ffee00-0000-4000-8000-000000000002", "_return": true}),
        )
    };
    json!({
        "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2", "account": ACCOUNT, "time": "2026-11-26T03:00:00Z", "region": REGION, "resources": [],
        "detail": {
            "eventVersion": "1.09", "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT},
            "eventTime": "2026-11-26T03:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": event_name,
            "awsRegion": REGION, "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.15.0",
            "requestParameters": request, "responseElements": response, "eventType": "AwsApiCall",
            "managementEvent": true, "recipientAccountId": ACCOUNT
        }
    })
}

/// The body of an endpoint connection notification (as the emulator publishes it).
pub fn sns_message(event: &str, service_id: &str, endpoint_id: &str, owner: &str, state: &str) -> Value {
    json!({
        "eventType": event, "notificationType": event, "serviceId": service_id,
        "vpcEndpointId": endpoint_id, "vpcEndpointOwner": owner, "vpcEndpointState": state,
        "vpcEndpointConnectionId": "vpce-con-0123456789abcdef0",
        "connectionNotificationId": "vpce-nfn-0123456789abcdef0",
        "region": REGION, "timestamp": "2026-01-01T00:00:00.000Z"
    })
}

/// An SNS Lambda event carrying `message` verbatim.
pub fn sns_event_with_message(message: &str) -> Value {
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:vpce-events");
    json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
        "Sns": {
            "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": topic, "Subject": "VPC Endpoint Connection Notification",
            "Message": message, "Timestamp": "2026-01-01T00:00:00.000Z",
            "SignatureVersion": "1", "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {}
        }
    }]})
}

/// DynamoDB-JSON of an attribute value (`{"S": …}`, `{"N": …}`, …).
pub fn dynamodb_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(dynamodb_json).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": item_json(map) }),
        other => panic!("no DynamoDB JSON for {other:?} in these fixtures"),
    }
}

pub fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), dynamodb_json(v))).collect::<Map<_, _>>())
}

/// A stream record of the allowlist table as Lambda delivers it. `image` is the new image
/// (INSERT/MODIFY) or the old one (REMOVE); `ttl` marks a deletion by DynamoDB's TTL;
/// `sequence` is the record's sequence number (also its event id).
pub fn stream_record(event_name: &str, image: &HashMap<String, AttributeValue>, ttl: bool, sequence: u64) -> Value {
    let keys: HashMap<String, AttributeValue> =
        image.iter().filter(|(k, _)| *k == "pk" || *k == "sk").map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut change = json!({
        "ApproximateCreationDateTime": 1_767_225_600.0, "Keys": item_json(&keys),
        "SequenceNumber": sequence.to_string(), "SizeBytes": 120, "StreamViewType": "NEW_AND_OLD_IMAGES"
    });
    let key = if event_name == "REMOVE" { "OldImage" } else { "NewImage" };
    change[key] = item_json(image);
    let mut record = json!({
        "eventID": format!("evt-{sequence}"), "eventName": event_name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": change,
        "eventSourceARN":
            format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/vpcwarden-allowlist/stream/2026-01-01T00:00:00.000")
    });
    if ttl {
        record["userIdentity"] = json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
    }
    record
}
