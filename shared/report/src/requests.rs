//! The open approval requests in the nightly report (Markdown and HTML): oldest first, what each
//! asks, which checks fail, and the exact commands that approve or deny it.
use std::fmt::Write;

use maud::{html as page, Markup};

use super::Report;

pub(crate) fn markdown(out: &mut String, report: &Report) {
    if report.approval_requests.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Open approval requests\n");
    let _ = writeln!(out, "| request | requester | into | CIDRs | first seen | failed checks | approve | deny |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for o in &report.approval_requests {
        let r = &o.request;
        let requester = match &r.requester_vpc {
            Some(vpc) => format!("{} / `{vpc}`", r.account),
            None => r.account.clone(),
        };
        let cidrs: Vec<String> = r.cidrs.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "| `{}` ({}) | {requester} | `{}` | {} | {} | {} | `{}` | `{}` |",
            r.id,
            r.kind.as_str(),
            r.target,
            cidrs.join(", "),
            o.first_seen,
            o.failed_checks().join(", "),
            o.approve_command,
            o.deny_command.replace('|', "\\|"),
        );
    }
    let _ = writeln!(out);
}

pub(crate) fn html(report: &Report) -> Markup {
    page! {
        @if !report.approval_requests.is_empty() {
            h2 { "Open approval requests" }
            table #approval-requests {
                tr {
                    th { "request" } th { "requester" } th { "into" } th { "CIDRs" } th { "first seen" }
                    th { "checks" } th { "decide" }
                }
                @for o in &report.approval_requests {
                    @let r = &o.request;
                    tr {
                        td { code { (r.id) } " (" (r.kind.as_str()) ")" }
                        td { (r.account) @if let Some(vpc) = &r.requester_vpc { " / " code { (vpc) } } }
                        td { code { (r.target) } }
                        td { @for c in &r.cidrs { code { (c.to_string()) } " " } }
                        td { (o.first_seen) }
                        td { @for c in &r.checks { (if c.passed { "✓ " } else { "✗ " }) (c.check) ": " (c.detail) br; } }
                        td { code { (o.approve_command) } br; code { (o.deny_command) } }
                    }
                }
            }
        }
    }
}
