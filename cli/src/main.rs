//! `vpcwarden`: manage the allowlist (grants) and look at endpoint connections.
//!
//! It shares the grant model and the one DynamoDB mapping (`vpcwarden::aws::grant_item`) with the
//! functions, and the SDK set-up (`AWS_REGION`, profiles, `AWS_ENDPOINT_URL`).
mod audit;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use serde_json::{json, Value};

use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden::aws::endpoints::Endpoints;
use vpcwarden::config::UnlistedAction;
use vpcwarden_core::endpoint::{decide_connections, Focus, Policy, Verdict};
use vpcwarden::domain::{AllowlistKey, EndpointGrant, Grant, PeeringGrant, VpcScope};
use vpcwarden::error::Error;

use input::format_time;
use output::Table;

#[derive(Parser)]
#[command(name = "vpcwarden", version, about = "Manage vpcwarden's allowlist and inspect connections")]
struct Cli {
    /// The allowlist table.
    #[arg(long, global = true, env = "ALLOWLIST_TABLE", value_name = "TABLE")]
    table: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add (or replace) a grant.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Look at grants.
    #[command(subcommand)]
    Grants(GrantsCommand),
    /// Delete a grant.
    #[command(subcommand)]
    Revoke(RevokeCommand),
    /// Live view of an endpoint service's connections and their grant status.
    Connections {
        #[arg(long, value_parser = input::service_id)]
        service: String,
    },
    /// Audit drift (the drift-auditor run): findings, reports, optional safe remediation.
    Audit(audit::AuditArgs),
}

#[derive(Subcommand)]
enum GrantCommand {
    /// Let an account connect endpoints to one of our endpoint services.
    Endpoint {
        #[arg(long, value_parser = input::service_id)]
        service: String,
        #[arg(long, value_parser = input::account)]
        account: String,
        /// At most this many endpoints (available or being accepted) for the account.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_endpoints: Option<u32>,
        #[command(flatten)]
        common: GrantArgs,
    },
    /// Let an account peer with one of our VPCs (or any).
    Peering {
        #[arg(long, value_parser = input::account)]
        account: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// A CIDR block the requester's VPC must lie within; repeat for several.
        #[arg(long = "cidr", value_parser = input::cidr, value_name = "CIDR")]
        cidrs: Vec<IpNet>,
        /// Enable DNS resolution of the peer's private names.
        #[arg(long)]
        dns: bool,
        #[command(flatten)]
        common: GrantArgs,
    },
}

