//! Every detail type, as these types serialise it, is valid against its JSON Schema in
//! `shared/schemas/events/` (a real validator, formats checked), and the schemas refuse what
//! they must: a missing required field, an unknown field, a malformed id.
use serde_json::{json, Value};

use super::*;
use crate::domain::ledger::LedgerAction;

const PLACE: Place<'static> = Place { partition: "aws", region: "us-east-1", account: "111111111111" };

fn schema(t: DetailType) -> jsonschema::Validator {
    let path = format!("{}/../schemas/events/{}", env!("CARGO_MANIFEST_DIR"), t.schema_file());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(schema["title"], t.as_str(), "{path} documents {t}");
    jsonschema::options().should_validate_formats(true).build(&schema).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn errors(t: DetailType, detail: &Value) -> Vec<String> {
    schema(t).iter_errors(detail).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

fn side(account: &str, vpc: &str) -> PeeringSide {
    PeeringSide {
        account: account.into(),
        vpc: vpc.into(),
        region: "us-east-1".into(),
        cidrs: vec!["10.1.0.0/16".parse().unwrap()],
    }
}

/// One instance of each detail type, as the functions build them.
fn samples() -> Vec<(DetailType, Value)> {
    let peering = PeeringDecision {
        decision: LedgerAction::RoutesAdded.as_str().into(),
        pcx: "pcx-0a1b2c3d4e5f60718".into(),
        reason_code: None,
        reason: "a live grant matches and the CIDR checks pass".into(),
        requester: Some(side("222222222222", "vpc-0b1b2c3d")),
        accepter: Some(PeeringSide { cidrs: Vec::new(), ..side("111111111111", "vpc-0a1b2c3d") }),
        routes: vec![RouteNote {
            side: Side::Accepter,
            route_table: "rtb-0c1b2c3d".into(),
            destination: "10.1.0.0/16".parse().unwrap(),
            existing_target: None,
        }],
        dry_run: false,
    };
    let endpoint = EndpointConnectionDecision {
        decision: LedgerAction::Accepted.as_str().into(),
        service: "vpce-svc-0123456789abcdef0".into(),
        endpoint: Some("vpce-0123456789abcdef0".into()),
        account: Some("222222222222".into()),
        reason_code: "granted".into(),
        reason: "live grant; 0 of 2 endpoints in use".into(),
        principals_added: Vec::new(),
        principals_removed: Vec::new(),
        dry_run: false,
    };
    let request = ApprovalRequested {
        request: "pcx-0a1b2c3d4e5f60718".into(),
        kind: "peering".into(),
        account: "444444444444".into(),
        region: "us-east-1".into(),
        target: "vpc-0a1b2c3d".into(),
        requester_vpc: Some("vpc-0d1b2c3d".into()),
        cidrs: vec!["10.3.0.0/16".parse().unwrap()],
        checks: vec![CheckVerdict { check: "grant".into(), passed: false, detail: "no peering grant".into() }],
        first_seen: "2026-11-29T03:00:00Z".into(),
        approve_command: "vpcwarden approve pcx-0a1b2c3d4e5f60718".into(),
        deny_command: "vpcwarden deny pcx-0a1b2c3d4e5f60718 --reason …".into(),
    };
    let opened = FindingChange {
        finding_id: "beb4c3ab5ecb945a".into(),
        code: FindingCode::PeeringRouteMissing,
        severity: Severity::High,
        account: "111111111111".into(),
        region: "us-east-1".into(),
        resource: "rtb-0c1b2c3d".into(),
        first_seen: "2026-11-28T03:00:00Z".into(),
        message: Some("rtb-0c1b2c3d has no route 10.1.0.0/16 -> pcx-0a1b2c3d4e5f60718".into()),
        resolved_at: None,
    };
    let resolved = FindingChange { resolved_at: Some("2026-11-29T03:00:00Z".into()), message: None, ..opened.clone() };
    let completed = AuditCompleted {
        generated_at: "2026-11-29T03:00:00.123456789Z".into(),
        scopes_audited: 2,
        scopes_failed: 0,
        summary: AuditCounts { total: 3, high: 2, low: 1, new: 1, resolved: 1, waived: 1, ..AuditCounts::default() },
        reports: vec!["s3://reports/nightly/111111111111/us-east-1/report.json".into()],
        dry_run: false,
    };
    let v = |d: &dyn erased::Detail| d.json();
    vec![
        (DetailType::PeeringDecision, v(&peering)),
        (DetailType::EndpointConnectionDecision, v(&endpoint)),
        (DetailType::ApprovalRequested, v(&request)),
        (DetailType::FindingOpened, v(&opened)),
        (DetailType::FindingResolved, v(&resolved)),
        (DetailType::AuditCompleted, v(&completed)),
    ]
}

mod erased {
    pub trait Detail {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Detail for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("details serialise")
        }
    }
}

#[test]
fn every_detail_type_is_valid_against_its_schema() {
    let samples = samples();
    assert_eq!(samples.len(), DetailType::ALL.len(), "a sample of every detail type");
    for (t, detail) in samples {
        assert_eq!(errors(t, &detail), Vec::<String>::new(), "{t}: {detail:#}");
    }
}

#[test]
fn the_schemas_refuse_missing_unknown_and_malformed_fields() {
    for (t, detail) in samples() {
        let required = schema_required(t);
        assert!(!required.is_empty(), "{t}");
        for field in required {
            let mut d = detail.clone();
            d.as_object_mut().unwrap().remove(&field);
            assert!(!errors(t, &d).is_empty(), "{t} without {field} must be refused");
        }
        let mut d = detail.clone();
        d["surprise"] = json!(1);
        assert!(!errors(t, &d).is_empty(), "{t} with an unknown field must be refused");
    }
    let mut bad = samples()[0].1.clone();
    bad["pcx"] = json!("pcx-NOTHEX");
    assert!(!errors(DetailType::PeeringDecision, &bad).is_empty());
    let mut bad = samples()[3].1.clone();
    bad["first_seen"] = json!("yesterday");
    assert!(!errors(DetailType::FindingOpened, &bad).is_empty(), "formats are checked");
}

fn schema_required(t: DetailType) -> Vec<String> {
    let path = format!("{}/../schemas/events/{}", env!("CARGO_MANIFEST_DIR"), t.schema_file());
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    schema["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn arns_name_resources_as_ec2_does() {
    assert_eq!(
        arn(&PLACE, Ec2Resource::PeeringConnection("pcx-0a1b2c3d")),
        "arn:aws:ec2:us-east-1:111111111111:vpc-peering-connection/pcx-0a1b2c3d"
    );
    assert_eq!(
        arn(&PLACE, Ec2Resource::EndpointService("vpce-svc-0a1b2c3d")),
        "arn:aws:ec2:us-east-1:111111111111:vpc-endpoint-service/vpce-svc-0a1b2c3d"
    );
    assert_eq!(arn(&PLACE, Ec2Resource::RouteTable("rtb-1")), "arn:aws:ec2:us-east-1:111111111111:route-table/rtb-1");
    assert_eq!(arn(&PLACE, Ec2Resource::Vpc("vpc-1")), "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1");
    assert_eq!(arn(&PLACE, Ec2Resource::Endpoint("vpce-1")), "arn:aws:ec2:us-east-1:111111111111:vpc-endpoint/vpce-1");
    assert_eq!(DetailType::ApprovalRequested.schema_file(), "approval-requested.schema.json");
}
