//! Carrying out the remediation plan of one scope: recreate missing routes, delete routes to dead
//! connections vpcwarden created. Bounded concurrency under EC2's mutating-call bucket; each
//! change is ledgered under its connection (`pcx#<id>`); a dry run only lists the plan. A route
//! found routed elsewhere when it is created is a conflict: reported, never overwritten.
use futures::StreamExt;
use serde_json::json;

use super::Auditor;
use crate::aws::ec2::{CreateOutcome, Ec2};
use crate::core::RouteChange;
use crate::domain::FindingCode;
use crate::report::{Remedy, RemedyOutcome};

/// Route calls in flight in one scope (the mutating bucket allows a burst of 50).
const IN_FLIGHT: usize = 8;

pub(super) async fn apply(
    ctx: &Auditor,
    ec2: &Ec2,
    account: &str,
    region: &str,
    plan: Vec<RouteChange>,
    dry_run: bool,
) -> Vec<Remedy> {
    let remedy = |change: RouteChange, outcome, error| Remedy {
        change,
        account: account.to_string(),
        region: region.to_string(),
        outcome,
        error,
    };
    if dry_run {
        return plan.into_iter().map(|c| remedy(c, RemedyOutcome::Planned, None)).collect();
    }
    let mut done: Vec<Remedy> = futures::stream::iter(plan)
        .map(|change| async move {
            let (outcome, error) = match &change {
                RouteChange::Create { route_table, destination, pcx } => {
                    match ec2.create_route(route_table, destination, pcx).await {
                        Ok(CreateOutcome::Created) => (RemedyOutcome::Applied, None),
                        Ok(CreateOutcome::Exists(Some(t))) if t.is_pcx(pcx) => (RemedyOutcome::Unchanged, None),
                        Ok(CreateOutcome::Exists(t)) => (
                            RemedyOutcome::Failed,
                            Some(format!(
                                "conflict: {destination} is now routed to {}; left untouched",
                                t.map_or("another target".to_string(), |t| t.to_string())
                            )),
                        ),
                        Err(e) => (RemedyOutcome::Failed, Some(e.to_string())),
                    }
                }
                RouteChange::Delete { route_table, destination, .. } => {
                    match ec2.delete_route(route_table, destination).await {
                        Ok(true) => (RemedyOutcome::Applied, None),
                        Ok(false) => (RemedyOutcome::Unchanged, None),
                        Err(e) => (RemedyOutcome::Failed, Some(e.to_string())),
                    }
                }
                RouteChange::Conflict { .. } => (RemedyOutcome::Failed, Some("conflicts are never remediated".into())),
            };
            remedy(change, outcome, error)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    done.sort_by(|a, b| {
        (a.change.route_table(), a.change.destination()).cmp(&(b.change.route_table(), b.change.destination()))
    });
    // One ledger record per change made (or attempted and failed).
    let records = done.iter().filter(|r| r.outcome != RemedyOutcome::Unchanged).map(|r| async move {
        let (pcx, action, code) = match &r.change {
            RouteChange::Create { pcx, .. } => (pcx, "route-restored", FindingCode::PeeringRouteMissing),
            RouteChange::Delete { pcx, .. } => (pcx, "route-removed", FindingCode::PeeringRouteBlackhole),
            RouteChange::Conflict { .. } => return,
        };
        let reason = match r.outcome {
            RemedyOutcome::Failed => {
                format!("remediation of {} failed: {}", code.as_str(), r.error.as_deref().unwrap_or(""))
            }
            _ => format!("remediation of {}", code.as_str()),
        };
        let details = json!({
            "account": r.account, "region": r.region, "route_table": r.change.route_table(),
            "destination": r.change.destination(), "finding": code.as_str(), "outcome": r.outcome.as_str(),
        });
        if let Err(e) = ctx.ledger.record(&format!("pcx#{pcx}"), action, Some(reason), false, details).await {
            tracing::error!(pcx = %pcx, error = %e, "remediation not ledgered");
        }
    });
    futures::stream::iter(records).buffer_unordered(IN_FLIGHT).collect::<Vec<()>>().await;
    for r in done.iter().filter(|r| r.outcome == RemedyOutcome::Failed) {
        tracing::error!(account, region, route_table = r.change.route_table(), error = ?r.error, "remediation failed");
    }
    done
}
