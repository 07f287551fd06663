use super::*;
use vpcwarden_core::audit::{audit, Desired, EndpointService, Observed};
use vpcwarden_core::domain::peering::MANAGED_TAG;
use vpcwarden_core::domain::{Connection, ConnectionState, LoadBalancerHealth, TargetGroupHealth};
use vpcwarden_core::domain::{Peering, PeeringStatus, RouteTarget, Vpc};
use vpcwarden_core::fixtures::*;

pub(crate) const GENERATED: &str = "2027-01-15T03:00:00Z";
const SVC: &str = "vpce-svc-0123456789abcdef0";

/// My hub with one managed active peering whose route is missing from one table, and an
/// endpoint service allowing `*` with one consumer.
fn observed() -> Observed {
    let mut p = Peering { status: PeeringStatus::Active, ..peering() };
    p.tags.insert(MANAGED_TAG.into(), "true".into());
    Observed {
        account: ME.into(),
        region: "us-east-1".into(),
        vpcs: vec![Vpc { id: "vpc-acc".into(), cidrs: nets(&["10.0.0.0/16"]), name: Some("hub <main>".into()) }],
        route_tables: vec![
            table("rtb-1", "vpc-acc", &[("10.1.0.0/16", pcx(&p.id))]),
            table("rtb-2", "vpc-acc", &[("10.0.0.0/16", RouteTarget::Local)]),
        ],
        peerings: vec![p],
        services: vec![EndpointService {
            id: SVC.into(),
            name: "svc".into(),
            acceptance_required: true,
            allowed_principals: vec!["*".into()],
            connections: vec![Connection {
                endpoint_id: "vpce-0aaa0000000000001".into(),
                service_id: SVC.into(),
                account: PEER.into(),
                state: ConnectionState::Available,
                created_at: None,
            }],
            load_balancers: vec![LoadBalancerHealth {
                arn: "lb".into(),
                target_groups: vec![TargetGroupHealth { arn: "tg".into(), healthy: 1, total: 1 }],
            }],
        }],
        ledger_accepted: Default::default(),
        holds_allowlist: true,
    }
}

pub(crate) fn audited() -> ScopeResult {
    let o = observed();
    let d = Desired {
        peering_grants: vec![grant()],
        stale_pending: 86400,
        expiry_warning: 14 * 86400,
        ..Desired::default()
    };
    let findings = audit(&d, &o, NOW);
    ScopeResult {
        account: ME.into(),
        region: "us-east-1".into(),
        outcome: Ok(Box::new(Audited {
            remedies: vec![Remedy {
                change: RouteChange::Create {
                    route_table: "rtb-2".into(),
                    destination: net("10.1.0.0/16"),
                    pcx: o.peerings[0].id.clone(),
                },
                account: ME.into(),
                region: "us-east-1".into(),
                outcome: RemedyOutcome::Applied,
                error: None,
            }],
            observed: o,
            findings,
            notes: vec!["a note".into()],
            ..Audited::default()
        })),
    }
}

fn failed() -> ScopeResult {
    ScopeResult {
        account: "333333333333".into(),
        region: "us-east-1".into(),
        outcome: Err("cannot assume vpcwarden-audit in 333333333333: AccessDenied | not allowed".into()),
    }
}

fn report() -> Report {
    Report::build(GENERATED, &[audited(), failed()], None)
}

#[test]
fn the_fixture_has_findings_of_several_severities() {
    let codes: Vec<&str> = report().findings.iter().map(|f| f.code.as_str()).collect();
    // The missing route (high, not remediated yet when found), `*` (critical), and the consumer
    // without a grant (critical).
    assert_eq!(codes, ["ENDPOINT_NOT_ALLOWLISTED", "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL", "PEERING_ROUTE_MISSING"]);
}

