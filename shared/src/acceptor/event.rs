//! What invoked the acceptor. Events are hints: the connection is always re-read.
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

use crate::aws::grant_item::stream_records;
use crate::domain::ids::is_pcx_id;
use crate::domain::{AllowlistKey, VpcScope};
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// CloudTrail `CreateVpcPeeringConnection`: decide this request now.
    Created(String),
    /// CloudTrail `DeleteVpcPeeringConnection` / `RejectVpcPeeringConnection`: clean up.
    Deleted(String),
    /// Scheduled sweep: pending requests, incomplete routes, dead connections.
    Sweep,
    /// A well-formed event that asks for nothing (a failed API call, another event name).
    Nothing(String),
    /// The allowlist table's stream: peering grants inserted or changed, one unit per record in
    /// the stream's order (each decides that account's pending requests into that VPC now).
    Grants { units: Vec<PeeringUnit>, ignored: Vec<String> },
}

/// A peering grant that a stream record says was inserted or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeeringUnit {
    /// The record's `SequenceNumber`: what a partial batch response names when it fails.
    pub sequence: String,
    pub scope: VpcScope,
    pub account: String,
}

impl Trigger {
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Created(_) => "create",
            Trigger::Deleted(_) => "delete",
            Trigger::Sweep => "sweep",
            Trigger::Nothing(_) => "none",
            Trigger::Grants { .. } => "allowlist-stream",
        }
    }
}

pub fn parse(event: Value) -> Result<Trigger> {
    if event.get("Records").is_some() {
        return stream(event);
    }
    let event: EventBridgeEvent<Value> = serde_json::from_value(event).map_err(|e| {
        Error::BadEvent(format!("not an EventBridge event ({e}); expected a schedule or a CloudTrail event"))
    })?;
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.events", "Scheduled Event") => Ok(Trigger::Sweep),
        ("aws.ec2", "AWS API Call via CloudTrail") => cloudtrail(&event.detail),
        (source, detail_type) => {
            Err(Error::BadEvent(format!("unsupported event source `{source}` / detail-type `{detail_type}`")))
        }
    }
}

/// Peering grants inserted or changed. A removed grant changes nothing here: an accepted
/// connection stays (the auditor reports it as PEERING_NOT_ALLOWLISTED), a pending one stays
/// pending. Other items (endpoint grants, waivers) are the approver's or nobody's.
fn stream(event: Value) -> Result<Trigger> {
    let mut units = Vec::new();
    let mut ignored = Vec::new();
    for r in stream_records(event)? {
        match AllowlistKey::parse(&r.pk, &r.sk) {
            Ok(AllowlistKey::Peering { scope, account }) if !r.removed => {
                units.push(PeeringUnit { sequence: r.sequence, scope, account })
            }
            Ok(AllowlistKey::Peering { .. }) => ignored.push(format!("REMOVE {}/{}: nothing to undo", r.pk, r.sk)),
            _ => ignored.push(format!("{}/{}: not a peering grant", r.pk, r.sk)),
        }
    }
    Ok(Trigger::Grants { units, ignored })
}

fn cloudtrail(detail: &Value) -> Result<Trigger> {
    let name = detail
        .get("eventName")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadEvent("CloudTrail event without detail.eventName".into()))?;
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Ok(Trigger::Nothing(format!("{name} failed with {code}; nothing to do")));
    }
    let (pointer, make): (&str, fn(String) -> Trigger) = match name {
        "CreateVpcPeeringConnection" => {
            ("/responseElements/vpcPeeringConnection/vpcPeeringConnectionId", Trigger::Created)
        }
        "DeleteVpcPeeringConnection" | "RejectVpcPeeringConnection" => {
            ("/requestParameters/vpcPeeringConnectionId", Trigger::Deleted)
        }
        other => return Ok(Trigger::Nothing(format!("event {other} is not handled by peering-acceptor"))),
    };
    let id = detail
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadEvent(format!("{name} event without detail{}", pointer.replace('/', "."))))?;
    if !is_pcx_id(id) {
        return Err(Error::BadEvent(format!("`{id}` in the {name} event is not a peering connection id")));
    }
    Ok(make(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PCX: &str = "pcx-0a1b2c3d4e5f60718";

    fn cloudtrail_event(detail: Value) -> Value {
        json!({
            "version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": "123456789012", "time": "2026-11-26T00:00:00Z", "region": "us-east-1",
            "resources": [], "detail": detail
        })
    }

    #[test]
    fn schedule_is_a_sweep() {
        let e = json!({"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-26T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"], "detail": {}});
        assert_eq!(parse(e).unwrap(), Trigger::Sweep);
    }

    #[test]
    fn create_delete_and_reject_name_the_pcx() {
        let create = cloudtrail_event(json!({"eventName": "CreateVpcPeeringConnection",
            "responseElements": {"vpcPeeringConnection": {"vpcPeeringConnectionId": PCX}}}));
        assert_eq!(parse(create).unwrap(), Trigger::Created(PCX.into()));
        for name in ["DeleteVpcPeeringConnection", "RejectVpcPeeringConnection"] {
            let e = cloudtrail_event(json!({"eventName": name, "requestParameters": {"vpcPeeringConnectionId": PCX}}));
            assert_eq!(parse(e).unwrap(), Trigger::Deleted(PCX.into()));
        }
    }

    #[test]
    fn failed_calls_and_other_names_ask_for_nothing() {
        let failed = cloudtrail_event(
            json!({"eventName": "CreateVpcPeeringConnection", "errorCode": "Client.UnauthorizedOperation"}),
        );
        assert!(matches!(parse(failed).unwrap(), Trigger::Nothing(_)));
        let other = cloudtrail_event(json!({"eventName": "AcceptVpcPeeringConnection"}));
        assert!(matches!(parse(other).unwrap(), Trigger::Nothing(_)));
    }

    #[test]
    fn malformed_events_are_named() {
        let cases = [
            (json!({"hello": "world"}), "not an EventBridge event"),
            (json!("text"), "not an EventBridge event"),
            (
                json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
                "unsupported event source `aws.s3`",
            ),
            (cloudtrail_event(json!({})), "without detail.eventName"),
            (
                cloudtrail_event(json!({"eventName": "CreateVpcPeeringConnection", "responseElements": null})),
                "without detail.responseElements.vpcPeeringConnection.vpcPeeringConnectionId",
            ),
            (
                cloudtrail_event(
                    json!({"eventName": "DeleteVpcPeeringConnection", "requestParameters": {"vpcPeeringConnectionId": "vpc-1"}}),
                ),
                "is not a peering connection id",
            ),
        ];
        for (event, expected) in cases {
            let err = parse(event).unwrap_err();
            assert!(err.to_string().contains(expected), "{err} should contain {expected}");
            assert!(!err.is_retryable());
        }
    }
}
