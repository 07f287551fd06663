//! Publishing a run: each scope's report (JSON, Markdown, HTML, OCSF) to S3 under the run's
//! time, its summary to the ledger, and then the scope's `latest` pointer, which the next run
//! compares with. A scope whose history is held back (previous report unreadable now, Security
//! Hub export failed) keeps its pointer, so the next run compares with the same run again.
use super::{Auditor, Run};
use crate::aws::eventbridge::{tell, Published};
use crate::aws::ledger::ReportEntry;
use crate::aws::s3::Rendering;
use crate::domain::LedgerAction;
use crate::error::Result;
use crate::report::{self, RemedyOutcome, Report, ScopeResult};

impl Auditor {
    /// The approval requests still open (for the report); a ledger that cannot be read leaves
    /// them out, said in the logs, and fails nothing.
    pub(super) async fn open_requests(&self) -> Vec<vpcwarden_core::requests::OpenRequest> {
        self.ledger.open_requests().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "open approval requests not listed in the report");
            Vec::new()
        })
    }

    /// Tells others what the run found (`Finding Opened`, `Finding Resolved`) and that it
    /// completed; never fails (the run's result does not depend on its events).
    pub(crate) async fn tell(&self, report: &Report, written: &[String], dry_run: bool) -> Published {
        let Some(bus) = &self.events else { return Published::default() };
        let partition = match self.partition().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "events not published: the partition is unknown");
                return Published::default();
            }
        };
        let mut published = tell(Some(bus), super::ACTOR, report::events::finding_events(report, &partition)).await;
        let completed = report::events::audit_completed(report, written.to_vec(), dry_run);
        let last = tell(Some(bus), super::ACTOR, vec![completed]).await;
        published.sent += last.sent;
        published.failed.extend(last.failed);
        published
    }

    /// Writes each scope's report to S3 (when `REPORT_BUCKET` is set), its summary to the
    /// ledger, then moves the scope's `latest` pointer to it (unless the run holds it back);
    /// the addresses written. Every scope is attempted; the first error is returned.
    pub(crate) async fn publish(&self, run: &Run) -> Result<Vec<String>> {
        let partition = self.partition().await?;
        let me = self.identity.caller().await?.account.clone();
        let open = self.open_requests().await;
        let mut written = Vec::new();
        let mut first_error = None;
        for r in &run.results {
            let mut report = Report::build(&run.generated_at, &run.results, Some((&r.account, &r.region)));
            // Requests wait in this account, in the region where they were asked.
            report.approval_requests =
                open.iter().filter(|o| r.account == me && o.request.region == r.region).cloned().collect();
            let mut location = Vec::new();
            if let Some(reports) = &self.reports {
                let started = std::time::Instant::now();
                let (json, md, html) = (report.json(), report::markdown(&report), report::html(&report));
                let ocsf = report::ocsf(&report, &partition);
                let elapsed_ms = started.elapsed().as_millis() as u64;
                tracing::info!(account = %r.account, region = %r.region, elapsed_ms, "report rendered");
                let renderings = [
                    Rendering { extension: "json", content_type: "application/json", body: &json },
                    Rendering { extension: "md", content_type: "text/markdown; charset=utf-8", body: &md },
                    Rendering { extension: "html", content_type: "text/html; charset=utf-8", body: &html },
                    Rendering { extension: "ocsf.json", content_type: "application/json", body: &ocsf },
                ];
                match reports.put(&r.account, &r.region, &run.generated_at, &renderings).await {
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
                continue;
            }
            // Only a complete run of an audited scope becomes what the next run compares with.
            let scope = (r.account.clone(), r.region.clone());
            if let (Some(reports), Ok(_), false, false) =
                (&self.reports, &r.outcome, location.is_empty(), run.held.contains(&scope))
            {
                if let Err(e) = reports.set_latest(&r.account, &r.region, &run.generated_at).await {
                    tracing::error!(account = %r.account, region = %r.region, error = %e, "latest pointer not moved");
                    first_error.get_or_insert(e);
                }
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
    let (status, error) = match &r.outcome {
        Ok(_) => ("ok", None),
        Err(e) => ("failed", Some(e.clone())),
    };
    report_entry(report, (run.options.dry_run, run.options.remediate), status, error, location)
}

/// A report's summary in the ledger: its counts, the remediation applied, where it lies.
pub(super) fn report_entry(
    report: &Report,
    (dry_run, remediate): (bool, bool),
    status: &str,
    error: Option<String>,
    location: Vec<String>,
) -> ReportEntry {
    ReportEntry {
        action: LedgerAction::Report,
        status: status.into(),
        error,
        dry_run,
        remediate,
        total: report.summary.total,
        by_severity: report
            .summary
            .by_severity
            .iter()
            .map(|(s, n)| (report::severity_name(*s).to_string(), *n))
            .collect(),
        by_code: report.summary.found_codes().into_iter().map(|(c, n)| (c.as_str().to_string(), n)).collect(),
        remediated: report.remediation.iter().filter(|m| m.outcome == RemedyOutcome::Applied).count(),
        report: location,
    }
}
