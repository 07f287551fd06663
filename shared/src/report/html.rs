//! The report as one self-contained HTML page: the summary by severity, the scopes, an SVG
//! drawing of the estate, the findings and the remediation. Inline CSS only: no script, no
//! font, no image is loaded from anywhere.
use std::fmt::Write;

use super::drawing::severity_colour;
use super::{escape_html as e, severity_name, svg, Report, ScopeState};
use crate::domain::Severity;

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
#estate { overflow: auto; border: 1px solid #e5e7eb; border-radius: .5rem; padding: .5rem; max-height: 80vh; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: 1.6rem; height: .25rem; vertical-align: middle; margin-right: .3rem; }
.note { color: #4b5563; font-size: .9rem; }
"#;

fn badge(s: Severity) -> String {
    format!("<span class=\"sev\" style=\"background:{}\">{}</span>", severity_colour(s), severity_name(s))
}

pub fn html(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("vpcwarden drift report — {}", report.generated_at);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n",
        e(&title)
    );
    let _ = writeln!(out, "<h1>vpcwarden drift report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Generated {} · account(s) {} · region(s) {} · schema version {}</p>",
        e(&report.generated_at),
        e(&report.scope.accounts.join(", ")),
        e(&report.scope.regions.join(", ")),
        report.schema_version
    );
    let failed: Vec<_> = report.failed_scopes().collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "<p class=\"banner\"><strong>{} scope(s) could not be audited</strong>: ", failed.len());
        let list: Vec<String> = failed
            .iter()
            .map(|s| format!("{} / {}: {}", e(&s.account), e(&s.region), e(s.error.as_deref().unwrap_or(""))))
            .collect();
        let _ = writeln!(out, "{}</p>", list.join("; "));
    }

    // Summary by severity.
    let _ = writeln!(out, "<h2>Summary</h2>\n<div class=\"cards\" id=\"summary\">");
    let _ = writeln!(out, "<div class=\"card total\"><span class=\"n\">{}</span>findings</div>", report.summary.total);
    for (severity, n) in report.summary.by_severity.iter().rev() {
        let _ = writeln!(
            out,
            "<div class=\"card{}\" style=\"background:{}\"><span class=\"n\">{n}</span>{}</div>",
            if *n == 0 { " zero" } else { "" },
            severity_colour(*severity),
            severity_name(*severity)
        );
    }
    let _ = writeln!(out, "</div>");
    let found = report.summary.found_codes();
    if !found.is_empty() {
        let _ = writeln!(out, "<table id=\"codes\"><tr><th>code</th><th>severity</th><th>count</th></tr>");
        for (code, n) in found {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{n}</td></tr>",
                code.as_str(),
                badge(code.severity())
            );
        }
        let _ = writeln!(out, "</table>");
    }

    // Scopes.
    let _ = writeln!(out, "<h2>Scopes</h2>\n<table id=\"scopes\"><tr><th>account</th><th>region</th><th>status</th><th>findings</th><th>detail</th></tr>");
    for s in &report.scope.scopes {
        let (class, status, detail) = match s.status {
            ScopeState::Ok => ("", "ok", s.notes.join("; ")),
            ScopeState::Failed => (" class=\"failed\"", "failed", s.error.clone().unwrap_or_default()),
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td>{status}</td><td>{}</td><td>{}</td></tr>",
            e(&s.account),
            e(&s.region),
            s.findings.map(|n| n.to_string()).unwrap_or_else(|| "–".into()),
            e(&detail)
        );
    }
    let _ = writeln!(out, "</table>");

    // The estate.
    let _ = writeln!(out, "<h2>Estate</h2>");
    let _ = writeln!(
        out,
        "<p class=\"legend\"><span><i style=\"background:#16a34a\"></i>active, no finding</span>\
         <span><i style=\"background:#2563eb\"></i>pending (dashed)</span>\
         <span><i style=\"background:#6b7280\"></i>inactive (dashed)</span>\
         <span><i style=\"background:{}\"></i>high finding</span><span><i style=\"background:{}\"></i>critical</span>\
         <span><i style=\"background:{}\"></i>medium</span><span><i style=\"background:{}\"></i>low</span>\
         · blue boxes: audited VPCs, grey: peers, yellow: endpoint services, white: consumer accounts</p>",
        severity_colour(Severity::High),
        severity_colour(Severity::Critical),
        severity_colour(Severity::Medium),
        severity_colour(Severity::Low)
    );
    match svg(&report.estate) {
        Ok((drawing, note)) => {
            if let Some(note) = note {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", e(&note));
            }
            let _ = writeln!(out, "<div id=\"estate\">\n{drawing}\n</div>");
        }
        Err(why) => {
            let _ = writeln!(out, "<p class=\"note\" id=\"estate-missing\">No drawing: {}</p>", e(&why));
        }
    }

    // Findings.
    let _ = writeln!(out, "<h2>Findings</h2>");
    if report.findings.is_empty() {
        let _ = writeln!(out, "<p id=\"findings\">No findings.</p>");
    } else {
        let _ = writeln!(
            out,
            "<table id=\"findings\"><tr><th>severity</th><th>code</th><th>resource</th><th>account / region</th>\
             <th>finding</th><th>remediation</th></tr>"
        );
        for f in &report.findings {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
                badge(f.severity),
                f.code.as_str(),
                e(&f.resource),
                e(&f.account),
                e(&f.region),
                e(&f.message),
                e(&f.remediation)
            );
        }
        let _ = writeln!(out, "</table>");
    }

    if !report.remediation.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Remediation</h2>\n<table id=\"remediation\"><tr><th>outcome</th><th>change</th><th>route table</th>\
             <th>destination</th><th>connection</th><th>detail</th></tr>"
        );
        for r in &report.remediation {
            let (change, pcx) = match &r.change {
                vpcwarden_core::RouteChange::Create { pcx, .. } => ("create", pcx.as_str()),
                vpcwarden_core::RouteChange::Delete { pcx, .. } => ("delete", pcx.as_str()),
                vpcwarden_core::RouteChange::Conflict { .. } => ("conflict", ""),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{change}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.outcome.as_str(),
                e(r.change.route_table()),
                r.change.destination(),
                e(pcx),
                e(r.error.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">vpcwarden drift-auditor · JSON schema version {}</p>\n</body>\n</html>",
        report.schema_version
    );
    out
}