#[test]
fn summary_counts_every_severity_and_code_zeros_included() {
    let s = report().summary;
    assert_eq!(s.total, 3);
    assert_eq!(s.by_severity.len(), 4);
    assert_eq!(s.by_severity[&Severity::Critical], 2);
    assert_eq!(s.by_severity[&Severity::Low], 0);
    assert_eq!(s.by_code.len(), FindingCode::ALL.len());
    assert_eq!(s.by_code[&FindingCode::PeeringRouteMissing], 1);
    assert_eq!(s.found_codes()[0].0.severity(), Severity::Critical);
}

#[test]
fn json_follows_the_versioned_schema() {
    let v: serde_json::Value = serde_json::from_str(&report().json()).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["generated_at"], GENERATED);
    assert_eq!(v["scope"]["accounts"], serde_json::json!([ME, "333333333333"]));
    assert_eq!(v["scope"]["regions"], serde_json::json!(["us-east-1"]));
    let scopes = v["scope"]["scopes"].as_array().unwrap();
    assert_eq!(scopes[0]["status"], "ok");
    assert_eq!(scopes[0]["findings"], 3);
    assert_eq!(scopes[1]["status"], "failed");
    assert!(scopes[1]["error"].as_str().unwrap().contains("AccessDenied"));
    assert_eq!(v["summary"]["total"], 3);
    for s in ["critical", "high", "medium", "low"] {
        assert!(v["summary"]["by_severity"][s].is_u64(), "{s}");
    }
    for c in FindingCode::ALL {
        assert!(v["summary"]["by_code"][c.as_str()].is_u64(), "{}", c.as_str());
    }
    for f in v["findings"].as_array().unwrap() {
        let mut fields: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort();
        // Exactly the fields of schema version 1, no more (the history fields are additions).
        let mut expected = [
            "id",
            "code",
            "severity",
            "resource",
            "account",
            "region",
            "message",
            "remediation",
            "status",
            "first_seen",
            "waiver",
        ];
        expected.sort();
        assert_eq!(fields, expected, "{f}");
        for field in expected.iter().filter(|f| **f != "waiver") {
            assert!(f[*field].is_string(), "{field}: {f}");
        }
        assert!(f["waiver"].is_null(), "counted findings carry no waiver");
        assert_eq!(f["status"], "new", "no previous run: every finding is new");
        assert_eq!(f["first_seen"], GENERATED);
    }
    for (name, n) in [("new", 3), ("resolved", 0), ("waived", 0)] {
        assert_eq!(v["summary"][name], n, "{name}");
    }
    assert_eq!((v["waived"].as_array().map(Vec::len), v["resolved"].as_array().map(Vec::len)), (Some(0), Some(0)));
    let f = &v["findings"][2];
    assert_eq!((f["code"].as_str(), f["severity"].as_str()), (Some("PEERING_ROUTE_MISSING"), Some("high")));
    assert_eq!(
        (f["resource"].as_str(), f["account"].as_str(), f["region"].as_str()),
        (Some("rtb-2"), Some(ME), Some("us-east-1"))
    );
    assert_eq!(v["remediation"][0]["change"], "create");
    assert_eq!(v["remediation"][0]["outcome"], "applied");
    assert_eq!(v["remediation"][0]["route_table"], "rtb-2");
    assert_eq!(v["estate"]["vpcs"].as_array().unwrap().len(), 2, "hub and its peer");
}

#[test]
fn a_report_for_one_scope_covers_it_and_still_lists_every_scope() {
    let r = Report::build(GENERATED, &[audited(), failed()], Some(("333333333333", "us-east-1")));
    assert!(r.findings.is_empty());
    assert_eq!(r.scope.accounts, ["333333333333"]);
    assert_eq!(r.scope.scopes.len(), 2);
    assert_eq!(r.failed_scopes().count(), 1);
    let r = Report::build(GENERATED, &[audited(), failed()], Some((ME, "us-east-1")));
    assert_eq!(r.summary.total, 3);
    assert_eq!(r.scope.accounts, [ME]);
}

