//! Which accounts and regions an audit covers (`AUDIT_ACCOUNTS`, `AUDIT_EXCLUDE_ACCOUNTS`,
//! `AUDIT_REGIONS`), and the scopes — an account in a region — they make once the organisation
//! and the enabled regions are known.
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::ids::{is_account_id, is_ou_id};

/// `AUDIT_ACCOUNTS`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AccountSelection {
    /// Unset: the account the auditor runs in.
    #[default]
    This,
    /// Account ids and the accounts under organisational units (recursively).
    Listed { accounts: Vec<String>, units: Vec<String> },
    /// `org`: every active account of the organisation.
    Organization,
}

impl AccountSelection {
    /// `org` alone, or account ids and `ou:<ou-id>` entries, comma- or space-separated.
    pub fn parse(v: &str) -> Result<Self, String> {
        let items: Vec<&str> = v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).collect();
        if items == ["org"] {
            return Ok(AccountSelection::Organization);
        }
        let (mut accounts, mut units) = (Vec::new(), Vec::new());
        for item in items {
            match item.strip_prefix("ou:") {
                _ if item == "org" => return Err("`org` stands alone (every account of the organisation)".into()),
                Some(ou) if is_ou_id(ou) => push_new(&mut units, ou),
                Some(_) => return Err(format!("`{item}` is not ou:<ou-id> (ou-xxxx-xxxxxxxx)")),
                None if is_account_id(item) => push_new(&mut accounts, item),
                None => return Err(format!("`{item}` is not an AWS account id (12 digits), ou:<ou-id> or org")),
            }
        }
        if accounts.is_empty() && units.is_empty() {
            return Err("lists no account".into());
        }
        Ok(AccountSelection::Listed { accounts, units })
    }

    /// Whether the organisation must be read to know the accounts.
    pub fn needs_organization(&self) -> bool {
        matches!(self, AccountSelection::Organization)
            || matches!(self, AccountSelection::Listed { units, .. } if !units.is_empty())
    }
}

/// `AUDIT_REGIONS`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RegionSelection {
    /// Unset: the region the auditor runs in.
    #[default]
    This,
    Listed(Vec<String>),
    /// `enabled`: every region enabled in the account the auditor runs in.
    Enabled,
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|known| known == item) {
        list.push(item.to_string());
    }
}

/// An account of the organisation, as Organizations reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// One scope of an audit: an account in a region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

/// The scopes of a run, and what was left out and why (said in the report).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    pub scopes: Vec<Scope>,
    pub notes: Vec<String>,
}

/// The scopes of `accounts` × `regions`, in that order: accounts that are not active are left
/// out (and said), so are the excluded ones; duplicates are dropped.
pub fn plan_scopes(accounts: &[OrgAccount], exclude: &[String], regions: &[String]) -> Planned {
    let mut planned = Planned::default();
    let mut seen = BTreeSet::new();
    let excluded: BTreeSet<&str> = exclude.iter().map(String::as_str).collect();
    let mut left_out = Vec::new();
    for account in accounts {
        if !seen.insert(account.id.as_str()) {
            continue;
        }
        if excluded.contains(account.id.as_str()) {
            left_out.push(account.id.clone());
            continue;
        }
        if !account.is_active() {
            planned.notes.push(format!("account {} is {}: not audited", account.id, account.status));
            continue;
        }
        for region in regions {
            planned.scopes.push(Scope { account: account.id.clone(), region: region.clone() });
        }
    }
    if !left_out.is_empty() {
        planned.notes.push(format!("excluded by AUDIT_EXCLUDE_ACCOUNTS: {}", left_out.join(", ")));
    }
    planned
}

/// One item of an organisation run's plan: a scope, and whether it is the one that says the
/// allowlist's own findings (an expiring grant is said once per run, not once per scope).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedScope {
    pub account: String,
    pub region: String,
    pub holds_allowlist: bool,
}

/// The items of a plan: the holder is our own scope when it is planned (`me`, `region`), else
/// the first one, as in a single run.
pub fn plan_items(planned: &Planned, me: &str, region: &str) -> Vec<PlannedScope> {
    let holder = planned.scopes.iter().position(|s| s.account == me && s.region == region).unwrap_or(0);
    let item = |(i, s): (usize, &Scope)| PlannedScope {
        account: s.account.clone(),
        region: s.region.clone(),
        holds_allowlist: i == holder,
    };
    planned.scopes.iter().enumerate().map(item).collect()
}

