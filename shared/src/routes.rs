//! Carrying out route plans — peering-acceptor's wiring and cleanup, drift-auditor's remediation:
//! one executor that turns a plan into `CreateRoute`/`DeleteRoute` calls (paced to EC2's request
//! bucket, a bounded number in flight, retried, dry run honoured, no call started once the
//! invocation nears its deadline) and says what became of each change, and one recorder that
//! writes those outcomes to the ledger under each connection.
mod pacer;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use vpcwarden_core::RouteChange;

pub(crate) use pacer::{Pacer, MUTATING};

use crate::aws::ec2::{CreateOutcome, Ec2};
use crate::aws::ledger::Ledger;
use crate::aws::{MAX_ATTEMPTS, MAX_BACKOFF};
use crate::clock::Deadline;
use crate::domain::{FindingCode, LedgerAction, LedgerKey, RouteTarget, Side};
use crate::error::{Error, Result};

/// Route calls in flight at once: enough to keep the pace the pacer sets over the round trips.
const IN_FLIGHT: usize = 8;

/// Time an invocation keeps, once it stops starting route calls, to hear back from those in
/// flight, record what it did and answer (ledger writes retry for a few seconds when throttled).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// Throttled attempts of one change before it counts as failed. With the pacer a change is
/// rarely refused twice; this bounds a bucket that other tools keep empty (the deadline bounds
/// the time).
const MAX_THROTTLED: u32 = 30;

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
    /// Not started: the invocation was near its deadline. The next invocation does it.
    Deferred,
}

/// One change of a plan, on one side of its connection, and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    pub side: Side,
    pub change: RouteChange,
    pub outcome: RouteOutcome,
}

/// A change waiting for its (next) call.
struct Waiting {
    change: RouteChange,
    attempts: u32,
    throttled: u32,
    not_before: Option<Instant>,
}

/// What one call came back with.
enum Answer {
    Outcome(RouteOutcome),
    Throttled(Error),
    Transient(Error),
}

/// Carries out `plan` on `side` (its tables are reached through `ec2`): every change gets an
/// outcome, in the order of (route table, destination). A dry run calls nothing.
///
/// Calls are paced by the adapter's pacer for the action (see `pacer`: EC2's bucket is per
/// account, region and action, shared by every executor using that adapter), retried here — a
/// throttle after a token from the pacer, another retryable error after a backoff — and not
/// started once [`Deadline::current`] is nearer than [`DEADLINE_MARGIN`]: those changes are
/// [`RouteOutcome::Deferred`].
pub(crate) async fn execute(ec2: &Ec2, side: Side, plan: Vec<RouteChange>, dry_run: bool) -> Vec<Executed> {
    let mut done = Vec::new();
    let mut queue = VecDeque::new();
    for change in plan {
        match (&change, dry_run) {
            (_, true) => done.push(Executed { side, change, outcome: RouteOutcome::Planned }),
            (RouteChange::Conflict { existing, .. }, false) => {
                let outcome = RouteOutcome::Conflict { existing: existing.clone() };
                done.push(Executed { side, change, outcome });
            }
            _ => queue.push_back(Waiting { change, attempts: 0, throttled: 0, not_before: None }),
        }
    }
    done.extend(run(ec2, queue, Deadline::current()).await.into_iter().map(|(change, outcome)| Executed {
        side,
        change,
        outcome,
    }));
    done.sort_by(|a, b| {
        (a.change.route_table(), a.change.destination()).cmp(&(b.change.route_table(), b.change.destination()))
    });
    done
}

/// The calls of `queue`, until each change has an outcome.
async fn run(ec2: &Ec2, mut queue: VecDeque<Waiting>, deadline: Deadline) -> Vec<(RouteChange, RouteOutcome)> {
    let mut done = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    while !queue.is_empty() || !in_flight.is_empty() {
        if !queue.is_empty() && deadline.is_near(DEADLINE_MARGIN) {
            tracing::warn!(deferred = queue.len(), "near the invocation's deadline: no new route calls");
            done.extend(queue.drain(..).map(|w| (w.change, RouteOutcome::Deferred)));
            continue;
        }
        let now = Instant::now();
        let ready = queue.iter().position(|w| w.not_before.is_none_or(|t| t <= now));
        let next_ready = queue.iter().filter_map(|w| w.not_before).min();
        let room = in_flight.len() < IN_FLIGHT;
        let pacer = ready.map(|i| ec2.pacer(&queue[i].change));
        tokio::select! {
            ticket = async { pacer.expect("a ready change").acquire().await }, if room && pacer.is_some() => {
                let mut waiting = queue.remove(ready.expect("a ready change")).expect("in the queue");
                waiting.attempts += 1;
                in_flight.push(async move {
                    let answer = call(ec2, &waiting.change).await;
                    (waiting, ticket, answer)
                });
            }
            () = sleep_until(next_ready), if room && ready.is_none() && next_ready.is_some() => {}
            Some((mut waiting, ticket, answer)) = in_flight.next(), if !in_flight.is_empty() => {
                match conclude(ec2.pacer(&waiting.change), &mut waiting, ticket, answer) {
                    Some(outcome) => done.push((waiting.change, outcome)),
                    // Retried before the changes that have not been tried yet.
                    None => queue.push_front(waiting),
                }
            }
        }
    }
    done
}

