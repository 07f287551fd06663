use super::*;
use vpcwarden_core::domain::Facts;

const BEFORE: &str = "2027-01-14T03:00:00.5Z";
const NOW: &str = "2027-01-15T03:00:00Z";

fn wildcard(service: &str) -> Finding {
    Finding::new("111111111111", "us-east-1", Facts::EndpointServiceWildcardPrincipal { service: service.into() })
}

fn report_with(findings: &[(&Finding, &str)], waived: &[(&Finding, &str)]) -> String {
    let row = |(f, first_seen): &(&Finding, &str)| {
        serde_json::json!({"id": f.id(), "code": f.code(), "resource": f.resource(), "account": f.account,
                           "region": f.region, "first_seen": first_seen, "message": "whatever the words were"})
    };
    serde_json::json!({"schema_version": 1, "generated_at": BEFORE,
                       "findings": findings.iter().map(row).collect::<Vec<_>>(),
                       "waived": waived.iter().map(row).collect::<Vec<_>>()})
    .to_string()
}

#[test]
fn same_id_persists_with_its_first_sighting_new_ids_are_new_gone_ones_resolved() {
    let (kept, gone, waived, added) =
        (wildcard("vpce-svc-1"), wildcard("vpce-svc-2"), wildcard("vpce-svc-3"), wildcard("vpce-svc-4"));
    let previous = Previous::from_report(&report_with(
        &[(&kept, "2027-01-01T00:00:00Z"), (&gone, "2027-01-10T00:00:00Z")],
        &[(&waived, "2026-12-01T00:00:00Z")],
    ));
    assert_eq!(previous.generated_at(), Some(BEFORE));
    assert_eq!(previous.note(), None);
    let c = compare(&previous, &[added.clone(), kept.clone(), waived.clone()], NOW);
    assert_eq!(c.seen[&kept.id()], (Status::Persisting, "2027-01-01T00:00:00Z".to_string()));
    assert_eq!(c.seen[&waived.id()], (Status::Persisting, "2026-12-01T00:00:00Z".to_string()), "waived ones too");
    assert_eq!(c.seen[&added.id()], (Status::New, NOW.to_string()));
    assert_eq!(c.resolved.len(), 1);
    let r = &c.resolved[0];
    assert_eq!(
        (r.id.as_str(), r.code.as_str(), r.resource.as_str()),
        (gone.id().as_str(), "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL", "vpce-svc-2")
    );
    assert_eq!((r.first_seen.as_str(), r.resolved_at.as_str()), ("2027-01-10T00:00:00Z", NOW));
}

#[test]
fn no_previous_run_or_an_unreadable_one_makes_everything_new_with_a_note() {
    let f = wildcard("vpce-svc-1");
    for previous in [
        Previous::None,
        Previous::from_report("{not json"),
        Previous::from_report(
            r#"{"generated_at": "x", "findings": [{"code": "A", "resource": "r", "account": "1", "region": "r"}]}"#,
        ),
        Previous::Unreadable("the previous report cannot be read: AccessDenied".into()),
    ] {
        let c = compare(&previous, std::slice::from_ref(&f), NOW);
        assert_eq!(c.seen[&f.id()].0, Status::New, "{previous:?}");
        assert!(c.resolved.is_empty());
        let note = previous.note().expect("a note says why");
        assert!(note.contains("new"), "{note}");
    }
    assert!(Previous::from_report(
        r#"{"generated_at": "x", "findings": [{"code": "A", "resource": "r", "account": "1", "region": "r"}]}"#
    )
    .note()
    .unwrap()
    .contains("no finding ids"));
}

#[test]
fn a_report_without_first_seen_dates_its_findings_from_its_own_time() {
    let f = wildcard("vpce-svc-1");
    let json = serde_json::json!({"generated_at": BEFORE, "findings": [{"id": f.id(), "code": "X", "resource": "r",
                                  "account": "1", "region": "r"}]});
    let c = compare(&Previous::from_report(&json.to_string()), std::slice::from_ref(&f), NOW);
    assert_eq!(c.seen[&f.id()], (Status::Persisting, BEFORE.to_string()));
}

#[test]
fn times_convert_both_ways_and_ages_read_for_people() {
    assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(epoch_seconds("2027-01-15T08:00:00Z"), Some(1_800_000_000));
    assert_eq!(epoch_seconds("2027-01-15T08:00:00.123456789Z"), Some(1_800_000_000));
    assert_eq!(epoch_seconds("2024-02-29T12:00:00+00:00"), Some(1_709_208_000));
    assert_eq!(epoch_seconds("2027-01-15T08:00:00+02:00"), None, "UTC only, as the reports write");
    assert_eq!(epoch_seconds("yesterday"), None);
    for t in [0, 1_709_208_000, 1_800_000_000, 4_102_444_800] {
        assert_eq!(epoch_seconds(&rfc3339_of(t)), Some(t));
    }
    assert_eq!(rfc3339_of(1_800_000_000), "2027-01-15T08:00:00Z");
    assert_eq!(age(NOW, NOW), "under an hour");
    assert_eq!(age("2027-01-15T02:30:00Z", NOW), "under an hour");
    assert_eq!(age("2027-01-14T02:00:00Z", NOW), "25 hours");
    assert_eq!(age("2027-01-01T03:00:00Z", NOW), "14 days");
    assert_eq!(age("garbage", NOW), "new");
}
