//! The allowlist and ledger DynamoDB tables: creation, grants, raw items and reading back.
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use serde_json::{Map, Number, Value};

use vpcwarden::domain::{LedgerAction, LedgerKey};

use crate::aws::Aws;

/// Name of the allowlist table (`ALLOWLIST_TABLE`).
pub const ALLOWLIST: &str = "vpcwarden-allowlist";
/// Name of the ledger table (`LEDGER_TABLE`).
pub const LEDGER: &str = "vpcwarden-ledger";
/// `added_by` of every grant written by the harness.
pub const ADDED_BY: &str = "vpcwarden-tests";

/// Creates both tables (`pk`/`sk` strings, on demand); the allowlist has a NEW_AND_OLD_IMAGES
/// stream and TTL on `expires_at`.
pub async fn create(aws: &Aws) {
    let ddb = aws.dynamodb().await;
    for (table, stream) in [(ALLOWLIST, true), (LEDGER, false)] {
        let mut request = ddb.create_table().table_name(table).billing_mode(BillingMode::PayPerRequest);
        for (name, key_type) in [("pk", KeyType::Hash), ("sk", KeyType::Range)] {
            request = request
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("attribute definition"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(name)
                        .key_type(key_type)
                        .build()
                        .expect("key schema element"),
                );
        }
        if stream {
            request = request.stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .expect("stream specification"),
            );
        }
        request.send().await.unwrap_or_else(|e| panic!("CreateTable {table}: {e:?}"));
    }
    ddb.update_time_to_live()
        .table_name(ALLOWLIST)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires_at")
                .build()
                .expect("TTL specification"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("UpdateTimeToLive {ALLOWLIST}: {e:?}"));
}

/// Writes a peering grant: `peering#<vpc or *>` / `account#<account>`, with the optional
/// attributes that are `Some` (or non-empty), `added_by` and `added_at` = now.
pub async fn put_peering_grant(
    aws: &Aws,
    vpc: Option<&str>,
    account: &str,
    allowed_cidrs: &[&str],
    expires_at: Option<i64>,
    dns: Option<bool>,
) {
    let mut item = grant_item(&format!("peering#{}", vpc.unwrap_or("*")), account);
    if !allowed_cidrs.is_empty() {
        let cidrs = allowed_cidrs.iter().map(|c| c.to_string()).collect();
        item.insert("allowed_cidrs".into(), AttributeValue::Ss(cidrs));
    }
    if let Some(dns) = dns {
        item.insert("dns_resolution".into(), AttributeValue::Bool(dns));
    }
    if let Some(expires_at) = expires_at {
        item.insert("expires_at".into(), number(expires_at));
    }
    put_raw_item(aws, ALLOWLIST, item).await;
}

/// Writes an endpoint grant: `endpoint#<service id>` / `account#<account>`, with the optional
/// attributes that are `Some`, `added_by` and `added_at` = now.
pub async fn put_endpoint_grant(
    aws: &Aws,
    service_id: &str,
    account: &str,
    max_endpoints: Option<u32>,
    expires_at: Option<i64>,
) {
    let mut item = grant_item(&format!("endpoint#{service_id}"), account);
    if let Some(max) = max_endpoints {
        item.insert("max_endpoints".into(), number(i64::from(max)));
    }
    if let Some(expires_at) = expires_at {
        item.insert("expires_at".into(), number(expires_at));
    }
    put_raw_item(aws, ALLOWLIST, item).await;
}

