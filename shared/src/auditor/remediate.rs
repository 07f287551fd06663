//! Carrying out the remediation plan of one scope — recreate missing routes, delete routes to
//! dead connections vpcwarden created — through the one route executor and recorder; a dry run
//! only lists the plan. A route found routed elsewhere when it is created is a conflict:
//! reported, never overwritten.
use serde_json::json;

use super::Auditor;
use crate::aws::ec2::Ec2;
use crate::domain::Side;
use crate::report::{Remedy, RemedyOutcome};
use crate::routes::{self, Executed, Purpose, RouteOutcome};
use vpcwarden_core::RouteChange;

pub(super) async fn apply(
    ctx: &Auditor,
    ec2: &Ec2,
    account: &str,
    region: &str,
    plan: Vec<RouteChange>,
    dry_run: bool,
) -> Vec<Remedy> {
    // The plan spans both sides of the scope's connections; the records name tables, not sides.
    let executed = routes::execute(ec2, Side::Accepter, plan, dry_run).await;
    let context = json!({"account": account, "region": region});
    if let Err(e) = routes::record(&ctx.ledger, Purpose::Remediation, None, &executed, &context).await {
        tracing::error!(account, region, error = %e, "remediation not ledgered");
    }
    let remedies: Vec<Remedy> = executed.into_iter().map(|e| remedy(e, account, region)).collect();
    for r in remedies.iter().filter(|r| r.outcome == RemedyOutcome::Failed) {
        tracing::error!(account, region, route_table = r.change.route_table(), error = ?r.error, "remediation failed");
    }
    remedies
}

/// A change of the plan as the report lists it.
fn remedy(e: Executed, account: &str, region: &str) -> Remedy {
    let (outcome, error) = match e.outcome {
        RouteOutcome::Planned => (RemedyOutcome::Planned, None),
        RouteOutcome::Done => (RemedyOutcome::Applied, None),
        RouteOutcome::Unchanged => (RemedyOutcome::Unchanged, None),
        RouteOutcome::Conflict { existing } => (
            RemedyOutcome::Failed,
            Some(format!("conflict: {} is now routed to {existing}; left untouched", e.change.destination())),
        ),
        RouteOutcome::Failed { error } => (RemedyOutcome::Failed, Some(error)),
        RouteOutcome::Deferred => {
            (RemedyOutcome::Planned, Some("not started: the run was near its deadline; the next run repairs it".into()))
        }
    };
    Remedy { change: e.change, account: account.to_string(), region: region.to_string(), outcome, error }
}
