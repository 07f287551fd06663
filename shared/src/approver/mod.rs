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
mod settle;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_config::SdkConfig;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

pub use answer::{Answer, BatchItemFailure, ConnectionAnswer, FailureAnswer, ServiceAnswer};
pub use event::GrantUnit;
use event::Trigger;

use crate::aws::allowlist::Allowlist;
use crate::aws::elbv2::Elbv2;
use crate::aws::endpoints::{Endpoints, Service};
use crate::aws::eventbridge::{tell, EventBus};
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::Shared;
use crate::config::ApproverConfig;
use crate::domain::events::Place;
use crate::domain::{EndpointGrant, Failure, LedgerAction, LedgerKey};
use crate::error::{Error, Result};
use vpcwarden_core::announce;
use vpcwarden_core::endpoint::{health_warnings, plan_principals, Action, Focus, Policy, PrincipalChange, Verdict};

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
    events: Option<EventBus>,
}

/// One service this run settles.
struct Target {
    service: Service,
    focus: Focus,
    /// Accounts whose grant DynamoDB's TTL deleted (said in the ledger).
    expired: BTreeSet<String>,
}

pub(crate) fn ledger_key(endpoint_id: &str) -> LedgerKey {
    LedgerKey::Endpoint(endpoint_id.to_string())
}

/// The ledger's name for a decision.
fn ledger_action(v: &Verdict) -> LedgerAction {
    match v.action {
        Action::Accept => LedgerAction::Accepted,
        Action::Reject => LedgerAction::Rejected,
        Action::Leave => LedgerAction::Ignored,
    }
}

