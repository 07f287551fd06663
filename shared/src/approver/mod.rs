//! endpoint-approver: accept the PrivateLink connections the allowlist grants, reject (or leave)
//! the rest, revoke removed grants when configured, and keep allowed principals in step.
//!
//! Every path is parse → load → decide (pure) → record → act → read back → answer. Loading is
//! all-or-nothing (fail closed: an unreadable allowlist accepts nothing), decisions are recorded
//! before acting, each service gets one Accept and one Reject call, and the state read back
//! afterwards is what the answer reports. Repeating a run, or running two at once, converges on
//! the same state: decisions are a pure function of what is read, and the quota picks the oldest
//! pending connections first.
mod answer;
pub mod event;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_config::SdkConfig;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

pub use answer::{Answer, ConnectionAnswer, FailureAnswer, ServiceAnswer};
use event::Trigger;

use crate::aws::allowlist::Allowlist;
use crate::aws::elbv2::Elbv2;
use crate::aws::endpoints::{Endpoints, Service, LIVE_STATES};
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::Shared;
use crate::config::ApproverConfig;
use crate::core::endpoint::{
    batches, decide_connections, health_warnings, outcome, plan_principals, Action, Connection, ConnectionState,
    Failure, Focus, Outcome, Policy, Reason, Verdict,
};
use crate::domain::EndpointGrant;
use crate::error::{Error, Result};

pub const ACTOR: &str = "endpoint-approver";

/// Concurrent reads of the allowlist and ledger writes.
const CONCURRENCY: usize = 16;

/// Built once per process; every invocation borrows it.
pub struct Approver {
    config: ApproverConfig,
    region: String,
    endpoints: Endpoints,
    elbv2: Elbv2,
    allowlist: Allowlist,
    ledger: Ledger,
    identity: Identity,
}

/// One service this run settles.
struct Target {
    service: Service,
    focus: Focus,
    /// Accounts whose grant DynamoDB's TTL deleted (said in the ledger).
    expired: BTreeSet<String>,
}

/// A service's decisions, and what became of them.
struct Plan<'t> {
    target: &'t Target,
    grants: Vec<EndpointGrant>,
    verdicts: Vec<Verdict>,
    failures: Vec<(Action, Failure)>,
    answer: ServiceAnswer,
}

fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn ledger_pk(endpoint_id: &str) -> String {
    format!("vpce#{endpoint_id}")
}

/// The ledger's name for a decision.
fn ledger_action(v: &Verdict) -> &'static str {
    match v.action {
        Action::Accept => "accept",
        Action::Reject => "reject",
        Action::Leave => "ignore",
    }
}