#[test]
fn estate_colours_peerings_and_consumers_by_their_findings() {
    let estate = report().estate;
    let p = &estate.peerings[0];
    assert_eq!((p.status.as_str(), p.managed), ("active", true));
    assert_eq!(p.health.worst, Some(Severity::High), "the missing route names the connection");
    assert_eq!(p.health.codes, [FindingCode::PeeringRouteMissing]);
    let peer = estate.vpcs.iter().find(|v| v.id == "vpc-req").unwrap();
    assert!(!peer.audited && peer.cidrs == ["10.1.0.0/16"]);
    let s = &estate.services[0];
    assert_eq!(s.health.worst, Some(Severity::Critical));
    assert_eq!(s.consumers[0].account, PEER);
    assert_eq!(s.consumers[0].connections["available"], 1);
    assert_eq!(s.consumers[0].health.worst, Some(Severity::Critical));
}

#[test]
fn markdown_has_the_summary_the_scopes_and_a_row_per_finding() {
    let md = markdown(&report());
    assert!(md.starts_with("# vpcwarden drift report"));
    assert!(md.contains("| critical | 2 |"));
    assert!(md.contains("| `PEERING_ROUTE_MISSING` | high | 1 |"));
    assert!(md.contains("**failed**"));
    assert!(md.contains("AccessDenied \\| not allowed"), "pipes are escaped");
    assert_eq!(md.lines().filter(|l| l.starts_with("| critical | `") || l.starts_with("| high | `")).count(), 3);
    assert!(md.contains("| applied | create | rtb-2 | 10.1.0.0/16 |"));
}

#[test]
fn html_is_one_self_contained_page_with_a_drawing() {
    let page = html(&report());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<div id=\"estate\"><svg"), "the drawing is inline");
    assert!(!page.contains("<?xml"));
    assert!(
        !page.contains("<script") && !page.contains("<link") && !page.contains("@import") && !page.contains("url(http")
    );
    for attr in ["src=\"http", "href=\"http", "src='http"] {
        assert!(!page.contains(attr), "{attr}");
    }
    assert!(page.contains("hub &lt;main&gt;"), "labels are escaped in the drawing");
    assert!(page.contains("ENDPOINT_SERVICE_WILDCARD_PRINCIPAL"));
    assert!(page.contains("could not be audited"));
    assert!(page.contains("id=\"remediation\""));
}

#[test]
fn a_clean_report_says_so() {
    let clean = ScopeResult {
        account: ME.into(),
        region: "us-east-1".into(),
        outcome: Ok(Box::new(Audited {
            observed: Observed { account: ME.into(), ..Observed::default() },
            ..Audited::default()
        })),
    };
    let r = Report::build(GENERATED, &[clean], None);
    assert_eq!(r.summary.total, 0);
    assert!(markdown(&r).contains("No findings."));
    let page = html(&r);
    assert!(page.contains("No findings.") && page.contains("estate-missing"));
}

#[test]
fn dot_draws_vpcs_peerings_services_and_consumers() {
    let (dot, note) = dot(&report().estate);
    assert!(note.is_none());
    assert!(dot.starts_with("digraph estate {"));
    assert!(dot.contains("\"vpc-req\" -> \"connection:pcx-"), "{dot}");
    assert!(dot.contains("10.0.0.0/16"));
    assert!(dot.contains("\"#dc2626\""), "the edge is coloured by its high finding");
    assert!(dot.contains(&format!("\"consumer:{SVC}:{PEER}\" -> \"service:{SVC}\"")));
    let (svg, _) = svg(&report().estate).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("vpc-acc") && svg.contains("<path") || svg.contains("<line"));
    // The page's font, never the library's serif; scaled by its viewBox, only ever down.
    assert!(!svg.contains("Times") && svg.contains("font-family: system-ui"), "{}", &svg[..400]);
    assert!(svg.contains("viewBox=\"0 0 ") && svg.contains("max-width: 100%"));
    assert!(dot.contains("NEW\\n"), "a finding new since the last run is marked");
}

