//! Carrying out route plans — peering-acceptor's wiring and cleanup, drift-auditor's remediation:
//! one executor that turns a plan into `CreateRoute`/`DeleteRoute` calls (a bounded number in
//! flight, dry run honoured) and says what became of each change, and one recorder that writes
//! those outcomes to the ledger under each connection.
use std::collections::BTreeMap;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};
use vpcwarden_core::RouteChange;

use crate::aws::ec2::{CreateOutcome, Ec2};
use crate::aws::ledger::Ledger;
use crate::domain::{FindingCode, LedgerAction, LedgerKey, RouteTarget, Side};
use crate::error::Result;

/// Route calls in flight at once: well inside EC2's mutating-call bucket (a burst of 50), with
/// the SDK's retries absorbing `RequestLimitExceeded` once it drains.
const IN_FLIGHT: usize = 8;

/// What became of one planned change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RouteOutcome {
    /// Dry run: nothing was called.
    Planned,
    /// This call made the change.
    Done,
    /// Already as planned: someone (a sweep, a person) got there first.
    Unchanged,
    /// The destination is routed to another target: left untouched.
    Conflict {
        existing: RouteTarget,
    },
    Failed {
        error: String,
    },
}

/// One change of a plan, on one side of its connection, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    pub side: Side,
    pub change: RouteChange,
    pub outcome: RouteOutcome,
}

/// Carries out `plan` on `side` (its tables are reached through `ec2`): every change gets an
/// outcome, in the order of (route table, destination). A dry run calls nothing.
pub(crate) async fn execute(ec2: &Ec2, side: Side, plan: Vec<RouteChange>, dry_run: bool) -> Vec<Executed> {
    let mut done: Vec<Executed> = futures::stream::iter(plan)
        .map(|change| async move {
            let outcome = if dry_run { RouteOutcome::Planned } else { call(ec2, &change).await };
            Executed { side, change, outcome }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    done.sort_by(|a, b| {
        (a.change.route_table(), a.change.destination()).cmp(&(b.change.route_table(), b.change.destination()))
    });
    done
}

async fn call(ec2: &Ec2, change: &RouteChange) -> RouteOutcome {
    let failed = |e: crate::error::Error| RouteOutcome::Failed { error: e.to_string() };
    match change {
        RouteChange::Create { route_table, destination, pcx } => {
            match ec2.create_route(route_table, destination, pcx).await {
                Ok(CreateOutcome::Created) => RouteOutcome::Done,
                Ok(CreateOutcome::Exists(Some(t))) if t.is_pcx(pcx) => RouteOutcome::Unchanged,
                Ok(CreateOutcome::Exists(existing)) => RouteOutcome::Conflict {
                    existing: existing.unwrap_or_else(|| RouteTarget::Other("unknown".into())),
                },
                Err(e) => failed(e),
            }
        }
        RouteChange::Delete { route_table, destination, .. } => {
            match ec2.delete_route(route_table, destination).await {
                Ok(true) => RouteOutcome::Done,
                Ok(false) => RouteOutcome::Unchanged,
                Err(e) => failed(e),
            }
        }
        RouteChange::Conflict { existing, .. } => RouteOutcome::Conflict { existing: existing.clone() },
    }
}

/// Why routes were changed: it decides how a created route is named in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// peering-acceptor wiring or cleaning up a connection.
    Wiring,
    /// drift-auditor's remediation of a finding.
    Remediation,
}

/// The ledger's name for an outcome, or `None` when it is not worth a record.
fn ledger_action(executed: &Executed, purpose: Purpose) -> Option<LedgerAction> {
    match (&executed.outcome, &executed.change, purpose) {
        (RouteOutcome::Planned | RouteOutcome::Unchanged, ..) => None,
        (RouteOutcome::Conflict { .. }, ..) => Some(LedgerAction::RouteConflict),
        (RouteOutcome::Failed { .. }, ..) => Some(LedgerAction::RoutesFailed),
        (RouteOutcome::Done, RouteChange::Create { .. }, Purpose::Wiring) => Some(LedgerAction::RoutesAdded),
        (RouteOutcome::Done, RouteChange::Create { .. }, Purpose::Remediation) => Some(LedgerAction::RoutesRestored),
        (RouteOutcome::Done, _, _) => Some(LedgerAction::RoutesRemoved),
    }
}

/// The finding a remediated change repairs.
fn remedied(change: &RouteChange) -> FindingCode {
    match change {
        RouteChange::Create { .. } => FindingCode::PeeringRouteMissing,
        _ => FindingCode::PeeringRouteBlackhole,
    }
}

fn reason(action: LedgerAction, purpose: Purpose, first: &Executed) -> Option<String> {
    let why = match purpose {
        Purpose::Wiring => None,
        Purpose::Remediation => Some(format!("remediation of {}", remedied(&first.change).as_str())),
    };
    match action {
        LedgerAction::RouteConflict => Some("destination already routed to another target; left untouched".into()),
        LedgerAction::RoutesFailed => Some(match why {
            Some(why) => format!("{why} failed"),
            None => "route changes failed".into(),
        }),
        _ => why,
    }
}

/// One route of a record: where (the side, when wiring a connection), and (for conflicts and
/// failures) what stood in the way.
fn route_json(e: &Executed, purpose: Purpose) -> Value {
    let mut route = json!({"route_table": e.change.route_table(), "destination": e.change.destination()});
    if purpose == Purpose::Wiring {
        route["side"] = json!(e.side);
    }
    match &e.outcome {
        RouteOutcome::Conflict { existing } => route["existing_target"] = json!(existing.to_string()),
        RouteOutcome::Failed { error } => route["error"] = json!(error),
        _ => {}
    }
    route
}

/// The connection a change goes through.
fn pcx_of(change: &RouteChange) -> Option<&str> {
    match change {
        RouteChange::Create { pcx, .. } | RouteChange::Delete { pcx, .. } => Some(pcx),
        RouteChange::Conflict { .. } => None,
    }
}

/// A ledger record to write about route changes.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRecord {
    pub key: LedgerKey,
    pub action: LedgerAction,
    pub reason: Option<String>,
    pub details: Value,
}

