//! Pure endpoint-connection decisions (issue 4): which PrivateLink connections of a service to
//! accept, reject or leave, which allowed principals the service should have, and what the state
//! read back after acting says about each action. No I/O, no SDK types.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::UnlistedAction;
use crate::domain::ids::is_account_id;
use crate::domain::EndpointGrant;

/// The state of an endpoint connection, as the service owner sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub enum ConnectionState {
    PendingAcceptance,
    /// Accepted, on its way to `available`.
    Pending,
    Available,
    Partial,
    Deleting,
    Deleted,
    Rejected,
    Failed,
    Expired,
    Other(String),
}

impl ConnectionState {
    /// THE one place endpoint-connection states are compared. The EC2 API sends camelCase
    /// (`pendingAcceptance`) while aws-sdk-ec2's enum is PascalCase, so the SDK hands us
    /// `State::Unknown("pendingAcceptance")`: callers pass `state.as_str()` and this matches
    /// case-insensitively.
    pub fn parse(state: &str) -> Self {
        match state.trim().to_ascii_lowercase().as_str() {
            "pendingacceptance" => Self::PendingAcceptance,
            "pending" => Self::Pending,
            "available" => Self::Available,
            "partial" => Self::Partial,
            "deleting" => Self::Deleting,
            "deleted" => Self::Deleted,
            "rejected" => Self::Rejected,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            _ => Self::Other(state.to_string()),
        }
    }

    /// The API's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::PendingAcceptance => "pendingAcceptance",
            Self::Pending => "pending",
            Self::Available => "available",
            Self::Partial => "partial",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Other(s) => s,
        }
    }

    /// Connected or about to be: counts against the account's `max_endpoints`.
    pub fn holds_a_slot(&self) -> bool {
        matches!(self, Self::Available | Self::Pending | Self::Partial)
    }

    /// Will never carry traffic again (or is on its way out).
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Deleting | Self::Deleted | Self::Rejected | Self::Failed | Self::Expired)
    }
}

impl From<ConnectionState> for String {
    fn from(s: ConnectionState) -> Self {
        s.as_str().to_string()
    }
}

impl std::fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One consumer endpoint's connection to one of our endpoint services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub endpoint_id: String,
    pub service_id: String,
    /// The consumer account (the endpoint's owner).
    pub account: String,
    pub state: ConnectionState,
    /// Epoch seconds; the oldest pending connections are accepted first under a quota.
    pub created_at: Option<i64>,
}

/// The configured behaviour (UNLISTED_ACTION, REVOKE_ON_REMOVAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub unlisted: UnlistedAction,
    pub revoke_on_removal: bool,
}

/// Which connections of a service a run decides about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Focus {
    /// Every connection (scheduled sweep, SNS wake-up).
    #[default]
    Service,
    /// Only these consumer accounts (allowlist stream): `changed` had a grant inserted or
    /// modified, `removed` had one deleted (by a person or by TTL expiry).
    Accounts { changed: BTreeSet<String>, removed: BTreeSet<String> },
}

impl Focus {
    fn covers(&self, account: &str) -> bool {
        match self {
            Focus::Service => true,
            Focus::Accounts { changed, removed } => changed.contains(account) || removed.contains(account),
        }
    }

    fn removed(&self, account: &str) -> bool {
        matches!(self, Focus::Accounts { removed, .. } if removed.contains(account))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Accept,
    Reject,
    Leave,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Leave => "leave",
        }
    }
}

/// Why; `code()` is stable (ledger, answers, logs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Reason {
    /// A live grant, and the account is under its quota (`in_use` before this connection).
    Granted {
        max_endpoints: Option<u32>,
        in_use: u32,
    },
    NoGrant,
    GrantExpired {
        expired_at: i64,
    },
    OverQuota {
        max_endpoints: u32,
        in_use: u32,
    },
    /// The account's grant was deleted (stream REMOVE, TTL included) and no live grant remains.
    GrantRemoved,
    /// Connected (or being connected) with a live grant: nothing to do.
    Connected,
    /// Connected without a live grant, and this run is not revoking it (the drift auditor
    /// reports it as ENDPOINT_NOT_ALLOWLISTED).
    NotAllowlisted,
    /// Rejected, deleted, failed...: nothing to decide.
    Settled {
        state: ConnectionState,
    },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Granted { .. } => "granted",
            Reason::NoGrant => "no-grant",
            Reason::GrantExpired { .. } => "grant-expired",
            Reason::OverQuota { .. } => "over-quota",
            Reason::GrantRemoved => "grant-removed",
            Reason::Connected => "connected",
            Reason::NotAllowlisted => "not-allowlisted",
            Reason::Settled { .. } => "settled",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Granted { max_endpoints: Some(max), in_use } => {
                write!(f, "live grant; {in_use} of {max} endpoints in use")
            }
            Reason::Granted { max_endpoints: None, .. } => f.write_str("live grant without an endpoint limit"),
            Reason::NoGrant => f.write_str("no endpoint grant for this account and service"),
            Reason::GrantExpired { expired_at } => {
                write!(f, "the grant expired at {expired_at} (epoch s)")
            }
            Reason::OverQuota { max_endpoints, in_use } => {
                write!(f, "the account already uses {in_use} of its {max_endpoints} endpoints")
            }
            Reason::GrantRemoved => f.write_str("the account's grant was removed"),
            Reason::Connected => f.write_str("connected with a live grant"),
            Reason::NotAllowlisted => f.write_str("connected without a live grant"),
            Reason::Settled { state } => write!(f, "the connection is {state}"),
        }
    }
}

