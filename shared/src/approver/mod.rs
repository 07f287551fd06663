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

pub use answer::{Answer, ConnectionAnswer, FailureAnswer, ServiceAnswer};
use event::Trigger;

use crate::aws::allowlist::Allowlist;
use crate::aws::elbv2::Elbv2;
use crate::aws::endpoints::{Endpoints, Service};
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::Shared;
use crate::config::ApproverConfig;
use crate::domain::{EndpointGrant, Failure, LedgerAction, LedgerKey};
use crate::error::{Error, Result};
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
        let Shared { region, allowlist, ledger, identity, .. } = Shared::new(sdk, &config.common, ACTOR);
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
    let targets = ctx.targets(&trigger, owned, &mut answer);
    let result = if targets.is_empty() {
        Ok(())
    } else {
        settle::settle(ctx, &trigger, &targets, &caller.partition, &mut answer).await
    };
    for note in &answer.notes {
        tracing::info!(note = %note);
    }
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(format!("answer: {e}")))?;
    tracing::info!(answer = %value, "endpoint-approver done");
    result.map(|()| value)
}
