//! drift-auditor: compares what is with what was granted, in every scope (an account in a
//! region), writes the reports, emits the metrics, and optionally remediates the safe drift.
//!
//! Every run is load the allowlist → observe each scope once (concurrently, paginated) →
//! audit (pure) → remediate (optional, ledgered) → compare with each scope's previous run and
//! apply the waivers → export to Security Hub (optional) → publish (S3, ledger, the scope's
//! `latest` pointer, logs, metrics) → answer. A scope that cannot be observed (a role that cannot be assumed, throttled out) is
//! reported with why, and the others are still audited; the run is an error only when no scope
//! could be audited. The CLI (`vpcwarden audit`) runs [`Auditor::run`] too.
pub mod event;
mod observe;
mod org;
mod publish;
mod remediate;
mod scopes;
pub mod security_hub;

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::aws::allowlist::Allowlist;
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::s3::Reports;
use crate::aws::securityhub::SecurityHub;
use crate::aws::Shared;
use crate::clock;
use crate::config::AuditorConfig;
use crate::domain::scopes::{AccountSelection, RegionSelection};
use crate::domain::{FindingCode, Grant, Severity};
use crate::error::{source_chain, Error, Result};
use crate::report::history::Previous;
use crate::report::{self, Audited, Remedy, Report, ScopeResult, ScopeStatus};
use security_hub::HubOutcome;
use vpcwarden_core::audit::{audit, plan_remediation, Desired};
use vpcwarden_core::domain::{waiver_for, Finding, Waiver};

pub const ACTOR: &str = "drift-auditor";
/// What a report says about a member whose audit role cannot be assumed: how to give it one.
const MEMBER_ROLE_FIX: &str = "to fix: deploy the member role there (infra/sam/member-role.yaml or the \
member-role Terraform module), or add its OU to MemberRoleStackSetOUs / member_role_stack_set_ous";

/// Scopes observed at once. Each scope reads with its own bounded concurrency; EC2 throttles
/// per account and region, so scopes do not share a request bucket.
pub(crate) const SCOPES_IN_FLIGHT: usize = 4;

/// What one run does; the function takes it from its configuration and event, the CLI from its
/// arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub dry_run: bool,
    pub remediate: bool,
    pub accounts: AccountSelection,
    /// Accounts never audited.
    pub exclude: Vec<String>,
    pub regions: RegionSelection,
    pub role_name: Option<String>,
    /// Whether this run says the allowlist's own findings (an expiring grant): `None` in a run
    /// over every scope (our own scope says them, else the first audited), `Some` in one scope
    /// of an org audit, as its plan chose.
    pub holds_allowlist: Option<bool>,
}

impl Options {
    pub fn from_config(config: &AuditorConfig) -> Self {
        Options {
            dry_run: config.common.dry_run,
            remediate: config.remediate,
            accounts: config.audit_accounts.clone(),
            exclude: config.audit_exclude_accounts.clone(),
            regions: config.audit_regions.clone(),
            role_name: config.audit_role_name.clone(),
            holds_allowlist: None,
        }
    }
}

/// Progress of a run, for a progress bar.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// The scopes of the run are known.
    Scopes(usize),
    /// One scope is done (observed and audited, or failed).
    ScopeDone { account: &'a str, region: &'a str, ok: bool },
}

/// A run's results, before publishing.
#[derive(Clone, Debug)]
pub struct Run {
    pub generated_at: String,
    pub options: Options,
    pub results: Vec<ScopeResult>,
    /// Said once per run (not about one scope).
    pub notes: Vec<String>,
    pub malformed_grants: Vec<String>,
    /// The Security Hub export of each scope (`SECURITY_HUB=true`).
    pub security_hub: Vec<HubOutcome>,
    /// Scopes whose `latest` pointer must not move: their previous report could not be read,
    /// or their Security Hub export failed; the next run compares (and exports) again.
    pub held: BTreeSet<(String, String)>,
}

impl Run {
    /// The report over every scope of the run.
    pub fn report(&self) -> Report {
        Report::build(&self.generated_at, &self.results, None)
    }

    pub fn succeeded(&self) -> usize {
        self.results.iter().filter(|r| r.outcome.is_ok()).count()
    }

