//! Helpers for drift-auditor estates: peering connections in any state (accepted, tagged,
//! deleted), PrivateLink connections accepted by the owner, ledger records, the report bucket,
//! and headless Chromium to render the HTML report.
use std::path::Path;
use std::process::Command;

use aws_sdk_ec2::types::Tag;

use vpcwarden::domain::{LedgerAction, LedgerKey};

use crate::aws::Aws;
use crate::privatelink::{self, principal};
use crate::seed::{self, RouteTargetSpec, SeededVpc};
use crate::{tables, ACCOUNT, REGION};

/// The report bucket of the tests and the demo.
pub const BUCKET: &str = "vpcwarden-reports";

/// The other accounts of [`every_code_estate`] (and the auditor tests).
pub const PEER: &str = "222222222222";
pub const THIRD: &str = "333333333333";
pub const FOURTH: &str = "444444444444";
pub const STRANGER: &str = "555555555555";
pub const UNLISTED_PRINCIPAL: &str = "666666666666";

/// What [`every_code_estate`] yields: every code once, but PEERING_PENDING_STALE twice (the
/// stranger's request and the blocked one are both pending longer than STALE_PENDING_HOURS=0).
pub fn every_code_expected() -> std::collections::BTreeMap<String, u64> {
    use vpcwarden::domain::FindingCode;
    FindingCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), if *c == FindingCode::PeeringPendingStale { 2 } else { 1 }))
        .collect()
}

/// The drift-auditor answer's counts by finding code.
pub fn findings_by_code(answer: &serde_json::Value) -> std::collections::BTreeMap<String, u64> {
    answer["findings"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap())).collect()
}

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
    let key = LedgerKey::Peering(pcx.to_string());
    let reason = "a live grant matches and the CIDR checks pass";
    tables::put_ledger_record(aws, &key, LedgerAction::Accepted.as_str(), reason, "peering-acceptor").await;
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

