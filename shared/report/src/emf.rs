//! CloudWatch Embedded Metric Format: the run's counts as log lines CloudWatch turns into
//! metrics (namespace `vpcwarden`), with no API call.
//!
//! EMF takes a dimension's value from a top-level field of the record, so one record carries one
//! `Severity`: a run writes one record per severity (all four, zeros included, so alarms see
//! 0 rather than missing data). Each holds `Findings` for its severity and the count of each
//! code of that severity, under the dimension sets `[Severity]` and `[]` (so the dimensionless
//! `Findings` sums to the run's total). The `critical` record also carries, without dimension,
//! `ScopesAudited`, `ScopesFailed`, and `FindingsNew` and `FindingsResolved` (compared with each
//! scope's previous run). Waived findings are in no metric: an accepted risk raises no alarm.
//!
//! No crate is used: `metrics_cloudwatch_embedded` emits through the global `metrics`
//! recorder (awkward for a library shared with a CLI) and pulls in `lambda_http`; these records
//! are a few serde structs.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{severity_name, Summary};
use vpcwarden_core::domain::{FindingCode, Severity};

pub const NAMESPACE: &str = "vpcwarden";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDefinition {
    name: String,
    unit: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive {
    namespace: &'static str,
    dimensions: Vec<Vec<&'static str>>,
    metrics: Vec<MetricDefinition>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    timestamp: i64,
    cloud_watch_metrics: Vec<Directive>,
}

#[derive(Serialize)]
struct Record {
    #[serde(rename = "_aws")]
    aws: Metadata,
    #[serde(rename = "Severity")]
    severity: &'static str,
    /// Metric values and properties, by name.
    #[serde(flatten)]
    values: BTreeMap<String, Value>,
}

fn count(name: &str) -> MetricDefinition {
    MetricDefinition { name: name.to_string(), unit: "Count" }
}

/// The records of one run (one JSON document per severity), ready to print one per line.
pub fn emf_records(
    summary: &Summary,
    scopes_audited: usize,
    scopes_failed: usize,
    function: &str,
    timestamp_ms: i64,
) -> Vec<String> {
    [Severity::Critical, Severity::High, Severity::Medium, Severity::Low]
        .into_iter()
        .map(|severity| {
            let codes: Vec<FindingCode> =
                FindingCode::ALL.iter().copied().filter(|c| c.severity() == severity).collect();
            let mut metrics = vec![count("Findings")];
            metrics.extend(codes.iter().map(|c| count(c.as_str())));
            let mut values: BTreeMap<String, Value> = BTreeMap::new();
            values.insert("Findings".into(), summary.by_severity.get(&severity).copied().unwrap_or(0).into());
            for c in &codes {
                values.insert(c.as_str().into(), summary.by_code.get(c).copied().unwrap_or(0).into());
            }
            values.insert("function".into(), function.into());
            let mut directives =
                vec![Directive { namespace: NAMESPACE, dimensions: vec![vec!["Severity"], vec![]], metrics }];
            if severity == Severity::Critical {
                directives.push(Directive {
                    namespace: NAMESPACE,
                    dimensions: vec![vec![]],
                    metrics: vec![
                        count("ScopesAudited"),
                        count("ScopesFailed"),
                        count("FindingsNew"),
                        count("FindingsResolved"),
                    ],
                });
                values.insert("ScopesAudited".into(), scopes_audited.into());
                values.insert("ScopesFailed".into(), scopes_failed.into());
                values.insert("FindingsNew".into(), summary.new.into());
                values.insert("FindingsResolved".into(), summary.resolved.into());
            }
            let record = Record {
                aws: Metadata { timestamp: timestamp_ms, cloud_watch_metrics: directives },
                severity: severity_name(severity),
                values,
            };
            serde_json::to_string(&record).expect("EMF records always serialise")
        })
        .collect()
}

#[derive(Serialize)]
struct EventsFailedRecord<'a> {
    #[serde(rename = "_aws")]
    aws: Metadata,
    #[serde(rename = "Function")]
    function: &'a str,
    #[serde(rename = "EventsFailed")]
    events_failed: usize,
}

/// The record of the events a function could not publish (`EventsFailed`, by `Function` and
/// in all), written only when some failed.
pub fn events_failed_record(function: &str, failed: usize, timestamp_ms: i64) -> String {
    let directive = Directive {
        namespace: NAMESPACE,
        dimensions: vec![vec!["Function"], vec![]],
        metrics: vec![count("EventsFailed")],
    };
    let record = EventsFailedRecord {
        aws: Metadata { timestamp: timestamp_ms, cloud_watch_metrics: vec![directive] },
        function,
        events_failed: failed,
    };
    serde_json::to_string(&record).expect("EMF records always serialise")
}

#[cfg(test)]
mod events_failed_tests {
    use super::*;

    #[test]
    fn events_failed_is_a_metric_by_function_and_in_all() {
        let line: Value =
            serde_json::from_str(&events_failed_record("peering-acceptor", 3, 1_767_225_600_000)).unwrap();
        assert_eq!(line["EventsFailed"], 3);
        assert_eq!(line["Function"], "peering-acceptor");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], serde_json::json!([["Function"], []]));
        assert_eq!(directive["Metrics"][0]["Name"], "EventsFailed");
    }
}