/// The decision about one connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub endpoint_id: String,
    pub account: String,
    pub state: ConnectionState,
    pub action: Action,
    pub reason: Reason,
}

impl Verdict {
    /// A decision worth a ledger record: an accept or a reject, or a pending connection left
    /// waiting because it is unlisted.
    pub fn is_decision(&self) -> bool {
        self.action != Action::Leave || self.state == ConnectionState::PendingAcceptance
    }
}

/// The grant that speaks for an account: a live one if any (the most generous limit wins), else
/// the latest-expiring expired one (to name its expiry).
fn grant_for<'g>(grants: &[&'g EndpointGrant], now: i64) -> Option<&'g EndpointGrant> {
    let live = grants.iter().filter(|g| g.is_live(now)).max_by_key(|g| g.max_endpoints.map_or(u64::MAX, u64::from));
    live.or_else(|| grants.iter().max_by_key(|g| g.expires_at)).copied()
}

/// Decides every connection of `service_id` within `focus`.
///
/// * A `pendingAcceptance` connection is accepted when the account has a live grant for the
///   service and fewer than `max_endpoints` connections holding a slot (available, pending, or
///   accepted earlier in this run); the oldest pending connections go first, so concurrent or
///   replayed runs over the same state pick the same ones. Otherwise `policy.unlisted` applies
///   (leave pending, or reject).
/// * With `policy.revoke_on_removal`, a connection (pending or connected) whose account has no
///   live grant is rejected when this run handles the removal of that account's grant, or when
///   the account's grant is still in the table but expired (DynamoDB's TTL deletes lazily).
/// * Everything else is left alone, with the reason.
///
/// Output order: by account, then creation time, then endpoint id.
pub fn decide_connections(
    service_id: &str,
    connections: &[Connection],
    grants: &[EndpointGrant],
    policy: &Policy,
    focus: &Focus,
    now: i64,
) -> Vec<Verdict> {
    let mut by_account: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for c in connections.iter().filter(|c| c.service_id == service_id) {
        by_account.entry(c.account.as_str()).or_default().push(c);
    }
    let mut verdicts = Vec::new();
    for (account, mut conns) in by_account {
        if !focus.covers(account) {
            continue;
        }
        conns.sort_by(|a, b| {
            (a.created_at.unwrap_or(i64::MAX), &a.endpoint_id).cmp(&(b.created_at.unwrap_or(i64::MAX), &b.endpoint_id))
        });
        let account_grants: Vec<&EndpointGrant> =
            grants.iter().filter(|g| g.service_id == service_id && g.account == account).collect();
        let grant = grant_for(&account_grants, now);
        let live = grant.filter(|g| g.is_live(now));
        // Why the account is unlisted, and whether that revokes its connections.
        let (unlisted_reason, revoke) = match grant {
            Some(g) if !g.is_live(now) => {
                (Reason::GrantExpired { expired_at: g.expires_at.unwrap_or_default() }, policy.revoke_on_removal)
            }
            _ if focus.removed(account) => (Reason::GrantRemoved, policy.revoke_on_removal),
            _ => (Reason::NoGrant, false),
        };
        let mut in_use = conns.iter().filter(|c| c.state.holds_a_slot()).count() as u32;
        for c in conns {
            let (action, reason) = match (&c.state, live) {
                (s, _) if s.is_gone() || matches!(s, ConnectionState::Other(_)) => {
                    (Action::Leave, Reason::Settled { state: s.clone() })
                }
                (ConnectionState::PendingAcceptance, Some(g)) => match g.max_endpoints {
                    Some(max) if in_use >= max => (unlisted(policy), Reason::OverQuota { max_endpoints: max, in_use }),
                    max_endpoints => {
                        let before = in_use;
                        in_use += 1;
                        (Action::Accept, Reason::Granted { max_endpoints, in_use: before })
                    }
                },
                (_, Some(_)) => (Action::Leave, Reason::Connected),
                (_, None) if revoke => (Action::Reject, unlisted_reason.clone()),
                (ConnectionState::PendingAcceptance, None) => (unlisted(policy), unlisted_reason.clone()),
                (_, None) => (
                    Action::Leave,
                    match unlisted_reason {
                        Reason::NoGrant => Reason::NotAllowlisted,
                        ref other => other.clone(),
                    },
                ),
            };
            verdicts.push(Verdict {
                endpoint_id: c.endpoint_id.clone(),
                account: c.account.clone(),
                state: c.state.clone(),
                action,
                reason,
            });
        }
    }
    verdicts
}

