//! The ledger: an append-only record of every decision and change (DESIGN.md "Ledger"). Keys and
//! actions are the core's [`LedgerKey`] and [`LedgerAction`]; this adapter only stores them.
use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::domain::{LedgerAction, LedgerKey};
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
    pub action: LedgerAction,
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
    pub action: LedgerAction,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dry_run: bool,
    pub remediate: bool,
    pub total: usize,
    /// Counts by severity and by code (non-zero codes only).
    pub by_severity: BTreeMap<String, usize>,
    pub by_code: BTreeMap<String, usize>,
    pub remediated: usize,
    /// `s3://…` addresses of the report, or where else it went.
    pub report: Vec<String>,
}

impl Ledger {
    pub fn new(client: Client, table: impl Into<String>, actor: &'static str) -> Self {
        Ledger { client, table: table.into(), actor }
    }

    /// Appends a record, `sk = <rfc3339 time>#<action>`. The write is conditional: an existing
    /// key is never overwritten (a replay that lands on the same key is the same record, so
    /// that is success).
    pub async fn record(
        &self,
        key: &LedgerKey,
        action: LedgerAction,
        reason: Option<String>,
        dry_run: bool,
        details: serde_json::Value,
    ) -> Result<Entry> {
        let at = clock::rfc3339(clock::now_nanos());
        let entry = Entry {
            pk: key.to_string(),
            sk: format!("{at}#{action}"),
            action,
            reason,
            actor: self.actor.to_string(),
            at,
            dry_run,
            details,
        };
        let item = serde_dynamo::to_item(&entry).map_err(|e| Error::Unexpected(format!("ledger entry: {e}")))?;
        self.put_new(item).await?;
        Ok(entry)
    }

    /// Appends a record unless the newest one for `key` already says the same (same action and
    /// reason): a sweep meets the same undecided resource every few minutes, and the ledger keeps
    /// one record per change of mind, not one per sweep. `true` when a record was written.
    pub(crate) async fn record_unless_repeated(
        &self,
        key: &LedgerKey,
        action: LedgerAction,
        reason: Option<String>,
        dry_run: bool,
        details: serde_json::Value,
    ) -> Result<bool> {
        let latest = self.latest(key, 1).await?;
        if latest.first().is_some_and(|e| e.action == action && e.reason == reason && e.dry_run == dry_run) {
            return Ok(false);
        }
        self.record(key, action, reason, dry_run, details).await.map(|_| true)
    }

    /// Whether vpcwarden accepted the peering connection `pcx` (a real, not dry-run, acceptance
    /// under any spelling the ledger has used). The one question the acceptor and the auditor
    /// both ask: reads oldest first with a server-side filter, page by page, stopping at the
    /// first match.
    pub(crate) async fn was_accepted(&self, pcx: &str) -> Result<bool> {
        let key = LedgerKey::Peering(pcx.to_string());
        let spellings = LedgerAction::Accepted.spellings();
        let names: Vec<String> = (0..spellings.len()).map(|i| format!(":a{i}")).collect();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .filter_expression(format!("#action IN ({}) AND dry_run = :false", names.join(", ")))
            .expression_attribute_names("#action", "action")
            .expression_attribute_values(":pk", AttributeValue::S(key.to_string()))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .consistent_read(true);
        for (name, spelling) in names.iter().zip(spellings) {
            query = query.expression_attribute_values(name, AttributeValue::S(spelling.to_string()));
        }
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            if page.map_err(|e| Error::aws("Query", e))?.count() > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The newest records for `key`, newest first.
    pub async fn latest(&self, key: &LedgerKey, limit: i32) -> Result<Vec<Entry>> {
        let pk = key.to_string();
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
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
    /// (DESIGN.md "Ledger"), with the counts and where the full report lies.
    pub(crate) async fn record_report(
        &self,
        account: &str,
        region: &str,
        generated_at: &str,
        summary: &ReportEntry,
    ) -> Result<()> {
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(summary).map_err(|e| Error::Unexpected(format!("ledger report entry: {e}")))?;
        let key = LedgerKey::Report { account: account.to_string(), region: region.to_string() };
        item.insert("pk".into(), AttributeValue::S(key.to_string()));
        item.insert("sk".into(), AttributeValue::S(generated_at.to_string()));
        item.insert("actor".into(), AttributeValue::S(self.actor.to_string()));
        self.put_new(item).await
    }

    /// Writes an item unless its key exists; an existing key is success (the same record).
    async fn put_new(&self, item: HashMap<String, AttributeValue>) -> Result<()> {
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
}