impl Approver {
    pub fn new(config: ApproverConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity } = Shared::new(sdk, &config.common, ACTOR);
        Approver {
            region,
            endpoints: Endpoints::new(aws_sdk_ec2::Client::new(sdk)),
            elbv2: Elbv2::new(aws_sdk_elasticloadbalancingv2::Client::new(sdk)),
            allowlist,
            ledger,
            identity,
            config,
        }
    }

    fn dry_run(&self) -> bool {
        self.config.common.dry_run
    }

    fn policy(&self) -> Policy {
        Policy { unlisted: self.config.unlisted_action, revoke_on_removal: self.config.revoke_on_removal }
    }

    /// The services this run settles: owned, managed (ENDPOINT_SERVICE_IDS) and named by the
    /// trigger. Everything skipped is said in the answer.
    fn targets(&self, trigger: &Trigger, owned: Vec<Service>, answer: &mut Answer) -> Vec<Target> {
        let mut managed: BTreeMap<String, Service> = BTreeMap::new();
        for service in owned {
            let wanted = self.config.endpoint_service_ids.as_ref().is_none_or(|ids| ids.contains(&service.id));
            if wanted {
                managed.insert(service.id.clone(), service);
            }
        }
        for id in self.config.endpoint_service_ids.iter().flatten() {
            if !managed.contains_key(id) {
                answer.notes.push(format!(
                    "ENDPOINT_SERVICE_IDS names {id}, which this account does not own in {}",
                    self.region
                ));
            }
        }
        let everything = |managed: BTreeMap<String, Service>| {
            managed
                .into_values()
                .map(|service| Target { service, focus: Focus::Service, expired: BTreeSet::new() })
                .collect()
        };
        let pick = |id: &str, focus: Focus, expired: BTreeSet<String>, notes: &mut Vec<_>| match managed.get(id) {
            Some(service) => Some(Target { service: service.clone(), focus, expired }),
            None => {
                notes
                    .push(format!("{id} is not an endpoint service this function manages in {}; skipped", self.region));
                None
            }
        };
        match trigger {
            Trigger::Sweep => everything(managed),
            Trigger::Notification { services, hints } => {
                answer.hints = hints.clone();
                if services.is_empty() {
                    answer.notes.push("the notification names no service: settling every managed service".into());
                    return everything(managed);
                }
                services.iter().filter_map(|id| pick(id, Focus::Service, BTreeSet::new(), &mut answer.notes)).collect()
            }
            Trigger::Grants { services, ignored, malformed } => {
                answer.notes.extend(ignored.iter().map(|i| format!("{i}: not for this function")));
                answer.malformed_grants.extend(malformed.iter().cloned());
                services
                    .iter()
                    .filter_map(|(id, changes)| {
                        let focus =
                            Focus::Accounts { changed: changes.changed.clone(), removed: changes.removed.clone() };
                        pick(id, focus, changes.expired.clone(), &mut answer.notes)
                    })
                    .collect()
            }
        }
    }

    /// Every grant of every target service, or an error: nothing is decided on a partial read.
    async fn load_grants(
        &self,
        targets: &[Target],
        answer: &mut Answer,
    ) -> Result<HashMap<String, Vec<EndpointGrant>>> {
        let reads: Vec<_> = futures::stream::iter(targets.iter().map(|t| async move {
            let read = self.allowlist.endpoint_grants(&t.service.id).await?;
            Ok::<_, Error>((t.service.id.clone(), read))
        }))
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the allowlist cannot be read: approving nothing");
            e
        })?;
        let mut grants = HashMap::new();
        for (service, read) in reads {
            answer.malformed_grants.extend(read.malformed);
            grants.insert(service, read.grants);
        }
        answer.malformed_grants.sort();
        answer.malformed_grants.dedup();
        Ok(grants)
    }

    /// One ledger record per decision, before anything is changed.
    async fn record_decisions(&self, trigger: &str, plans: &[Plan<'_>]) -> Result<()> {
        let dry_run = self.dry_run();
        let records = plans.iter().flat_map(|p| {
            p.verdicts.iter().filter(|v| v.is_decision()).map(move |v| {
                let details = json!({
                    "service_id": p.target.service.id,
                    "account": v.account,
                    "state": v.state,
                    "reason": v.reason,
                    "trigger": trigger,
                    "grant_expired_by_ttl": p.target.expired.contains(&v.account),
                });
                async move {
                    let pk = ledger_pk(&v.endpoint_id);
                    let reason = Some(v.reason.to_string());
                    let action = ledger_action(v);
                    if v.action == Action::Leave {
                        // Left pending: repeated on every sweep, recorded once per change.
                        self.ledger.record_unless_repeated(&pk, action, reason, dry_run, details).await.map(|_| ())
                    } else {
                        self.ledger.record(&pk, action, reason, dry_run, details).await.map(|_| ())
                    }
                }
            })
        });
        futures::stream::iter(records).buffer_unordered(CONCURRENCY).try_for_each(|_| async { Ok(()) }).await
    }

    /// Warnings about the service: auto-accepting, or no healthy target behind it.
    async fn service_warnings(&self, service: &Service, accepting: bool) -> Vec<String> {
        let mut warnings = Vec::new();
        if !service.acceptance_required {
            warnings.push(format!(
                "{}: AcceptanceRequired is false, so connections are accepted without the allowlist",
                service.id
            ));
        }
        if !accepting {
            return warnings;
        }
        let mut lbs = Vec::new();
        for arn in &service.load_balancers {
            match self.elbv2.health(arn).await {
                Ok(h) => lbs.push(h),
                Err(e) => {
                    warnings.push(format!("{}: cannot read the health of {arn}: {e}", service.id));
                    return warnings;
                }
            }
        }
        warnings.extend(health_warnings(&service.id, &lbs));
        warnings
    }

    /// One Accept and one Reject call for the service; failed calls fail each of their ids.
    async fn act(&self, plan: &mut Plan<'_>) {
        let service = &plan.target.service.id;
        let (accept, reject) = batches(&plan.verdicts);
        for (action, ids) in [(Action::Accept, accept), (Action::Reject, reject)] {
            if ids.is_empty() {
                continue;
            }
            let result = match action {
                Action::Accept => self.endpoints.accept(service, &ids).await,
                _ => self.endpoints.reject(service, &ids).await,
            };
            match result {
                Ok(failures) => plan.failures.extend(failures.into_iter().map(|f| (action, f))),
                Err(e) => {
                    tracing::error!(service, action = action.as_str(), error = %e, "the call failed");
                    let code = e.code().unwrap_or("CallFailed").to_string();
                    plan.failures.extend(ids.iter().map(|id| {
                        (action, Failure { endpoint_id: id.clone(), code: code.clone(), message: e.to_string() })
                    }));
                }
            }
        }
    }

    /// Keeps the allowed principals equal to the accounts with live grants.
    async fn sync_principals(&self, plan: &mut Plan<'_>, partition: &str, now: i64) -> Result<()> {
        let service = &plan.target.service.id;
        let current = self.endpoints.allowed_principals(service).await?;
        let change = plan_principals(service, &current, &plan.grants, partition, now);
        if !change.is_empty() {
            self.ledger
                .record(
                    &ledger_pk(service),
                    "sync-principals",
                    Some("allowed principals follow the accounts with live grants".into()),
                    self.dry_run(),
                    json!({"add": change.add, "remove": change.remove}),
                )
                .await?;
            if !self.dry_run() {
                self.endpoints.modify_principals(service, &change).await?;
            }
        }
        plan.answer.principals = Some(change);
        Ok(())
    }
}