fn unlisted(policy: &Policy) -> Action {
    match policy.unlisted {
        UnlistedAction::Ignore => Action::Leave,
        UnlistedAction::Reject => Action::Reject,
    }
}

/// The endpoint ids to pass to one Accept and one Reject call.
pub fn batches(verdicts: &[Verdict]) -> (Vec<String>, Vec<String>) {
    let ids = |action| verdicts.iter().filter(|v| v.action == action).map(|v| v.endpoint_id.clone()).collect();
    (ids(Action::Accept), ids(Action::Reject))
}

/// The principal that lets one account create endpoints to a service.
pub fn account_principal(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// Changes that make a service's allowed principals exactly the accounts with live grants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrincipalChange {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl PrincipalChange {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// Desired = `arn:<partition>:iam::<account>:root` for every account with a live grant for the
/// service; everything else (`*`, roles, unlisted accounts) is removed. `*` is never added.
pub fn plan_principals(
    service_id: &str,
    current: &[String],
    grants: &[EndpointGrant],
    partition: &str,
    now: i64,
) -> PrincipalChange {
    let desired: BTreeSet<String> = grants
        .iter()
        .filter(|g| g.service_id == service_id && g.is_live(now) && is_account_id(&g.account))
        .map(|g| account_principal(partition, &g.account))
        .collect();
    let current: BTreeSet<&String> = current.iter().collect();
    PrincipalChange {
        add: desired.iter().filter(|p| !current.contains(p)).cloned().collect(),
        remove: current.iter().filter(|p| !desired.contains(**p)).map(|p| (*p).clone()).collect(),
    }
}

/// Health of one target group behind a service's load balancer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetGroupHealth {
    pub arn: String,
    pub healthy: u32,
    pub total: u32,
}

/// Health of one load balancer of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoadBalancerHealth {
    pub arn: String,
    pub target_groups: Vec<TargetGroupHealth>,
}

/// Warnings (never actions): a load balancer without target groups, or a target group without a
/// healthy target, means a consumer accepted now connects to nothing.
pub fn health_warnings(service_id: &str, lbs: &[LoadBalancerHealth]) -> Vec<String> {
    let mut warnings = Vec::new();
    if lbs.is_empty() {
        warnings.push(format!("{service_id}: the service has no load balancer"));
    }
    for lb in lbs {
        if lb.target_groups.is_empty() {
            warnings.push(format!("{service_id}: load balancer {} has no target group", lb.arn));
        }
        for tg in lb.target_groups.iter().filter(|tg| tg.healthy == 0) {
            warnings.push(format!(
                "{service_id}: target group {} of {} has no healthy target ({} registered)",
                tg.arn, lb.arn, tg.total
            ));
        }
    }
    warnings
}

/// An item of `Unsuccessful[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub endpoint_id: String,
    pub code: String,
    pub message: String,
}

/// What became of one accept or reject, judged by the state read back afterwards (the truth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// The call succeeded for it and the state agrees.
    Done { state: Option<ConnectionState> },
    /// The call reported a failure, but the connection is already where we wanted it (a
    /// concurrent or earlier run did it).
    AlreadyDone { state: Option<ConnectionState>, code: String },
    /// The call failed because the connection went away meanwhile (deleted, rejected...).
    Moot { state: Option<ConnectionState>, code: String },
    /// The connection is not where we wanted it: an error worth retrying.
    Failed { state: Option<ConnectionState>, code: String, message: String },
}

impl Outcome {
    pub fn is_unresolved(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// Judges one action from its `Unsuccessful[]` item (if any) and the state read back (`None`:
/// the connection is no longer listed).
pub fn outcome(action: Action, failure: Option<&Failure>, after: Option<&ConnectionState>) -> Outcome {
    let reached = match (action, after) {
        (Action::Accept, Some(s)) => s.holds_a_slot(),
        (Action::Reject, None) => true,
        (Action::Reject, Some(s)) => s.is_gone(),
        (_, _) => false,
    };
    let moot = match (action, after) {
        (Action::Accept, None) => true,
        (Action::Accept, Some(s)) => s.is_gone(),
        _ => false,
    };
    let state = after.cloned();
    match failure {
        None if reached => Outcome::Done { state },
        Some(f) if reached => Outcome::AlreadyDone { state, code: f.code.clone() },
        Some(f) if moot => Outcome::Moot { state, code: f.code.clone() },
        None if moot => Outcome::Moot { state, code: "Gone".into() },
        Some(f) => Outcome::Failed { state, code: f.code.clone(), message: f.message.clone() },
        None => Outcome::Failed {
            state: state.clone(),
            code: "StateNotReached".into(),
            message: format!(
                "the call succeeded but the connection reads {}",
                state.as_ref().map_or("absent", |s| s.as_str())
            ),
        },
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
