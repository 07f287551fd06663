//! Configuration from environment variables (see DESIGN.md). Parsed once at start-up; a
//! missing or malformed variable is an error that names it.
use std::time::Duration;

use crate::domain::TagFilter;
use crate::error::{Error, Result};

/// Reads variables through a lookup function so tests need not touch the process environment.
pub struct Env<'a> {
    lookup: Box<Lookup<'a>>,
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

impl Env<'static> {
    pub fn process() -> Self {
        Env {
            lookup: Box::new(|k| std::env::var(k).ok()),
        }
    }
}

impl<'a> Env<'a> {
    pub fn from_pairs(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Env {
            lookup: Box::new(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }),
        }
    }

    /// An unset or blank variable reads as absent.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String> {
        self.optional(name)
            .ok_or_else(|| Error::Config(format!("{name} is required but not set")))
    }

    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(Error::Config(format!(
                    "{name}={v:?} is not a boolean (true or false)"
                ))),
            },
        }
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::Config(format!("{name}={v:?} is not a valid number"))),
        }
    }

    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>> {
        self.optional(name)
            .map(|v| parse(&v).map_err(|why| Error::Config(format!("{name}: {why}"))))
            .transpose()
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnlistedAction {
    Ignore,
    Reject,
}

impl UnlistedAction {
    fn parse(v: &str) -> Result<Self, String> {
        match v.to_ascii_lowercase().as_str() {
            "ignore" => Ok(Self::Ignore),
            "reject" => Ok(Self::Reject),
            _ => Err(format!("`{v}` must be `ignore` or `reject`")),
        }
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
            unlisted_action: env
                .parsed("UNLISTED_ACTION", UnlistedAction::parse)?
                .unwrap_or(UnlistedAction::Ignore),
            active_wait: Duration::from_secs(env.number("ACTIVE_WAIT_SECONDS", 30u64)?),
        })
    }
}

/// IAM role names: 1–64 of `[A-Za-z0-9+=,.@_-]`.
fn parse_role_name(v: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
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
        assert_eq!(
            err.to_string(),
            "configuration: ALLOWLIST_TABLE is required but not set"
        );
        let err = AcceptorConfig::from_env(&Env::from_pairs(&[
            ("ALLOWLIST_TABLE", "a"),
            ("LEDGER_TABLE", " "),
        ]))
        .unwrap_err();
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
        assert_eq!(
            c.route_table_tag,
            Some(TagFilter {
                key: "vpcwarden".into(),
                value: "peer".into()
            })
        );
        assert_eq!(c.requester_role_name.as_deref(), Some("vpcwarden-member"));
    }
}
