//! The ledger's vocabulary: what vpcwarden records ([`LedgerAction`]) and under which key
//! ([`LedgerKey`]). Every record's action and key is one of these, so two functions can never
//! spell the same decision two ways, and a record written under an older spelling still reads
//! as the action it meant.
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a ledger record says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "&'static str", from = "String")]
pub enum LedgerAction {
    /// A peering request or an endpoint connection was accepted.
    Accepted,
    /// Rejected (or disconnected).
    Rejected,
    /// Left pending: no grant admits it and `UNLISTED_ACTION=ignore`.
    Ignored,
    /// An accept call did not take effect (the reason says why).
    AcceptFailed,
    /// A reject call did not take effect.
    RejectFailed,
    /// Routes through a connection were created (on acceptance, or to complete them).
    RoutesAdded,
    /// Routes through a dead connection were removed.
    RoutesRemoved,
    /// Missing routes of a live connection were recreated by the audit's remediation.
    RoutesRestored,
    /// Route changes that failed.
    RoutesFailed,
    /// Route changes not started because the invocation was near its deadline (the next
    /// invocation or sweep carries them out).
    RoutesDeferred,
    /// A destination already routed elsewhere: reported, never overwritten.
    RouteConflict,
    /// An endpoint service's allowed principals were set to follow the grants.
    PrincipalsSynced,
    /// A drift report's summary.
    Report,
    /// A request no grant admits, waiting for a person (`UNLISTED_ACTION=ask`).
    ApprovalRequested,
    /// A person approved a request: its grant was written.
    Approved,
    /// A person denied a request: it was rejected.
    Denied,
    /// A request that can no longer be decided (expired, deleted, or accepted through a grant).
    RequestClosed,
    /// An action this version does not know (written by a newer one): kept, never acted on.
    Unknown,
}

/// Every action and its spelling, then the spellings older versions wrote.
const NAMES: [(LedgerAction, &str); 17] = [
    (LedgerAction::Accepted, "accepted"),
    (LedgerAction::Rejected, "rejected"),
    (LedgerAction::Ignored, "ignored"),
    (LedgerAction::AcceptFailed, "accept-failed"),
    (LedgerAction::RejectFailed, "reject-failed"),
    (LedgerAction::RoutesAdded, "routes-added"),
    (LedgerAction::RoutesRemoved, "routes-removed"),
    (LedgerAction::RoutesRestored, "routes-restored"),
    (LedgerAction::RoutesFailed, "routes-failed"),
    (LedgerAction::RoutesDeferred, "routes-deferred"),
    (LedgerAction::RouteConflict, "route-conflict"),
    (LedgerAction::PrincipalsSynced, "principals-synced"),
    (LedgerAction::Report, "report"),
    (LedgerAction::ApprovalRequested, "approval-requested"),
    (LedgerAction::Approved, "approved"),
    (LedgerAction::Denied, "denied"),
    (LedgerAction::RequestClosed, "request-closed"),
];
const LEGACY_NAMES: [(LedgerAction, &str); 6] = [
    (LedgerAction::Accepted, "accept"),
    (LedgerAction::Rejected, "reject"),
    (LedgerAction::Ignored, "ignore"),
    (LedgerAction::RoutesRemoved, "route-removed"),
    (LedgerAction::RoutesRestored, "route-restored"),
    (LedgerAction::PrincipalsSynced, "sync-principals"),
];

impl LedgerAction {
    /// The spelling written today.
    pub fn as_str(self) -> &'static str {
        NAMES.iter().find(|(a, _)| *a == self).map_or("unknown", |(_, n)| n)
    }

    /// Reads today's spelling or an older one; anything else is [`LedgerAction::Unknown`].
    pub fn parse(text: &str) -> Self {
        NAMES.iter().chain(&LEGACY_NAMES).find(|(_, n)| *n == text).map_or(LedgerAction::Unknown, |(a, _)| *a)
    }

    /// Every spelling that reads as this action (today's first): for server-side filters.
    pub fn spellings(self) -> Vec<&'static str> {
        NAMES.iter().chain(&LEGACY_NAMES).filter(|(a, _)| *a == self).map(|(_, n)| *n).collect()
    }
}

