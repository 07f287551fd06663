//! drift-auditor: compares what is with what was granted, in every scope (an account in a
//! region), writes the reports, emits the metrics, and optionally remediates the safe drift.
//!
//! Every run is load the allowlist → observe each scope once (concurrently, paginated) →
//! audit (pure) → remediate (optional, ledgered) → publish (S3, ledger, logs, metrics) →
//! answer. A scope that cannot be observed (a role that cannot be assumed, throttled out) is
//! reported with why, and the others are still audited; the run is an error only when no scope
//! could be audited. The CLI (`vpcwarden audit`) runs [`Auditor::run`] too.
pub mod event;
mod observe;
mod remediate;

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::aws::allowlist::Allowlist;
use crate::aws::identity::Identity;
use crate::aws::ledger::{Ledger, ReportEntry};
use crate::aws::s3::{Rendering, Reports};
use crate::aws::Shared;
use crate::clock;
use crate::config::AuditorConfig;
use crate::domain::{FindingCode, Grant, LedgerAction, Severity};
use crate::error::{source_chain, Error, Result};
use crate::report::{self, Audited, Remedy, RemedyOutcome, Report, ScopeResult, ScopeStatus};
use vpcwarden_core::audit::{audit, plan_remediation, Desired};

pub const ACTOR: &str = "drift-auditor";

/// Scopes observed at once. Each scope reads with its own bounded concurrency; EC2 throttles
/// per account and region, so scopes do not share a request bucket.
const SCOPES_IN_FLIGHT: usize = 4;

/// What one run does; the function takes it from its configuration and event, the CLI from its
/// arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub dry_run: bool,
    pub remediate: bool,
    /// `None`: this account.
    pub accounts: Option<Vec<String>>,
    /// `None`: this region.
    pub regions: Option<Vec<String>>,
    pub role_name: Option<String>,
}

