//! Settling the target services, in steps that each return a value: load (all or nothing: fail
//! closed) → decide (pure) → record the decisions → act (one Accept and one Reject call per
//! service, principals kept in step) → read back → judge (pure) → record the failures.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use super::answer::{Answer, ConnectionAnswer, FailureAnswer, ServiceAnswer};
use super::event::Trigger;
use super::{ledger_action, ledger_key, Approver, Target, CONCURRENCY};
use crate::aws::endpoints::LIVE_STATES;
use crate::aws::eventbridge::tell;
use crate::clock;
use crate::domain::events::Place;
use crate::domain::{Connection, ConnectionState, EndpointGrant, Failure, LedgerAction, UnlistedAction};
use crate::error::{Error, Result};
use vpcwarden_core::announce::{self, Told};
use vpcwarden_core::endpoint::{batches, decide_connections, judge, outcome, Action, Listed, Outcome, Reason, Verdict};
use vpcwarden_core::requests::ApprovalRequest;

/// A service's decisions, and what became of them.
struct Plan<'t> {
    target: &'t Target,
    grants: Vec<EndpointGrant>,
    verdicts: Vec<Verdict>,
    failures: Vec<(Action, Failure)>,
    answer: ServiceAnswer,
    /// The decisions this run took (its ledger records written, its calls done), to be told.
    told: Vec<(Verdict, LedgerAction, String)>,
}

/// What went wrong in a run (with whether a retry can help): the run still finishes.
type Errors = Vec<(String, bool)>;

/// Settles `targets`; the answer says what was decided and done, the error what failed.
pub(super) async fn settle(
    ctx: &Approver,
    trigger: &Trigger,
    targets: &[Target],
    partition: &str,
    answer: &mut Answer,
) -> Result<()> {
    let (grants, connections) = load(ctx, targets, answer).await?;
    let now = clock::now_epoch();
    let mut plans = decide(ctx, targets, grants, &connections, now);
    let left = ctx.record_decisions(trigger.name(), &plans).await?;
    ctx.ask(&plans, &connections, partition).await?;
    let (attempted, mut errors) = act(ctx, &mut plans, partition, now).await;
    let after = read_back(ctx, &plans, &mut errors).await;
    let failed = judge_all(ctx, &mut plans, after.as_ref(), &left, &mut errors);
    record_failures(ctx, &failed, &mut errors).await;
    for f in &failed {
        let action = failed_action(&f.verdict);
        let told = (f.verdict.clone(), action, format!("{}: {}", f.code, f.message));
        plans.iter_mut().filter(|p| p.target.service.id == f.service).for_each(|p| p.told.push(told.clone()));
    }
    ctx.tell_decisions(partition, &plans).await;
    answer.services.extend(plans.into_iter().map(|p| p.answer));
    if errors.is_empty() {
        return Ok(());
    }
    answer.errors.extend(errors.iter().map(|(m, _)| m.clone()));
    Err(Error::Partial {
        failed: errors.len(),
        total: attempted.max(errors.len()),
        retryable: errors.iter().any(|(_, r)| *r),
        errors: errors.into_iter().map(|(m, _)| m).collect(),
    })
}

/// Every grant of every target and the live connections: nothing is decided on a partial read.
async fn load(
    ctx: &Approver,
    targets: &[Target],
    answer: &mut Answer,
) -> Result<(HashMap<String, Vec<EndpointGrant>>, Vec<Connection>)> {
    let grants = ctx.load_grants(targets, answer).await?;
    let ids: Vec<String> = targets.iter().map(|t| t.service.id.clone()).collect();
    let connections = ctx.endpoints.connections(&ids, Some(&LIVE_STATES)).await?;
    for malformed in &answer.malformed_grants {
        tracing::error!(item = %malformed, "malformed allowlist item: it grants nothing");
    }
    Ok((grants, connections))
}

fn decide<'t>(
    ctx: &Approver,
    targets: &'t [Target],
    mut grants: HashMap<String, Vec<EndpointGrant>>,
    connections: &[Connection],
    now: i64,
) -> Vec<Plan<'t>> {
    let policy = ctx.policy();
    targets
        .iter()
        .map(|t| {
            let grants = grants.remove(&t.service.id).unwrap_or_default();
            let verdicts = decide_connections(&t.service.id, connections, &grants, &policy, &t.focus, now);
            let answer = ServiceAnswer { service_id: t.service.id.clone(), ..ServiceAnswer::default() };
            Plan { target: t, grants, verdicts, failures: Vec::new(), answer, told: Vec::new() }
        })
        .collect()
}

