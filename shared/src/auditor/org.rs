//! The org audit's three steps, each one invocation of this function made by the org-audit state
//! machine (infra/statemachine/org-audit.asl.json): **plan** discovers the scopes once and writes
//! them for the Distributed Map; **scope** audits one account in one region and writes its
//! report (the scope's history moves on with it); **aggregate** puts the run's one report
//! together from the scopes' reports, with every planned scope that has none listed as failed.
//! Step Functions payloads stay small: everything large goes through S3 (`aws::runs`).
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};

use futures::StreamExt;
use serde_json::{json, Value};

use super::event::Request;
use super::publish::report_entry;
use super::{Auditor, ACTOR};
use crate::aws::runs::{Announced, Plan, RunKeys};
use crate::aws::s3::{Latest, Rendering, Reports};
use crate::clock;
use crate::domain::scopes::{plan_items, AccountSelection, PlannedScope, RegionSelection, RunId};
use crate::error::{Error, Result};
use crate::report::{self, Report, ScopeState, ScopeStatus};

/// Scope reports read at once by the aggregate step.
const READS_IN_FLIGHT: usize = 16;

/// 32 random bits for a run id (the standard library's per-process random hash keys).
fn random_bits() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_i128(clock::now_nanos());
    hasher.finish() as u32
}

impl Auditor {
    /// The bucket the org audit keeps its run data in: without one there is no org audit.
    fn run_store(&self) -> Result<&Reports> {
        self.reports
            .as_ref()
            .ok_or_else(|| Error::Config("the org audit keeps its run data in S3: REPORT_BUCKET must be set".into()))
    }

    /// Discovers the scopes (Organizations and Regions read once, here) and writes the plan;
    /// answers `{run_id, run_prefix, scopes_key, scope_count}`.
    pub(super) async fn plan(&self, request: &Request) -> Result<Value> {
        let reports = self.run_store()?;
        let options = self.options(request);
        let me = self.identity.caller().await?.account.clone();
        let planned = self.discover(&me, &options).await?;
        let generated_at = clock::rfc3339(clock::now_nanos());
        let run_id = RunId::new(&generated_at, random_bits());
        let keys = RunKeys::new(reports.prefix(), &run_id);
        let items = plan_items(&planned, &me, &self.region);
        let plan = Plan {
            run_id: run_id.clone(),
            generated_at,
            dry_run: options.dry_run,
            remediate: options.remediate,
            notes: planned.notes,
        };
        // The plan first: an aggregate that finds the items finds the plan too.
        reports.put_json(&keys.plan(), &plan).await?;
        reports.put_json(&keys.scopes(), &items).await?;
        tracing::info!(run_id = %run_id, scopes = items.len(), notes = ?plan.notes, "org audit planned");
        Ok(json!({
            "run_id": run_id,
            "run_prefix": keys.prefix(),
            "scopes_key": keys.scopes(),
            "scope_count": items.len(),
        }))
    }

    /// Audits one scope, writes its report and moves its history on; answers a small summary.
    /// A scope that cannot be read is an answer (status `failed`, and why), not an error.
    pub(super) async fn audit_scope(&self, run_id: &RunId, scope: &PlannedScope, request: &Request) -> Result<Value> {
        let reports = self.run_store()?;
        let mut options = self.options(request);
        options.accounts = AccountSelection::Listed { accounts: vec![scope.account.clone()], units: Vec::new() };
        options.exclude = Vec::new();
        options.regions = RegionSelection::Listed(vec![scope.region.clone()]);
        options.holds_allowlist = Some(scope.holds_allowlist);
        let run = self.run(&options, &|_| {}).await?;
        let report = Report::build(&run.generated_at, &run.results, None);
        let key = RunKeys::new(reports.prefix(), run_id).scope(&scope.account, &scope.region);
        reports.put_json(&key, &report).await?;
        let audited = run.succeeded() == 1;
        let held = run.held.contains(&(scope.account.clone(), scope.region.clone()));
        if audited && !held {
            let latest = Latest { generated_at: run.generated_at.clone(), report: key.clone() };
            reports.point_latest(&scope.account, &scope.region, &latest).await?;
        }
        super::security_hub::exported(&run)?;
        let status = report.scope.scopes.first().cloned();
        Ok(json!({
            "account": scope.account,
            "region": scope.region,
            "status": if audited { "ok" } else { "failed" },
            "error": status.as_ref().and_then(|s| s.error.clone()),
            "findings": report.summary.total,
            "new": report.summary.new,
            "resolved": report.summary.resolved,
            "waived": report.summary.waived,
        }))
    }