/// Puts `item` into `table` as is (e.g. a malformed grant).
/// A waiver, as an allowlist item written by hand (or by Terraform): `code` on `resource`,
/// until `expires_at`, added a day before now (so an ended waiver is still well formed).
pub async fn put_waiver(aws: &Aws, code: &str, resource: &str, expires_at: i64, account: Option<&str>) {
    let mut item: HashMap<String, AttributeValue> = [
        ("pk", AttributeValue::S(format!("waiver#{code}"))),
        ("sk", AttributeValue::S(format!("resource#{resource}"))),
        ("reason", AttributeValue::S("accepted in the tests".into())),
        ("expires_at", number(expires_at)),
        ("added_by", AttributeValue::S(ADDED_BY.into())),
        ("added_at", number(vpcwarden::clock::now_epoch() - 86_400)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(account) = account {
        item.insert("account".into(), AttributeValue::S(account.into()));
    }
    put_raw_item(aws, ALLOWLIST, item).await;
}

pub async fn put_raw_item(aws: &Aws, table: &str, item: HashMap<String, AttributeValue>) {
    aws.dynamodb()
        .await
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutItem {table}: {e:?}"));
}

/// Deletes the item `pk`/`sk` from `table` (e.g. to revoke a grant).
pub async fn delete_item(aws: &Aws, table: &str, pk: &str, sk: &str) {
    aws.dynamodb()
        .await
        .delete_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteItem {table} {pk}/{sk}: {e:?}"));
}

/// Every item of `table` as plain JSON, sorted by (`pk`, `sk`).
pub async fn scan(aws: &Aws, table: &str) -> Vec<Value> {
    let ddb = aws.dynamodb().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = ddb
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| panic!("Scan {table}: {e:?}"));
        items.extend(out.items().iter().map(item_to_json));
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    let key = |v: &Value| {
        let field = |name: &str| v[name].as_str().unwrap_or_default().to_string();
        (field("pk"), field("sk"))
    };
    items.sort_by_key(key);
    items
}

/// The action of every ledger record under exactly `key`, oldest first, as the product reads it.
pub async fn ledger_actions(aws: &Aws, key: &LedgerKey) -> Vec<LedgerAction> {
    let pk = key.to_string();
    ledger_entries(aws, &pk)
        .await
        .iter()
        .filter(|e| e["pk"] == pk.as_str())
        .map(|e| LedgerAction::parse(e["action"].as_str().unwrap_or_default()))
        .collect()
}

/// [`ledger_actions`] of a peering connection (`pcx#<id>`).
pub async fn peering_actions(aws: &Aws, pcx: &str) -> Vec<LedgerAction> {
    ledger_actions(aws, &LedgerKey::Peering(pcx.to_string())).await
}

/// [`ledger_actions`] of an endpoint connection (`vpce#<id>`).
pub async fn endpoint_actions(aws: &Aws, endpoint: &str) -> Vec<LedgerAction> {
    ledger_actions(aws, &LedgerKey::Endpoint(endpoint.to_string())).await
}

/// A ledger record as a function writes it, at 2026-01-01T00:00:00Z, with `action` spelled as
/// given (an older version's spelling, say).
pub async fn put_ledger_record(aws: &Aws, key: &LedgerKey, action: &str, reason: &str, actor: &str) {
    let at = "2026-01-01T00:00:00Z";
    let item = [
        ("pk", AttributeValue::S(key.to_string())),
        ("sk", AttributeValue::S(format!("{at}#{action}"))),
        ("action", AttributeValue::S(action.into())),
        ("reason", AttributeValue::S(reason.into())),
        ("actor", AttributeValue::S(actor.into())),
        ("at", AttributeValue::S(at.into())),
        ("dry_run", AttributeValue::Bool(false)),
        ("details", AttributeValue::M(Default::default())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    put_raw_item(aws, LEDGER, item).await;
}

/// Ledger items whose `pk` starts with `pk_prefix`, as plain JSON, sorted by (`pk`, `sk`).
pub async fn ledger_entries(aws: &Aws, pk_prefix: &str) -> Vec<Value> {
    scan(aws, LEDGER)
        .await
        .into_iter()
        .filter(|v| v["pk"].as_str().is_some_and(|pk| pk.starts_with(pk_prefix)))
        .collect()
}

/// A DynamoDB item as plain JSON (numbers as numbers, sets as sorted arrays).
pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), attribute_to_json(v))).collect::<Map<_, _>>())
}

/// One attribute value as plain JSON.
pub fn attribute_to_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number_json(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Ss(set) => {
            let mut set = set.clone();
            set.sort();
            set.into_iter().map(Value::String).collect()
        }
        AttributeValue::Ns(set) => {
            let mut set: Vec<Value> = set.iter().map(|n| number_json(n)).collect();
            set.sort_by(|a, b| {
                let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
                f(a).total_cmp(&f(b))
            });
            Value::Array(set)
        }
        AttributeValue::L(list) => list.iter().map(attribute_to_json).collect(),
        AttributeValue::M(map) => item_to_json(map),
        AttributeValue::B(blob) => bytes_json(blob.as_ref()),
        AttributeValue::Bs(set) => set.iter().map(|b| bytes_json(b.as_ref())).collect(),
        _ => Value::Null,
    }
}

fn grant_item(pk: &str, account: &str) -> HashMap<String, AttributeValue> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.to_string())),
        ("sk".to_string(), AttributeValue::S(format!("account#{account}"))),
        ("added_by".to_string(), AttributeValue::S(ADDED_BY.into())),
        ("added_at".to_string(), number(now)),
    ])
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn number_json(n: &str) -> Value {
    if let Ok(i) = n.parse::<i64>() {
        return Value::Number(i.into());
    }
    n.parse::<f64>().ok().and_then(Number::from_f64).map_or_else(|| Value::String(n.to_string()), Value::Number)
}

fn bytes_json(bytes: &[u8]) -> Value {
    bytes.iter().map(|b| Value::from(*b)).collect()
}
