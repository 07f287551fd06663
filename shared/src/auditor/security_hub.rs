//! The Security Hub export of a run (`SECURITY_HUB=true`): each audited scope's findings are
//! imported into that account and region, through the audit role there — open findings ACTIVE
//! and FAILED, resolved ones ARCHIVED and PASSED under the same `Id`, waived ones SUPPRESSED
//! (and a finding whose waiver ended back to NEW). `BatchImportFindings` keeps the workflow
//! only on a finding's first import, so the workflow of a finding Security Hub already holds is
//! set with `BatchUpdateFindings`. Security Hub not enabled in a scope is a note on that scope;
//! any other failure holds the scope's history back (its `latest` pointer does not move) and
//! fails the run with a retryable error, so the retry exports the same changes again.
use std::collections::BTreeSet;

use futures::StreamExt;
use serde::Serialize;

use super::{Run, SCOPES_IN_FLIGHT};
use crate::aws::securityhub::{Refused, SecurityHub, Sent};
use crate::error::{Error, Result};
use crate::report::asff::{self, AsffFinding};
use crate::report::{Report, ScopeResult};

/// What the export did in one scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HubOutcome {
    pub account: String,
    pub region: String,
    /// Open findings imported (waived ones included).
    pub imported: usize,
    /// Resolved findings archived.
    pub archived: usize,
    /// Findings whose workflow was set to SUPPRESSED (waived) or back to NEW (waiver ended).
    pub suppressed: usize,
    pub unsuppressed: usize,
    /// Every finding Security Hub did not take, with its error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
    /// Security Hub is not enabled in this account and region: nothing was exported.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl HubOutcome {
    /// What the scope's report says about the export (nothing when all went well).
    pub fn note(&self) -> Option<String> {
        if self.not_enabled {
            return Some(format!(
                "Security Hub is not enabled in {}/{}: no finding was imported (enable it there, or set \
                 SECURITY_HUB=false)",
                self.account, self.region
            ));
        }
        if let Some(e) = &self.error {
            return Some(format!("the Security Hub export failed ({e}); the next run exports again"));
        }
        if self.refused.is_empty() {
            return None;
        }
        let each: Vec<String> = self.refused.iter().map(|r| format!("{}: {} {}", r.id, r.code, r.message)).collect();
        Some(format!("Security Hub refused {} finding(s): {}", self.refused.len(), each.join("; ")))
    }
}

fn keys(findings: &[&AsffFinding]) -> Vec<(String, String)> {
    findings.iter().map(|f| (f.product_arn.clone(), f.id.clone())).collect()
}

fn absorb(out: &mut HubOutcome, sent: Sent) -> usize {
    out.not_enabled |= sent.not_enabled;
    out.refused.extend(sent.refused);
    sent.accepted
}

/// Exports one scope's report; `was_waived`: the ids the previous run listed as waived.
async fn scope(
    hub: &SecurityHub,
    report: &Report,
    partition: &str,
    was_waived: &BTreeSet<String>,
) -> Result<HubOutcome> {
    let all = asff::findings(report, partition);
    let (resolved, open): (Vec<AsffFinding>, Vec<AsffFinding>) =
        all.into_iter().partition(|f| f.record_state == "ARCHIVED");
    let mut out = HubOutcome::default();
    let n = absorb(&mut out, hub.import(&open).await?);
    out.imported = n;
    if out.not_enabled {
        return Ok(out);
    }
    let n = absorb(&mut out, hub.import(&resolved).await?);
    out.archived = n;
    let waived: Vec<&AsffFinding> = open.iter().filter(|f| f.workflow_status.is_some()).collect();
    if !waived.is_empty() {
        let n = absorb(&mut out, hub.set_workflow(&keys(&waived), "SUPPRESSED").await?);
        out.suppressed = n;
    }
    let ended: Vec<&AsffFinding> = open
        .iter()
        .filter(|f| f.workflow_status.is_none() && was_waived.contains(f.id.trim_start_matches("vpcwarden/")))
        .collect();
    if !ended.is_empty() {
        let n = absorb(&mut out, hub.set_workflow(&keys(&ended), "NEW").await?);
        out.unsuppressed = n;
    }
    Ok(out)
}

/// Exports every audited scope of `run` (those in `hubs`, with their client); the outcomes go
/// into the run's answer and each scope's notes.
pub(super) async fn export(run: &mut Run, hubs: Vec<(String, String, SecurityHub)>, partition: &str) {
    let results: &[ScopeResult] = &run.results;
    let generated_at = run.generated_at.as_str();
    let outcomes: Vec<HubOutcome> = futures::stream::iter(hubs.iter().map(|(account, region, hub)| async move {
        let report = Report::build(generated_at, results, Some((account, region)));
        let was_waived: BTreeSet<String> = results
            .iter()
            .filter(|r| r.account == *account && r.region == *region)
            .filter_map(|r| r.outcome.as_ref().ok())
            .flat_map(|a| a.previous.waived_ids().into_iter().map(str::to_string))
            .collect();
        let mut outcome = scope(hub, &report, partition, &was_waived)
            .await
            .unwrap_or_else(|e| HubOutcome { error: Some(e.to_string()), ..HubOutcome::default() });
        (outcome.account, outcome.region) = (account.clone(), region.clone());
        match (&outcome.error, outcome.not_enabled) {
            (Some(e), _) => {
                tracing::error!(account = %account, region = %region, error = %e, "Security Hub export failed")
            }
            (None, true) => tracing::warn!(account = %account, region = %region, "Security Hub is not enabled"),
            (None, false) => tracing::info!(account = %account, region = %region, imported = outcome.imported,
                                            archived = outcome.archived, refused = outcome.refused.len(),
                                            "findings exported to Security Hub"),
        }
        outcome
    }))
    .buffered(SCOPES_IN_FLIGHT)
    .collect()
    .await;
    for outcome in outcomes {
        let scope = (outcome.account.clone(), outcome.region.clone());
        if outcome.error.is_some() {
            run.held.insert(scope.clone());
        }
        if let Some(note) = outcome.note() {
            let audited = run.results.iter_mut().filter(|r| (r.account.clone(), r.region.clone()) == scope);
            for a in audited.filter_map(|r| r.outcome.as_mut().ok()) {
                a.notes.push(note.clone());
            }
        }
        run.security_hub.push(outcome);
    }
}

/// The run's error when the export failed in some scope (retryable: the retry exports again).
pub(super) fn exported(run: &Run) -> Result<()> {
    let errors: Vec<String> = run
        .security_hub
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| format!("{}/{}: Security Hub: {e}", o.account, o.region)))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::Partial { failed: errors.len(), total: run.security_hub.len(), errors, retryable: true })
}
