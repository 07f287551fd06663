//! `vpcwarden waive …`, `waivers list`, `unwaive …`: accepted risks, kept in the allowlist as
//! waivers (`waiver#<CODE>` / `resource#<id>`) through the one DynamoDB mapping the auditor reads.
//! A waiver always ends, at most 366 days ahead: a risk is accepted for a while, not for ever.
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden::domain::waiver::MAX_WAIVER_DAYS;
use vpcwarden::domain::{AllowlistKey, FindingCode, Waiver};

use crate::grants::expiry_text;
use crate::input::{self, format_time};
use crate::output::{pretty, Table};
use crate::Failure;

#[derive(Args)]
pub struct WaiveArgs {
    /// The finding code to waive (e.g. ENDPOINT_SERVICE_WILDCARD_PRINCIPAL).
    #[arg(long, value_parser = input::finding_code)]
    code: FindingCode,
    /// The finding's resource, as the reports show it (rtb-…, pcx-…, vpce-svc-…).
    #[arg(long, value_parser = input::resource)]
    resource: String,
    /// Only in this account (default: wherever the finding is).
    #[arg(long, value_parser = input::account)]
    account: Option<String>,
    /// Why the risk is accepted (shown in every report).
    #[arg(long, value_parser = input::reason)]
    reason: String,
    /// When the waiver ends (required, at most 366 days ahead): a date, an RFC 3339 time or a
    /// duration (30d, 12w).
    #[arg(long, value_name = "WHEN")]
    expires: String,
    /// Who accepts the risk (default: the caller's ARN).
    #[arg(long)]
    added_by: Option<String>,
}

#[derive(Subcommand)]
pub enum WaiversCommand {
    /// Every waiver, with whether it still applies.
    List,
}

#[derive(Args)]
pub struct UnwaiveArgs {
    #[arg(long, value_parser = input::finding_code)]
    code: FindingCode,
    #[arg(long, value_parser = input::resource)]
    resource: String,
}

impl WaiveArgs {
    /// `--expires`, checked before anything touches AWS: in the future, at most 366 days ahead.
    pub fn expiry(&self, now: i64) -> Result<i64, Failure> {
        let at = input::expiry(&self.expires, now).map_err(|e| Failure::Usage(format!("--expires: {e}")))?;
        if at - now > MAX_WAIVER_DAYS * 86_400 {
            return Err(Failure::Usage(format!(
                "--expires: {} is more than {MAX_WAIVER_DAYS} days ahead; accept a risk for a year at most, then review it",
                format_time(at)
            )));
        }
        Ok(at)
    }

    pub fn added_by(&self) -> Option<String> {
        self.added_by.clone().filter(|w| !w.trim().is_empty())
    }
}

/// Writes (or replaces) the waiver.
pub async fn waive(
    allowlist: &Allowlist,
    args: WaiveArgs,
    expires_at: i64,
    added_by: String,
    now: i64,
    json: bool,
) -> Result<(), Failure> {
    let waiver = Waiver {
        code: args.code,
        resource: args.resource,
        account: args.account,
        reason: args.reason,
        expires_at,
        added_by,
        added_at: now,
    };
    if let Some(why) = waiver.problem() {
        return Err(Failure::Usage(why));
    }
    allowlist.put_waiver(&waiver).await?;
    if json {
        println!("{}", pretty(&waiver_json(&waiver, now)));
    } else {
        println!("waived: {}", describe(&waiver));
    }
    Ok(())
}

pub async fn list(allowlist: &Allowlist, now: i64, json: bool) -> Result<(), Failure> {
    let all = allowlist.all().await?;
    let mut waivers = all.waivers;
    waivers.sort_by(|a, b| (a.code, &a.resource).cmp(&(b.code, &b.resource)));
    for m in all.malformed.iter().filter(|m| m.contains("waiver#")) {
        eprintln!("warning: {m} (it waives nothing)");
    }
    if json {
        let list: Vec<Value> = waivers.iter().map(|w| waiver_json(w, now)).collect();
        println!("{}", pretty(&json!(list)));
        return Ok(());
    }
    if waivers.is_empty() {
        println!("no waivers");
        return Ok(());
    }
    let mut t = Table::new(&["CODE", "RESOURCE", "ACCOUNT", "EXPIRES", "REASON", "ADDED BY"]);
    for w in &waivers {
        t.row(vec![
            w.code.as_str().into(),
            w.resource.clone(),
            w.account.clone().unwrap_or_else(|| "any".into()),
            expiry_text(Some(w.expires_at), now),
            w.reason.clone(),
            w.added_by.clone(),
        ]);
    }
    println!("{}", t.render());
    Ok(())
}

pub async fn unwaive(allowlist: &Allowlist, args: UnwaiveArgs, json: bool) -> Result<(), Failure> {
    let key = AllowlistKey::Waiver { code: args.code, resource: args.resource };
    let (pk, sk) = (key.pk(), key.sk());
    if !allowlist.delete(&key).await? {
        return Err(Failure::NotFound(format!("there is no waiver {pk}/{sk}")));
    }
    if json {
        println!("{}", pretty(&json!({"unwaived": {"pk": pk, "sk": sk}})));
    } else {
        println!("unwaived: {pk}/{sk}");
    }
    Ok(())
}

fn describe(w: &Waiver) -> String {
    let scope = w.account.as_ref().map(|a| format!(" in account {a}")).unwrap_or_default();
    format!("{} on {}{scope} until {} ({})", w.code.as_str(), w.resource, format_time(w.expires_at), w.reason)
}

/// The waiver as the model serialises it, plus whether it applies now.
fn waiver_json(w: &Waiver, now: i64) -> Value {
    let mut v = serde_json::to_value(w).expect("waivers serialise");
    v["live"] = json!(w.is_live(now));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiver_json_says_whether_it_applies() {
        let w = Waiver {
            code: FindingCode::PeeringRouteMissing,
            resource: "rtb-0a1b2c3d".into(),
            account: None,
            reason: "legacy table, retired in Q3".into(),
            expires_at: 200,
            added_by: "alice".into(),
            added_at: 100,
        };
        assert_eq!(waiver_json(&w, 150)["live"], true);
        assert_eq!(waiver_json(&w, 200)["live"], false);
        assert_eq!(waiver_json(&w, 150)["code"], "PEERING_ROUTE_MISSING");
        assert!(describe(&w).contains("PEERING_ROUTE_MISSING on rtb-0a1b2c3d until 1970-01-01T00:03:20Z"));
    }
}
