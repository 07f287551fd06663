//! Carrying out route plans: bounded concurrency under EC2's mutating-call bucket, every
//! outcome accounted for in the answer and the ledger.
use futures::stream::{self, StreamExt};
use serde_json::json;

use super::answer::{Outcome, RouteRef};
use super::Acceptor;
use crate::aws::ec2::{CreateOutcome, Ec2};
use crate::core::RouteChange;
use crate::domain::Side;
use crate::error::Result;

/// Concurrent route calls in flight; well inside the mutating bucket (burst 50), with the SDK's
/// adaptive retry absorbing `RequestLimitExceeded` once the bucket drains.
const IN_FLIGHT: usize = 8;

enum Done {
    Added(RouteRef),
    Removed(RouteRef),
    Conflict(RouteChange),
    Nothing,
    Failed(String),
}

pub(super) async fn apply(ctx: &Acceptor, ec2: &Ec2, side: Side, plan: Vec<RouteChange>, out: &mut Outcome) {
    if ctx.dry_run() {
        out.planned.extend(plan);
        return;
    }
    let results: Vec<Done> = stream::iter(plan)
        .map(|change| async move {
            let r = |rt: &str, d| RouteRef { side, route_table: rt.to_string(), destination: d };
            match &change {
                RouteChange::Create { route_table, destination, pcx } => {
                    match ec2.create_route(route_table, destination, pcx).await {
                        Ok(CreateOutcome::Created) => Done::Added(r(route_table, *destination)),
                        Ok(CreateOutcome::Exists(Some(t))) if t.is_pcx(pcx) => Done::Nothing,
                        Ok(CreateOutcome::Exists(existing)) => Done::Conflict(RouteChange::Conflict {
                            route_table: route_table.clone(),
                            destination: *destination,
                            existing: existing.unwrap_or(crate::domain::RouteTarget::Other("unknown".into())),
                        }),
                        Err(e) => Done::Failed(format!("{side:?} {route_table} {destination}: {e}")),
                    }
                }
                RouteChange::Delete { route_table, destination, .. } => {
                    match ec2.delete_route(route_table, destination).await {
                        Ok(true) => Done::Removed(r(route_table, *destination)),
                        Ok(false) => Done::Nothing,
                        Err(e) => Done::Failed(format!("{side:?} {route_table} {destination}: {e}")),
                    }
                }
                RouteChange::Conflict { .. } => Done::Conflict(change.clone()),
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for done in results {
        match done {
            Done::Added(r) => out.routes_added.push(r),
            Done::Removed(r) => out.routes_removed.push(r),
            Done::Conflict(RouteChange::Conflict { route_table, destination, existing }) => {
                out.conflict(side, &route_table, destination, &existing)
            }
            Done::Conflict(_) | Done::Nothing => {}
            Done::Failed(e) => out.errors.push(e),
        }
    }
    // Stable order for answers and ledger records.
    out.routes_added.sort_by(|a, b| (&a.route_table, a.destination).cmp(&(&b.route_table, b.destination)));
    out.routes_removed.sort_by(|a, b| (&a.route_table, a.destination).cmp(&(&b.route_table, b.destination)));
}

/// One ledger record per kind of route change this invocation made.
pub(super) async fn record(ctx: &Acceptor, out: &Outcome) -> Result<()> {
    if !out.routes_added.is_empty() {
        ctx.record(&out.pcx, "routes-added", None, json!({"routes": out.routes_added})).await?;
    }
    if !out.routes_removed.is_empty() {
        ctx.record(&out.pcx, "routes-removed", None, json!({"routes": out.routes_removed})).await?;
    }
    if !out.conflicts.is_empty() {
        ctx.record_refusal(
            &out.pcx,
            "route-conflict",
            "destination already routed to another target; left untouched",
            json!({"conflicts": out.conflicts}),
        )
        .await?;
    }
    Ok(())
}