    /// The run is an error only when no scope could be audited: the failed scopes say why.
    pub fn some_scope_audited(&self, report: &Report) -> Result<()> {
        if self.succeeded() > 0 {
            return Ok(());
        }
        let errors: Vec<String> = report
            .failed_scopes()
            .map(|s| format!("{}/{}: {}", s.account, s.region, s.error.as_deref().unwrap_or("")))
            .collect();
        Err(Error::Partial { failed: errors.len(), total: self.results.len(), errors, retryable: true })
    }
}

/// The waiver that covers each finding at `now`, by finding id.
fn waived(waivers: &[Waiver], findings: &[Finding], now: i64) -> BTreeMap<String, Waiver> {
    findings.iter().filter_map(|f| waiver_for(waivers, f, now).map(|w| (f.id(), w.clone()))).collect()
}

/// Built once per process; every invocation borrows it.
pub struct Auditor {
    config: AuditorConfig,
    region: String,
    identity: Identity,
    allowlist: Allowlist,
    ledger: Ledger,
    reports: Option<Reports>,
    events: Option<crate::aws::eventbridge::EventBus>,
}

/// The function's answer: findings by code, what was remediated, where the reports are.
#[derive(Debug, Serialize)]
pub struct Answer {
    pub trigger: &'static str,
    pub dry_run: bool,
    pub remediate: bool,
    pub generated_at: String,
    pub scopes: Vec<ScopeStatus>,
    pub total: usize,
    pub by_severity: BTreeMap<Severity, usize>,
    /// Codes found at least once, with their counts.
    pub findings: BTreeMap<FindingCode, usize>,
    /// The remediation changes: applied, unchanged, failed, or (dry run) planned.
    pub remediated: Vec<Remedy>,
    /// Counted findings new since each scope's previous run, findings resolved since, and
    /// findings an active waiver covers (counted in no total).
    pub new: usize,
    pub resolved: usize,
    pub waived: usize,
    /// Where the reports were written (`s3://…`), per scope.
    pub reports: Vec<String>,
    /// The Security Hub export of each scope, with every finding it refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_hub: Vec<HubOutcome>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_grants: Vec<String>,
}