/// The drift-auditor of the tests and the demo, on `stage`: reports to [`BUCKET`] under
/// `nightly/`, the bucket created if need be; `extra` adds to (or overrides) its environment.
pub async fn auditor(stage: &crate::stage::Stage, extra: &[(&str, &str)]) -> crate::Function {
    ensure_bucket(&stage.aws).await;
    let mut env = vec![("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "nightly")];
    env.extend_from_slice(extra);
    stage.function("drift-auditor", &env)
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
    chromium_run(page, &["--dump-dom".to_string()])
}

/// What a person at a `width`-pixel-wide window sees of a report page, measured by Chromium:
/// `scroll_width` and `inner_width` (a horizontal scroll bar when the first is larger), the
/// drawing's width on screen, the smallest text of the drawing in screen pixels (its font size
/// times the drawing's scale), and that text's font family.
pub fn page_metrics(html: &str, width: u32) -> serde_json::Value {
    const MEASURE: &str = r#"<script>
(() => {
  const svg = document.querySelector('#estate svg');
  const scale = svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
  const texts = svg ? [...svg.querySelectorAll('text')] : [];
  const sizes = texts.map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  const m = {scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth,
             drawing_width: svg ? svg.getBoundingClientRect().width : 0, texts: texts.length,
             smallest_text_px: sizes.length ? Math.min(...sizes) : 0,
             font_family: texts.length ? getComputedStyle(texts[0]).fontFamily : ''};
  const out = document.createElement('pre'); out.id = 'metrics'; out.textContent = JSON.stringify(m);
  document.body.appendChild(out);
})();
</script>"#;
    let dir = std::env::temp_dir().join(format!("vpcwarden-measure-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let page = dir.join("report.html");
    std::fs::write(&page, html.replace("</body>", &format!("{MEASURE}</body>"))).expect("the page is written");
    let dom = chromium_run(&page, &[format!("--window-size={width},900"), "--dump-dom".to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    let open = "<pre id=\"metrics\">";
    let start = dom.find(open).unwrap_or_else(|| panic!("no metrics in the page:\n{dom}")) + open.len();
    let text = &dom[start..dom[start..].find("</pre>").map(|e| start + e).expect("closed metrics")];
    serde_json::from_str(&text.replace("&quot;", "\"")).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A screenshot of `page` at a `width`-pixel-wide window, as a person would see it.
pub fn screenshot(page: &Path, png: &Path, width: u32) {
    chromium_run(
        page,
        &[format!("--window-size={width},2400"), "--hide-scrollbars".into(), format!("--screenshot={}", png.display())],
    );
    assert!(png.is_file(), "chromium wrote no screenshot at {}", png.display());
}

fn chromium_run(page: &Path, extra: &[String]) -> String {
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
        .args(extra)
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

/// An estate with one instance of every finding code, in our account and region.
pub async fn every_code_estate(aws: &Aws) {
    // Hub: main table routed, rt-1 missing the peer route, rt-2 routing it to an IGW.
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.name("hub").route_tables(2).create().await;
    let payments = seed::vpc(aws, PEER, REGION, "10.1.0.0/16").await.create().await;
    let good = active_peering(aws, &payments, &hub, true).await;
    seed::add_route(aws, &hub, hub.main_table(), "10.1.0.0/16", RouteTargetSpec::Pcx(good.clone())).await;
    seed::add_route(aws, &hub, &hub.route_tables[2], "10.1.0.0/16", RouteTargetSpec::InternetGateway).await;
    // ... and its grant wants DNS resolution, which is off: PEERING_DNS_DRIFT.
    tables::put_peering_grant(aws, Some(&hub.id), PEER, &[], None, Some(true)).await;

    // An active peering nobody granted: PEERING_NOT_ALLOWLISTED.
    let third = seed::vpc(aws, THIRD, REGION, "10.3.0.0/16").await.create().await;
    active_peering(aws, &third, &hub, false).await;

    // A granted peering whose VPCs overlap since a block was added: PEERING_CIDR_OVERLAP.
    let hub2 = seed::vpc(aws, ACCOUNT, REGION, "10.20.0.0/16").await.name("hub2").create().await;
    let fourth = seed::vpc(aws, FOURTH, REGION, "10.21.0.0/16").await.create().await;
    active_peering(aws, &fourth, &hub2, false).await;
    tables::put_peering_grant(aws, Some(&hub2.id), FOURTH, &[], None, None).await;
    add_cidr(aws, &hub2, "10.21.128.0/17").await;

    // A route through a deleted peering: PEERING_ROUTE_BLACKHOLE.
    let gone = seed::vpc(aws, PEER, REGION, "10.6.0.0/16").await.create().await;
    let dead = active_peering(aws, &gone, &hub, false).await;
    seed::add_route(aws, &hub, hub.main_table(), "10.6.0.0/16", RouteTargetSpec::Pcx(dead.clone())).await;
    delete_peering(aws, ACCOUNT, REGION, &dead).await;

    // A pending request from a stranger: PEERING_PENDING_UNLISTED and (STALE_PENDING_HOURS=0)
    // PEERING_PENDING_STALE.
    let stranger = seed::vpc(aws, STRANGER, REGION, "10.5.0.0/16").await.create().await;
    seed::request_peering(aws, &stranger, &hub).await;

    // A granted request whose CIDR the hub already routes (to the dead connection):
    // PEERING_PENDING_BLOCKED (and stale too).
    let blocked = seed::vpc(aws, FOURTH, REGION, "10.6.0.0/16").await.create().await;
    seed::request_peering(aws, &blocked, &hub).await;
    tables::put_peering_grant(aws, Some(&hub.id), FOURTH, &[], None, None).await;

    // A waiver (of nothing found here) ending in 3 days: WAIVER_EXPIRING.
    let in_three_days = vpcwarden::clock::now_epoch() + 3 * 86_400;
    tables::put_waiver(aws, "PEERING_ROUTE_MISSING", "rtb-0000000000000000f", in_three_days, None).await;

    // Endpoint service 1 (healthy): `*` and an unlisted account allowed; the granted account
    // (limit 1, expiring in 3 days) has two connected endpoints and one pending; another
    // account is connected without a grant.
    let provider = privatelink::provider(aws, true).await;
    let principals = ["*".to_string(), principal(PEER), principal(UNLISTED_PRINCIPAL)];
    let svc = privatelink::service(aws, &provider, &principals).await;
    tables::put_endpoint_grant(aws, &svc.id, PEER, Some(1), Some(vpcwarden::clock::now_epoch() + 3 * 86_400)).await;
    let consumer = privatelink::consumer(aws, PEER, "10.40.0.0/16").await;
    let e1 = consumer.connect(&svc).await;
    let e2 = consumer.connect(&svc).await;
    consumer.connect(&svc).await; // left pending
    let outsider = privatelink::consumer(aws, THIRD, "10.41.0.0/16").await;
    let e4 = outsider.connect(&svc).await;
    accept_endpoints(aws, &svc.id, &[e1, e2, e4]).await;

    // Endpoint service 2: accepts anyone automatically, and its NLB has no target group.
    let unhealthy = privatelink::provider(aws, false).await;
    let svc2 = privatelink::service(aws, &unhealthy, &[]).await;
    set_acceptance_required(aws, &svc2.id, false).await;
}
