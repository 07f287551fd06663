//! `vpcwarden audit`: the drift-auditor run from a laptop — the same observation, audit,
//! remediation and reports (`vpcwarden::auditor`), with a progress bar across scopes and a
//! colourised findings table on a terminal.
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use console::Style;
use indicatif::{ProgressBar, ProgressStyle};

use vpcwarden::auditor::{Auditor, Options, Progress};
use vpcwarden::config::{AuditorConfig, Env};
use vpcwarden::domain::Severity;
use vpcwarden::error::{Error, Result};
use vpcwarden::report::{self, Report, ScopeState};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Md,
    Html,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Accounts to audit, comma-separated: ids, `ou:<ou-id>` entries, or `org` (default:
    /// AUDIT_ACCOUNTS, else this account).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT,…")]
    accounts: Vec<String>,
    /// Regions to audit, comma-separated, or `enabled` (default: AUDIT_REGIONS, else this region).
    #[arg(long, value_delimiter = ',', value_name = "REGION,…")]
    regions: Vec<String>,
    /// Role assumed in the other accounts (default: AUDIT_ROLE_NAME).
    #[arg(long, value_name = "ROLE")]
    role: Option<String>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write report.json, report.md, report.html and report.ocsf.json into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Recreate missing routes and delete routes to dead connections vpcwarden created (each
    /// change is ledgered).
    #[arg(long)]
    remediate: bool,
    /// With --remediate: show the plan, change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// The auditor's configuration: the environment (as the function reads it), with what the
/// command line gives first. The command line's lists are checked as the variables are.
fn config(args: &AuditArgs, table: &str, ledger_table: Option<&str>) -> Result<AuditorConfig> {
    let mut given: Vec<(&str, String, &str)> = vec![("ALLOWLIST_TABLE", table.to_string(), "--table")];
    let mut flag = |name, value: String, option| {
        if !value.is_empty() {
            given.push((name, value, option));
        }
    };
    flag("AUDIT_ACCOUNTS", args.accounts.join(","), "--accounts");
    flag("AUDIT_REGIONS", args.regions.join(","), "--regions");
    flag("AUDIT_ROLE_NAME", args.role.clone().unwrap_or_default(), "--role");
    flag("LEDGER_TABLE", ledger_table.unwrap_or_default().to_string(), "--ledger-table");
    flag("REMEDIATE", args.remediate.to_string(), "--remediate");
    flag("DRY_RUN", args.dry_run.to_string(), "--dry-run");
    let env: Vec<(String, String)> = std::env::vars().collect();
    // `Env::from_pairs` takes the first pair of a name: the command line's.
    let pairs: Vec<(&str, &str)> = given
        .iter()
        .map(|(k, v, _)| (*k, v.as_str()))
        .chain(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    let lookup = Env::from_pairs(&pairs);
    let config = AuditorConfig::from_env(&lookup);
    config.map_err(|e| {
        let mut message = e.to_string();
        for (name, _, option) in &given {
            message = message.replace(&format!("{name}:"), &format!("{option}:"));
        }
        Error::Config(message.trim_start_matches("configuration: ").to_string())
    })
}

pub async fn run(args: AuditArgs, table: &str, ledger_table: Option<&str>) -> Result<()> {
    let config = config(&args, table, ledger_table)?;
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    let auditor = Auditor::new(config, &sdk);
    let options = Options::from_config(auditor.config());

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} auditing [{bar:30}] {pos}/{len} scopes {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = {
        let bar = bar.clone();
        move |p: Progress<'_>| match p {
            Progress::Scopes(n) => bar.set_length(n as u64),
            Progress::ScopeDone { account, region, ok } => {
                bar.set_message(format!("{account}/{region}{}", if ok { "" } else { " failed" }));
                bar.inc(1);
            }
        }
    };
    let run = auditor.run(&options, &progress).await;
    bar.finish_and_clear();
    let run = run?;
    let report = run.report();

    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| Error::Config(format!("--out {}: {e}", dir.display())))?;
        let partition = auditor.partition().await?;
        for (name, body) in [
            ("report.json", report.json()),
            ("report.md", report::markdown(&report)),
            ("report.html", report::html(&report)),
            ("report.ocsf.json", report::ocsf(&report, &partition)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, body).map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
        }
        eprintln!("reports written to {}", dir.display());
    }
    match args.format {
        Format::Table => print_table(&report, std::io::stdout().is_terminal()),
        Format::Json => println!("{}", report.json()),
        Format::Md => print!("{}", report::markdown(&report)),
        Format::Html => print!("{}", report::html(&report)),
    }
    for note in &run.notes {
        eprintln!("note: {note}");
    }
    for m in &run.malformed_grants {
        eprintln!("warning: {m} (it grants nothing)");
    }
    run.some_scope_audited(&report)
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new().red().bold(),
        Severity::High => Style::new().red(),
        Severity::Medium => Style::new().yellow(),
        Severity::Low => Style::new().cyan(),
    }
}

/// Columns padded to their widest plain cell, then coloured (on a terminal only).
fn render(header: &[&str], rows: &[Vec<(String, Option<Style>)>], colour: bool) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, (cell, _)) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let bold = Style::new().bold().force_styling(colour);
    let mut out = Vec::new();
    let line = |cells: Vec<(String, Option<Style>)>| {
        let last = cells.len() - 1;
        let mut text = String::new();
        for (i, (cell, style)) in cells.into_iter().enumerate() {
            let padded = if i == last { cell } else { format!("{cell:<width$}  ", width = widths[i]) };
            match style {
                Some(style) => text.push_str(&style.force_styling(colour).apply_to(padded).to_string()),
                None => text.push_str(&padded),
            }
        }
        text.trim_end().to_string()
    };
    out.push(line(header.iter().map(|h| (h.to_string(), Some(bold.clone()))).collect()));
    for row in rows {
        out.push(line(row.clone()));
    }
    out.join("\n")
}

