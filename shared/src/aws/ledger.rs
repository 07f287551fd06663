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
use vpcwarden_core::requests::ApprovalRequest;
pub use vpcwarden_core::requests::OpenRequest;

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

/// Whether a record ends an approval request.
fn closes(e: &Entry) -> bool {
    matches!(e.action, LedgerAction::Approved | LedgerAction::Denied | LedgerAction::RequestClosed)
}

/// The request the records of one `request#<id>` key keep, if it is still open.
fn still_open(records: &[Entry]) -> Result<Option<OpenRequest>> {
    if records.iter().any(closes) {
        return Ok(None);
    }
    let Some(opened) = records.iter().find(|e| e.action == LedgerAction::ApprovalRequested) else { return Ok(None) };
    let request = serde_json::from_value(opened.details.clone())
        .map_err(|e| Error::Unexpected(format!("approval request under {}: {e}", opened.pk)))?;
    Ok(Some(OpenRequest::new(opened.at.clone(), request)))
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

    /// Opens the approval request `r` (`request#<id>`), first seen at `first_seen` (epoch s):
    /// the record's time is when the request was made when AWS says so (never later than now),
    /// so that two invocations meeting it at once write the same key and only one opens it. `true` when this
    /// call opened it (then, and only then, it is announced).
    pub(crate) async fn open_request(&self, r: &ApprovalRequest, first_seen: i64, dry_run: bool) -> Result<bool> {
        let first_seen = first_seen.min(clock::now_epoch());
        let action = LedgerAction::ApprovalRequested;
        let at = clock::rfc3339_second(first_seen);
        let details = serde_json::to_value(r).map_err(|e| Error::Unexpected(format!("approval request: {e}")))?;
        let entry = Entry {
            pk: LedgerKey::Request(r.id.clone()).to_string(),
            sk: format!("{at}#{action}"),
            action,
            reason: Some("no grant admits it: waiting for a person's approval".into()),
            actor: self.actor.to_string(),
            at,
            dry_run,
            details,
        };
        let item = serde_dynamo::to_item(&entry).map_err(|e| Error::Unexpected(format!("ledger entry: {e}")))?;
        self.put_new(item).await
    }

    /// The approval requests still open (opened under `request#<id>`, and neither approved,
    /// denied nor closed since: a request is never reopened, so presence is enough, whatever the
    /// records' times), oldest first: one Scan of the ledger, filtered to `request#` keys (read
    /// and paid for in full; fine for a person's command and once a night).
    pub async fn open_requests(&self) -> Result<Vec<OpenRequest>> {
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :request)")
            .expression_attribute_values(":request", AttributeValue::S("request#".into()))
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut by_key: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        while let Some(page) = pages.next().await {
            for item in page.map_err(|e| Error::aws("Scan", e))?.items() {
                let entry: Entry = serde_dynamo::from_item(item.clone())
                    .map_err(|e| Error::Unexpected(format!("ledger entry: {e}")))?;
                by_key.entry(entry.pk.clone()).or_default().push(entry);
            }
        }
        let open: Result<Vec<Option<OpenRequest>>> = by_key.values().map(|records| still_open(records)).collect();
        let mut open: Vec<OpenRequest> = open?.into_iter().flatten().collect();
        open.sort_by(|a, b| (&a.first_seen, &a.request.id).cmp(&(&b.first_seen, &b.request.id)));
        Ok(open)
    }

    /// The approval request `id` and whether it is still open (`None`: there is none).
    pub async fn request(&self, id: &str) -> Result<Option<(OpenRequest, bool)>> {
        let key = LedgerKey::Request(id.to_string());
        let records = self.latest(&key, 100).await?;
        let Some(first) = records.iter().find(|e| e.action == LedgerAction::ApprovalRequested) else { return Ok(None) };
        let request = serde_json::from_value(first.details.clone())
            .map_err(|e| Error::Unexpected(format!("approval request {id} in the ledger: {e}")))?;
        Ok(Some((OpenRequest::new(first.at.clone(), request), !records.iter().any(closes))))
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
        self.put_new(item).await.map(|_| ())
    }

    /// Writes an item unless its key exists; an existing key is success (the same record).
    /// Whether this call wrote it: `false` when the key was there already.
    async fn put_new(&self, item: HashMap<String, AttributeValue>) -> Result<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) AND attribute_not_exists(sk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(Error::aws("PutItem", e)),
        }
    }
}
