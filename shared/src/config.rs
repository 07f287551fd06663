//! Configuration from environment variables (see DESIGN.md). Parsed once at start-up; a
//! missing or malformed variable is an error that names it.
use std::time::Duration;

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
}

impl Common {
    pub fn from_env(env: &Env) -> Result<Self> {
        Ok(Common {
            allowlist_table: env.required("ALLOWLIST_TABLE")?,
            ledger_table: env.required("LEDGER_TABLE")?,
            dry_run: env.flag("DRY_RUN", false)?,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 2] = [("ALLOWLIST_TABLE", "allow"), ("LEDGER_TABLE", "ledger")];

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AcceptorConfig> {
        let pairs: Vec<(&str, &str)> = BASE.iter().chain(extra).copied().collect();
        let pairs: &'static [(&str, &str)] = Box::leak(pairs.into_boxed_slice());
        AcceptorConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert_eq!(c.common.allowlist_table, "allow");
        assert!(!c.common.dry_run);
        assert_eq!(c.unlisted_action, UnlistedAction::Ignore);
        assert!(c.route_table_tag.is_none() && c.requester_role_name.is_none());
    }

    #[test]
    fn missing_tables_are_named() {
        let err = AcceptorConfig::from_env(&Env::from_pairs(&[("LEDGER_TABLE", "l")])).unwrap_err();
        assert_eq!(err.to_string(), "configuration: ALLOWLIST_TABLE is required but not set");
        let err =
            AcceptorConfig::from_env(&Env::from_pairs(&[("ALLOWLIST_TABLE", "a"), ("LEDGER_TABLE", " ")])).unwrap_err();
        assert!(err.to_string().contains("LEDGER_TABLE"));
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 5] = [
            ("DRY_RUN", "maybe"),
            ("UNLISTED_ACTION", "drop"),
            ("ROUTE_TABLE_TAG", "nokey"),
            ("REQUESTER_ROLE_NAME", "bad role/name"),
            ("ACTIVE_WAIT_SECONDS", "-3"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("DRY_RUN", "TRUE"),
            ("UNLISTED_ACTION", "reject"),
            ("ROUTE_TABLE_TAG", "vpcwarden=peer"),
            ("REQUESTER_ROLE_NAME", "vpcwarden-member"),
        ])
        .unwrap();
        assert!(c.common.dry_run);
        assert_eq!(c.unlisted_action, UnlistedAction::Reject);
        assert_eq!(c.route_table_tag, Some(TagFilter { key: "vpcwarden".into(), value: "peer".into() }));
        assert_eq!(c.requester_role_name.as_deref(), Some("vpcwarden-member"));
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

#[cfg(test)]
mod approver_tests {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<ApproverConfig> {
        let base = [("ALLOWLIST_TABLE", "allow"), ("LEDGER_TABLE", "ledger")];
        let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        let pairs: &'static [(&str, &str)] = Box::leak(pairs.into_boxed_slice());
        ApproverConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert_eq!(c.unlisted_action, UnlistedAction::Ignore);
        assert!(!c.revoke_on_removal && !c.sync_principals && !c.common.dry_run);
        assert!(c.endpoint_service_ids.is_none());
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("UNLISTED_ACTION", "Reject"),
            ("REVOKE_ON_REMOVAL", "true"),
            ("SYNC_PRINCIPALS", "1"),
            (
                "ENDPOINT_SERVICE_IDS",
                "vpce-svc-0123456789abcdef0, vpce-svc-0fedcba9876543210,vpce-svc-0123456789abcdef0",
            ),
        ])
        .unwrap();
        assert_eq!(c.unlisted_action, UnlistedAction::Reject);
        assert!(c.revoke_on_removal && c.sync_principals);
        assert_eq!(
            c.endpoint_service_ids.unwrap(),
            vec!["vpce-svc-0123456789abcdef0".to_string(), "vpce-svc-0fedcba9876543210".to_string()]
        );
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 5] = [
            ("UNLISTED_ACTION", "drop"),
            ("REVOKE_ON_REMOVAL", "sometimes"),
            ("SYNC_PRINCIPALS", "2"),
            ("ENDPOINT_SERVICE_IDS", "vpce-svc-0123456789abcdef0,svc-123"),
            ("ENDPOINT_SERVICE_IDS", ",,"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
            assert!(!err.is_retryable());
        }
        let err = ApproverConfig::from_env(&Env::from_pairs(&[("LEDGER_TABLE", "l")])).unwrap_err();
        assert!(err.to_string().contains("ALLOWLIST_TABLE"));
    }
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
    /// Accounts to audit; `None` = this account.
    pub audit_accounts: Option<Vec<String>>,
    /// Role assumed in every audited account other than this one.
    pub audit_role_name: Option<String>,
    /// Regions to audit; `None` = this region.
    pub audit_regions: Option<Vec<String>>,
    pub route_table_tag: Option<TagFilter>,
    /// The endpoint services to audit; `None` = every service each audited account owns.
    pub endpoint_service_ids: Option<Vec<String>>,
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
            audit_accounts: env.parsed("AUDIT_ACCOUNTS", parse_accounts)?,
            audit_role_name: env.parsed("AUDIT_ROLE_NAME", parse_role_name)?,
            audit_regions: env.parsed("AUDIT_REGIONS", parse_regions)?,
            route_table_tag: env.parsed("ROUTE_TABLE_TAG", TagFilter::parse)?,
            endpoint_service_ids: env.parsed("ENDPOINT_SERVICE_IDS", parse_service_ids)?,
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

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`…
pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn parse_regions(v: &str) -> Result<Vec<String>, String> {
    parse_list(v, "an AWS region (e.g. us-east-1)", is_region)
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
mod auditor_tests {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AuditorConfig> {
        let base = [("ALLOWLIST_TABLE", "allow"), ("LEDGER_TABLE", "ledger")];
        let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
        let pairs: &'static [(&str, &str)] = Box::leak(pairs.into_boxed_slice());
        AuditorConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert!(c.report_bucket.is_none() && c.report_prefix.is_empty());
        assert!(!c.remediate && !c.common.dry_run);
        assert_eq!((c.stale_pending_hours, c.expiry_warning_days), (24, 14));
        assert!(c.audit_accounts.is_none() && c.audit_role_name.is_none() && c.audit_regions.is_none());
        assert!(c.route_table_tag.is_none() && c.endpoint_service_ids.is_none());
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("REPORT_BUCKET", "vpcwarden-reports.example"),
            ("REPORT_PREFIX", "/nightly/audit/"),
            ("REMEDIATE", "true"),
            ("STALE_PENDING_HOURS", "6"),
            ("EXPIRY_WARNING_DAYS", "30"),
            ("AUDIT_ACCOUNTS", "111111111111, 222222222222,111111111111"),
            ("AUDIT_ROLE_NAME", "vpcwarden-audit"),
            ("AUDIT_REGIONS", "us-east-1 eu-west-1,us-gov-west-1"),
            ("ROUTE_TABLE_TAG", "peering=yes"),
            ("ENDPOINT_SERVICE_IDS", "vpce-svc-0123456789abcdef0"),
        ])
        .unwrap();
        assert_eq!(c.report_bucket.as_deref(), Some("vpcwarden-reports.example"));
        assert_eq!(c.report_prefix, "nightly/audit");
        assert!(c.remediate);
        assert_eq!((c.stale_pending_hours, c.expiry_warning_days), (6, 30));
        assert_eq!(c.audit_accounts.unwrap(), ["111111111111", "222222222222"]);
        assert_eq!(c.audit_role_name.as_deref(), Some("vpcwarden-audit"));
        assert_eq!(c.audit_regions.unwrap(), ["us-east-1", "eu-west-1", "us-gov-west-1"]);
        assert_eq!(c.route_table_tag.unwrap().key, "peering");
        assert_eq!(c.endpoint_service_ids.unwrap().len(), 1);
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 14] = [
            ("REPORT_BUCKET", "Bad_Bucket"),
            ("REPORT_BUCKET", "ab"),
            ("REPORT_PREFIX", "a//b"),
            ("REMEDIATE", "perhaps"),
            ("STALE_PENDING_HOURS", "1.5"),
            ("STALE_PENDING_HOURS", "a day"),
            ("EXPIRY_WARNING_DAYS", "-1"),
            ("AUDIT_ACCOUNTS", "12345"),
            ("AUDIT_ACCOUNTS", " , "),
            ("AUDIT_ROLE_NAME", "no/slashes"),
            ("AUDIT_REGIONS", "us-east"),
            ("AUDIT_REGIONS", "US-EAST-1"),
            ("ROUTE_TABLE_TAG", "novalue"),
            ("ENDPOINT_SERVICE_IDS", "svc-1"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{k}={v}: {err}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn regions_are_recognised() {
        for r in ["us-east-1", "ap-southeast-4", "us-gov-west-1", "eu-central-2", "il-central-1"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["us-east", "useast1", "us-east-x", "-east-1", "us--1"] {
            assert!(!is_region(r), "{r}");
        }
    }
}