/// Warnings, the calls, and the principals of each service; how many things were attempted.
async fn act(ctx: &Approver, plans: &mut [Plan<'_>], partition: &str, now: i64) -> (usize, Errors) {
    let mut errors = Vec::new();
    let mut attempted = 0usize;
    for plan in plans {
        let (accept, reject) = batches(&plan.verdicts);
        attempted += accept.len() + reject.len();
        plan.answer.warnings = ctx.service_warnings(&plan.target.service, !accept.is_empty()).await;
        for w in &plan.answer.warnings {
            tracing::warn!(warning = %w);
        }
        if !ctx.dry_run() {
            plan.failures = ctx.call(&plan.target.service.id, accept, reject).await;
        }
        if ctx.config.sync_principals {
            attempted += 1;
            match ctx.sync_principals(&plan.target.service.id, &plan.grants, partition, now).await {
                Ok(change) => plan.answer.principals = Some(change),
                Err(e) => {
                    let message = format!("{}: allowed principals not synchronised: {e}", plan.target.service.id);
                    tracing::error!(error = %message);
                    plan.answer.errors.push(message.clone());
                    errors.push((message, e.is_retryable()));
                }
            }
        }
    }
    (attempted, errors)
}

/// The states after acting (the truth), for the services acted on; `None` in a dry run.
async fn read_back(
    ctx: &Approver,
    plans: &[Plan<'_>],
    errors: &mut Errors,
) -> Option<BTreeMap<String, ConnectionState>> {
    let acted: Vec<String> = plans
        .iter()
        .filter(|p| p.verdicts.iter().any(|v| v.action != Action::Leave))
        .map(|p| p.target.service.id.clone())
        .collect();
    if ctx.dry_run() || acted.is_empty() {
        return None;
    }
    match ctx.endpoints.connections(&acted, None).await {
        Ok(list) => Some(list.into_iter().map(|c| (c.endpoint_id, c.state)).collect()),
        Err(e) => {
            errors.push((format!("the state after acting cannot be read back: {e}"), true));
            None
        }
    }
}

/// A verdict whose action did not take effect, for the ledger.
struct Unresolved {
    verdict: Verdict,
    service: String,
    code: String,
    message: String,
}

/// Fills each service's answer from the judged verdicts; the actions that did not take effect.
fn judge_all(
    ctx: &Approver,
    plans: &mut [Plan<'_>],
    after: Option<&BTreeMap<String, ConnectionState>>,
    left: &BTreeSet<String>,
    errors: &mut Errors,
) -> Vec<Unresolved> {
    let mut unresolved = Vec::new();
    for plan in plans {
        let failures: HashMap<&str, &Failure> =
            plan.failures.iter().map(|(_, f)| (f.endpoint_id.as_str(), f)).collect();
        for v in &plan.verdicts {
            let judged = judge(v, failures.get(v.endpoint_id.as_str()).copied(), after, ctx.dry_run());
            let listed = match judged.listed {
                Listed::Accepted => Some(&mut plan.answer.accepted),
                Listed::Rejected => Some(&mut plan.answer.rejected),
                Listed::Pending => Some(&mut plan.answer.pending),
                Listed::Elsewhere => None,
            };
            listed.into_iter().for_each(|list| list.push(v.endpoint_id.clone()));
            // Told: what this run's call did, and a connection left pending once per change.
            let taken = match judged.listed {
                Listed::Accepted | Listed::Rejected => true,
                Listed::Pending => left.contains(&v.endpoint_id),
                Listed::Elsewhere => false,
            };
            if taken {
                plan.told.push((v.clone(), ledger_action(v), v.reason.to_string()));
            }
            if let Some(Outcome::Failed { code, message, .. }) = &judged.outcome {
                let text = format!("{} {}: {code}: {message}", v.action.as_str(), v.endpoint_id);
                tracing::error!(service = %plan.target.service.id, error = %text);
                plan.answer.errors.push(text.clone());
                errors.push((text, true));
                let (code, message) = (code.clone(), message.clone());
                unresolved.push(Unresolved {
                    verdict: v.clone(),
                    service: plan.target.service.id.clone(),
                    code,
                    message,
                });
            }
            if !matches!(v.reason, Reason::Connected | Reason::Settled { .. }) {
                plan.answer.connections.push(ConnectionAnswer::of(v, judged.outcome));
            }
        }
        for (action, failure) in &plan.failures {
            let judged = after.map(|after| outcome(*action, Some(failure), after.get(&failure.endpoint_id)));
            plan.answer.failures.push(FailureAnswer { action: *action, failure: failure.clone(), outcome: judged });
        }
    }
    unresolved
}

/// The actions that did not take effect go to the ledger too (`accept-failed`, `reject-failed`).
async fn record_failures(ctx: &Approver, unresolved: &[Unresolved], errors: &mut Errors) {
    let dry_run = ctx.dry_run();
    let records = unresolved.iter().map(|u| async move {
        let action = failed_action(&u.verdict);
        let details = json!({"service_id": u.service, "account": u.verdict.account});
        let reason = Some(format!("{}: {}", u.code, u.message));
        ctx.ledger.record(&ledger_key(&u.verdict.endpoint_id), action, reason, dry_run, details).await
    });
    let recorded: Vec<Result<_>> = futures::stream::iter(records).buffer_unordered(CONCURRENCY).collect().await;
    for r in recorded {
        if let Err(e) = r {
            errors.push((format!("ledger: {e}"), e.is_retryable()));
        }
    }
}

/// The ledger's name for an action that did not take effect.
fn failed_action(v: &Verdict) -> LedgerAction {
    match ledger_action(v) {
        LedgerAction::Accepted => LedgerAction::AcceptFailed,
        _ => LedgerAction::RejectFailed,
    }
}

impl Approver {
    /// Whether a person is asked about this verdict (`UNLISTED_ACTION=ask`): a pending
    /// connection left waiting because no live grant admits it.
    fn asks(&self, v: &Verdict) -> bool {
        self.config.unlisted_action == UnlistedAction::Ask
            && v.action == Action::Leave
            && v.state == ConnectionState::PendingAcceptance
            && matches!(v.reason, Reason::NoGrant | Reason::GrantExpired { .. })
    }

    /// Opens an approval request for each connection a person is asked about (once each, keyed
    /// by when it was created) and announces the ones this run opened.
    async fn ask(&self, plans: &[Plan<'_>], connections: &[Connection], partition: &str) -> Result<()> {
        let mut events = Vec::new();
        for v in plans.iter().flat_map(|p| p.verdicts.iter()).filter(|v| self.asks(v)) {
            let Some(c) = connections.iter().find(|c| c.endpoint_id == v.endpoint_id) else { continue };
            let request = ApprovalRequest::endpoint(c, &self.region);
            let first_seen = c.created_at.unwrap_or_else(clock::now_epoch);
            if self.ledger.open_request(&request, first_seen, self.dry_run()).await? {
                events.push((request, clock::rfc3339_second(first_seen.min(clock::now_epoch()))));
            }
        }
        if let (Some(bus), false) = (&self.events, events.is_empty()) {
            let caller = self.identity.caller().await?;
            let place = Place { partition, region: &self.region, account: &caller.account };
            let events = events.iter().map(|(r, at)| announce::approval_requested(&place, r, at)).collect();
            tell(Some(bus), super::ACTOR, events).await;
        }
        Ok(())
    }

    /// Publishes the decisions each plan took (`Endpoint Connection Decision`).
    async fn tell_decisions(&self, partition: &str, plans: &[Plan<'_>]) {
        let Some(bus) = &self.events else { return };
        let Ok(caller) = self.identity.caller().await else { return };
        let place = Place { partition, region: &self.region, account: &caller.account };
        let events: Vec<_> = plans
            .iter()
            .flat_map(|p| {
                let place = &place;
                p.told.iter().filter_map(move |(v, action, reason)| {
                    let told = Told { action: *action, reason_code: None, reason, dry_run: self.dry_run() };
                    announce::endpoint_decision(place, &p.target.service.id, v, told)
                })
            })
            .collect();
        tell(Some(bus), super::ACTOR, events).await;
    }

    /// One ledger record per decision, before anything is changed; the connections left
    /// pending whose record was written now (the others were already recorded so).
    async fn record_decisions(&self, trigger: &str, plans: &[Plan<'_>]) -> Result<BTreeSet<String>> {
        let dry_run = self.dry_run();
        let records = plans.iter().flat_map(|p| {
            p.verdicts.iter().filter(|v| v.is_decision() && !self.asks(v)).map(move |v| {
                let details = json!({
                    "service_id": p.target.service.id,
                    "account": v.account,
                    "state": v.state,
                    "reason": v.reason,
                    "trigger": trigger,
                    "grant_expired_by_ttl": p.target.expired.contains(&v.account),
                });
                async move {
                    let key = ledger_key(&v.endpoint_id);
                    let reason = Some(v.reason.to_string());
                    let action = ledger_action(v);
                    if v.action == Action::Leave {
                        // Left pending: repeated on every sweep, recorded once per change.
                        let written =
                            self.ledger.record_unless_repeated(&key, action, reason, dry_run, details).await?;
                        Ok(written.then(|| v.endpoint_id.clone()))
                    } else {
                        self.ledger.record(&key, action, reason, dry_run, details).await.map(|_| None)
                    }
                }
            })
        });
        let written: Vec<Option<String>> =
            futures::stream::iter(records).buffer_unordered(CONCURRENCY).try_collect().await?;
        Ok(written.into_iter().flatten().collect())
    }
}
