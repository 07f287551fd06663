//! What invoked the auditor: the nightly EventBridge schedule, a direct invocation
//! `{"dry_run": true, "remediate": false}`, or one step of the org-audit state machine
//! (`{"mode": "plan" | "scope" | "aggregate", …}`). An invocation can only make a run safer
//! than the configuration: `dry_run: true` forces a dry run, `remediate: false` turns
//! remediation off; the opposite values cannot override `DRY_RUN=true` or `REMEDIATE=false`.
use serde_json::{Map, Value};

use crate::domain::ids::{is_account_id, is_region};
use crate::domain::scopes::RunId;
use crate::error::{Error, Result};

/// What one invocation is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Every scope in this invocation (no `mode`): the schedule, a person, small estates.
    Run(Request),
    /// The org audit's first step: discover the scopes, write the plan.
    Plan(Request),
    /// One scope of an org audit.
    Scope { run: RunId, account: String, region: String, holds_allowlist: bool, request: Request },
    /// The org audit's last step: the one report of the run.
    Aggregate { run: RunId },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub trigger: &'static str,
    pub dry_run: Option<bool>,
    pub remediate: Option<bool>,
}

/// The invocation an event asks for.
pub fn invocation(event: Value) -> Result<Invocation> {
    let mode = match &event {
        Value::Object(map) => map.get("mode").cloned(),
        _ => None,
    };
    let Some(mode) = mode else {
        return parse(event).map(Invocation::Run);
    };
    let Value::Object(mut map) = event else { unreachable!("a mode is only read from an object") };
    map.remove("mode");
    match mode.as_str() {
        Some("plan") => {
            only(&map, &["dry_run", "remediate"], "plan")?;
            Ok(Invocation::Plan(options("org-audit", &map)?))
        }
        Some("scope") => {
            only(&map, &["run_id", "account", "region", "holds_allowlist", "dry_run", "remediate"], "scope")?;
            let account = text(&map, "account", is_account_id, "an AWS account id (12 digits)")?;
            let region = text(&map, "region", is_region, "an AWS region (e.g. us-east-1)")?;
            let holds_allowlist = match map.get("holds_allowlist") {
                None | Some(Value::Bool(false)) => false,
                Some(Value::Bool(true)) => true,
                Some(other) => {
                    return Err(Error::BadEvent(format!("`holds_allowlist` must be true or false, got {other}")))
                }
            };
            Ok(Invocation::Scope {
                run: run_id(&map)?,
                account,
                region,
                holds_allowlist,
                request: options("org-audit", &map)?,
            })
        }
        Some("aggregate") => {
            only(&map, &["run_id"], "aggregate")?;
            Ok(Invocation::Aggregate { run: run_id(&map)? })
        }
        _ => Err(Error::BadEvent(format!("unknown `mode` {mode} (expected \"plan\", \"scope\" or \"aggregate\")"))),
    }
}

fn only(map: &Map<String, Value>, allowed: &[&str], mode: &str) -> Result<()> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(Error::BadEvent(format!(
            "unknown field `{unknown}` in a `{mode}` invocation (expected `mode`, `{}`)",
            allowed.join("`, `")
        ))),
        None => Ok(()),
    }
}

fn text(map: &Map<String, Value>, name: &str, valid: fn(&str) -> bool, what: &str) -> Result<String> {
    match map.get(name) {
        Some(Value::String(s)) if valid(s) => Ok(s.clone()),
        Some(other) => Err(Error::BadEvent(format!("`{name}` must be {what}, got {other}"))),
        None => Err(Error::BadEvent(format!("`{name}` is missing ({what})"))),
    }
}

fn run_id(map: &Map<String, Value>) -> Result<RunId> {
    match map.get("run_id") {
        Some(Value::String(s)) => RunId::try_from(s.clone()).map_err(|e| Error::BadEvent(format!("`run_id`: {e}"))),
        Some(other) => Err(Error::BadEvent(format!("`run_id` must be a string, got {other}"))),
        None => Err(Error::BadEvent("`run_id` is missing (the plan step's answer names it)".into())),
    }
}

/// `dry_run` and `remediate`: true, false, or null/absent (the configuration applies).
fn options(trigger: &'static str, map: &Map<String, Value>) -> Result<Request> {
    let flag = |name: &str| match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Error::BadEvent(format!("`{name}` must be true or false, got {other}"))),
    };
    Ok(Request { trigger, dry_run: flag("dry_run")?, remediate: flag("remediate")? })
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
    if let Some(unknown) = map.keys().find(|k| !["dry_run", "remediate"].contains(&k.as_str())) {
        return Err(Error::BadEvent(format!("unknown field `{unknown}` (expected `dry_run` and/or `remediate`)")));
    }
    options("invoke", &map)
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
    fn the_state_machine_s_steps_are_read_with_their_fields() {
        let run = RunId::try_from("20261129T030000Z-1a2b3c4d".to_string()).unwrap();
        assert_eq!(
            invocation(json!({"mode": "plan", "dry_run": null, "remediate": false})).unwrap(),
            Invocation::Plan(Request { trigger: "org-audit", dry_run: None, remediate: Some(false) })
        );
        let scope = json!({"mode": "scope", "run_id": run.as_str(), "account": "123456789012", "region": "eu-west-1",
                           "holds_allowlist": true, "dry_run": true, "remediate": null});
        assert_eq!(
            invocation(scope).unwrap(),
            Invocation::Scope {
                run: run.clone(),
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                holds_allowlist: true,
                request: Request { trigger: "org-audit", dry_run: Some(true), remediate: None },
            }
        );
        assert_eq!(
            invocation(json!({"mode": "aggregate", "run_id": run.as_str()})).unwrap(),
            Invocation::Aggregate { run }
        );
        assert_eq!(
            invocation(json!({})).unwrap(),
            Invocation::Run(Request { trigger: "invoke", ..Request::default() })
        );
    }

    #[test]
    fn a_malformed_step_is_named() {
        let run = "20261129T030000Z-1a2b3c4d";
        for (e, says) in [
            (json!({"mode": "audit"}), "unknown `mode`"),
            (json!({"mode": 1}), "unknown `mode`"),
            (json!({"mode": "plan", "accounts": "org"}), "unknown field `accounts` in a `plan` invocation"),
            (json!({"mode": "scope", "run_id": run, "region": "us-east-1"}), "`account` is missing"),
            (
                json!({"mode": "scope", "run_id": run, "account": "12", "region": "us-east-1"}),
                "`account` must be an AWS account id",
            ),
            (
                json!({"mode": "scope", "run_id": run, "account": "123456789012", "region": "mars"}),
                "`region` must be an AWS region",
            ),
            (
                json!({"mode": "scope", "run_id": "../x", "account": "123456789012", "region": "us-east-1"}),
                "is not a run id",
            ),
            (json!({"mode": "aggregate"}), "`run_id` is missing"),
            (json!({"mode": "aggregate", "run_id": run, "dry_run": true}), "unknown field `dry_run`"),
        ] {
            let err = invocation(e.clone()).unwrap_err();
            assert!(matches!(err, Error::BadEvent(_)) && err.to_string().contains(says), "{e}: {err}");
        }
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
