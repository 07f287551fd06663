//! `vpcwarden`: manage the allowlist (grants and waivers), look at endpoint connections, run the
//! audit.
//!
//! It shares the grant model and the one DynamoDB mapping (`vpcwarden::aws::grant_item`) with the
//! functions, and the SDK set-up (`AWS_REGION`, profiles, `AWS_ENDPOINT_URL`).
mod audit;
mod connections;
mod grants;
mod input;
mod output;
mod requests;
mod waivers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden::aws::endpoints::Endpoints;
use vpcwarden::aws::ledger::Ledger;
use vpcwarden::clock;
use vpcwarden::error::Error;

use grants::{GrantCommand, GrantsCommand, RevokeCommand};
use waivers::{UnwaiveArgs, WaiveArgs, WaiversCommand};

#[derive(Parser)]
#[command(name = "vpcwarden", version, about = "Manage vpcwarden's allowlist and inspect connections")]
struct Cli {
    /// The allowlist table.
    #[arg(long, global = true, env = "ALLOWLIST_TABLE", value_name = "TABLE")]
    table: Option<String>,
    /// The ledger table (vpcwarden's record of its decisions and of approval requests).
    #[arg(long, global = true, env = "LEDGER_TABLE", value_name = "TABLE")]
    ledger_table: Option<String>,
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
    /// Accept a finding's risk until a date: it is still reported, apart, and counted nowhere.
    Waive(WaiveArgs),
    /// Look at waivers.
    #[command(subcommand)]
    Waivers(WaiversCommand),
    /// Delete a waiver.
    Unwaive(UnwaiveArgs),
    /// The open approval requests (UNLISTED_ACTION=ask), oldest first, with every check's verdict.
    Requests,
    /// Approve a request: write the narrowest grant that admits exactly it.
    Approve(requests::ApproveArgs),
    /// Deny a request: reject it now, recording who and why.
    Deny(requests::DenyArgs),
}

/// What the user did wrong, what was not there, or what AWS said.
pub enum Failure {
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
    let now = clock::now_epoch();
    // Validate everything before touching AWS.
    let expires = match &cli.command {
        Command::Grant(command) => command.expiry(now)?,
        Command::Waive(args) => Some(args.expiry(now)?),
        Command::Approve(args) => match &args.expires {
            Some(text) => Some(input::expiry(text, now).map_err(|e| Failure::Usage(format!("--expires: {e}")))?),
            None => None,
        },
        _ => None,
    };
    let ledger_table = || {
        cli.ledger_table.clone().ok_or_else(|| {
            Failure::Usage("the ledger table is required: pass --ledger-table or set LEDGER_TABLE".into())
        })
    };
    let ledger_table = match &cli.command {
        Command::Requests | Command::Approve(_) | Command::Deny(_) => Some(ledger_table()?),
        _ => cli.ledger_table.clone(),
    };
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    let allowlist = Allowlist::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    match cli.command {
        Command::Audit(args) => audit::run(args, &table, ledger_table.as_deref()).await?,
        Command::Requests => requests::list(&ledger(&sdk, ledger_table), cli.json).await?,
        Command::Approve(args) => {
            let person = requests::Person { who: caller_arn(&sdk).await, now };
            let ledger = ledger(&sdk, ledger_table);
            requests::approve(&sdk, &allowlist, &ledger, args, expires, person).await?
        }
        Command::Deny(args) => {
            let person = requests::Person { who: caller_arn(&sdk).await, now };
            requests::deny(&sdk, &ledger(&sdk, ledger_table), args, person).await?
        }
        Command::Grant(command) => {
            let added_by = match command.added_by() {
                Some(who) => who,
                None => caller_arn(&sdk).await,
            };
            grants::grant(&allowlist, command, expires, added_by, now, cli.json).await?
        }
        Command::Grants(command) => grants::list(&allowlist, command, now, cli.json).await?,
        Command::Revoke(command) => grants::revoke(&allowlist, command, cli.json).await?,
        Command::Waive(args) => {
            let added_by = match args.added_by() {
                Some(who) => who,
                None => caller_arn(&sdk).await,
            };
            let expires = expires.ok_or_else(|| Failure::Usage("--expires is required".into()))?;
            waivers::waive(&allowlist, args, expires, added_by, now, cli.json).await?
        }
        Command::Waivers(WaiversCommand::List) => waivers::list(&allowlist, now, cli.json).await?,
        Command::Unwaive(args) => waivers::unwaive(&allowlist, args, cli.json).await?,
        Command::Connections { service } => {
            let endpoints = Endpoints::new(aws_sdk_ec2::Client::new(&sdk));
            connections::show(&endpoints, &allowlist, &service, now, cli.json).await?
        }
    }
    Ok(())
}

/// The ledger, signed by the CLI.
fn ledger(sdk: &aws_config::SdkConfig, table: Option<String>) -> Ledger {
    Ledger::new(aws_sdk_dynamodb::Client::new(sdk), table.unwrap_or_default(), "vpcwarden-cli")
}

/// Who adds a grant when `--added-by` does not say: the caller's ARN, else `$USER`.
async fn caller_arn(sdk: &aws_config::SdkConfig) -> String {
    let sts = aws_sdk_sts::Client::new(sdk);
    match sts.get_caller_identity().send().await {
        Ok(out) => out.arn().unwrap_or("unknown").to_string(),
        Err(_) => std::env::var("USER").unwrap_or_else(|_| "vpcwarden-cli".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use vpcwarden::domain::VpcScope;

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
    fn a_waiver_needs_an_end_within_366_days() {
        let args = ["waive", "--code", "PEERING_ROUTE_MISSING", "--resource", "rtb-0a1b2c3d", "--reason", "legacy"];
        assert!(parse(&args).is_err(), "--expires is required");
        let now = 1_800_000_000;
        let with = |expires: &str| {
            let mut all = args.to_vec();
            all.extend(["--expires", expires]);
            let Command::Waive(w) = parse(&all).unwrap().command else { panic!("waive expected") };
            w.expiry(now)
        };
        assert_eq!(with("30d").ok(), Some(now + 30 * 86_400));
        assert!(with("366d").is_ok());
        let Err(Failure::Usage(why)) = with("367d") else { panic!("more than 366 days is refused") };
        assert!(why.contains("more than 366 days ahead"), "{why}");
        assert!(matches!(with("2020-01-01"), Err(Failure::Usage(_))));
        let bad = parse(&["waive", "--code", "NOPE", "--resource", "r", "--reason", "x", "--expires", "1d"]);
        assert!(bad.err().unwrap().to_string().contains("not a finding code"));
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
}
