//! Security Hub in the emulator, as a security team sees it: enabling it in an account, and the
//! findings `GetFindings` lists there (each filter the tests need).
use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, StringFilter, StringFilterComparison};

use crate::aws::Aws;

pub async fn client(aws: &Aws, account: &str, region: &str) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::new(&aws.config(account, region).await)
}

/// `EnableSecurityHub` in `account`/`region` (accounts start with it disabled).
pub async fn enable(aws: &Aws, account: &str, region: &str) {
    client(aws, account, region)
        .await
        .enable_security_hub()
        .enable_default_standards(false)
        .send()
        .await
        .unwrap_or_else(|e| panic!("EnableSecurityHub in {account}/{region}: {e:?}"));
}

/// A finding as the tests compare it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    pub id: String,
    pub generator: String,
    pub account: String,
    pub record_state: String,
    pub compliance: String,
    pub workflow: String,
    pub first_observed: String,
}

fn equals(value: &str) -> StringFilter {
    StringFilter::builder().value(value).comparison(StringFilterComparison::Equals).build()
}

/// Every finding `GetFindings` lists in `account`/`region` whose `key` (`Id`, `GeneratorId`,
/// `RecordState`, `ComplianceStatus`, `AwsAccountId`, or none) equals `value`, all pages.
pub async fn findings(aws: &Aws, account: &str, region: &str, filter: Option<(&str, &str)>) -> Vec<Seen> {
    // The SDK's parser of `AwsSecurityFinding` (hundreds of nested types) needs more stack than
    // a test thread's 2 MiB in a debug build: the answer is read on a thread with more.
    let client = client(aws, account, region).await;
    let filter = filter.map(|(k, v)| (k.to_string(), v.to_string()));
    let what = format!("{account}/{region}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            let filter = filter.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
            let _ = tx.send(runtime.block_on(list(&client, &what, filter)));
        })
        .expect("a thread for GetFindings");
    rx.await.expect("GetFindings answered")
}

async fn list(client: &aws_sdk_securityhub::Client, what: &str, filter: Option<(&str, &str)>) -> Vec<Seen> {
    let mut filters = AwsSecurityFindingFilters::builder();
    if let Some((key, value)) = filter {
        filters = match key {
            "Id" => filters.id(equals(value)),
            "GeneratorId" => filters.generator_id(equals(value)),
            "RecordState" => filters.record_state(equals(value)),
            "ComplianceStatus" => filters.compliance_status(equals(value)),
            "AwsAccountId" => filters.aws_account_id(equals(value)),
            other => panic!("no filter {other} in the test helper"),
        };
    }
    let filters = filters.build();
    let mut pages = client.get_findings().filters(filters).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.unwrap_or_else(|e| panic!("GetFindings in {what}: {e:?}"));
        for f in page.findings() {
            let s = |v: Option<&str>| v.unwrap_or_default().to_string();
            out.push(Seen {
                id: s(f.id()),
                generator: s(f.generator_id()),
                account: s(f.aws_account_id()),
                record_state: s(f.record_state().map(|r| r.as_str())),
                compliance: s(f.compliance().and_then(|c| c.status()).map(|c| c.as_str())),
                workflow: s(f.workflow().and_then(|w| w.status()).map(|w| w.as_str())),
                first_observed: s(f.first_observed_at()),
            });
        }
    }
    out.sort();
    out
}