impl From<LedgerAction> for &'static str {
    fn from(a: LedgerAction) -> Self {
        a.as_str()
    }
}

impl From<String> for LedgerAction {
    fn from(s: String) -> Self {
        LedgerAction::parse(&s)
    }
}

impl fmt::Display for LedgerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The partition key of a ledger record: what the record is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerKey {
    /// `pcx#<id>`: a peering connection.
    Peering(String),
    /// `vpce#<id>`: an endpoint connection, or (`vpce#vpce-svc-…`) an endpoint service.
    Endpoint(String),
    /// `report#<account>#<region>`: the drift reports of one scope.
    Report { account: String, region: String },
    /// `request#<pcx-…|vpce-…>`: an approval request.
    Request(String),
}

impl LedgerKey {
    /// What every key of this kind starts with (`pcx#`, `vpce#`, `report#`, `request#`).
    pub fn kind_prefix(&self) -> &'static str {
        match self {
            LedgerKey::Peering(_) => "pcx#",
            LedgerKey::Endpoint(_) => "vpce#",
            LedgerKey::Report { .. } => "report#",
            LedgerKey::Request(_) => "request#",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once('#')?;
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        match kind {
            "pcx" => non_empty(rest).map(LedgerKey::Peering),
            "vpce" => non_empty(rest).map(LedgerKey::Endpoint),
            "request" => non_empty(rest).map(LedgerKey::Request),
            "report" => {
                let (account, region) = rest.split_once('#')?;
                Some(LedgerKey::Report { account: non_empty(account)?, region: non_empty(region)? })
            }
            _ => None,
        }
    }
}

impl fmt::Display for LedgerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerKey::Peering(id) => write!(f, "pcx#{id}"),
            LedgerKey::Endpoint(id) => write!(f, "vpce#{id}"),
            LedgerKey::Report { account, region } => write!(f, "report#{account}#{region}"),
            LedgerKey::Request(id) => write!(f, "request#{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_as_itself() {
        for (action, name) in NAMES {
            assert_eq!(action.as_str(), name);
            assert_eq!(LedgerAction::parse(name), action);
            assert_eq!(serde_json::to_value(action).unwrap(), name);
            assert_eq!(serde_json::from_value::<LedgerAction>(name.into()).unwrap(), action);
        }
    }

    #[test]
    fn older_spellings_still_read() {
        assert_eq!(LedgerAction::parse("accept"), LedgerAction::Accepted);
        assert_eq!(LedgerAction::parse("route-removed"), LedgerAction::RoutesRemoved);
        assert_eq!(LedgerAction::parse("sync-principals"), LedgerAction::PrincipalsSynced);
        assert_eq!(LedgerAction::parse("something-new"), LedgerAction::Unknown);
        assert_eq!(LedgerAction::Accepted.spellings(), ["accepted", "accept"]);
    }

    #[test]
    fn keys_round_trip() {
        let keys = [
            LedgerKey::Peering("pcx-0a1b2c3d".into()),
            LedgerKey::Endpoint("vpce-0a1b2c3d".into()),
            LedgerKey::Report { account: "111111111111".into(), region: "us-east-1".into() },
            LedgerKey::Request("vpce-0a1b2c3d".into()),
        ];
        for key in keys {
            assert!(key.to_string().starts_with(key.kind_prefix()));
            assert_eq!(LedgerKey::parse(&key.to_string()), Some(key));
        }
        assert_eq!(LedgerKey::Report { account: "1".into(), region: "r".into() }.to_string(), "report#1#r");
        for bad in ["pcx", "pcx#", "grant#x", "report#111111111111", "report##us-east-1"] {
            assert_eq!(LedgerKey::parse(bad), None, "{bad}");
        }
    }
}
