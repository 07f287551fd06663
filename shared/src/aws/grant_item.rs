//! The one DynamoDB mapping of allowlist items (DESIGN.md "Allowlist"): grants and waivers, used
//! by the functions and the CLI.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::domain::cidr::parse_cidr;
use crate::domain::{AllowlistKey, EndpointGrant, Grant, PeeringGrant, Waiver};

pub type Item = HashMap<String, AttributeValue>;

/// What an allowlist item holds: a grant, or a waiver (an accepted risk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Grant(Grant),
    Waiver(Waiver),
}

/// The item as stored; every optional attribute may be absent.
#[derive(Debug, Default, Serialize, Deserialize)]
struct GrantItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_endpoints: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "serde_dynamo::string_set")]
    allowed_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dns_resolution: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    added_by: Option<String>,
    added_at: Option<i64>,
    /// Waivers only: why the risk is accepted, and (optionally) the one account it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
}

/// `pk/sk` of an item, for naming it in errors even when the rest is malformed.
pub(crate) fn item_key(item: &Item) -> String {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("?").to_string();
    format!("{}/{}", s("pk"), s("sk"))
}

/// Decodes and validates one allowlist item. A malformed item never grants (or waives)
/// anything: the error names the item and what is wrong with it.
pub fn entry_from_item(item: &Item) -> Result<Entry, String> {
    let key = item_key(item);
    let raw: GrantItem = serde_dynamo::from_item(item.clone()).map_err(|e| format!("allowlist item {key}: {e}"))?;
    decode(raw).map_err(|why| format!("allowlist item {key}: {why}"))
}

/// [`entry_from_item`], for the readers of grants only: a waiver grants nothing.
pub fn grant_from_item(item: &Item) -> Result<Grant, String> {
    match entry_from_item(item)? {
        Entry::Grant(g) => Ok(g),
        Entry::Waiver(_) => Err(format!("allowlist item {}: a waiver, not a grant", item_key(item))),
    }
}

fn decode(raw: GrantItem) -> Result<Entry, String> {
    let key = AllowlistKey::parse(&raw.pk, &raw.sk)?;
    let added_by = raw.added_by.clone().filter(|s| !s.is_empty()).ok_or("added_by (S) is required")?;
    let added_at = raw.added_at.ok_or("added_at (N, epoch seconds) is required")?;
    if let AllowlistKey::Waiver { code, resource } = key {
        return decode_waiver(raw, code, resource, added_by, added_at).map(Entry::Waiver);
    }
    if raw.reason.is_some() || raw.account.is_some() {
        return Err("reason and account apply to waivers only".into());
    }
    decode_grant(raw, key, added_by, added_at).map(Entry::Grant)
}

/// A waiver is decoded with the rigour of a grant: every rule of [`Waiver::problem`], and no
/// attribute of a grant.
fn decode_waiver(
    raw: GrantItem,
    code: crate::domain::FindingCode,
    resource: String,
    added_by: String,
    added_at: i64,
) -> Result<Waiver, String> {
    if !raw.allowed_cidrs.is_empty() || raw.dns_resolution.is_some() || raw.max_endpoints.is_some() {
        return Err("allowed_cidrs, dns_resolution and max_endpoints apply to grants only".into());
    }
    let waiver = Waiver {
        code,
        resource,
        account: raw.account,
        reason: raw.reason.ok_or("reason (S) is required")?,
        expires_at: raw.expires_at.ok_or("expires_at (N, epoch seconds) is required: a waiver must end")?,
        added_by,
        added_at,
    };
    match waiver.problem() {
        Some(why) => Err(why),
        None => Ok(waiver),
    }
}

fn decode_grant(raw: GrantItem, key: AllowlistKey, added_by: String, added_at: i64) -> Result<Grant, String> {
    match key {
        AllowlistKey::Peering { scope, account } => {
            if raw.max_endpoints.is_some() {
                return Err("max_endpoints applies to endpoint grants only".into());
            }
            let allowed_cidrs = if raw.allowed_cidrs.is_empty() {
                None
            } else {
                Some(raw.allowed_cidrs.iter().map(|c| parse_cidr(c)).collect::<Result<Vec<_>, _>>()?)
            };
            Ok(Grant::Peering(PeeringGrant {
                scope,
                account,
                allowed_cidrs,
                dns_resolution: raw.dns_resolution,
                expires_at: raw.expires_at,
                note: raw.note,
                added_by,
                added_at,
            }))
        }
        AllowlistKey::Endpoint { service_id, account } => {
            if !raw.allowed_cidrs.is_empty() || raw.dns_resolution.is_some() {
                return Err("allowed_cidrs and dns_resolution apply to peering grants only".into());
            }
            let max_endpoints = raw
                .max_endpoints
                .map(|n| u32::try_from(n).ok().filter(|n| *n > 0).ok_or("max_endpoints must be a positive number"))
                .transpose()?;
            Ok(Grant::Endpoint(EndpointGrant {
                service_id,
                account,
                expires_at: raw.expires_at,
                max_endpoints,
                note: raw.note,
                added_by,
                added_at,
            }))
        }
        AllowlistKey::Waiver { .. } => Err("a waiver key holds no grant".into()),
    }
}