#[test]
fn a_large_estate_draws_the_elements_with_findings_first() {
    let mut estate = Estate::default();
    for i in 0..(MAX_DRAWN_NODES + 60) {
        estate.vpcs.push(EstateVpc {
            id: format!("vpc-{i:08x}"),
            account: ME.into(),
            region: "us-east-1".into(),
            name: None,
            cidrs: vec![],
            audited: true,
        });
    }
    for i in 0..(MAX_DRAWN_NODES + 60) / 2 {
        estate.peerings.push(EstatePeering {
            id: format!("pcx-{i:08x}"),
            status: "active".into(),
            requester_vpc: format!("vpc-{:08x}", 2 * i),
            accepter_vpc: format!("vpc-{:08x}", 2 * i + 1),
            managed: true,
            health: Health {
                worst: (i == 100).then_some(Severity::High),
                codes: if i == 100 { vec![FindingCode::PeeringRouteMissing] } else { vec![] },
                new: i == 100,
            },
        });
    }
    let (dot, note) = dot(&estate);
    assert!(note.unwrap().contains(&format!("of {} nodes", MAX_DRAWN_NODES + 60)));
    assert!(dot.contains("pcx-00000064"), "the peering with a finding is drawn");
    assert!(dot.matches(" -> ").count() <= MAX_DRAWN_NODES, "two edges per connection drawn");
}

