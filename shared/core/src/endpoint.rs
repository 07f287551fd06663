//! Pure endpoint-connection decisions: which PrivateLink connections of a service to accept,
//! reject or leave, which allowed principals the service should have, and what the state read
//! back after acting says about each action.
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::ids::is_account_id;
use crate::domain::EndpointGrant;
use crate::domain::{Connection, ConnectionState, Failure, LoadBalancerHealth, UnlistedAction};

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
        UnlistedAction::Ignore | UnlistedAction::Ask => Action::Leave,
        UnlistedAction::Reject => Action::Reject,
    }
}

/// The endpoint ids to pass to one Accept and one Reject call.
pub fn batches(verdicts: &[Verdict]) -> (Vec<String>, Vec<String>) {
    let ids = |action| verdicts.iter().filter(|v| v.action == action).map(|v| v.endpoint_id.clone()).collect();
    (ids(Action::Accept), ids(Action::Reject))
}

/// The principal that lets one account create endpoints to a service.
pub(crate) fn account_principal(partition: &str, account: &str) -> String {
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

/// How a run's answer lists a connection once the state has been read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Accepted by this run's call (with DRY_RUN: would be).
    Accepted,
    /// Rejected or disconnected by this run's call (with DRY_RUN: would be).
    Rejected,
    /// Left pending.
    Pending,
    /// None of those: connected, settled, or done by someone else first.
    Elsewhere,
}

/// A verdict after acting: what the state read back says of it, and how the answer lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    pub outcome: Option<Outcome>,
    pub listed: Listed,
}

/// Judges one verdict after the run acted. `failure` is its `Unsuccessful[]` item, `after` the
/// states read back (`None`: not read — a dry run, or nothing acted on). Only what this run's
/// call did counts as accepted or rejected by it: a connection a concurrent run settled first is
/// already done, not listed as ours.
pub fn judge(
    v: &Verdict,
    failure: Option<&Failure>,
    after: Option<&BTreeMap<String, ConnectionState>>,
    dry_run: bool,
) -> Judged {
    let outcome = match (after, v.action) {
        (_, Action::Leave) | (None, _) => None,
        (Some(after), action) => Some(outcome(action, failure, after.get(&v.endpoint_id))),
    };
    let done = match &outcome {
        Some(Outcome::Done { .. }) => true,
        None => dry_run,
        _ => false,
    };
    let listed = match v.action {
        Action::Accept if done => Listed::Accepted,
        Action::Reject if done => Listed::Rejected,
        Action::Leave if v.state == ConnectionState::PendingAcceptance => Listed::Pending,
        _ => Listed::Elsewhere,
    };
    Judged { outcome, listed }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
