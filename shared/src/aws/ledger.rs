//! The ledger: an append-only record of every decision and change (DESIGN.md "Ledger").
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Ledger {
    client: Client,
    table: String,
    actor: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub pk: String,
    pub sk: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub actor: String,
    pub at: String,
    pub dry_run: bool,
    /// The inputs of the decision, summarised (ids, CIDRs, routes), never whole events.
    #[serde(default)]
    pub details: serde_json::Value,
}

pub fn rfc3339(epoch_nanos: i128) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(epoch_nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .expect("rfc3339 formats any valid time")
}

pub fn now_nanos() -> i128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos()
}

impl Ledger {
    pub fn new(client: Client, table: impl Into<String>, actor: &'static str) -> Self {
        Ledger { client, table: table.into(), actor }
    }

    /// Appends a record. The write is conditional: an existing key is never overwritten (a
    /// replay that lands on the same key is the same record, so that is success).
    pub async fn record(
        &self,
        pk: &str,
        action: &str,
        reason: Option<String>,
        dry_run: bool,
        details: serde_json::Value,
    ) -> Result<Entry> {
        let at = rfc3339(now_nanos());
        let entry = Entry {
            pk: pk.to_string(),
            sk: format!("{at}#{action}"),
            action: action.to_string(),
            reason,
            actor: self.actor.to_string(),
            at,
            dry_run,
            details,
        };
        let item = serde_dynamo::to_item(&entry).map_err(|e| Error::Unexpected(format!("ledger entry: {e}")))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) AND attribute_not_exists(sk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(entry),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(entry),
            Err(e) => Err(Error::aws("PutItem", e)),
        }
    }

    /// The newest records for `pk`, newest first.
    pub async fn latest(&self, pk: &str, limit: i32) -> Result<Vec<Entry>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(limit)
            .send()
            .await
            .map_err(|e| Error::aws("Query", e))?;
        out.items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item(i.clone())
                    .map_err(|e| Error::Unexpected(format!("ledger entry under {pk}: {e}")))
            })
            .collect()
    }

    /// Every record for `pk`, oldest first.
    pub async fn history(&self, pk: &str) -> Result<Vec<Entry>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut all = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| Error::aws("Query", e))?;
            all.push(
                serde_dynamo::from_item(item)
                    .map_err(|e| Error::Unexpected(format!("ledger entry under {pk}: {e}")))?,
            );
        }
        Ok(all)
    }
}