impl Options {
    pub fn from_config(config: &AuditorConfig) -> Self {
        Options {
            dry_run: config.common.dry_run,
            remediate: config.remediate,
            accounts: config.audit_accounts.clone(),
            regions: config.audit_regions.clone(),
            role_name: config.audit_role_name.clone(),
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

    pub fn date(&self) -> &str {
        self.generated_at.get(..10).unwrap_or(&self.generated_at)
    }
}

/// Built once per process; every invocation borrows it.
pub struct Auditor {
    config: AuditorConfig,
    region: String,
    identity: Identity,
    allowlist: Allowlist,
    ledger: Ledger,
    reports: Option<Reports>,
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
    /// Where the reports were written (`s3://…`), per scope.
    pub reports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_grants: Vec<String>,
}

impl Auditor {
    pub fn new(config: AuditorConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity, .. } = Shared::new(sdk, &config.common, ACTOR);
        let reports = config
            .report_bucket
            .as_ref()
            .map(|bucket| Reports::new(aws_sdk_s3::Client::new(sdk), bucket, &config.report_prefix));
        Auditor { region, identity, allowlist, ledger, reports, config }
    }

    pub fn config(&self) -> &AuditorConfig {
        &self.config
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
        let read = self.allowlist.all_grants().await.inspect_err(|e| {
            tracing::error!(error = %e, "the allowlist cannot be read: nothing is audited");
        })?;
        let mut desired = Desired {
            route_table_tag: self.config.route_table_tag.clone(),
            stale_pending: i64::from(self.config.stale_pending_hours) * 3600,
            expiry_warning: i64::from(self.config.expiry_warning_days) * 86_400,
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
        provider
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot assume role {role} in account {account}: {}", source_chain(&e)))?;
        Ok(config)
    }

    /// Observes, audits and (optionally) remediates every scope.
    pub async fn run(&self, options: &Options, progress: &(dyn Fn(Progress<'_>) + Send + Sync)) -> Result<Run> {
        let started = clock::now_nanos();
        let generated_at = clock::rfc3339(started);
        let now = (started / 1_000_000_000) as i64;
        let caller = self.identity.caller().await?;
        let me = caller.account.clone();
        let accounts = options.accounts.clone().unwrap_or_else(|| vec![me.clone()]);
        let regions = options.regions.clone().unwrap_or_else(|| vec![self.region.clone()]);
        let scopes: Vec<(String, String)> =
            accounts.iter().flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone()))).collect();
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
            .or_else(|| observed.iter().position(|(_, _, res)| res.is_ok()));
        let owned: BTreeSet<String> = observed
            .iter()
            .filter_map(|(_, _, r)| r.as_ref().ok())
            .flat_map(|s| s.owned_services.iter().cloned())
            .collect();
        let mut notes = Vec::new();
        for id in self.config.endpoint_service_ids.iter().flatten().filter(|id| !owned.contains(*id)) {
            notes.push(format!("ENDPOINT_SERVICE_IDS names {id}, which no audited scope owns"));
        }

        let mut results = Vec::with_capacity(observed.len());
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
                    Ok(Box::new(Audited { observed: scope.observed, findings, remedies, notes: scope.notes }))
                }
                Err(why) => Err(why),
            };
            progress(Progress::ScopeDone { account, region, ok: outcome.is_ok() });
            results.push(ScopeResult { account: account.clone(), region: region.clone(), outcome });
        }
        Ok(Run { generated_at, options: options.clone(), results, notes, malformed_grants })
    }

    /// Writes each scope's report to S3 (when `REPORT_BUCKET` is set) and its summary to the
    /// ledger; the addresses written. Every scope is attempted; the first error is returned.
    pub(crate) async fn publish(&self, run: &Run) -> Result<Vec<String>> {
        let mut written = Vec::new();
        let mut first_error = None;
        for r in &run.results {
            let report = Report::build(&run.generated_at, &run.results, Some((&r.account, &r.region)));
            let mut location = Vec::new();
            if let Some(reports) = &self.reports {
                let started = std::time::Instant::now();
                let (json, md, html) = (report.json(), report::markdown(&report), report::html(&report));
                let elapsed_ms = started.elapsed().as_millis() as u64;
                tracing::info!(account = %r.account, region = %r.region, elapsed_ms, "report rendered");
                let renderings = [
                    Rendering { extension: "json", content_type: "application/json", body: &json },
                    Rendering { extension: "md", content_type: "text/markdown; charset=utf-8", body: &md },
                    Rendering { extension: "html", content_type: "text/html; charset=utf-8", body: &html },
                ];
                match reports.put(&r.account, &r.region, run.date(), &renderings).await {
                    Ok(uris) => location = uris,
                    Err(e) => {
                        tracing::error!(account = %r.account, region = %r.region, error = %e, "report not written to S3");
                        first_error.get_or_insert(e);
                    }
                }
            } else {
                location.push("logs (REPORT_BUCKET is not set)".into());
            }
            let entry = ledger_entry(run, r, &report, location.clone());
            if let Err(e) = self.ledger.record_report(&r.account, &r.region, &run.generated_at, &entry).await {
                tracing::error!(account = %r.account, region = %r.region, error = %e, "report summary not ledgered");
                first_error.get_or_insert(e);
            }
            written.extend(location.into_iter().filter(|l| l.starts_with("s3://")));
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}

fn ledger_entry(run: &Run, r: &ScopeResult, report: &Report, location: Vec<String>) -> ReportEntry {
    let (status, error, remediated) = match &r.outcome {
        Ok(a) => ("ok", None, a.remedies.iter().filter(|m| m.outcome == RemedyOutcome::Applied).count()),
        Err(e) => ("failed", Some(e.clone()), 0),
    };
    ReportEntry {
        action: LedgerAction::Report,
        status: status.into(),
        error,
        dry_run: run.options.dry_run,
        remediate: run.options.remediate,
        total: report.summary.total,
        by_severity: report
            .summary
            .by_severity
            .iter()
            .map(|(s, n)| (report::severity_name(*s).to_string(), *n))
            .collect(),
        by_code: report.summary.found_codes().into_iter().map(|(c, n)| (c.as_str().to_string(), n)).collect(),
        remediated,
        report: location,
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
        reports: written,
        notes: run.notes.clone(),
        malformed_grants: run.malformed_grants.clone(),
    }
}

/// The Lambda handler: one event in, one answer out.
pub async fn handle(event: Value, ctx: &Auditor) -> Result<Value> {
    let request = event::parse(event)?;
    let options = ctx.options(&request);
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
    let answer = answer(request.trigger, &run, &report, written);
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(format!("answer: {e}")))?;
    tracing::info!(answer = %value, "drift-auditor done");

    run.some_scope_audited(&report)?;
    published?;
    Ok(value)
}