fn print_table(report: &Report, colour: bool) {
    let rows: Vec<Vec<(String, Option<Style>)>> = report
        .scope
        .scopes
        .iter()
        .map(|s| {
            let (status, style, detail) = match s.status {
                ScopeState::Ok => ("ok", Style::new().green(), s.notes.join("; ")),
                ScopeState::Failed => ("failed", Style::new().red().bold(), s.error.clone().unwrap_or_default()),
            };
            vec![
                (s.account.clone(), None),
                (s.region.clone(), None),
                (status.to_string(), Some(style)),
                (s.findings.map(|n| n.to_string()).unwrap_or_else(|| "-".into()), None),
                (detail, None),
            ]
        })
        .collect();
    println!("{}\n", render(&["ACCOUNT", "REGION", "STATUS", "FINDINGS", "DETAIL"], &rows, colour));

    if report.findings.is_empty() {
        println!("no findings");
    } else {
        let rows: Vec<Vec<(String, Option<Style>)>> = report
            .findings
            .iter()
            .map(|f| {
                vec![
                    (report::severity_name(f.severity).to_string(), Some(severity_style(f.severity))),
                    (f.code.as_str().to_string(), None),
                    (f.resource.clone(), None),
                    (format!("{}/{}", f.account, f.region), None),
                    (f.message.clone(), None),
                ]
            })
            .collect();
        println!("{}", render(&["SEVERITY", "CODE", "RESOURCE", "SCOPE", "FINDING"], &rows, colour));
    }
    let counts: Vec<String> = report
        .summary
        .by_severity
        .iter()
        .rev()
        .map(|(s, n)| {
            let text = format!("{n} {}", report::severity_name(*s));
            if *n > 0 {
                severity_style(*s).force_styling(colour).apply_to(text).to_string()
            } else {
                text
            }
        })
        .collect();
    println!("\n{} finding(s): {}", report.summary.total, counts.join(", "));
    let s = &report.summary;
    println!(
        "since the last run: {} new, {} resolved; {} waived (listed apart, counted nowhere)",
        s.new, s.resolved, s.waived
    );
    for f in &report.waived {
        let waiver = f.waiver.as_ref().map(report::waiver_text).unwrap_or_default();
        println!("  waived {} {} ({}/{}): {waiver}", f.code.as_str(), f.resource, f.account, f.region);
    }
    if !report.remediation.is_empty() {
        let rows: Vec<Vec<(String, Option<Style>)>> = report
            .remediation
            .iter()
            .map(|r| {
                let (change, pcx) = match &r.change {
                    vpcwarden_core::RouteChange::Create { pcx, .. } => ("create", pcx.clone()),
                    vpcwarden_core::RouteChange::Delete { pcx, .. } => ("delete", pcx.clone()),
                    vpcwarden_core::RouteChange::Conflict { .. } => ("conflict", String::new()),
                };
                vec![
                    (r.outcome.as_str().to_string(), None),
                    (change.to_string(), None),
                    (r.change.route_table().to_string(), None),
                    (r.change.destination().to_string(), None),
                    (pcx, None),
                    (r.error.clone().unwrap_or_default(), None),
                ]
            })
            .collect();
        println!(
            "\n{}",
            render(&["OUTCOME", "CHANGE", "ROUTE TABLE", "DESTINATION", "CONNECTION", "DETAIL"], &rows, colour)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_before_colouring() {
        let rows = vec![vec![("high".to_string(), Some(Style::new().red())), ("CODE_A".to_string(), None)]];
        let plain = render(&["SEVERITY", "CODE"], &rows, false);
        assert_eq!(plain, "SEVERITY  CODE\nhigh      CODE_A");
        let coloured = render(&["SEVERITY", "CODE"], &rows, true);
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        assert_eq!(console::strip_ansi_codes(&coloured), plain);
    }

    use vpcwarden::domain::scopes::{AccountSelection, RegionSelection};

    #[test]
    fn command_line_lists_override_the_environment_and_are_checked() {
        let args = AuditArgs {
            accounts: vec!["111111111111".into(), "222222222222".into()],
            regions: vec!["eu-west-1".into()],
            role: Some("vpcwarden-audit".into()),
            format: Format::Json,
            out: None,
            remediate: true,
            dry_run: true,
        };
        let c = config(&args, "allow", Some("ledger")).unwrap();
        let accounts = vec!["111111111111".to_string(), "222222222222".to_string()];
        assert_eq!(c.audit_accounts, AccountSelection::Listed { accounts, units: Vec::new() });
        assert_eq!(c.audit_regions, RegionSelection::Listed(vec!["eu-west-1".into()]));
        assert_eq!(c.audit_role_name.as_deref(), Some("vpcwarden-audit"));
        assert!(c.remediate && c.common.dry_run);
        let bad = AuditArgs { accounts: vec!["12".into()], ..args };
        let err = config(&bad, "allow", Some("ledger")).unwrap_err().to_string();
        assert!(err.contains("--accounts: `12` is not an AWS account id"), "{err}");
    }
}
