//! `report.ocsf.json` against OCSF 1.1.0: the attributes the schema marks required for the
//! Compliance Finding class and the objects it holds (from ocsf-schema v1.1.0: base_event with
//! classification and occurrence, finding, compliance_finding, the cloud profile, metadata,
//! product, finding_info, compliance, remediation, cloud), and the enumerations used.
use super::*;
use crate::changes_tests::over_time;

/// (path, required attributes) for every object of the event; `""` is the event itself.
const REQUIRED: [(&str, &[&str]); 8] = [
    // base_event + classification + occurrence + finding + compliance_finding + cloud profile.
    (
        "",
        &[
            "activity_id",
            "category_uid",
            "class_uid",
            "type_uid",
            "time",
            "severity_id",
            "metadata",
            "finding_info",
            "compliance",
            "cloud",
        ],
    ),
    ("metadata", &["product", "version"]),
    ("metadata/product", &["vendor_name"]),
    ("finding_info", &["uid", "title"]),
    ("compliance", &["standards"]),
    ("remediation", &["desc"]),
    ("cloud", &["provider"]),
    ("resource", &[]),
];

fn at<'v>(v: &'v serde_json::Value, path: &str) -> &'v serde_json::Value {
    path.split('/').filter(|p| !p.is_empty()).fold(v, |v, p| &v[p])
}

fn problems(e: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for (path, required) in REQUIRED {
        let object = at(e, path);
        if !object.is_object() {
            out.push(format!("{path} is not an object"));
            continue;
        }
        for name in required {
            if object[name].is_null() {
                out.push(format!("{path}/{name} is required"));
            }
        }
    }
    // product is an _entity: at least one of name and uid.
    if at(e, "metadata/product/name").is_null() && at(e, "metadata/product/uid").is_null() {
        out.push("metadata/product needs a name or a uid".into());
    }
    let int_in = |path: &str, allowed: &[u64]| at(e, path).as_u64().is_some_and(|n| allowed.contains(&n));
    let checks: [(&str, &[u64]); 6] = [
        ("class_uid", &[2003]),
        ("category_uid", &[2]),
        ("activity_id", &[1, 2, 3]),
        ("severity_id", &[1, 2, 3, 4, 5]),
        ("status_id", &[1, 2, 3, 4]),
        ("compliance/status_id", &[1, 2, 3]),
    ];
    for (path, allowed) in checks {
        if !int_in(path, allowed) {
            out.push(format!("{path} = {} is not one of {allowed:?}", at(e, path)));
        }
    }
    let type_uid = at(e, "class_uid").as_u64().unwrap_or(0) * 100 + at(e, "activity_id").as_u64().unwrap_or(0);
    if at(e, "type_uid").as_u64() != Some(type_uid) {
        out.push("type_uid must be class_uid * 100 + activity_id".into());
    }
    if at(e, "compliance/standards").as_array().is_none_or(Vec::is_empty) {
        out.push("compliance/standards names at least one standard".into());
    }
    if !at(e, "time").is_i64() || at(e, "time").as_i64() <= Some(0) {
        out.push("time is epoch milliseconds".into());
    }
    if at(e, "metadata/version") != OCSF_VERSION {
        out.push("metadata/version".into());
    }
    out
}

#[test]
fn every_event_is_an_ocsf_1_1_compliance_finding_with_its_required_attributes() {
    let (report, persisting, gone) = over_time();
    let text = ocsf(&report, "aws");
    let events: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(events.len(), report.findings.len() + report.waived.len() + report.resolved.len());
    for e in &events {
        assert_eq!(problems(e), Vec::<String>::new(), "{e:#}");
    }
    let by_uid = |id: &str| events.iter().find(|e| e["finding_info"]["uid"] == id).unwrap();
    let kept = by_uid(&persisting.id());
    assert_eq!((kept["activity_name"].as_str(), kept["compliance"]["status"].as_str()), (Some("Update"), Some("Fail")));
    assert_eq!(kept["finding_info"]["first_seen_time"], 1_799_550_000_000i64, "2027-01-10T03:00:00Z");
    assert_eq!(kept["severity"], "High");
    let closed = by_uid(&gone.id());
    assert_eq!((closed["activity_id"].as_u64(), closed["status"].as_str()), (Some(3), Some("Resolved")));
    assert_eq!(closed["compliance"]["status_id"], 1);
    let waived = by_uid(&report.waived[0].id);
    assert_eq!(waived["status"], "Suppressed");
    let new = events.iter().find(|e| e["activity_name"] == "Create").expect("the new finding is a Create");
    assert_eq!(new["type_uid"], 200301);
}

#[test]
fn the_checker_catches_what_it_checks() {
    let (report, _, _) = over_time();
    let mut e = events(&report, "aws").remove(0);
    e["finding_info"].as_object_mut().unwrap().remove("title");
    e["class_uid"] = serde_json::json!(2001);
    let found = problems(&e);
    assert!(found.iter().any(|p| p.contains("finding_info/title")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("class_uid")), "{found:?}");
}