/// The id of an organisation run: when it was planned and a random part, so that two runs
/// started in the same second never share their data (`20261129T030000Z-1a2b3c4d`). It names
/// an S3 prefix, so it is checked wherever it comes in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RunId(String);

impl RunId {
    /// From the plan's time (RFC 3339, UTC) and 32 random bits.
    pub fn new(generated_at: &str, random: u32) -> Self {
        let compact: String = generated_at.chars().filter(|c| c.is_ascii_digit() || *c == 'T').take(15).collect();
        RunId(format!("{compact}Z-{random:08x}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RunId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let b = s.as_bytes();
        let shaped = b.len() == 25
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'T'
            && b[9..15].iter().all(u8::is_ascii_digit)
            && &b[15..17] == b"Z-"
            && b[17..].iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        if shaped {
            Ok(RunId(s))
        } else {
            Err(format!("`{s}` is not a run id (like 20261129T030000Z-1a2b3c4d, as the plan step answers it)"))
        }
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.0
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, status: &str) -> OrgAccount {
        OrgAccount { id: id.into(), status: status.into() }
    }

    #[test]
    fn selections_parse_and_bad_entries_are_named() {
        assert_eq!(AccountSelection::parse("org"), Ok(AccountSelection::Organization));
        let listed = AccountSelection::parse("111111111111, ou:ou-ab12-cdefgh34 ou:ou-ab12-cdefgh34").unwrap();
        assert_eq!(
            listed,
            AccountSelection::Listed { accounts: vec!["111111111111".into()], units: vec!["ou-ab12-cdefgh34".into()] }
        );
        assert!(listed.needs_organization());
        assert!(!AccountSelection::parse("111111111111").unwrap().needs_organization());
        assert!(AccountSelection::parse("org,111111111111").unwrap_err().contains("stands alone"));
        assert!(AccountSelection::parse("ou:nope").unwrap_err().contains("ou:nope"));
        assert!(AccountSelection::parse("12345").unwrap_err().contains("`12345`"));
        assert!(AccountSelection::parse(" , ").is_err());
    }

    #[test]
    fn scopes_are_the_active_accounts_not_excluded_in_every_region() {
        let accounts = [
            account("111111111111", "ACTIVE"),
            account("222222222222", "SUSPENDED"),
            account("333333333333", "ACTIVE"),
            account("444444444444", "ACTIVE"),
            account("111111111111", "ACTIVE"),
        ];
        let regions = ["us-east-1".to_string(), "eu-west-1".to_string()];
        let planned = plan_scopes(&accounts, &["333333333333".into()], &regions);
        let scopes: Vec<(&str, &str)> =
            planned.scopes.iter().map(|s| (s.account.as_str(), s.region.as_str())).collect();
        assert_eq!(
            scopes,
            [
                ("111111111111", "us-east-1"),
                ("111111111111", "eu-west-1"),
                ("444444444444", "us-east-1"),
                ("444444444444", "eu-west-1")
            ]
        );
        assert_eq!(
            planned.notes,
            ["account 222222222222 is SUSPENDED: not audited", "excluded by AUDIT_EXCLUDE_ACCOUNTS: 333333333333"]
        );
    }

    #[test]
    fn run_ids_are_made_from_the_time_and_checked_where_they_come_in() {
        let id = RunId::new("2026-11-29T03:00:07.123456Z", 0x1a2b3c4d);
        assert_eq!(id.as_str(), "20261129T030007Z-1a2b3c4d");
        assert_eq!(RunId::try_from(id.to_string()), Ok(id));
        for bad in
            ["", "../../etc", "20261129T030007Z-1A2B3C4D", "20261129T030007Z-1a2b3c4", "20261129T030007Z/1a2b3c4d"]
        {
            assert!(RunId::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn our_own_scope_holds_the_allowlist_else_the_first() {
        let planned = Planned {
            scopes: vec![
                Scope { account: "222222222222".into(), region: "us-east-1".into() },
                Scope { account: "111111111111".into(), region: "eu-west-1".into() },
                Scope { account: "111111111111".into(), region: "us-east-1".into() },
            ],
            notes: Vec::new(),
        };
        let holders = |me: &str| -> Vec<bool> {
            plan_items(&planned, me, "us-east-1").iter().map(|i| i.holds_allowlist).collect()
        };
        assert_eq!(holders("111111111111"), [false, false, true]);
        assert_eq!(holders("999999999999"), [true, false, false]);
        assert!(plan_items(&Planned::default(), "111111111111", "us-east-1").is_empty());
    }
}
