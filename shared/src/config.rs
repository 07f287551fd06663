//! Configuration from environment variables (see DESIGN.md). Parsed once at start-up; a
//! missing or malformed variable is an error that names it.
use std::time::Duration;

use crate::domain::scopes::{AccountSelection, RegionSelection};
use crate::domain::TagFilter;
pub use crate::domain::UnlistedAction;
use crate::error::{Error, Result};

/// Reads variables through a lookup function so tests need not touch the process environment.
pub struct Env<'a> {
    lookup: Box<Lookup<'a>>,
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl Env<'static> {
    pub fn process() -> Self {
        Env { lookup: Box::new(|k| std::env::var(k).ok()) }
    }
}

impl<'a> Env<'a> {
    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Env { lookup: Box::new(move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())) }
    }

    /// An unset or blank variable reads as absent.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String> {
        self.optional(name).ok_or_else(|| Error::Config(format!("{name} is required but not set")))
    }

    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(Error::Config(format!("{name}={v:?} is not a boolean (true or false)"))),
            },
        }
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| Error::Config(format!("{name}={v:?} is not a valid number"))),
        }
    }

    pub fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>> {
        self.optional(name).map(|v| parse(&v).map_err(|why| Error::Config(format!("{name}: {why}")))).transpose()
    }
}

/// What every function needs.
#[derive(Clone, Debug)]
pub struct Common {
    pub allowlist_table: String,
    pub ledger_table: String,
    pub dry_run: bool,
    /// `EVENT_BUS` (a name or an ARN): where decisions and findings are published; `None`: no events.
    pub event_bus: Option<String>,
}

impl Common {
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(Common {
            allowlist_table: env.required("ALLOWLIST_TABLE")?,
            ledger_table: env.required("LEDGER_TABLE")?,
            dry_run: env.flag("DRY_RUN", false)?,
            event_bus: env.parsed("EVENT_BUS", parse_event_bus)?,
        })
    }
}

/// An EventBridge bus: a name (1–256 of letters, digits, `.`, `-`, `_`, `/`) or its ARN
/// (`arn:<partition>:events:<region>:<account>:event-bus/<name>`).
fn parse_event_bus(v: &str) -> Result<String, String> {
    let name_ok =
        |n: &str| (1..=256).contains(&n.len()) && n.chars().all(|c| c.is_ascii_alphanumeric() || ".-_/".contains(c));
    let ok = match v.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            matches!(parts.as_slice(), [partition, "events", region, account, resource]
                if !partition.is_empty() && crate::domain::ids::is_region(region) && crate::domain::ids::is_account_id(account)
                    && resource.strip_prefix("event-bus/").is_some_and(name_ok))
        }
        None => name_ok(v),
    };
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}` is neither an event bus name nor an event bus ARN"))
    }
}

/// peering-acceptor configuration.
#[derive(Clone, Debug)]
pub struct AcceptorConfig {
    pub common: Common,
    pub route_table_tag: Option<TagFilter>,
    pub requester_role_name: Option<String>,
    pub unlisted_action: UnlistedAction,
    /// How long to wait for an accepted connection to turn `active` before routing.
    pub active_wait: Duration,
}

impl AcceptorConfig {
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(AcceptorConfig {
            common: Common::from_env(env)?,
            route_table_tag: env.parsed("ROUTE_TABLE_TAG", TagFilter::parse)?,
            requester_role_name: env.parsed("REQUESTER_ROLE_NAME", parse_role_name)?,
            unlisted_action: env.parsed("UNLISTED_ACTION", UnlistedAction::parse)?.unwrap_or(UnlistedAction::Ignore),
            active_wait: Duration::from_secs(env.number("ACTIVE_WAIT_SECONDS", 30u64)?),
        })
    }
}

/// IAM role names: 1–64 of `[A-Za-z0-9+=,.@_-]`.
fn parse_role_name(v: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}` is not an IAM role name"))
    }
}

/// endpoint-approver configuration.
#[derive(Clone, Debug)]
pub struct ApproverConfig {
    pub common: Common,
    pub unlisted_action: UnlistedAction,
    /// Reject (disconnect) an account's connections when its grant is removed or expires.
    pub revoke_on_removal: bool,
    /// Keep each service's allowed principals equal to the accounts with live grants.
    pub sync_principals: bool,
    /// The services to manage; `None` = every endpoint service this account owns.
    pub endpoint_service_ids: Option<Vec<String>>,
}

impl ApproverConfig {
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(ApproverConfig {
            common: Common::from_env(env)?,
            unlisted_action: env.parsed("UNLISTED_ACTION", UnlistedAction::parse)?.unwrap_or(UnlistedAction::Ignore),
            revoke_on_removal: env.flag("REVOKE_ON_REMOVAL", false)?,
            sync_principals: env.flag("SYNC_PRINCIPALS", false)?,
            endpoint_service_ids: env.parsed("ENDPOINT_SERVICE_IDS", parse_service_ids)?,
        })
    }
}