impl Approver {
    pub fn new(config: ApproverConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity, events } = Shared::new(sdk, &config.common, ACTOR);
        Approver {
            region,
            endpoints: Endpoints::new(aws_sdk_ec2::Client::new(sdk)),
            elbv2: Elbv2::new(aws_sdk_elasticloadbalancingv2::Client::new(sdk)),
            allowlist,
            ledger,
            identity,
            events,
            config,
        }
    }

    fn dry_run(&self) -> bool {
        self.config.common.dry_run
    }

    fn policy(&self) -> Policy {
        Policy { unlisted: self.config.unlisted_action, revoke_on_removal: self.config.revoke_on_removal }
    }

    /// The services this function manages: owned, and named by ENDPOINT_SERVICE_IDS when set
    /// (a named service this account does not own is said in the answer).
    fn managed(&self, owned: Vec<Service>, answer: &mut Answer) -> BTreeMap<String, Service> {
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
        managed
    }

    /// The target for service `id` when this function manages it; else a note, and `None`.
    fn pick(&self, managed: &BTreeMap<String, Service>, id: &str, focus: Focus, answer: &mut Answer) -> Option<Target> {
        match managed.get(id) {
            Some(service) => Some(Target { service: service.clone(), focus, expired: BTreeSet::new() }),
            None => {
                let note = format!("{id} is not an endpoint service this function manages in {}; skipped", self.region);
                answer.notes.push(note);
                None
            }
        }
    }

    /// The services a sweep or a notification settles. Everything skipped is said in the answer.
    fn targets(&self, trigger: &Trigger, managed: &BTreeMap<String, Service>, answer: &mut Answer) -> Vec<Target> {
        let everything = || {
            managed
                .values()
                .map(|service| Target { service: service.clone(), focus: Focus::Service, expired: BTreeSet::new() })
                .collect()
        };
        match trigger {
            Trigger::Notification { services, hints } => {
                answer.hints = hints.clone();
                if services.is_empty() {
                    answer.notes.push("the notification names no service: settling every managed service".into());
                    return everything();
                }
                services.iter().filter_map(|id| self.pick(managed, id, Focus::Service, answer)).collect()
            }
            Trigger::Sweep => everything(),
            // Settled unit by unit (`settle_batch`).
            Trigger::Grants { .. } => Vec::new(),
        }
    }

    /// The target of one unit of a stream batch: its service, focused on the accounts whose
    /// grants changed.
    fn unit_target(
        &self,
        unit: &GrantUnit,
        managed: &BTreeMap<String, Service>,
        answer: &mut Answer,
    ) -> Option<Target> {
        let changes = &unit.changes;
        let focus = Focus::Accounts { changed: changes.changed.clone(), removed: changes.removed.clone() };
        let mut target = self.pick(managed, &unit.service, focus, answer)?;
        target.expired = changes.expired.clone();
        Some(target)
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

    /// One Accept and one Reject call for the service; a failed call fails each of its ids.
    async fn call(&self, service: &str, accept: Vec<String>, reject: Vec<String>) -> Vec<(Action, Failure)> {
        let mut failures = Vec::new();
        for (action, ids) in [(Action::Accept, accept), (Action::Reject, reject)] {
            if ids.is_empty() {
                continue;
            }
            let result = match action {
                Action::Accept => self.endpoints.accept(service, &ids).await,
                _ => self.endpoints.reject(service, &ids).await,
            };
            match result {
                Ok(unsuccessful) => failures.extend(unsuccessful.into_iter().map(|f| (action, f))),
                Err(e) => {
                    tracing::error!(service, action = action.as_str(), error = %e, "the call failed");
                    let code = e.code().unwrap_or("CallFailed").to_string();
                    failures.extend(ids.iter().map(|id| {
                        (action, Failure { endpoint_id: id.clone(), code: code.clone(), message: e.to_string() })
                    }));
                }
            }
        }
        failures
    }

    /// Keeps the allowed principals equal to the accounts with live grants; the change made.
    async fn sync_principals(
        &self,
        service: &str,
        grants: &[EndpointGrant],
        partition: &str,
        now: i64,
    ) -> Result<PrincipalChange> {
        let current = self.endpoints.allowed_principals(service).await?;
        let change = plan_principals(service, &current, grants, partition, now);
        if !change.is_empty() {
            let caller = self.identity.caller().await?;
            let place = Place { partition, region: &self.region, account: &caller.account };
            let event = announce::principals_synced(&place, service, &change, self.dry_run());
            self.ledger
                .record(
                    &ledger_key(service),
                    LedgerAction::PrincipalsSynced,
                    Some("allowed principals follow the accounts with live grants".into()),
                    self.dry_run(),
                    json!({"add": change.add, "remove": change.remove}),
                )
                .await?;
            if !self.dry_run() {
                self.endpoints.modify_principals(service, &change).await?;
            }
            tell(self.events.as_ref(), ACTOR, vec![event]).await;
        }
        Ok(change)
    }
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
    let managed = ctx.managed(owned, &mut answer);
    let result = match &trigger {
        Trigger::Grants { units, ignored, malformed } => {
            answer.notes.extend(ignored.iter().map(|i| format!("{i}: not for this function")));
            answer.malformed_grants.extend(malformed.iter().cloned());
            settle_batch(ctx, &trigger, units, &managed, &caller.partition, &mut answer).await;
            Ok(())
        }
        _ => {
            let targets = ctx.targets(&trigger, &managed, &mut answer);
            if targets.is_empty() {
                Ok(())
            } else {
                settle::settle(ctx, &trigger, &targets, &caller.partition, &mut answer).await
            }
        }
    };
    for note in &answer.notes {
        tracing::info!(note = %note);
    }
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(format!("answer: {e}")))?;
    tracing::info!(answer = %value, "endpoint-approver done");
    result.map(|()| value)
}

/// A stream batch, unit after unit in the stream's order, stopping at the first that fails: the
/// answer's `batchItemFailures` names that unit's first record, so Lambda (with
/// `ReportBatchItemFailures`) retries from there and never the units before it. An empty list
/// says the whole batch was processed.
async fn settle_batch(
    ctx: &Approver,
    trigger: &Trigger,
    units: &[GrantUnit],
    managed: &BTreeMap<String, Service>,
    partition: &str,
    answer: &mut Answer,
) {
    let mut failures = Vec::new();
    for unit in units {
        let Some(target) = ctx.unit_target(unit, managed, answer) else { continue };
        if let Err(e) = settle::settle(ctx, trigger, std::slice::from_ref(&target), partition, answer).await {
            tracing::error!(service = %unit.service, sequence = %unit.sequence, error = %e,
                "stream records not processed: Lambda retries from this one");
            answer.errors.push(format!("{} (records from {} on): {e}", unit.service, unit.sequence));
            failures.push(BatchItemFailure { item_identifier: unit.sequence.clone() });
            break;
        }
    }
    answer.batch_item_failures = Some(failures);
}