pub fn item_from_grant(grant: &Grant) -> Item {
    let key = grant.key();
    let raw = match grant {
        Grant::Peering(g) => GrantItem {
            pk: key.pk(),
            sk: key.sk(),
            expires_at: g.expires_at,
            allowed_cidrs: g.allowed_cidrs.iter().flatten().map(ToString::to_string).collect(),
            dns_resolution: g.dns_resolution,
            note: g.note.clone(),
            added_by: Some(g.added_by.clone()),
            added_at: Some(g.added_at),
            ..Default::default()
        },
        Grant::Endpoint(g) => GrantItem {
            pk: key.pk(),
            sk: key.sk(),
            expires_at: g.expires_at,
            max_endpoints: g.max_endpoints.map(i64::from),
            note: g.note.clone(),
            added_by: Some(g.added_by.clone()),
            added_at: Some(g.added_at),
            ..Default::default()
        },
    };
    serde_dynamo::to_item(raw).expect("a grant item always serialises")
}

pub fn item_from_waiver(w: &Waiver) -> Item {
    let key = w.key();
    let raw = GrantItem {
        pk: key.pk(),
        sk: key.sk(),
        expires_at: Some(w.expires_at),
        added_by: Some(w.added_by.clone()),
        added_at: Some(w.added_at),
        reason: Some(w.reason.clone()),
        account: w.account.clone(),
        ..Default::default()
    };
    serde_dynamo::to_item(raw).expect("a waiver item always serialises")
}

/// One record of the allowlist table's stream, as both stream triggers read it.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    pub id: String,
    pub event_name: String,
    pub pk: String,
    pub sk: String,
    /// REMOVE (by a person, or by DynamoDB's TTL).
    pub removed: bool,
    /// Removed by DynamoDB's TTL (the grant expired).
    pub by_ttl: bool,
    /// The record's `SequenceNumber`: what a partial batch response names.
    pub sequence: String,
    pub new_image: Item,
}

#[derive(Deserialize)]
struct Keys {
    pk: String,
    sk: String,
}

/// The records of a DynamoDB stream event (Lambda's shape), in order; a record without keys,
/// event name or sequence number is a bad event (it cannot come from DynamoDB).
pub fn stream_records(event: serde_json::Value) -> crate::error::Result<Vec<StreamRecord>> {
    use crate::error::Error;
    let event: aws_lambda_events::dynamodb::Event =
        serde_json::from_value(event).map_err(|e| Error::BadEvent(format!("DynamoDB stream event: {e}")))?;
    let mut records = Vec::new();
    for record in &event.records {
        let id = &record.event_id;
        let keys: Keys = serde_dynamo::from_item(record.change.keys.clone())
            .map_err(|e| Error::BadEvent(format!("stream record {id}: Keys must hold pk and sk strings ({e})")))?;
        let removed = match record.event_name.as_str() {
            "INSERT" | "MODIFY" => false,
            "REMOVE" => true,
            other => return Err(Error::BadEvent(format!("stream record {id}: unknown eventName `{other}`"))),
        };
        let sequence = match record.change.sequence_number.as_deref() {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => return Err(Error::BadEvent(format!("stream record {id}: no dynamodb.SequenceNumber"))),
        };
        let by_ttl = removed
            && record
                .user_identity
                .as_ref()
                .is_some_and(|u| u.type_ == "Service" && u.principal_id == "dynamodb.amazonaws.com");
        records.push(StreamRecord {
            id: id.clone(),
            event_name: record.event_name.clone(),
            pk: keys.pk,
            sk: keys.sk,
            removed,
            by_ttl,
            sequence,
            new_image: record.change.new_image.clone().into(),
        });
    }
    Ok(records)
}

#[cfg(test)]
#[path = "grant_item_tests.rs"]
mod tests;