/// One record per connection and kind of outcome: the routes added, removed or restored, the
/// conflicts met, the failures. `context` (account, region…) goes into every record's details;
/// `pcx` names the connection of plan-level conflicts, which carry none.
pub fn records(purpose: Purpose, pcx: Option<&str>, executed: &[Executed], context: &Value) -> Vec<RouteRecord> {
    let mut groups: BTreeMap<(String, LedgerAction), Vec<&Executed>> = BTreeMap::new();
    for e in executed {
        let (Some(action), Some(pcx)) = (ledger_action(e, purpose), pcx_of(&e.change).or(pcx)) else { continue };
        groups.entry((pcx.to_string(), action)).or_default().push(e);
    }
    groups
        .into_iter()
        .map(|((pcx, action), group)| {
            let mut details = context.clone();
            details["routes"] = group.iter().map(|e| route_json(e, purpose)).collect();
            RouteRecord { key: LedgerKey::Peering(pcx), action, reason: reason(action, purpose, group[0]), details }
        })
        .collect()
}

/// Writes the [`records`] of `executed`; conflicts once per change of mind (a sweep meets the
/// same conflict every few minutes).
pub async fn record(
    ledger: &Ledger,
    purpose: Purpose,
    pcx: Option<&str>,
    executed: &[Executed],
    context: &Value,
) -> Result<()> {
    for r in records(purpose, pcx, executed, context) {
        if r.action == LedgerAction::RouteConflict {
            ledger.record_unless_repeated(&r.key, r.action, r.reason, false, r.details).await?;
        } else {
            ledger.record(&r.key, r.action, r.reason, false, r.details).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