#[test]
fn emf_has_one_record_per_severity_with_counts_per_code() {
    let summary = report().summary;
    let lines = emf_records(&summary, 1, 1, "drift-auditor", 1_800_000_000_000);
    assert_eq!(lines.len(), 4);
    let records: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| !l.contains('\n')));
    let mut total = 0;
    for r in &records {
        let directive = &r["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "vpcwarden");
        assert_eq!(directive["Dimensions"], serde_json::json!([["Severity"], []]));
        assert_eq!(r["_aws"]["Timestamp"], 1_800_000_000_000i64);
        // Every metric declared has its value at the top level.
        for m in directive["Metrics"].as_array().unwrap() {
            assert!(r[m["Name"].as_str().unwrap()].is_u64(), "{m}");
        }
        total += r["Findings"].as_u64().unwrap();
    }
    assert_eq!(total, 3);
    let critical = records.iter().find(|r| r["Severity"] == "critical").unwrap();
    assert_eq!(critical["Findings"], 2);
    assert_eq!(critical["ENDPOINT_SERVICE_WILDCARD_PRINCIPAL"], 1);
    assert_eq!(critical["ScopesFailed"], 1);
    let high = records.iter().find(|r| r["Severity"] == "high").unwrap();
    assert_eq!(high["PEERING_ROUTE_MISSING"], 1);
    assert!(high.get("ScopesFailed").is_none());
    // Each code is declared exactly once across the records.
    let declared: usize =
        records.iter().map(|r| r["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len() - 1).sum();
    assert_eq!(declared, FindingCode::ALL.len());
}

#[test]
fn a_mesh_of_peerings_is_drawn_with_connection_nodes_in_bounded_time() {
    // A chain of connections (each VPC peered with the next ones) ranks as deep as it is long:
    // each connection becomes a node between its two VPCs instead.
    let mut estate = Estate::default();
    for i in 0..120 {
        estate.vpcs.push(EstateVpc {
            id: format!("vpc-{i:08x}"),
            account: ME.into(),
            region: "us-east-1".into(),
            name: None,
            cidrs: vec![format!("10.1.{i}.0/24")],
            audited: true,
        });
    }
    for k in 0..240usize {
        let (r, a) = (k % 120, (k % 120 + 1 + 3 * (k / 120)) % 120);
        estate.peerings.push(EstatePeering {
            id: format!("pcx-{k:08x}"),
            status: "active".into(),
            requester_vpc: format!("vpc-{r:08x}"),
            accepter_vpc: format!("vpc-{a:08x}"),
            managed: true,
            health: Health { worst: None, codes: vec![], new: false },
        });
    }
    let (dot, _) = dot(&estate);
    assert!(dot.contains("\"connection:pcx-00000000\""), "connection nodes");
    let started = std::time::Instant::now();
    let (svg, _) = svg(&estate).unwrap();
    assert!(svg.contains("pcx-000000ef"));
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    // Hubs and spokes keep their direct edges.
    // Shallow: each connection sits on the path from its requester to its accepter.
    let (shallow, _) = super::drawing::dot(&report().estate);
    assert!(shallow.contains("rankdir=LR"));
    let p = &report().estate.peerings[0];
    assert!(shallow.contains(&format!("\"{}\" -> \"connection:{}\"", p.requester_vpc, p.id)), "{shallow}");
    assert!(shallow.contains(&format!("\"connection:{}\" -> \"{}\"", p.id, p.accepter_vpc)), "{shallow}");
}

#[test]
fn findings_are_worded_with_the_ids_they_are_about() {
    let r = report();
    let pcx = peering().id;
    let [not_allowlisted, wildcard, missing] = &r.findings[..] else { panic!("{:#?}", r.findings) };
    for id in ["vpce-0aaa0000000000001", PEER, SVC, "without a live grant"] {
        assert!(not_allowlisted.message.contains(id), "{id}: {}", not_allowlisted.message);
    }
    assert!(not_allowlisted.remediation.contains("vpce-0aaa0000000000001"));
    assert!(wildcard.message.contains(SVC) && wildcard.message.contains('*'));
    for id in ["rtb-2", "vpc-acc", "10.1.0.0/16", pcx.as_str()] {
        assert!(missing.message.contains(id), "{id}: {}", missing.message);
    }
    assert!(missing.remediation.contains("REMEDIATE=true"));
    // The same words in every format.
    let (md, page) = (markdown(&r), html(&r));
    for f in &r.findings {
        assert!(md.contains(&f.message) && md.contains(&f.remediation), "{}", f.message);
        // Escaped in the page (`->` reads `-&gt;`), as every text is.
        let escaped = maud::html! { (f.message) }.into_string();
        assert!(escaped.contains("-&gt;") || !f.message.contains("->"));
        assert!(page.contains(&escaped), "{escaped}");
    }
}

#[test]
fn a_consumer_is_coloured_by_its_own_service_s_findings_only() {
    // PEER is a granted consumer of SVC, and an unlisted principal of another service: only
    // the other service's consumer line shows that.
    let mut o = observed();
    o.services[0].allowed_principals = vec![format!("arn:aws:iam::{PEER}:root")];
    let mut other = o.services[0].clone();
    other.id = "vpce-svc-0fedcba9876543210".into();
    other.connections[0].service_id = other.id.clone();
    other.connections[0].endpoint_id = "vpce-0bbb0000000000002".into();
    o.services.push(other);
    let d = Desired { endpoint_grants: vec![endpoint_grant(SVC, PEER)], stale_pending: 86400, ..Desired::default() };
    let findings = audit(&d, &o, NOW);
    let scope = ScopeResult {
        account: ME.into(),
        region: "us-east-1".into(),
        outcome: Ok(Box::new(Audited { observed: o, findings, ..Audited::default() })),
    };
    let estate = Report::build(GENERATED, &[scope], None).estate;
    let (granted, other) = (&estate.services[0], &estate.services[1]);
    assert_eq!(granted.consumers[0].health.worst, None, "{granted:#?}");
    assert_eq!(
        other.consumers[0].health.codes,
        [FindingCode::EndpointNotAllowlisted, FindingCode::EndpointServicePrincipalUnlisted]
    );
    assert_eq!(other.health.codes, [FindingCode::EndpointServicePrincipalUnlisted], "filed under the service");
}
