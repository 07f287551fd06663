//! What invoked the approver. Every trigger is a hint about which services (and accounts) to look
//! at: the connections and the grants are always re-read.
use std::collections::BTreeSet;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsEvent;
use serde_json::Value;

use crate::aws::grant_item::{grant_from_item, stream_records};
use crate::domain::ids::{is_account_id, is_endpoint_id, is_endpoint_service_id};
use crate::domain::AllowlistKey;
use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Scheduled sweep: every managed service.
    Sweep,
    /// Endpoint connection notification(s) from SNS: settle the named services (an empty set:
    /// the message named none, so settle every managed service).
    Notification { services: BTreeSet<String>, hints: Vec<Hint> },
    /// The allowlist table's stream: the batch as units settled one after another, in the
    /// stream's order (consecutive records about one service are one unit).
    Grants {
        units: Vec<GrantUnit>,
        /// Changes that concern no endpoint grant (peering grants), said in the answer.
        ignored: Vec<String>,
        /// Stream records about items that are not valid grants: they grant nothing.
        malformed: Vec<String>,
    },
}

/// What one notification said (for the answer and the logs; never trusted for decisions).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Hint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// Consecutive records of a stream batch about one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantUnit {
    /// The `SequenceNumber` of the unit's first record: what a partial batch response names when
    /// the unit fails, so that Lambda retries from there and not the records before it.
    pub sequence: String,
    pub service: String,
    pub changes: GrantChanges,
}

/// Accounts whose grant for one service changed in a stream batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantChanges {
    /// INSERT or MODIFY: approve their pending connections now.
    pub changed: BTreeSet<String>,
    /// REMOVE (by a person or by TTL): revoke when configured.
    pub removed: BTreeSet<String>,
    /// The subset of `removed` deleted by DynamoDB's TTL (the grant expired).
    pub expired: BTreeSet<String>,
}

impl Trigger {
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::Sweep => "sweep",
            Trigger::Notification { .. } => "notification",
            Trigger::Grants { .. } => "allowlist-stream",
        }
    }
}

pub fn parse(event: Value) -> Result<Trigger> {
    if let Some(records) = event.get("Records") {
        let first = records
            .as_array()
            .and_then(|r| r.first())
            .ok_or_else(|| Error::BadEvent("`Records` is empty or not a list".into()))?;
        let source =
            first.get("EventSource").or_else(|| first.get("eventSource")).and_then(Value::as_str).unwrap_or_default();
        return match source {
            "aws:sns" => notification(event),
            "aws:dynamodb" => stream(event),
            other => Err(Error::BadEvent(format!(
                "records from `{other}`; expected aws:sns (connection notifications) or aws:dynamodb (allowlist stream)"
            ))),
        };
    }
    let event: EventBridgeEvent<Value> = serde_json::from_value(event)
        .map_err(|e| Error::BadEvent(format!("not an SNS, DynamoDB stream or EventBridge event ({e})")))?;
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.events", "Scheduled Event") => Ok(Trigger::Sweep),
        (source, detail_type) => Err(Error::BadEvent(format!(
            "unsupported event source `{source}` / detail-type `{detail_type}`; expected a schedule"
        ))),
    }
}

fn notification(event: Value) -> Result<Trigger> {
    let event: SnsEvent = serde_json::from_value(event).map_err(|e| Error::BadEvent(format!("SNS event: {e}")))?;
    let mut services = BTreeSet::new();
    let mut hints = Vec::new();
    let mut wake_all = false;
    for record in &event.records {
        let hint = hint(&record.sns.message)?;
        match &hint.service_id {
            Some(id) => {
                services.insert(id.clone());
            }
            None => wake_all = true,
        }
        hints.push(hint);
    }
    if wake_all {
        services.clear();
    }
    Ok(Trigger::Notification { services, hints })
}

/// Reads the (undocumented) notification body leniently: whatever is missing or not JSON is a
/// plain wake-up; an id that is present but malformed is an error (it cannot come from AWS).
fn hint(message: &str) -> Result<Hint> {
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(message) else {
        return Ok(Hint::default());
    };
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    let hint = Hint {
        event: text("eventType").or_else(|| text("notificationType")),
        service_id: text("serviceId"),
        endpoint_id: text("vpcEndpointId"),
        owner: text("vpcEndpointOwner"),
        state: text("vpcEndpointState"),
    };
    let check = |value: &Option<String>, ok: fn(&str) -> bool, what: &str| match value {
        Some(v) if !ok(v) => Err(Error::BadEvent(format!("the connection notification names `{v}` as {what}"))),
        _ => Ok(()),
    };
    check(&hint.service_id, is_endpoint_service_id, "serviceId")?;
    check(&hint.endpoint_id, is_endpoint_id, "vpcEndpointId")?;
    check(&hint.owner, is_account_id, "vpcEndpointOwner")?;
    Ok(hint)
}

fn stream(event: Value) -> Result<Trigger> {
    let mut units: Vec<GrantUnit> = Vec::new();
    let mut ignored = Vec::new();
    let mut malformed = Vec::new();
    for record in stream_records(event)? {
        let (pk, sk) = (record.pk.as_str(), record.sk.as_str());
        if AllowlistKey::is_peering_pk(pk) {
            ignored.push(format!("{} {pk}/{sk}: a peering grant", record.event_name));
            continue;
        }
        if AllowlistKey::is_waiver_pk(pk) {
            ignored.push(format!("{} {pk}/{sk}: a waiver", record.event_name));
            continue;
        }
        let Ok(AllowlistKey::Endpoint { service_id: service, account }) = AllowlistKey::parse(pk, sk) else {
            malformed.push(format!(
                "allowlist item {pk}/{sk}: not a grant key (endpoint#<vpce-svc-id> / account#<12 digits>)"
            ));
            continue;
        };
        // The table is re-read before deciding; a malformed new image is reported here.
        if !record.removed && !record.new_image.is_empty() {
            if let Err(why) = grant_from_item(&record.new_image) {
                malformed.push(why);
            }
        }
        if units.last().is_none_or(|u| u.service != service) {
            units.push(GrantUnit { sequence: record.sequence.clone(), service, changes: GrantChanges::default() });
        }
        let changes = &mut units.last_mut().expect("a unit for this record").changes;
        if record.removed {
            changes.removed.insert(account.to_string());
            if record.by_ttl {
                changes.expired.insert(account.to_string());
            }
        } else {
            changes.changed.insert(account.to_string());
        }
    }
    Ok(Trigger::Grants { units, ignored, malformed })
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