/// Tells the pacer how a call went; the change's outcome, or `None` to try it again.
fn conclude(pacer: &Pacer, waiting: &mut Waiting, ticket: pacer::Ticket, answer: Answer) -> Option<RouteOutcome> {
    match answer {
        Answer::Throttled(e) => {
            pacer.throttled(ticket);
            waiting.throttled += 1;
            (waiting.throttled >= MAX_THROTTLED).then(|| failed(e))
        }
        Answer::Transient(e) => {
            // Admitted (it took a token), then failed: a dependency's fault, not the pace's.
            pacer.succeeded(ticket);
            let backoff = (Duration::from_millis(100) * 2u32.pow(waiting.attempts.min(5))).min(MAX_BACKOFF);
            waiting.not_before = Some(Instant::now() + backoff);
            (waiting.attempts >= MAX_ATTEMPTS).then(|| failed(e))
        }
        Answer::Outcome(outcome) => {
            pacer.succeeded(ticket);
            Some(outcome)
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

fn failed(e: Error) -> RouteOutcome {
    RouteOutcome::Failed { error: e.to_string() }
}

/// One call for `change`, classified: what became of it, or why to try again.
async fn call(ec2: &Ec2, change: &RouteChange) -> Answer {
    let result = match change {
        RouteChange::Create { route_table, destination, pcx } => {
            ec2.create_route(route_table, destination, pcx).await.map(|created| match created {
                CreateOutcome::Created => RouteOutcome::Done,
                CreateOutcome::Exists(Some(t)) if t.is_pcx(pcx) => RouteOutcome::Unchanged,
                CreateOutcome::Exists(existing) => RouteOutcome::Conflict {
                    existing: existing.unwrap_or_else(|| RouteTarget::Other("unknown".into())),
                },
            })
        }
        RouteChange::Delete { route_table, destination, .. } => ec2
            .delete_route(route_table, destination)
            .await
            .map(|deleted| if deleted { RouteOutcome::Done } else { RouteOutcome::Unchanged }),
        RouteChange::Conflict { existing, .. } => Ok(RouteOutcome::Conflict { existing: existing.clone() }),
    };
    match result {
        Ok(outcome) => Answer::Outcome(outcome),
        Err(e) if e.code() == Some("RequestLimitExceeded") => Answer::Throttled(e),
        Err(e) if e.is_retryable() => Answer::Transient(e),
        Err(e) => Answer::Outcome(failed(e)),
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
        (RouteOutcome::Deferred, ..) => Some(LedgerAction::RoutesDeferred),
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
        LedgerAction::RoutesDeferred => {
            Some("not started: the invocation was near its deadline; the next one carries them out".into())
        }
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
/// same conflict every few minutes). The records written, for the events that tell them.
pub async fn record(
    ledger: &Ledger,
    purpose: Purpose,
    pcx: Option<&str>,
    executed: &[Executed],
    context: &Value,
) -> Result<Vec<RouteRecord>> {
    let mut written = Vec::new();
    for r in records(purpose, pcx, executed, context) {
        let (key, reason, details) = (r.key.clone(), r.reason.clone(), r.details.clone());
        let wrote = if r.action == LedgerAction::RouteConflict {
            ledger.record_unless_repeated(&key, r.action, reason, false, details).await?
        } else {
            ledger.record(&key, r.action, reason, false, details).await.map(|_| true)?
        };
        if wrote {
            written.push(r);
        }
    }
    Ok(written)
}

impl RouteRecord {
    /// The routes of the record, as an event tells them (the side is known when wiring).
    pub fn route_notes(&self) -> Vec<crate::domain::events::RouteNote> {
        serde_json::from_value(self.details["routes"].clone()).unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