impl Auditor {
    pub fn new(config: AuditorConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity, events } = Shared::new(sdk, &config.common, ACTOR);
        let reports = config
            .report_bucket
            .as_ref()
            .map(|bucket| Reports::new(aws_sdk_s3::Client::new(sdk), bucket, &config.report_prefix));
        Auditor { region, identity, allowlist, ledger, reports, events, config }
    }

    pub fn config(&self) -> &AuditorConfig {
        &self.config
    }

    /// The AWS partition we run in (`aws`, `aws-cn`, `aws-us-gov`): ARNs in the OCSF report.
    pub async fn partition(&self) -> Result<String> {
        Ok(self.identity.caller().await?.partition.clone())
    }

    /// The options of an invocation: the configuration, made safer by the event if it asks.
    pub fn options(&self, request: &event::Request) -> Options {
        let mut options = Options::from_config(&self.config);
        options.dry_run |= request.dry_run == Some(true);
        options.remediate &= request.remediate != Some(false);
        options
    }

    /// The allowlist, all of it: nothing is audited against a partial read.
    async fn desired(&self) -> Result<(Desired, Vec<String>)> {
        let read = self.allowlist.all().await.inspect_err(|e| {
            tracing::error!(error = %e, "the allowlist cannot be read: nothing is audited");
        })?;
        let mut desired = Desired {
            route_table_tag: self.config.route_table_tag.clone(),
            stale_pending: i64::from(self.config.stale_pending_hours) * 3600,
            expiry_warning: i64::from(self.config.expiry_warning_days) * 86_400,
            waivers: read.waivers,
            ..Desired::default()
        };
        for grant in read.grants {
            match grant {
                Grant::Peering(g) => desired.peering_grants.push(g),
                Grant::Endpoint(g) => desired.endpoint_grants.push(g),
            }
        }
        for m in &read.malformed {
            tracing::error!(item = %m, "malformed allowlist item: it grants nothing");
        }
        Ok((desired, read.malformed))
    }

    /// The previous run of a scope, from its `latest` pointer (without a bucket there is none).
    async fn previous(&self, account: &str, region: &str) -> Previous {
        match &self.reports {
            Some(reports) => reports.previous(account, region).await,
            None => Previous::Unreadable("REPORT_BUCKET is not set, so no earlier report can be read".into()),
        }
    }

    /// The SDK configuration acting in `account`/`region`: ours, or the audit role's, with its
    /// credentials fetched now so that a role that cannot be assumed fails the scope by name.
    async fn scope_config(
        &self,
        me: &str,
        account: &str,
        region: &str,
        role: Option<&str>,
    ) -> Result<SdkConfig, String> {
        if account == me {
            return Ok(crate::aws::in_region(self.identity.base(), region));
        }
        let Some(role) = role else {
            return Err(format!("AUDIT_ROLE_NAME is not set, so account {account} (not this one) cannot be audited"));
        };
        let config = self.identity.assume(account, role, region).await.map_err(|e| e.to_string())?;
        let provider = config.credentials_provider().ok_or("the assumed-role configuration has no credentials")?;
        use aws_credential_types::provider::ProvideCredentials;
        provider.provide_credentials().await.map_err(|e| {
            format!("cannot assume role {role} in account {account}: {}; {MEMBER_ROLE_FIX}", source_chain(&e))
        })?;
        Ok(config)
    }

    /// Observes, audits and (optionally) remediates every scope.
    pub async fn run(&self, options: &Options, progress: &(dyn Fn(Progress<'_>) + Send + Sync)) -> Result<Run> {
        let started = clock::now_nanos();
        let generated_at = clock::rfc3339(started);
        let now = (started / 1_000_000_000) as i64;
        let caller = self.identity.caller().await?;
        let me = caller.account.clone();
        let planned = self.discover(&me, options).await?;
        let scopes: Vec<(String, String)> =
            planned.scopes.iter().map(|s| (s.account.clone(), s.region.clone())).collect();
        progress(Progress::Scopes(scopes.len()));

        // Observe every scope once (`buffered` keeps the scopes' order) while the allowlist is
        // read: the reads do not depend on it, so it costs no round trip of its own.
        let role = options.role_name.as_deref();
        let observing = futures::stream::iter(scopes.iter().map(|(account, region)| {
            let me = me.as_str();
            async move {
                let started = std::time::Instant::now();
                let result = match self.scope_config(me, account, region, role).await {
                    Ok(config) => observe::scope(self, &config, account, region).await.map_err(|e| e.to_string()),
                    Err(why) => Err(why),
                };
                match &result {
                    Ok(_) => {
                        let elapsed_ms = started.elapsed().as_millis() as u64;
                        tracing::info!(account = %account, region = %region, elapsed_ms, "scope observed");
                    }
                    Err(why) => {
                        tracing::error!(account = %account, region = %region, error = %why, "scope not audited")
                    }
                }
                (account, region, result)
            }
        }))
        .buffered(SCOPES_IN_FLIGHT)
        .collect::<Vec<_>>();
        let (desired, observed) = tokio::join!(self.desired(), observing);
        let (desired, malformed_grants) = desired?;

        // GRANT_EXPIRING is said once: by our own scope, else the first scope audited.
        let holder = observed
            .iter()
            .position(|(a, r, res)| res.is_ok() && **a == me && **r == self.region)
            .or_else(|| observed.iter().position(|(_, _, res)| res.is_ok()))
            .filter(|_| options.holds_allowlist != Some(false));
        let owned: BTreeSet<String> = observed
            .iter()
            .filter_map(|(_, _, r)| r.as_ref().ok())
            .flat_map(|s| s.owned_services.iter().cloned())
            .collect();
        let mut notes = planned.notes;
        for id in self.config.endpoint_service_ids.iter().flatten().filter(|id| !owned.contains(*id)) {
            notes.push(format!("ENDPOINT_SERVICE_IDS names {id}, which no audited scope owns"));
        }

        let mut results = Vec::with_capacity(observed.len());
        let (mut hubs, mut held) = (Vec::new(), BTreeSet::new());
        for (i, (account, region, result)) in observed.into_iter().enumerate() {
            let outcome = match result {
                Ok(mut scope) => {
                    scope.observed.holds_allowlist = holder == Some(i);
                    let findings = audit(&desired, &scope.observed, now);
                    let remedies = if options.remediate {
                        let plan = plan_remediation(&desired, &scope.observed);
                        remediate::apply(self, &scope.ec2, account, region, plan, options.dry_run).await
                    } else {
                        Vec::new()
                    };
                    let previous = self.previous(account, region).await;
                    if matches!(previous, Previous::Unreachable(_)) {
                        held.insert((account.clone(), region.clone()));
                    }
                    if self.config.security_hub {
                        let hub = SecurityHub::new(aws_sdk_securityhub::Client::new(&scope.config));
                        hubs.push((account.clone(), region.clone(), hub));
                    }
                    let mut notes = scope.notes;
                    notes.extend(previous.note());
                    let waived = waived(&desired.waivers, &findings, now);
                    Ok(Box::new(Audited { observed: scope.observed, findings, remedies, notes, waived, previous }))
                }
                Err(why) => Err(why),
            };
            progress(Progress::ScopeDone { account, region, ok: outcome.is_ok() });
            results.push(ScopeResult { account: account.clone(), region: region.clone(), outcome });
        }
        let mut run = Run {
            generated_at,
            options: options.clone(),
            results,
            notes,
            malformed_grants,
            security_hub: Vec::new(),
            held,
        };
        if !hubs.is_empty() {
            security_hub::export(&mut run, hubs, &caller.partition).await;
        }
        Ok(run)
    }
}

/// The answer of a run.
pub fn answer(trigger: &'static str, run: &Run, report: &Report, written: Vec<String>) -> Answer {
    Answer {
        trigger,
        dry_run: run.options.dry_run,
        remediate: run.options.remediate,
        generated_at: run.generated_at.clone(),
        scopes: report.scope.scopes.clone(),
        total: report.summary.total,
        by_severity: report.summary.by_severity.clone(),
        findings: report.summary.found_codes().into_iter().collect(),
        remediated: report.remediation.clone(),
        new: report.summary.new,
        resolved: report.summary.resolved,
        waived: report.summary.waived,
        reports: written,
        security_hub: run.security_hub.clone(),
        notes: run.notes.clone(),
        malformed_grants: run.malformed_grants.clone(),
    }
}

/// The Lambda handler: one event in, one answer out.
pub async fn handle(event: Value, ctx: &Auditor) -> Result<Value> {
    match event::invocation(event)? {
        event::Invocation::Run(request) => run_once(&request, ctx).await,
        event::Invocation::Plan(request) => ctx.plan(&request).await,
        event::Invocation::Scope { run, account, region, holds_allowlist, request } => {
            let scope = crate::domain::scopes::PlannedScope { account, region, holds_allowlist };
            ctx.audit_scope(&run, &scope, &request).await
        }
        event::Invocation::Aggregate { run } => ctx.aggregate(&run).await,
    }
}

/// Every scope in this one invocation.
async fn run_once(request: &event::Request, ctx: &Auditor) -> Result<Value> {
    let options = ctx.options(request);
    let run = ctx.run(&options, &|_| {}).await?;
    let report = run.report();
    let published = ctx.publish(&run).await;

    // Metrics: EMF records on stdout, where CloudWatch Logs picks them up.
    let failed = run.results.len() - run.succeeded();
    let timestamp_ms = (clock::now_nanos() / 1_000_000) as i64;
    for line in report::emf_records(&report.summary, run.succeeded(), failed, ACTOR, timestamp_ms) {
        println!("{line}");
    }
    if ctx.reports.is_none() {
        // No bucket: the logs are where the report lies (without the drawing's data).
        let mut logged = serde_json::to_value(&report).map_err(|e| Error::Unexpected(format!("report: {e}")))?;
        if let Some(map) = logged.as_object_mut() {
            map.remove("estate");
        }
        tracing::info!(report = %logged, "drift report");
    }

    let written = match &published {
        Ok(w) => w.clone(),
        Err(_) => Vec::new(),
    };
    ctx.tell(&report, &written, run.options.dry_run).await;
    let answer = answer(request.trigger, &run, &report, written);
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(format!("answer: {e}")))?;
    tracing::info!(answer = %value, "drift-auditor done");

    run.some_scope_audited(&report)?;
    published?;
    security_hub::exported(&run)?;
    Ok(value)
}
