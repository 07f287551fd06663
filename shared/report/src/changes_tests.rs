//! The reports over time: new, persisting (with their age), resolved and waived findings in the
//! JSON, the Markdown, the HTML page, the drawing and the metrics.
use super::tests::{audited, GENERATED};
use super::*;
use vpcwarden_core::domain::Waiver;

const EARLIER: &str = "2027-01-10T03:00:00Z";

/// The fixture's scope, seen before: its first finding persisting since EARLIER, another one
/// (gone now) resolved, and its wildcard principal waived.
pub(crate) fn over_time() -> (Report, Finding, Finding) {
    let mut scope = audited();
    let a = scope.outcome.as_mut().unwrap();
    let persisting = a.findings.iter().find(|f| f.code() == FindingCode::PeeringRouteMissing).unwrap().clone();
    let waived = a.findings.iter().find(|f| f.code() == FindingCode::EndpointServiceWildcardPrincipal).unwrap().clone();
    let gone = Finding::new(
        ME_ACCOUNT,
        "us-east-1",
        vpcwarden_core::domain::Facts::EndpointServiceAutoAccept { service: "vpce-svc-0ff".into(), name: "old".into() },
    );
    let row = |f: &Finding| {
        serde_json::json!({"id": f.id(), "code": f.code(), "resource": f.resource(), "account": f.account,
                           "region": f.region, "first_seen": EARLIER})
    };
    let previous = serde_json::json!({"generated_at": EARLIER, "findings": [row(&persisting), row(&gone)]});
    a.previous = history::Previous::from_report(&previous.to_string());
    let waiver = Waiver {
        code: waived.code(),
        resource: waived.resource(),
        account: None,
        reason: "a public data service".into(),
        expires_at: 1_830_000_000,
        added_by: "alice".into(),
        added_at: 1_800_000_000,
    };
    a.waived.insert(waived.id(), waiver);
    (Report::build(GENERATED, &[scope], None), persisting, gone)
}

const ME_ACCOUNT: &str = vpcwarden_core::fixtures::ME;

#[test]
fn the_json_says_what_is_new_persisting_resolved_and_waived() {
    let (report, persisting, gone) = over_time();
    let v: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(v["summary"]["total"], 2, "the waived finding is counted in no total");
    assert_eq!(v["summary"]["by_severity"]["critical"], 1, "the unlisted endpoint, not the waived `*`");
    assert_eq!((v["summary"]["new"].as_u64(), v["summary"]["resolved"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["summary"]["waived"], 1);
    assert_eq!(v["scope"]["scopes"][0]["findings"], 2);
    assert_eq!(v["scope"]["scopes"][0]["compared_with"], EARLIER);
    let kept = v["findings"].as_array().unwrap().iter().find(|f| f["id"] == persisting.id().as_str()).unwrap();
    assert_eq!((kept["status"].as_str(), kept["first_seen"].as_str()), (Some("persisting"), Some(EARLIER)));
    let waived = &v["waived"][0];
    assert_eq!(waived["code"], "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL");
    assert_eq!(waived["waiver"]["reason"], "a public data service");
    assert_eq!(waived["waiver"]["expires_at"], 1_830_000_000);
    assert_eq!(v["resolved"][0]["id"], gone.id().as_str());
    assert_eq!(v["resolved"][0]["resolved_at"], GENERATED);
    assert_eq!(v["resolved"][0]["first_seen"], EARLIER);
}

#[test]
fn markdown_and_html_lead_with_the_changes_and_list_waivers_apart() {
    let (report, _, gone) = over_time();
    let md = markdown(&report);
    let changed = md.find("## What changed since the last run").expect("a changes section");
    assert!(changed < md.find("## Scopes").unwrap(), "changes come first");
    assert!(md.contains("**1 new**, **1 resolved**, 1 waived."), "{md}");
    assert!(md.contains(&format!("| resolved | `ENDPOINT_SERVICE_AUTO_ACCEPT` | `{}` |", gone.resource())), "{md}");
    assert!(md.contains(&format!("5 days (since {EARLIER})")), "the age of a persisting finding: {md}");
    let waived = md.find("## Waived").expect("waived findings apart");
    assert!(md[waived..].contains("a public data service — accepted by alice until 2027-12-28T"), "{md}");

    let html = html(&report);
    let changes = html.find("id=\"changes\"").expect("the changes cards");
    assert!(changes < html.find("id=\"summary\"").unwrap(), "the page leads with what changed");
    assert!(html.contains(">NEW<"), "new findings are marked");
    assert!(html.contains("id=\"waived\""));
    assert!(html.contains("5 days"));
}

#[test]
fn new_findings_mark_the_drawing_and_the_metrics_count_changes_not_waivers() {
    let (report, _, _) = over_time();
    // The new finding (the unlisted endpoint) marks its consumer; the persisting one marks nothing.
    let consumer = &report.estate.services[0].consumers[0];
    assert!(consumer.health.new, "{:#?}", report.estate);
    assert!(report.estate.peerings.iter().all(|p| !p.health.new));
    let waived_colour = report.estate.services[0].health.codes.contains(&FindingCode::EndpointServiceWildcardPrincipal);
    assert!(!waived_colour, "a waived finding colours nothing");
    let lines = emf_records(&report.summary, 1, 0, "drift-auditor", 0);
    let critical: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!((critical["FindingsNew"].as_u64(), critical["FindingsResolved"].as_u64()), (Some(1), Some(1)));
    assert_eq!(critical["Findings"], 1, "the waived critical finding raises no alarm");
    let declared: Vec<&str> = critical["_aws"]["CloudWatchMetrics"][1]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["Name"].as_str())
        .collect();
    assert_eq!(declared, ["ScopesAudited", "ScopesFailed", "FindingsNew", "FindingsResolved"]);
}
