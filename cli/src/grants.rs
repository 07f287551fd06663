//! `vpcwarden grant …`, `grants list`, `revoke …`: the allowlist's grants, written and read
//! through the one DynamoDB mapping the functions use (`vpcwarden::aws::grant_item`).
use clap::{Args, Subcommand};
use ipnet::IpNet;
use serde_json::{json, Value};

use vpcwarden::aws::allowlist::{Allowlist, Read};
use vpcwarden::domain::grant::is_live;
use vpcwarden::domain::{AllowlistKey, EndpointGrant, Grant, PeeringGrant, VpcScope};

use crate::input::{self, format_time};
use crate::output::{pretty, Table};
use crate::Failure;

#[derive(Subcommand)]
pub enum GrantCommand {
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
pub struct GrantArgs {
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
pub struct ScopeArgs {
    /// The accepter VPC the grant covers.
    #[arg(long, value_parser = input::vpc_id)]
    vpc: Option<String>,
    /// Any of our VPCs.
    #[arg(long)]
    any_vpc: bool,
}

impl ScopeArgs {
    pub fn scope(&self) -> VpcScope {
        match &self.vpc {
            Some(v) => VpcScope::Vpc(v.clone()),
            None => VpcScope::Any,
        }
    }
}

#[derive(Subcommand)]
pub enum GrantsCommand {
    /// Every grant (or those of one endpoint service / one account).
    List {
        #[arg(long, value_parser = input::service_id)]
        service: Option<String>,
        #[arg(long, value_parser = input::account)]
        account: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum RevokeCommand {
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

impl GrantCommand {
    fn common(&self) -> &GrantArgs {
        let (GrantCommand::Endpoint { common, .. } | GrantCommand::Peering { common, .. }) = self;
        common
    }

    /// `--expires`, checked before anything touches AWS.
    pub fn expiry(&self, now: i64) -> Result<Option<i64>, Failure> {
        let expires = self.common().expires.as_deref().map(|e| input::expiry(e, now)).transpose();
        expires.map_err(|e| Failure::Usage(format!("--expires: {e}")))
    }

    /// `--added-by`, when given.
    pub fn added_by(&self) -> Option<String> {
        self.common().added_by.clone().filter(|w| !w.trim().is_empty())
    }
}

/// Writes the grant.
pub async fn grant(
    allowlist: &Allowlist,
    command: GrantCommand,
    expires_at: Option<i64>,
    added_by: String,
    now: i64,
    json: bool,
) -> Result<(), Failure> {
    let grant = match command {
        GrantCommand::Endpoint { service, account, max_endpoints, common } => Grant::Endpoint(EndpointGrant {
            service_id: service,
            account,
            expires_at,
            max_endpoints,
            note: common.note,
            added_by,
            added_at: now,
        }),
        GrantCommand::Peering { account, scope, cidrs, dns, common } => Grant::Peering(PeeringGrant {
            scope: scope.scope(),
            account,
            allowed_cidrs: (!cidrs.is_empty()).then_some(cidrs),
            dns_resolution: dns.then_some(true),
            expires_at,
            note: common.note,
            added_by,
            added_at: now,
        }),
    };
    allowlist.put(&grant).await?;
    if json {
        println!("{}", pretty(&grant_json(&grant, now)));
    } else {
        println!("granted: {}", describe(&grant));
    }
    Ok(())
}

pub async fn list(allowlist: &Allowlist, command: GrantsCommand, now: i64, json: bool) -> Result<(), Failure> {
    let GrantsCommand::List { service, account } = command;
    let read = match &service {
        Some(s) => {
            let r = allowlist.endpoint_grants(s).await?;
            Read { grants: r.grants.into_iter().map(Grant::Endpoint).collect(), malformed: r.malformed }
        }
        None => allowlist.all_grants().await?,
    };
    let mut grants: Vec<Grant> =
        read.grants.into_iter().filter(|g| account.as_ref().is_none_or(|a| account_of(g) == a)).collect();
    grants.sort_by_key(sort_key);
    for m in &read.malformed {
        eprintln!("warning: {m} (it grants nothing)");
    }
    if json {
        let list: Vec<Value> = grants.iter().map(|g| grant_json(g, now)).collect();
        println!("{}", pretty(&json!(list)));
    } else {
        print_grants(&grants, now);
    }
    Ok(())
}

pub async fn revoke(allowlist: &Allowlist, command: RevokeCommand, json: bool) -> Result<(), Failure> {
    let (key, what) = match command {
        RevokeCommand::Endpoint { service, account } => {
            let what = format!("endpoint grant for {account} on {service}");
            (AllowlistKey::Endpoint { service_id: service, account }, what)
        }
        RevokeCommand::Peering { account, scope } => {
            let scope = scope.scope();
            let what = format!("peering grant for {account} into {}", scope_text(&scope));
            (AllowlistKey::Peering { scope, account }, what)
        }
    };
    let (pk, sk) = (key.pk(), key.sk());
    if !allowlist.delete(&key).await? {
        return Err(Failure::NotFound(format!("there is no {what} ({pk}/{sk})")));
    }
    if json {
        println!("{}", pretty(&json!({"revoked": {"pk": pk, "sk": sk}})));
    } else {
        println!("revoked: {what}");
    }
    Ok(())
}

fn scope_text(scope: &VpcScope) -> String {
    match scope {
        VpcScope::Any => "any VPC".to_string(),
        VpcScope::Vpc(v) => v.clone(),
    }
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

pub fn expiry_text(expires_at: Option<i64>, now: i64) -> String {
    match expires_at {
        None => "never".into(),
        Some(t) if !is_live(Some(t), now) => format!("{} (expired)", format_time(t)),
        Some(t) => format_time(t),
    }
}

fn describe(g: &Grant) -> String {
    let until = |t: Option<i64>| t.map(|t| format!(", until {}", format_time(t))).unwrap_or_default();
    match g {
        Grant::Endpoint(e) => format!(
            "account {} may connect to {}{}{}",
            e.account,
            e.service_id,
            e.max_endpoints.map(|m| format!(" with at most {m} endpoints")).unwrap_or_default(),
            until(e.expires_at)
        ),
        Grant::Peering(p) => format!(
            "account {} may peer with {}{}{}",
            p.account,
            scope_text(&p.scope),
            p.allowed_cidrs
                .as_ref()
                .map(|c| format!(" from {}", c.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
                .unwrap_or_default(),
            until(p.expires_at)
        ),
    }
}

/// The grant as the model serialises it, plus whether it is live now.
fn grant_json(g: &Grant, now: i64) -> Value {
    let mut v = serde_json::to_value(g).expect("grants serialise");
    v["live"] = json!(is_live(expires_at(g), now));
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

#[cfg(test)]
mod tests {
    use super::*;

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
