//! The report as Markdown (GitHub-flavoured tables), for tickets, chat and pull requests.
use std::fmt::Write;

use super::history::{age, Status};
use super::{change_and_pcx, severity_name, waiver_text, Report, ReportFinding, ScopeState};

/// What changed since each scope's previous run: the new findings and the resolved ones.
fn changes(out: &mut String, report: &Report) {
    let s = &report.summary;
    let _ = writeln!(out, "## What changed since the last run\n");
    let _ = writeln!(out, "**{} new**, **{} resolved**, {} waived.\n", s.new, s.resolved, s.waived);
    let new: Vec<_> = report.findings.iter().filter(|f| f.status == Status::New).collect();
    if !new.is_empty() {
        let _ = writeln!(out, "| new | severity | code | resource | account / region |\n|---|---|---|---|---|");
        for f in new {
            let (sev, code) = (severity_name(f.severity), f.code.as_str());
            let _ =
                writeln!(out, "| new | {sev} | `{code}` | `{}` | {} / {} |", cell(&f.resource), f.account, f.region);
        }
        let _ = writeln!(out);
    }
    if !report.resolved.is_empty() {
        let _ = writeln!(out, "| resolved | code | resource | account / region | open since |\n|---|---|---|---|---|");
        for r in &report.resolved {
            let _ = writeln!(
                out,
                "| resolved | `{}` | `{}` | {} / {} | {} |",
                r.code,
                cell(&r.resource),
                r.account,
                r.region,
                r.first_seen
            );
        }
        let _ = writeln!(out);
    }
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A table row of a finding: the columns every finding table leads with, then `rest`.
fn finding_row(out: &mut String, f: &ReportFinding, rest: &[String]) {
    let (severity, code, resource) = (severity_name(f.severity), f.code.as_str(), cell(&f.resource));
    let _ =
        writeln!(out, "| {severity} | `{code}` | `{resource}` | {} / {} | {} |", f.account, f.region, rest.join(" | "));
}

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# vpcwarden drift report\n");
    let _ = writeln!(
        out,
        "Generated {} for account(s) {} in {} (schema version {}).\n",
        report.generated_at,
        report.scope.accounts.join(", "),
        report.scope.regions.join(", "),
        report.schema_version
    );

    changes(&mut out, report);
    super::requests::markdown(&mut out, report);

    let _ = writeln!(out, "## Scopes\n\n| account | region | status | findings | detail |\n|---|---|---|---|---|");
    for s in &report.scope.scopes {
        let (status, detail) = match s.status {
            ScopeState::Ok => ("ok", s.notes.join("; ")),
            ScopeState::Failed => ("**failed**", s.error.clone().unwrap_or_default()),
        };
        let findings = s.findings.map(|n| n.to_string()).unwrap_or_else(|| "–".into());
        let _ = writeln!(out, "| {} | {} | {status} | {findings} | {} |", s.account, s.region, cell(&detail));
    }

    let _ = writeln!(out, "\n## Summary\n\n**{} finding(s)**\n", report.summary.total);
    let _ = writeln!(out, "| severity | count |\n|---|---|");
    for (severity, n) in report.summary.by_severity.iter().rev() {
        let _ = writeln!(out, "| {} | {n} |", severity_name(*severity));
    }
    let found = report.summary.found_codes();
    if !found.is_empty() {
        let _ = writeln!(out, "\n| code | severity | count |\n|---|---|---|");
        for (code, n) in found {
            let _ = writeln!(out, "| `{}` | {} | {n} |", code.as_str(), severity_name(code.severity()));
        }
    }

    let _ = writeln!(out, "\n## Findings\n");
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
    } else {
        let _ = writeln!(out, "| severity | code | resource | account / region | open for | finding | remediation |");
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for f in &report.findings {
            let open = match f.status {
                Status::New => "**new**".to_string(),
                Status::Persisting => format!("{} (since {})", age(&f.first_seen, &report.generated_at), f.first_seen),
            };
            finding_row(&mut out, f, &[open, cell(&f.message), cell(&f.remediation)]);
        }
    }

    if !report.waived.is_empty() {
        let _ = writeln!(out, "\n## Waived (accepted risks, counted in no total)\n");
        let _ = writeln!(out, "| severity | code | resource | account / region | finding | waiver |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for f in &report.waived {
            let waiver = f.waiver.as_ref().map(waiver_text).unwrap_or_default();
            finding_row(&mut out, f, &[cell(&f.message), cell(&waiver)]);
        }
    }

    if !report.remediation.is_empty() {
        let _ =
            writeln!(out, "\n## Remediation\n\n| outcome | change | route table | destination | connection | detail |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for r in &report.remediation {
            let (change, pcx) = change_and_pcx(&r.change);
            let _ = writeln!(
                out,
                "| {} | {change} | {} | {} | {pcx} | {} |",
                r.outcome.as_str(),
                r.change.route_table(),
                r.change.destination(),
                cell(r.error.as_deref().unwrap_or(""))
            );
        }
    }
    out
}
