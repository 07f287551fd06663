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

/// A report summary in the ledger (its keys are added by [`Ledger::record_report`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportEntry {
    pub action: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dry_run: bool,
    pub remediate: bool,
    pub total: usize,
    /// Counts by severity and by code (non-zero codes only).
    pub by_severity: std::collections::BTreeMap<String, usize>,
    pub by_code: std::collections::BTreeMap<String, usize>,
    pub remediated: usize,
    /// `s3://…` addresses of the report, or where else it went.
    pub report: Vec<String>,
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

    /// Appends a record unless the newest one for `pk` already says the same (same action and
    /// reason): a sweep meets the same undecided resource every few minutes, and the ledger keeps
    /// one record per change of mind, not one per sweep. `true` when a record was written.
    pub async fn record_unless_repeated(
        &self,
        pk: &str,
        action: &str,
        reason: Option<String>,
        dry_run: bool,
        details: serde_json::Value,
    ) -> Result<bool> {
        let latest = self.latest(pk, 1).await?;
        if latest.first().is_some_and(|e| e.action == action && e.reason == reason && e.dry_run == dry_run) {
            return Ok(false);
        }
        self.record(pk, action, reason, dry_run, details).await.map(|_| true)
    }

    /// Whether a real (not dry-run) `action` record exists for `pk`. Reads oldest first with a
    /// server-side filter, page by page, stopping at the first match.
    pub async fn has(&self, pk: &str, action: &str) -> Result<bool> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .filter_expression("#action = :action AND dry_run = :false")
            .expression_attribute_names("#action", "action")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
            .expression_attribute_values(":action", AttributeValue::S(action.to_string()))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            if page.map_err(|e| Error::aws("Query", e))?.count() > 0 {
                return Ok(true);
            }
        }
        Ok(false)
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

    /// Appends a report summary: `pk = report#<account>#<region>`, `sk = <generated_at>`
    /// (DESIGN.md "Ledger"), with the counts and where the full report lies. Conditional like
    /// every ledger write.
    pub async fn record_report(
        &self,
        account: &str,
        region: &str,
        generated_at: &str,
        summary: &ReportEntry,
    ) -> Result<()> {
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(summary).map_err(|e| Error::Unexpected(format!("ledger report entry: {e}")))?;
        item.insert("pk".into(), AttributeValue::S(format!("report#{account}#{region}")));
        item.insert("sk".into(), AttributeValue::S(generated_at.to_string()));
        item.insert("actor".into(), AttributeValue::S(self.actor.to_string()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) AND attribute_not_exists(sk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(Error::aws("PutItem", e)),
        }
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