#[derive(Args)]
struct GrantArgs {
    /// When the grant ends: a date (2027-01-31, at 00:00 UTC), an RFC 3339 time, or a
    /// duration from now (30d, 12h, 90m, 2w).
    #[arg(long, value_name = "WHEN")]
    expires: Option<String>,
    #[arg(long, value_parser = input::note)]
    note: Option<String>,
    /// Who adds the grant (default: the caller's ARN).
    #[arg(long)]
    added_by: Option<String>,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct ScopeArgs {
    /// The accepter VPC the grant covers.
    #[arg(long, value_parser = input::vpc_id)]
    vpc: Option<String>,
    /// Any of our VPCs.
    #[arg(long)]
    any_vpc: bool,
}

impl ScopeArgs {
    fn scope(&self) -> VpcScope {
        match &self.vpc {
            Some(v) => VpcScope::Vpc(v.clone()),
            None => VpcScope::Any,
        }
    }
}

#[derive(Subcommand)]
enum GrantsCommand {
    /// Every grant (or those of one endpoint service / one account).
    List {
        #[arg(long, value_parser = input::service_id)]
        service: Option<String>,
        #[arg(long, value_parser = input::account)]
        account: Option<String>,
    },
}

#[derive(Subcommand)]
enum RevokeCommand {
    /// Remove an endpoint grant.
    Endpoint {
        #[arg(long, value_parser = input::service_id)]
        service: String,
        #[arg(long, value_parser = input::account)]
        account: String,
    },
    /// Remove a peering grant.
    Peering {
        #[arg(long, value_parser = input::account)]
        account: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// What the user did wrong, what was not there, or what AWS said.
enum Failure {
    Usage(String),
    NotFound(String),
    Aws(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Aws(e)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::NotFound(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Aws(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let table = cli
        .table
        .clone()
        .ok_or_else(|| Failure::Usage("the allowlist table is required: pass --table or set ALLOWLIST_TABLE".into()))?;
    let now = input::now();
    // Validate everything before touching AWS.
    let expires = match &cli.command {
        Command::Grant(GrantCommand::Endpoint { common, .. } | GrantCommand::Peering { common, .. }) => common
            .expires
            .as_deref()
            .map(|e| input::expiry(e, now))
            .transpose()
            .map_err(|e| Failure::Usage(format!("--expires: {e}")))?,
        _ => None,
    };
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    let allowlist = Allowlist::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    match cli.command {
        Command::Audit(args) => audit::run(args, &table).await?,
        Command::Grant(command) => {
            let grant = match command {
                GrantCommand::Endpoint { service, account, max_endpoints, common } => Grant::Endpoint(EndpointGrant {
                    service_id: service,
                    account,
                    expires_at: expires,
                    max_endpoints,
                    note: common.note,
                    added_by: added_by(&sdk, common.added_by).await,
                    added_at: now,
                }),
                GrantCommand::Peering { account, scope, cidrs, dns, common } => Grant::Peering(PeeringGrant {
                    scope: scope.scope(),
                    account,
                    allowed_cidrs: (!cidrs.is_empty()).then_some(cidrs),
                    dns_resolution: dns.then_some(true),
                    expires_at: expires,
                    note: common.note,
                    added_by: added_by(&sdk, common.added_by).await,
                    added_at: now,
                }),
            };
            allowlist.put(&grant).await?;
            if cli.json {
                println!("{}", pretty(&grant_json(&grant, now)));
            } else {
                println!("granted: {}", describe(&grant));
            }
        }
        Command::Grants(GrantsCommand::List { service, account }) => {
            let read = match &service {
                Some(s) => {
                    let r = allowlist.endpoint_grants(s).await?;
                    vpcwarden::aws::allowlist::Read {
                        grants: r.grants.into_iter().map(Grant::Endpoint).collect(),
                        malformed: r.malformed,
                    }
                }
                None => allowlist.all_grants().await?,
            };
            let mut grants: Vec<Grant> =
                read.grants.into_iter().filter(|g| account.as_ref().is_none_or(|a| account_of(g) == a)).collect();
            grants.sort_by_key(sort_key);
            for m in &read.malformed {
                eprintln!("warning: {m} (it grants nothing)");
            }
            if cli.json {
                let list: Vec<Value> = grants.iter().map(|g| grant_json(g, now)).collect();
                println!("{}", pretty(&json!(list)));
            } else {
                print_grants(&grants, now);
            }
        }
        Command::Revoke(command) => {
            let (key, what) = match command {
                RevokeCommand::Endpoint { service, account } => {
                    let what = format!("endpoint grant for {account} on {service}");
                    (AllowlistKey::Endpoint { service_id: service, account }, what)
                }
                RevokeCommand::Peering { account, scope } => {
                    let scope = scope.scope();
                    let target = match &scope {
                        VpcScope::Any => "any VPC".to_string(),
                        VpcScope::Vpc(v) => v.clone(),
                    };
                    let what = format!("peering grant for {account} into {target}");
                    (AllowlistKey::Peering { scope, account }, what)
                }
            };
            let (pk, sk) = (key.pk(), key.sk());
            if !allowlist.delete(&key).await? {
                return Err(Failure::NotFound(format!("there is no {what} ({pk}/{sk})")));
            }
            if cli.json {
                println!("{}", pretty(&json!({"revoked": {"pk": pk, "sk": sk}})));
            } else {
                println!("revoked: {what}");
            }
        }
        Command::Connections { service } => {
            let endpoints = Endpoints::new(aws_sdk_ec2::Client::new(&sdk));
            let connections = endpoints.connections(std::slice::from_ref(&service), None).await?;
            let grants = allowlist.endpoint_grants(&service).await?;
            for m in &grants.malformed {
                eprintln!("warning: {m} (it grants nothing)");
            }
            let policy = Policy { unlisted: UnlistedAction::Ignore, revoke_on_removal: false };
            let verdicts = decide_connections(&service, &connections, &grants.grants, &policy, &Focus::Service, now);
            let created: std::collections::HashMap<&str, Option<i64>> =
                connections.iter().map(|c| (c.endpoint_id.as_str(), c.created_at)).collect();
            let rows: Vec<Value> = verdicts
                .iter()
                .map(|v| {
                    connection_json(v, created.get(v.endpoint_id.as_str()).copied().flatten(), &grants.grants, now)
                })
                .collect();
            if cli.json {
                println!("{}", pretty(&json!(rows)));
            } else {
                print_connections(&rows);
            }
        }
    }
    Ok(())
}

/// `--added-by`, else the caller's ARN, else `$USER`.
async fn added_by(sdk: &aws_config::SdkConfig, given: Option<String>) -> String {
    if let Some(who) = given.filter(|w| !w.trim().is_empty()) {
        return who;
    }
    let sts = aws_sdk_sts::Client::new(sdk);
    match sts.get_caller_identity().send().await {
        Ok(out) => out.arn().unwrap_or("unknown").to_string(),
        Err(_) => std::env::var("USER").unwrap_or_else(|_| "vpcwarden-cli".into()),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values always serialise")
}

fn account_of(g: &Grant) -> &str {
    match g {
        Grant::Endpoint(g) => &g.account,
        Grant::Peering(g) => &g.account,
    }
}

fn target_of(g: &Grant) -> String {
    match g {
        Grant::Endpoint(g) => g.service_id.clone(),
        Grant::Peering(g) => match &g.scope {
            VpcScope::Any => "*".into(),
            VpcScope::Vpc(v) => v.clone(),
        },
    }
}

fn sort_key(g: &Grant) -> (u8, String, String) {
    let kind = matches!(g, Grant::Peering(_)) as u8;
    (kind, target_of(g), account_of(g).to_string())
}

fn expires_at(g: &Grant) -> Option<i64> {
    match g {
        Grant::Endpoint(g) => g.expires_at,
        Grant::Peering(g) => g.expires_at,
    }
}

fn expiry_text(expires_at: Option<i64>, now: i64) -> String {
    match expires_at {
        None => "never".into(),
        Some(t) if !vpcwarden::domain::grant::is_live(Some(t), now) => {
            format!("{} (expired)", format_time(t))
        }
        Some(t) => format_time(t),
    }
}

fn describe(g: &Grant) -> String {
    match g {
        Grant::Endpoint(e) => format!(
            "account {} may connect to {}{}{}",
            e.account,
            e.service_id,
            e.max_endpoints.map(|m| format!(" with at most {m} endpoints")).unwrap_or_default(),
            e.expires_at.map(|t| format!(", until {}", format_time(t))).unwrap_or_default()
        ),
        Grant::Peering(p) => format!(
            "account {} may peer with {}{}{}",
            p.account,
            match &p.scope {
                VpcScope::Any => "any VPC".to_string(),
                VpcScope::Vpc(v) => v.clone(),
            },
            p.allowed_cidrs
                .as_ref()
                .map(|c| format!(" from {}", c.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
                .unwrap_or_default(),
            p.expires_at.map(|t| format!(", until {}", format_time(t))).unwrap_or_default()
        ),
    }
}

/// The grant as the model serialises it, plus whether it is live now.
fn grant_json(g: &Grant, now: i64) -> Value {
    let mut v = serde_json::to_value(g).expect("grants serialise");
    v["live"] = json!(vpcwarden::domain::grant::is_live(expires_at(g), now));
    v
}

fn print_grants(grants: &[Grant], now: i64) {
    if grants.is_empty() {
        println!("no grants");
        return;
    }
    let mut t = Table::new(&["KIND", "TARGET", "ACCOUNT", "EXPIRES", "LIMITS", "NOTE", "ADDED BY"]);
    for g in grants {
        let (kind, limits, note, added_by) = match g {
            Grant::Endpoint(e) => (
                "endpoint",
                e.max_endpoints.map(|m| format!("max {m} endpoints")).unwrap_or_default(),
                e.note.clone(),
                e.added_by.clone(),
            ),
            Grant::Peering(p) => {
                let mut limits: Vec<String> = p.allowed_cidrs.iter().flatten().map(ToString::to_string).collect();
                if p.dns_resolution == Some(true) {
                    limits.push("dns".into());
                }
                ("peering", limits.join(","), p.note.clone(), p.added_by.clone())
            }
        };
        t.row(vec![
            kind.into(),
            target_of(g),
            account_of(g).into(),
            expiry_text(expires_at(g), now),
            limits,
            note.unwrap_or_default(),
            added_by,
        ]);
    }
    println!("{}", t.render());
}

fn connection_json(v: &Verdict, created_at: Option<i64>, grants: &[EndpointGrant], now: i64) -> Value {
    let grant = grants
        .iter()
        .filter(|g| g.account == v.account)
        .max_by_key(|g| (g.is_live(now), g.expires_at.unwrap_or(i64::MAX)));
    let grant = match grant {
        None => json!({"status": "none"}),
        Some(g) => json!({
            "status": if g.is_live(now) { "live" } else { "expired" },
            "expires_at": g.expires_at,
            "max_endpoints": g.max_endpoints,
        }),
    };
    json!({
        "endpoint_id": v.endpoint_id,
        "account": v.account,
        "state": v.state,
        "created_at": created_at.map(format_time),
        "grant": grant,
        "decision": v.reason.code(),
        "reason": v.reason.to_string(),
    })
}

fn print_connections(rows: &[Value]) {
    if rows.is_empty() {
        println!("no connections");
        return;
    }
    let mut t = Table::new(&["ENDPOINT", "ACCOUNT", "STATE", "CREATED", "GRANT", "DECISION", "REASON"]);
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    for r in rows {
        let g = &r["grant"];
        let mut grant = s(&g["status"]);
        if let Some(max) = g["max_endpoints"].as_u64() {
            grant.push_str(&format!(", max {max}"));
        }
        if let Some(at) = g["expires_at"].as_i64() {
            grant.push_str(&format!(", until {}", format_time(at)));
        }
        t.row(vec![
            s(&r["endpoint_id"]),
            s(&r["account"]),
            s(&r["state"]),
            s(&r["created_at"]),
            grant,
            s(&r["decision"]),
            s(&r["reason"]),
        ]);
    }
    println!("{}", t.render());
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("vpcwarden").chain(args.iter().copied()))
    }

    #[test]
    fn peering_grants_need_exactly_one_scope() {
        assert!(parse(&["grant", "peering", "--account", "222222222222"]).is_err());
        assert!(
            parse(&["grant", "peering", "--account", "222222222222", "--vpc", "vpc-0a1b2c3d", "--any-vpc"]).is_err()
        );
        let cli = parse(&[
            "--table",
            "t",
            "grant",
            "peering",
            "--account",
            "222222222222",
            "--any-vpc",
            "--cidr",
            "10.1.0.0/16",
            "--cidr",
            "10.2.0.0/16",
            "--dns",
        ])
        .unwrap();
        let Command::Grant(GrantCommand::Peering { cidrs, dns, scope, .. }) = cli.command else {
            panic!("grant peering expected")
        };
        assert_eq!(cidrs.len(), 2);
        assert!(dns);
        assert_eq!(scope.scope(), VpcScope::Any);
    }

    #[test]
    fn bad_input_is_refused_with_its_reason() {
        let err = parse(&["grant", "endpoint", "--service", "vpce-svc-0123456789abcdef0", "--account", "12"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("`12` is not an AWS account id"), "{err}");
        let err = parse(&[
            "grant",
            "endpoint",
            "--service",
            "vpce-svc-0123456789abcdef0",
            "--account",
            "222222222222",
            "--max-endpoints",
            "0",
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("--max-endpoints"), "{err}");
        let err = parse(&["grant", "peering", "--account", "222222222222", "--any-vpc", "--cidr", "10.0.0.1/8"])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("host bits"), "{err}");
    }

    #[test]
    fn grant_json_says_whether_it_is_live() {
        let g = Grant::Endpoint(EndpointGrant {
            service_id: "vpce-svc-0123456789abcdef0".into(),
            account: "222222222222".into(),
            expires_at: Some(100),
            max_endpoints: Some(2),
            note: None,
            added_by: "me".into(),
            added_at: 1,
        });
        let v = grant_json(&g, 200);
        assert_eq!(v["kind"], "endpoint");
        assert_eq!(v["live"], false);
        assert_eq!(expiry_text(Some(100), 200), "1970-01-01T00:01:40Z (expired)");
        assert!(describe(&g).contains("at most 2 endpoints"));
    }
}
