//! Helpers for drift-auditor estates: peering connections in any state (accepted, tagged,
//! deleted), PrivateLink connections accepted by the owner, ledger records, the report bucket,
//! and headless Chromium to render the HTML report.
use std::path::Path;
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::types::Tag;

use crate::aws::Aws;
use crate::seed::SeededVpc;
use crate::{tables, ACCOUNT, REGION};

/// The report bucket of the tests and the demo.
pub const BUCKET: &str = "vpcwarden-reports";

/// Accepts `pcx` as its accepter (`accepter.account`, `accepter.region`).
pub async fn accept_peering(aws: &Aws, accepter: &SeededVpc, pcx: &str) {
    aws.ec2(&accepter.account, &accepter.region)
        .await
        .accept_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AcceptVpcPeeringConnection {pcx}: {e:?}"));
}

/// Tags `pcx` `vpcwarden:managed=true` as `account` (peering-acceptor tags as the accepter).
pub async fn tag_managed(aws: &Aws, account: &str, region: &str, pcx: &str) {
    aws.ec2(account, region)
        .await
        .create_tags()
        .resources(pcx)
        .tags(Tag::builder().key("vpcwarden:managed").value("true").build())
        .tags(Tag::builder().key("vpcwarden:accepted-at").value("2026-01-01T00:00:00Z").build())
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTags {pcx}: {e:?}"));
}

/// Deletes `pcx` as `account` (either side may).
pub async fn delete_peering(aws: &Aws, account: &str, region: &str, pcx: &str) {
    aws.ec2(account, region)
        .await
        .delete_vpc_peering_connection()
        .vpc_peering_connection_id(pcx)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteVpcPeeringConnection {pcx}: {e:?}"));
}

/// Requests and accepts a peering from `requester` into `accepter`; with `managed`, leaves the
/// marks peering-acceptor leaves: the accepter's tag and the ledger's `accepted` record. (The
/// emulator shows only the requester's tags on a connection, so there the ledger is what tells.)
pub async fn active_peering(aws: &Aws, requester: &SeededVpc, accepter: &SeededVpc, managed: bool) -> String {
    let pcx = crate::seed::request_peering(aws, requester, accepter).await;
    accept_peering(aws, accepter, &pcx).await;
    if managed {
        tag_managed(aws, &accepter.account, &accepter.region, &pcx).await;
        ledger_accepted(aws, &pcx).await;
    }
    pcx
}

/// Associates a secondary IPv4 block with a VPC.
pub async fn add_cidr(aws: &Aws, vpc: &SeededVpc, cidr: &str) {
    aws.ec2(&vpc.account, &vpc.region)
        .await
        .associate_vpc_cidr_block()
        .vpc_id(&vpc.id)
        .cidr_block(cidr)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AssociateVpcCidrBlock {cidr} to {}: {e:?}", vpc.id));
}

/// Accepts endpoint connections of our service, as its owner.
pub async fn accept_endpoints(aws: &Aws, service_id: &str, endpoint_ids: &[String]) {
    let out = aws
        .ec2(ACCOUNT, REGION)
        .await
        .accept_vpc_endpoint_connections()
        .service_id(service_id)
        .set_vpc_endpoint_ids(Some(endpoint_ids.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("AcceptVpcEndpointConnections {service_id}: {e:?}"));
    assert!(out.unsuccessful().is_empty(), "accept failed: {:?}", out.unsuccessful());
}

/// Turns `AcceptanceRequired` off (or on) for our service.
pub async fn set_acceptance_required(aws: &Aws, service_id: &str, required: bool) {
    aws.ec2(ACCOUNT, REGION)
        .await
        .modify_vpc_endpoint_service_configuration()
        .service_id(service_id)
        .acceptance_required(required)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ModifyVpcEndpointServiceConfiguration {service_id}: {e:?}"));
}

/// A ledger record saying peering-acceptor accepted `pcx` (as it writes it).
pub async fn ledger_accepted(aws: &Aws, pcx: &str) {
    let item = [
        ("pk", AttributeValue::S(format!("pcx#{pcx}"))),
        ("sk", AttributeValue::S("2026-01-01T00:00:00Z#accepted".into())),
        ("action", AttributeValue::S("accepted".into())),
        ("reason", AttributeValue::S("a live grant matches and the CIDR checks pass".into())),
        ("actor", AttributeValue::S("peering-acceptor".into())),
        ("at", AttributeValue::S("2026-01-01T00:00:00Z".into())),
        ("dry_run", AttributeValue::Bool(false)),
        ("details", AttributeValue::M(Default::default())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    tables::put_raw_item(aws, tables::LEDGER, item).await;
}

/// An S3 client in our account.
pub async fn s3(aws: &Aws) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::new(&aws.config(ACCOUNT, REGION).await)
}

/// Creates the report bucket in the emulator.
pub async fn create_bucket(aws: &Aws) {
    s3(aws)
        .await
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket {BUCKET}: {e:?}"));
}

/// Creates the report bucket unless it exists already.
pub async fn ensure_bucket(aws: &Aws) {
    let s3 = s3(aws).await;
    if s3.head_bucket().bucket(BUCKET).send().await.is_err() {
        create_bucket(aws).await;
    }
}

/// The keys under `prefix` in the report bucket, sorted.
pub async fn report_keys(aws: &Aws, prefix: &str) -> Vec<String> {
    let out = s3(aws)
        .await
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListObjectsV2 {BUCKET}/{prefix}: {e:?}"));
    let mut keys: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
    keys.sort();
    keys
}

/// An object of the report bucket as text.
pub async fn report_object(aws: &Aws, key: &str) -> String {
    let out = s3(aws)
        .await
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {BUCKET}/{key}: {e:?}"));
    let bytes = out.body.collect().await.unwrap_or_else(|e| panic!("reading {key}: {e}")).into_bytes();
    String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("{key} is not UTF-8: {e}"))
}

/// `chromium` from PATH (tests/tools/chromium.sh installs Debian's package).
pub fn chromium() -> std::path::PathBuf {
    for dir in std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default() {
        let candidate = dir.join("chromium");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("chromium is not installed: run tests/tools/chromium.sh (make test does)");
}

/// The DOM of `page` after headless Chromium loaded it (nothing but the file is reachable).
pub fn dump_dom(page: &Path) -> String {
    let profile = std::env::temp_dir().join(format!("vpcwarden-chromium-{}-{}", std::process::id(), unique()));
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--timeout=20000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run chromium: {e}"));
    let _ = std::fs::remove_dir_all(&profile);
    assert!(out.status.success(), "chromium failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
