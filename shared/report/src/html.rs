//! The report as one self-contained HTML page. It leads with what changed since the previous
//! run (new and resolved findings), then the summary by severity, the scopes, an SVG drawing of
//! the estate, the findings with their age, the waived ones apart, and the remediation. Inline
//! CSS only: no script, no font, no image is loaded from anywhere.
//!
//! Written with `maud`: the page is checked when the crate compiles, and every value is
//! escaped unless marked otherwise — only the stylesheet and the drawing (SVG that the layout
//! library wrote from escaped labels) go in as they are.
use maud::{html as page, Markup, PreEscaped, DOCTYPE};

use super::drawing::severity_colour;
use super::history::{age, Status};
use super::{change_and_pcx, severity_name, svg, waiver_text, Report, ReportFinding, ScopeState, ScopeStatus};
use vpcwarden_core::domain::Severity;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem; color: #111827; }
h1 { margin-bottom: .2rem; } .meta { color: #4b5563; margin-top: 0; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border-radius: .5rem; padding: .8rem 1.2rem; min-width: 7rem; color: #fff; }
.card .n { font-size: 2rem; font-weight: 700; display: block; } .card.zero { opacity: .45; }
.total { background: #374151; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; width: 100%; }
th, td { border: 1px solid #e5e7eb; padding: .35rem .5rem; text-align: left; vertical-align: top; font-size: .9rem; }
th { background: #f9fafb; } code { font-size: .85rem; }
.sev { color: #fff; border-radius: .25rem; padding: 0 .35rem; font-size: .8rem; white-space: nowrap; }
.failed { background: #fef2f2; } .banner { background: #fef2f2; border: 1px solid #fecaca; padding: .6rem 1rem; border-radius: .4rem; }
#estate { overflow-x: hidden; overflow-y: auto; border: 1px solid #e5e7eb; border-radius: .5rem; padding: .5rem; max-height: 80vh; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: 1.6rem; height: .25rem; vertical-align: middle; margin-right: .3rem; }
.note { color: #4b5563; font-size: .9rem; }
.new { background: #1d4ed8; color: #fff; border-radius: .25rem; padding: 0 .35rem; font-size: .75rem; font-weight: 700; }
.changes .card { color: #111827; border: 1px solid #e5e7eb; background: #f9fafb; }
.changes .card.up { border-color: #1d4ed8; } .changes .card.down { border-color: #16a34a; }
tr.resolved td { color: #166534; } .waived td { color: #4b5563; }
#estate svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
"#;

fn background(colour: &str) -> String {
    format!("background:{colour}")
}

fn badge(s: Severity) -> Markup {
    page! { span.sev style=(background(severity_colour(s))) { (severity_name(s)) } }
}

pub fn html(report: &Report) -> String {
    let title = format!("vpcwarden drift report — {}", report.generated_at);
    let accounts = report.scope.accounts.join(", ");
    let regions = report.scope.regions.join(", ");
    page! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "vpcwarden drift report" }
                p.meta {
                    "Generated " (report.generated_at) " · account(s) " (accounts) " · region(s) " (regions)
                    " · schema version " (report.schema_version)
                }
                (failed_banner(report))
                (changes(report))
                (super::requests::html(report))
                (summary(report))
                (scopes(&report.scope.scopes))
                (estate(report))
                (findings(report))
                (waived(report))
                (remediation(report))
                p.note { "vpcwarden drift-auditor · JSON schema version " (report.schema_version) }
            }
        }
    }
    .into_string()
}

fn failed_banner(report: &Report) -> Markup {
    let failed: Vec<&ScopeStatus> = report.failed_scopes().collect();
    page! {
        @if !failed.is_empty() {
            p.banner {
                strong { (failed.len()) " scope(s) could not be audited" } ": "
                @for (i, s) in failed.iter().enumerate() {
                    @if i > 0 { "; " }
                    (s.account) " / " (s.region) ": " (s.error.as_deref().unwrap_or(""))
                }
            }
        }
    }
}

/// What changed since each scope's previous run, first: the new findings (worst first) and the
/// resolved ones.
fn changes(report: &Report) -> Markup {
    let s = &report.summary;
    let new: Vec<&ReportFinding> = report.findings.iter().filter(|f| f.status == Status::New).collect();
    page! {
        h2 { "What changed since the last run" }
        div.cards.changes #changes {
            div.card.up { span.n { (s.new) } "new" }
            div.card.down { span.n { (s.resolved) } "resolved" }
            div.card { span.n { (s.waived) } "waived" }
        }
        @if !new.is_empty() || !report.resolved.is_empty() {
            table #changed {
                tr { th { "" } th { "severity" } th { "code" } th { "resource" } th { "account / region" } th { "since" } }
                @for f in &new {
                    tr {
                        td { span.new { "NEW" } } td { (badge(f.severity)) } td { code { (f.code.as_str()) } }
                        td { code { (f.resource) } } td { (f.account) " / " (f.region) } td { (f.first_seen) }
                    }
                }
                @for r in &report.resolved {
                    tr.resolved {
                        td { "resolved" } td { "–" } td { code { (r.code) } } td { code { (r.resource) } }
                        td { (r.account) " / " (r.region) } td { (r.first_seen) " → " (r.resolved_at) }
                    }
                }
            }
        }
    }
}

fn summary(report: &Report) -> Markup {
    let found = report.summary.found_codes();
    page! {
        h2 { "Summary" }
        div.cards #summary {
            div.card.total { span.n { (report.summary.total) } "findings" }
            @for (severity, n) in report.summary.by_severity.iter().rev() {
                div.card.zero[*n == 0] style=(background(severity_colour(*severity))) {
                    span.n { (n) } (severity_name(*severity))
                }
            }
        }
        @if !found.is_empty() {
            table #codes {
                tr { th { "code" } th { "severity" } th { "count" } }
                @for (c, n) in found {
                    tr { td { code { (c.as_str()) } } td { (badge(c.severity())) } td { (n) } }
                }
            }
        }
    }
}

fn scopes(scopes: &[ScopeStatus]) -> Markup {
    page! {
        h2 { "Scopes" }
        table #scopes {
            tr { th { "account" } th { "region" } th { "status" } th { "findings" } th { "detail" } }
            @for s in scopes {
                @let (failed, status, detail) = match s.status {
                    ScopeState::Ok => (false, "ok", s.notes.join("; ")),
                    ScopeState::Failed => (true, "failed", s.error.clone().unwrap_or_default()),
                };
                tr class=[failed.then_some("failed")] {
                    td { (s.account) } td { (s.region) } td { (status) }
                    td { (s.findings.map(|n| n.to_string()).unwrap_or_else(|| "–".into())) }
                    td { (detail) }
                }
            }
        }
    }
}

/// What the drawing's colours mean.
fn legend() -> Markup {
    let line = |colour: &str, text: &str| page! { span { i style=(background(colour)) {} (text) } };
    page! {
        p.legend {
            (line("#16a34a", "active, no finding"))
            (line("#2563eb", "pending (dashed)"))
            (line("#6b7280", "inactive (dashed)"))
            (line(severity_colour(Severity::High), "high finding"))
            (line(severity_colour(Severity::Critical), "critical"))
            (line(severity_colour(Severity::Medium), "medium"))
            (line(severity_colour(Severity::Low), "low"))
            " · blue boxes: audited VPCs, grey: peers, yellow: endpoint services, white: consumer accounts; "
            "small boxes on the lines: peering connections; NEW: a finding new since the last run"
        }
    }
}

fn estate(report: &Report) -> Markup {
    page! {
        h2 { "Estate" }
        (legend())
        @match svg(&report.estate) {
            Ok((drawing, note)) => {
                @if let Some(note) = note { p.note { (note) } }
                // The layout library's SVG, from labels it escaped itself.
                div #estate { (PreEscaped(drawing)) }
            }
            Err(why) => { p.note #estate-missing { "No drawing: " (why) } }
        }
    }
}

fn findings(report: &Report) -> Markup {
    page! {
        h2 { "Findings" }
        @if report.findings.is_empty() {
            p #findings { "No findings." }
        } @else {
            table #findings {
                tr {
                    th { "severity" } th { "code" } th { "resource" } th { "account / region" } th { "open for" }
                    th { "finding" } th { "remediation" }
                }
                @for f in &report.findings {
                    tr {
                        td { (badge(f.severity)) }
                        td { code { (f.code.as_str()) } }
                        td { code { (f.resource) } }
                        td { (f.account) " / " (f.region) }
                        td {
                            @match f.status {
                                Status::New => span.new { "NEW" },
                                Status::Persisting => span title=(format!("first seen {}", f.first_seen)) {
                                    (age(&f.first_seen, &report.generated_at))
                                },
                            }
                        }
                        td { (f.message) }
                        td { (f.remediation) }
                    }
                }
            }
        }
    }
}

/// The findings an active waiver covers: listed, never counted.
fn waived(report: &Report) -> Markup {
    page! {
        @if !report.waived.is_empty() {
            h2 { "Waived: accepted risks, counted in no total" }
            table #waived {
                tr { th { "severity" } th { "code" } th { "resource" } th { "account / region" } th { "finding" } th { "waiver" } }
                @for f in &report.waived {
                    tr.waived {
                        td { (badge(f.severity)) } td { code { (f.code.as_str()) } } td { code { (f.resource) } }
                        td { (f.account) " / " (f.region) } td { (f.message) }
                        td { (f.waiver.as_ref().map(waiver_text).unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

fn remediation(report: &Report) -> Markup {
    page! {
        @if !report.remediation.is_empty() {
            h2 { "Remediation" }
            table #remediation {
                tr {
                    th { "outcome" } th { "change" } th { "route table" } th { "destination" } th { "connection" }
                    th { "detail" }
                }
                @for r in &report.remediation {
                    @let (change, pcx) = change_and_pcx(&r.change);
                    tr {
                        td { (r.outcome.as_str()) } td { (change) } td { (r.change.route_table()) }
                        td { (r.change.destination().to_string()) } td { (pcx) } td { (r.error.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}
