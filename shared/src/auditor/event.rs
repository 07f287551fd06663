//! What invoked the auditor: the nightly EventBridge schedule, or a direct invocation
//! `{"dry_run": true, "remediate": false}`. An invocation can only make a run safer than the
//! configuration: `dry_run: true` forces a dry run, `remediate: false` turns remediation off;
//! the opposite values cannot override `DRY_RUN=true` or `REMEDIATE=false`.
use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub trigger: &'static str,
    pub dry_run: Option<bool>,
    pub remediate: Option<bool>,
}

pub fn parse(event: Value) -> Result<Request> {
    let Value::Object(map) = event else {
        return Err(Error::BadEvent(format!("expected a JSON object (a schedule or {{\"dry_run\": …}}), got {event}")));
    };
    if map.contains_key("detail-type") || map.contains_key("source") {
        let source = map.get("source").and_then(Value::as_str).unwrap_or_default();
        let detail_type = map.get("detail-type").and_then(Value::as_str).unwrap_or_default();
        return match (source, detail_type) {
            ("aws.events", "Scheduled Event") => Ok(Request { trigger: "schedule", ..Request::default() }),
            _ => Err(Error::BadEvent(format!(
                "unsupported event source `{source}` / detail-type `{detail_type}`: drift-auditor runs on a schedule \
                 or a direct invocation"
            ))),
        };
    }
    let flag = |name: &str| match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Error::BadEvent(format!("`{name}` must be true or false, got {other}"))),
    };
    if let Some(unknown) = map.keys().find(|k| !["dry_run", "remediate"].contains(&k.as_str())) {
        return Err(Error::BadEvent(format!("unknown field `{unknown}` (expected `dry_run` and/or `remediate`)")));
    }
    Ok(Request { trigger: "invoke", dry_run: flag("dry_run")?, remediate: flag("remediate")? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schedule_runs_with_the_configuration() {
        let e = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
                       "account": "123456789012", "time": "2026-11-26T03:00:00Z", "region": "us-east-1",
                       "resources": [], "detail": {}});
        assert_eq!(parse(e).unwrap(), Request { trigger: "schedule", dry_run: None, remediate: None });
    }

    #[test]
    fn a_direct_invocation_may_ask_for_a_dry_run() {
        assert_eq!(parse(json!({})).unwrap(), Request { trigger: "invoke", dry_run: None, remediate: None });
        assert_eq!(
            parse(json!({"dry_run": true, "remediate": false})).unwrap(),
            Request { trigger: "invoke", dry_run: Some(true), remediate: Some(false) }
        );
    }

    #[test]
    fn anything_else_is_a_bad_event() {
        for e in [
            json!([1]),
            json!("run"),
            json!({"dry_run": "yes"}),
            json!({"dryrun": true}),
            json!({"source": "aws.ec2", "detail-type": "AWS API Call via CloudTrail", "detail": {}}),
        ] {
            let err = parse(e.clone()).unwrap_err();
            assert!(matches!(err, Error::BadEvent(_)), "{e}: {err}");
        }
    }
}