/// A comma- (or space-) separated list of `vpce-svc-…` ids, deduplicated, never empty.
fn parse_service_ids(v: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for id in v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        if !crate::domain::ids::is_endpoint_service_id(id) {
            return Err(format!("`{id}` is not an endpoint service id (vpce-svc-…)"));
        }
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err("lists no endpoint service id".into());
    }
    Ok(ids)
}

/// drift-auditor configuration.
#[derive(Clone, Debug)]
pub struct AuditorConfig {
    pub common: Common,
    /// Where reports go; `None` = only the ledger and the logs.
    pub report_bucket: Option<String>,
    /// Key prefix under the bucket, without leading or trailing `/` (may be empty).
    pub report_prefix: String,
    /// Recreate missing routes and delete routes to dead connections that vpcwarden created.
    pub remediate: bool,
    /// A pending request older than this is stale (0: every pending request is).
    pub stale_pending_hours: u32,
    /// Grants expiring within this many days are reported (0: none).
    pub expiry_warning_days: u32,
    /// Accounts to audit (`AUDIT_ACCOUNTS`): this one, listed ids and OUs, or the organisation.
    pub audit_accounts: AccountSelection,
    /// Accounts never audited (`AUDIT_EXCLUDE_ACCOUNTS`).
    pub audit_exclude_accounts: Vec<String>,
    /// Role assumed in every audited account other than this one.
    pub audit_role_name: Option<String>,
    /// Regions to audit (`AUDIT_REGIONS`): this one, listed, or every enabled region.
    pub audit_regions: RegionSelection,
    pub route_table_tag: Option<TagFilter>,
    /// The endpoint services to audit; `None` = every service each audited account owns.
    pub endpoint_service_ids: Option<Vec<String>>,
    /// Import each scope's findings into AWS Security Hub in that account and region.
    pub security_hub: bool,
}

impl AuditorConfig {
    pub fn from_env(env: &Env) -> Result<Self> {
        let config = AuditorConfig {
            common: Common::from_env(env)?,
            report_bucket: env.parsed("REPORT_BUCKET", parse_bucket)?,
            report_prefix: env.parsed("REPORT_PREFIX", parse_prefix)?.unwrap_or_default(),
            remediate: env.flag("REMEDIATE", false)?,
            stale_pending_hours: env.number("STALE_PENDING_HOURS", 24)?,
            expiry_warning_days: env.number("EXPIRY_WARNING_DAYS", 14)?,
            audit_accounts: env.parsed("AUDIT_ACCOUNTS", AccountSelection::parse)?.unwrap_or_default(),
            audit_exclude_accounts: env.parsed("AUDIT_EXCLUDE_ACCOUNTS", parse_accounts)?.unwrap_or_default(),
            audit_role_name: env.parsed("AUDIT_ROLE_NAME", parse_role_name)?,
            audit_regions: env.parsed("AUDIT_REGIONS", parse_regions)?.unwrap_or_default(),
            route_table_tag: env.parsed("ROUTE_TABLE_TAG", TagFilter::parse)?,
            endpoint_service_ids: env.parsed("ENDPOINT_SERVICE_IDS", parse_service_ids)?,
            security_hub: env.flag("SECURITY_HUB", false)?,
        };
        Ok(config)
    }
}

/// A comma- (or space-) separated list of items, each checked, deduplicated, never empty.
fn parse_list(v: &str, what: &str, valid: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
    let mut items: Vec<String> = Vec::new();
    for item in v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        if !valid(item) {
            return Err(format!("`{item}` is not {what}"));
        }
        if !items.iter().any(|known| known == item) {
            items.push(item.to_string());
        }
    }
    if items.is_empty() {
        return Err(format!("lists no {what}"));
    }
    Ok(items)
}

fn parse_accounts(v: &str) -> Result<Vec<String>, String> {
    parse_list(v, "an AWS account id (12 digits)", crate::domain::ids::is_account_id)
}

/// A list of regions, or `enabled`.
fn parse_regions(v: &str) -> Result<RegionSelection, String> {
    if v.trim() == "enabled" {
        return Ok(RegionSelection::Enabled);
    }
    parse_list(v, "an AWS region (e.g. us-east-1) or `enabled`", crate::domain::ids::is_region)
        .map(RegionSelection::Listed)
}

/// S3 bucket names: 3–63 of lowercase letters, digits, `.` and `-`, starting and ending with a
/// letter or digit.
fn parse_bucket(v: &str) -> Result<String, String> {
    let edge = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok = (3..=63).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge(v.bytes().next())
        && edge(v.bytes().last());
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!("`{v}` is not an S3 bucket name"))
    }
}

/// A key prefix; surrounding `/` are dropped.
fn parse_prefix(v: &str) -> Result<String, String> {
    let p = v.trim_matches('/');
    if p.split('/').any(|part| part.is_empty() || part == "." || part == "..") && !p.is_empty() {
        return Err(format!("`{v}` is not a key prefix (empty, `.` or `..` segment)"));
    }
    Ok(p.to_string())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