fn describe(verdict: &Verdict, outcome: Option<Outcome>) -> ConnectionAnswer {
    ConnectionAnswer {
        endpoint_id: verdict.endpoint_id.clone(),
        account: verdict.account.clone(),
        state: verdict.state.clone(),
        action: verdict.action,
        reason: verdict.reason.clone(),
        outcome,
    }
}

/// Connected and settled connections are not worth listing.
fn worth_listing(v: &Verdict) -> bool {
    !matches!(v.reason, Reason::Connected | Reason::Settled { .. })
}

pub async fn handle(event: Value, ctx: &Approver) -> Result<Value> {
    let trigger = event::parse(event)?;
    let caller = ctx.identity.caller().await?.clone();
    let mut answer = Answer {
        trigger: trigger.name(),
        dry_run: ctx.dry_run(),
        account: caller.account.clone(),
        region: ctx.region.clone(),
        ..Answer::default()
    };
    let owned = ctx.endpoints.services().await?;
    let targets = ctx.targets(&trigger, owned, &mut answer);
    let result =
        if targets.is_empty() { Ok(()) } else { settle(ctx, &trigger, &targets, &caller.partition, &mut answer).await };
    for note in &answer.notes {
        tracing::info!(note = %note);
    }
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(format!("answer: {e}")))?;
    tracing::info!(answer = %value, "endpoint-approver done");
    result.map(|()| value)
}

