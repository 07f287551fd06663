//! Event shapes as AWS delivers them (EventBridge schedule, CloudTrail via EventBridge).
use serde_json::{json, Value};

use crate::{ACCOUNT, REGION};

/// An EventBridge scheduled event (the sweep trigger).
pub fn schedule() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-26T03:00:00Z",
        "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/vpcwarden-sweep")],
        "detail": {}
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
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": "2026-11-26T03:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT},
            "eventTime": "2026-11-26T03:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": event_name,
            "awsRegion": REGION,
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": request,
            "responseElements": response,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": ACCOUNT
        }
    })
}
