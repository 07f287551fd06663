//! Allowlist adapter: reads grants (strongly consistent) and writes them for the CLI.
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;

use super::grant_item::{entry_from_item, grant_from_item, item_from_grant, item_from_waiver, Entry, Item};
use crate::domain::{AllowlistKey, EndpointGrant, Grant, PeeringGrant, VpcScope, Waiver};
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Allowlist {
    client: Client,
    table: String,
}

/// Grants read, plus the malformed items skipped on the way (already logged).
#[derive(Debug)]
pub struct Read<T> {
    pub grants: Vec<T>,
    pub malformed: Vec<String>,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read { grants: Vec::new(), malformed: Vec::new() }
    }
}

/// The whole table: grants, waivers, and the malformed items skipped on the way.
#[derive(Debug, Default)]
pub struct Contents {
    pub grants: Vec<Grant>,
    pub waivers: Vec<Waiver>,
    pub malformed: Vec<String>,
}

impl Allowlist {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Allowlist { client, table: table.into() }
    }

    /// The peering grants that could cover `account` peering into `accepter_vpc`:
    /// `peering#<vpc>` and `peering#*`, in one BatchGetItem.
    pub async fn peering_grants(&self, account: &str, accepter_vpc: &str) -> Result<Read<PeeringGrant>> {
        let key = |scope: VpcScope| {
            let key = AllowlistKey::Peering { scope, account: account.to_string() };
            [("pk".to_string(), AttributeValue::S(key.pk())), ("sk".to_string(), AttributeValue::S(key.sk()))]
                .into_iter()
                .collect::<Item>()
        };
        let mut keys = KeysAndAttributes::builder()
            .keys(key(VpcScope::Vpc(accepter_vpc.to_string())))
            .keys(key(VpcScope::Any))
            .consistent_read(true)
            .build()
            .map_err(|e| Error::Unexpected(e.to_string()))?;
        let mut items = Vec::new();
        // Unprocessed keys come back under throttling: ask again for exactly those.
        for _ in 0..8 {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, keys.clone())
                .send()
                .await
                .map_err(|e| Error::aws("BatchGetItem", e))?;
            if let Some(found) = out.responses().and_then(|r| r.get(&self.table)) {
                items.extend(found.iter().cloned());
            }
            match out.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                Some(rest) if !rest.keys().is_empty() => keys = rest.clone(),
                _ => return Ok(decode_peering(&items)),
            }
        }
        let what = format!("the peering grants of {account} kept coming back as unprocessed keys");
        Err(Error::Incomplete { operation: "BatchGetItem", what })
    }

    pub async fn put(&self, grant: &Grant) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_from_grant(grant)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws("PutItem", e))
    }

    /// Every endpoint grant for `service_id` (Query on `endpoint#<service>`, strongly
    /// consistent, all pages). Malformed items are skipped, logged and listed.
    pub async fn endpoint_grants(&self, service_id: &str) -> Result<Read<EndpointGrant>> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(endpoint_partition(service_id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut read = Read::default();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| Error::aws("Query", e))?;
            match grant_from_item(&item) {
                Ok(Grant::Endpoint(g)) => read.grants.push(g),
                Ok(Grant::Peering(_)) => {}
                Err(why) => {
                    tracing::error!(error = %why, "skipping malformed allowlist item");
                    read.malformed.push(why);
                }
            }
        }
        Ok(read)
    }

    /// Every item in the table (Scan, strongly consistent, all pages): what the auditor judges
    /// against, and what the CLI lists.
    pub async fn all(&self) -> Result<Contents> {
        let mut pages =
            self.client.scan().table_name(&self.table).consistent_read(true).into_paginator().items().send();
        let mut read = Contents::default();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| Error::aws("Scan", e))?;
            match entry_from_item(&item) {
                Ok(Entry::Grant(g)) => read.grants.push(g),
                Ok(Entry::Waiver(w)) => read.waivers.push(w),
                Err(why) => read.malformed.push(why),
            }
        }
        Ok(read)
    }

    /// Every grant in the table (see [`Allowlist::all`]), for listing.
    pub async fn all_grants(&self) -> Result<Read<Grant>> {
        let all = self.all().await?;
        Ok(Read { grants: all.grants, malformed: all.malformed })
    }

    /// Writes (or replaces) a waiver, for the CLI.
    pub async fn put_waiver(&self, waiver: &Waiver) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_from_waiver(waiver)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws("PutItem", e))
    }

    /// Deletes the grant at `key`; `false` when there was none.
    pub async fn delete(&self, key: &AllowlistKey) -> Result<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk()))
            .key("sk", AttributeValue::S(key.sk()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| Error::aws("DeleteItem", e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

/// The partition holding every endpoint grant of a service.
fn endpoint_partition(service_id: &str) -> String {
    AllowlistKey::Endpoint { service_id: service_id.to_string(), account: String::new() }.pk()
}

fn decode_peering(items: &[Item]) -> Read<PeeringGrant> {
    let mut read = Read::default();
    for item in items {
        match grant_from_item(item) {
            Ok(Grant::Peering(g)) => read.grants.push(g),
            Ok(Grant::Endpoint(_)) => {}
            Err(why) => {
                tracing::error!(error = %why, "skipping malformed allowlist item");
                read.malformed.push(why);
            }
        }
    }
    read
}
