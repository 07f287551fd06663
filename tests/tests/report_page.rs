//! The HTML report as a person sees it, measured in headless Chromium at a 1,400-pixel window:
//! the page fits (no horizontal scroll), the drawing is in the page's font, and its smallest
//! text is legible once the drawing is scaled to the page. The demo's estate (the auditor's real
//! report) and a synthetic estate of 60 nodes; a screenshot of each is kept under
//! `<target>/screenshots/` to look at.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use vpcwarden::domain::{FindingCode, Severity};
use vpcwarden::report::{Estate, EstateConsumer, EstatePeering, EstateService, EstateVpc, Health, Report};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::privatelink::{self, principal};
use vpcwarden_tests::seed::{self, RouteTargetSpec};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, target_dir, ACCOUNT, REGION};

/// The window a person reads the report in.
const WINDOW: u32 = 1400;
/// The smallest text a person reads without zooming, in screen pixels.
const LEGIBLE_PX: f64 = 10.5;

fn screenshots() -> PathBuf {
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir
}

/// Measures `html` at [`WINDOW`] and keeps a screenshot named `name`.
fn measure(html: &str, name: &str) -> Value {
    let page = screenshots().join(format!("{name}.html"));
    std::fs::write(&page, html).expect("the page is written");
    audit_seed::screenshot(&page, &page.with_extension("png"), WINDOW);
    audit_seed::page_metrics(html, WINDOW)
}

fn assert_readable(m: &Value) {
    let n = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("{k} in {m}"));
    assert!(n("texts") > 0.0, "the drawing has text: {m}");
    assert!(n("scroll_width") <= n("inner_width"), "no horizontal scroll at {WINDOW} px: {m}");
    assert!(n("drawing_width") <= n("inner_width"), "{m}");
    assert!(n("smallest_text_px") >= LEGIBLE_PX, "the drawing's text is legible: {m}");
    let font = m["font_family"].as_str().unwrap_or_default();
    assert!(font.contains("system-ui") && !font.contains("Times"), "the page's font: {m}");
}

#[tokio::test]
async fn the_demo_report_fits_a_1400_pixel_window_in_the_page_font() {
    // The demo's estate: our hub with payments accepted and routed, analytics granted but
    // blocked (its CIDR is routed), a stranger unlisted; an endpoint service with two vendors.
    let stage = Stage::new().await;
    let aws = &stage.aws;
    let hub = seed::vpc(aws, ACCOUNT, REGION, "10.0.0.0/16").await.name("hub").route_tables(2).create().await;
    let payments = seed::vpc(aws, "222222222222", REGION, "10.1.0.0/16").await.name("payments").create().await;
    let analytics = seed::vpc(aws, "333333333333", REGION, "10.1.0.0/16").await.name("analytics").create().await;
    let stranger = seed::vpc(aws, "444444444444", REGION, "10.9.0.0/16").await.name("stranger").create().await;
    let pcx = audit_seed::active_peering(aws, &payments, &hub, true).await;
    for table in &hub.route_tables {
        seed::add_route(aws, &hub, table, "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;
    }
    tables::put_peering_grant(aws, Some(&hub.id), "222222222222", &["10.1.0.0/16"], None, None).await;
    tables::put_peering_grant(aws, Some(&hub.id), "333333333333", &[], None, None).await;
    seed::request_peering(aws, &analytics, &hub).await;
    seed::request_peering(aws, &stranger, &hub).await;
    let provider = privatelink::provider(aws, true).await;
    let service = privatelink::service(aws, &provider, &[principal("555555555555"), principal("666666666666")]).await;
    privatelink::consumer(aws, "555555555555", "10.20.0.0/16").await.connect(&service).await;
    privatelink::consumer(aws, "666666666666", "10.30.0.0/16").await.connect(&service).await;

    audit_seed::ensure_bucket(aws).await;
    let f = stage.function("drift-auditor", &[("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "nightly")]);
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("drift-auditor failed: {e}\n{}", f.logs()));
    assert_eq!(answer["findings"]["PEERING_PENDING_BLOCKED"], 1, "analytics is blocked: {answer:#}");
    let uri = answer["reports"].as_array().unwrap().iter().filter_map(Value::as_str).find(|u| u.ends_with(".html"));
    let html = audit_seed::report_object(aws, uri.unwrap().strip_prefix(&format!("s3://{BUCKET}/")).unwrap()).await;
    let m = measure(&html, "demo-report");
    assert_readable(&m);
    assert!(html.contains("NEW"), "new findings are marked in the drawing and the tables");
}

fn vpc(i: usize, audited: bool) -> EstateVpc {
    EstateVpc {
        id: format!("vpc-{i:017x}"),
        account: if audited { ACCOUNT.into() } else { format!("{:012}", 200_000_000_000u64 + i as u64) },
        region: REGION.into(),
        name: audited.then(|| format!("hub-{i}")),
        cidrs: vec![format!("10.{i}.0.0/16")],
        audited,
    }
}

fn health(worst: Option<Severity>, codes: Vec<FindingCode>, new: bool) -> Health {
    Health { worst, codes, new }
}

#[test]
fn sixty_nodes_fit_a_1400_pixel_window_without_horizontal_scroll() {
    // Two hubs with 20 peers each (40 connections: nodes too), 8 consumer accounts of a
    // service: 2 + 20 + 20 + 1 + 8 = 51 boxes, 71 with the connections.
    let mut estate = Estate::default();
    estate.vpcs.extend((0..2).map(|i| vpc(i, true)));
    for i in 0..20 {
        estate.vpcs.push(vpc(10 + i, false));
        for hub in 0..2 {
            let k = 2 * i + hub;
            estate.peerings.push(EstatePeering {
                id: format!("pcx-{k:017x}"),
                status: if k % 5 == 0 { "pending-acceptance".into() } else { "active".into() },
                requester_vpc: vpc(10 + i, false).id,
                accepter_vpc: vpc(hub, true).id,
                managed: true,
                health: if k % 7 == 0 {
                    health(Some(Severity::High), vec![FindingCode::PeeringRouteMissing], k % 2 == 0)
                } else {
                    health(None, vec![], false)
                },
            });
        }
    }
    estate.services.push(EstateService {
        id: "vpce-svc-0123456789abcdef0".into(),
        account: ACCOUNT.into(),
        region: REGION.into(),
        acceptance_required: true,
        consumers: (0..8)
            .map(|i| EstateConsumer {
                account: format!("{:012}", 300_000_000_000u64 + i),
                connections: BTreeMap::from([("available".to_string(), 1)]),
                health: health(None, vec![], false),
            })
            .collect(),
        health: health(Some(Severity::Critical), vec![FindingCode::EndpointServiceWildcardPrincipal], true),
    });
    let mut report = Report::build("2027-01-15T03:00:00Z", &[], None);
    report.estate = estate;
    let html = vpcwarden::report::html(&report);
    assert_readable(&measure(&html, "sixty-nodes"));
}