    /// The run's one report from its scopes' reports: written (JSON, Markdown, HTML, OCSF) under
    /// the run's prefix, summarised in the ledger and the metrics; answers where it lies.
    pub(super) async fn aggregate(&self, run_id: &RunId) -> Result<Value> {
        let reports = self.run_store()?;
        let keys = RunKeys::new(reports.prefix(), run_id);
        let plan: Plan = reports.get_json(&keys.plan()).await?;
        let planned: Vec<PlannedScope> = reports.get_json(&keys.scopes()).await?;
        let present: BTreeSet<String> = reports.keys_under(&keys.scope_results()).await?.into_iter().collect();
        let (with_result, missing): (Vec<&PlannedScope>, Vec<&PlannedScope>) =
            planned.iter().partition(|s| present.contains(&keys.scope(&s.account, &s.region)));
        let parts: Vec<Report> = futures::stream::iter(with_result.iter().map(|s| {
            let key = keys.scope(&s.account, &s.region);
            async move { reports.get_json::<Report>(&key).await }
        }))
        .buffer_unordered(READS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
        let missing = missing.into_iter().map(no_result).collect();
        let mut report = Report::merge(&plan.generated_at, parts, missing);
        let me = self.identity.caller().await?.account.clone();
        // Requests wait in this account, in the region where they were asked.
        let here = |region: &str| report.scope.scopes.iter().any(|s| s.account == me && s.region == region);
        let open = self.open_requests().await.into_iter().filter(|o| here(&o.request.region)).collect();
        report.approval_requests = open;
        let audited = report.scope.scopes.iter().filter(|s| s.status == ScopeState::Ok).count();
        let failed = report.scope.scopes.len() - audited;

        let written = self.write_run_report(reports, &keys, &report).await?;
        let status = if audited > 0 { "ok" } else { "failed" };
        let entry = report_entry(&report, (plan.dry_run, plan.remediate), status, None, written.clone());
        self.ledger.record_report(&me, &self.region, &plan.generated_at, &entry).await?;
        self.announce(reports, &keys, &report, &written, (audited, failed), plan.dry_run).await?;
        tracing::info!(run_id = %run_id, audited, failed, total = report.summary.total, "org audit aggregated");
        if audited == 0 && failed > 0 {
            let errors = report
                .failed_scopes()
                .map(|s| format!("{}/{}: {}", s.account, s.region, s.error.as_deref().unwrap_or("")))
                .collect();
            return Err(Error::Partial { failed, total: failed, errors, retryable: false });
        }
        Ok(json!({
            "run_id": run_id,
            "summary": report.summary,
            "scopes_audited": audited,
            "scopes_failed": failed,
            "failed": report.failed_scopes().map(|s| format!("{}/{}", s.account, s.region)).collect::<Vec<_>>(),
            "notes": plan.notes,
            "reports": {"json": written[0], "md": written[1], "html": written[2], "ocsf": written[3]},
        }))
    }

    /// The run's metrics and events, once: a replayed aggregate step finds the receipt the
    /// first one wrote and says so instead. A crash between telling and the receipt tells again
    /// on the retry (at least once, as EventBridge itself delivers).
    async fn announce(
        &self,
        reports: &Reports,
        keys: &RunKeys,
        report: &Report,
        written: &[String],
        (audited, failed): (usize, usize),
        dry_run: bool,
    ) -> Result<()> {
        if let Some(receipt) = reports.get_text(&keys.announced()).await? {
            tracing::info!(receipt = %receipt, "aggregate replayed: the run's metrics and events went out before");
            return Ok(());
        }
        let timestamp_ms = (clock::now_nanos() / 1_000_000) as i64;
        for line in report::emf_records(&report.summary, audited, failed, ACTOR, timestamp_ms) {
            println!("{line}");
        }
        let published = self.tell(report, written, dry_run).await;
        let receipt = Announced {
            at: clock::rfc3339(clock::now_nanos()),
            events_published: published.sent,
            events_failed: published.failed.len(),
        };
        reports.put_json(&keys.announced(), &receipt).await
    }

    async fn write_run_report(&self, reports: &Reports, keys: &RunKeys, report: &Report) -> Result<Vec<String>> {
        let partition = self.partition().await?;
        let (json, md, html) = (report.json(), report::markdown(report), report::html(report));
        let ocsf = report::ocsf(report, &partition);
        let renderings = [
            Rendering { extension: "json", content_type: "application/json", body: &json },
            Rendering { extension: "md", content_type: "text/markdown; charset=utf-8", body: &md },
            Rendering { extension: "html", content_type: "text/html; charset=utf-8", body: &html },
            Rendering { extension: "ocsf.json", content_type: "application/json", body: &ocsf },
        ];
        reports.put_run_report(keys, &renderings).await
    }
}

/// A planned scope without a result: its invocation failed after the state machine's retries
/// (a crash, a timeout) and the Map tolerated it.
fn no_result(s: &PlannedScope) -> ScopeStatus {
    ScopeStatus {
        account: s.account.clone(),
        region: s.region.clone(),
        status: ScopeState::Failed,
        error: Some(
            "no result: its invocation failed after the state machine's retries (a crash or a timeout: see the \
             Map Run's failed executions)"
                .into(),
        ),
        findings: None,
        notes: Vec::new(),
        compared_with: None,
    }
}