async fn settle(
    ctx: &Approver,
    trigger: &Trigger,
    targets: &[Target],
    partition: &str,
    answer: &mut Answer,
) -> Result<()> {
    // Load everything first: fail closed before any change.
    let grants = ctx.load_grants(targets, answer).await?;
    let ids: Vec<String> = targets.iter().map(|t| t.service.id.clone()).collect();
    let connections: Vec<Connection> = ctx.endpoints.connections(&ids, Some(&LIVE_STATES)).await?;
    for malformed in &answer.malformed_grants {
        tracing::error!(item = %malformed, "malformed allowlist item: it grants nothing");
    }

    // Decide (pure).
    let now = now_epoch();
    let policy = ctx.policy();
    let mut plans: Vec<Plan> = targets
        .iter()
        .map(|t| {
            let grants = grants.get(&t.service.id).cloned().unwrap_or_default();
            let verdicts = decide_connections(&t.service.id, &connections, &grants, &policy, &t.focus, now);
            Plan {
                target: t,
                grants,
                verdicts,
                failures: Vec::new(),
                answer: ServiceAnswer { service_id: t.service.id.clone(), ..ServiceAnswer::default() },
            }
        })
        .collect();

    // Record, then act: one Accept and one Reject call per service.
    ctx.record_decisions(trigger.name(), &plans).await?;
    let mut errors = Vec::new();
    let mut attempted = 0usize;
    for plan in &mut plans {
        let (accept, reject) = batches(&plan.verdicts);
        attempted += accept.len() + reject.len();
        plan.answer.warnings = ctx.service_warnings(&plan.target.service, !accept.is_empty()).await;
        for w in &plan.answer.warnings {
            tracing::warn!(warning = %w);
        }
        if !ctx.dry_run() {
            ctx.act(plan).await;
        }
        if ctx.config.sync_principals {
            attempted += 1;
            if let Err(e) = ctx.sync_principals(plan, partition, now).await {
                let message = format!("{}: allowed principals not synchronised: {e}", plan.target.service.id);
                tracing::error!(error = %message);
                plan.answer.errors.push(message.clone());
                errors.push((message, e.is_retryable()));
            }
        }
    }

    // Read back: the state afterwards is the truth.
    let acted: Vec<String> = plans
        .iter()
        .filter(|p| p.verdicts.iter().any(|v| v.action != Action::Leave))
        .map(|p| p.target.service.id.clone())
        .collect();
    let after: Option<HashMap<String, ConnectionState>> = if ctx.dry_run() || acted.is_empty() {
        None
    } else {
        match ctx.endpoints.connections(&acted, None).await {
            Ok(list) => Some(list.into_iter().map(|c| (c.endpoint_id, c.state)).collect()),
            Err(e) => {
                let message = format!("the state after acting cannot be read back: {e}");
                errors.push((message, true));
                None
            }
        }
    };

    let mut failure_records = Vec::new();
    for plan in &mut plans {
        let failures: HashMap<&str, &Failure> =
            plan.failures.iter().map(|(_, f)| (f.endpoint_id.as_str(), f)).collect();
        for v in &plan.verdicts {
            let outcome = match (&after, v.action) {
                (_, Action::Leave) | (None, _) => None,
                (Some(after), action) => {
                    Some(outcome(action, failures.get(v.endpoint_id.as_str()).copied(), after.get(&v.endpoint_id)))
                }
            };
            // Only what this run's call did counts as accepted/rejected by it; a connection a
            // concurrent run settled first is listed under `connections` as already done.
            let done = match &outcome {
                Some(Outcome::Done { .. }) => true,
                None => ctx.dry_run(),
                _ => false,
            };
            match v.action {
                Action::Accept if done => plan.answer.accepted.push(v.endpoint_id.clone()),
                Action::Reject if done => plan.answer.rejected.push(v.endpoint_id.clone()),
                Action::Leave if v.state == ConnectionState::PendingAcceptance => {
                    plan.answer.pending.push(v.endpoint_id.clone())
                }
                _ => {}
            }
            if let Some(Outcome::Failed { code, message, .. }) = &outcome {
                let text = format!("{} {}: {code}: {message}", v.action.as_str(), v.endpoint_id);
                tracing::error!(service = %plan.target.service.id, error = %text);
                plan.answer.errors.push(text.clone());
                errors.push((text, true));
                failure_records.push((v.clone(), plan.target.service.id.clone(), code.clone(), message.clone()));
            }
            if worth_listing(v) {
                plan.answer.connections.push(describe(v, outcome));
            }
        }
        for (action, failure) in &plan.failures {
            let judged = after.as_ref().map(|after| outcome(*action, Some(failure), after.get(&failure.endpoint_id)));
            plan.answer.failures.push(FailureAnswer { action: *action, failure: failure.clone(), outcome: judged });
        }
    }

    // The failures go to the ledger too.
    let dry_run = ctx.dry_run();
    let records = failure_records.iter().map(|(v, service, code, message)| async move {
        let pk = ledger_pk(&v.endpoint_id);
        let action = format!("{}-failed", ledger_action(v));
        let details = json!({"service_id": service, "account": v.account});
        let reason = Some(format!("{code}: {message}"));
        ctx.ledger.record(&pk, &action, reason, dry_run, details).await
    });
    let recorded: Vec<Result<_>> = futures::stream::iter(records).buffer_unordered(CONCURRENCY).collect().await;
    for r in recorded {
        if let Err(e) = r {
            errors.push((format!("ledger: {e}"), e.is_retryable()));
        }
    }

    answer.services = plans.into_iter().map(|p| p.answer).collect();
    if errors.is_empty() {
        return Ok(());
    }
    answer.errors = errors.iter().map(|(m, _)| m.clone()).collect();
    Err(Error::Partial {
        failed: errors.len(),
        total: attempted.max(errors.len()),
        retryable: errors.iter().any(|(_, r)| *r),
        errors: errors.into_iter().map(|(m, _)| m).collect(),
    })
}
