//! The approver's answer: what was decided and done, per service and per connection.
use serde::Serialize;

use super::event::Hint;
use crate::domain::{ConnectionState, Failure};
use vpcwarden_core::endpoint::{Action, Outcome, PrincipalChange, Reason, Verdict};

#[derive(Debug, Default, Serialize)]
pub struct Answer {
    pub trigger: &'static str,
    pub dry_run: bool,
    pub account: String,
    pub region: String,
    pub services: Vec<ServiceAnswer>,
    /// What the notifications said (hints only; the truth was re-read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<Hint>,
    /// Allowlist items that are not valid grants: they granted nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed_grants: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// For a stream batch: the record Lambda retries from (the first of the unit that failed),
    /// or none when the batch was processed whole (Lambda's partial batch response).
    #[serde(rename = "batchItemFailures", skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
}

/// One entry of a partial batch response: a stream record's `SequenceNumber`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ServiceAnswer {
    pub service_id: String,
    /// Accepted by this run (with DRY_RUN: would be accepted).
    pub accepted: Vec<String>,
    /// Rejected or disconnected by this run (with DRY_RUN: would be).
    pub rejected: Vec<String>,
    /// Left pending: unlisted, expired or over quota under `UNLISTED_ACTION=ignore`.
    pub pending: Vec<String>,
    /// Every connection decided about, except those simply connected or settled.
    pub connections: Vec<ConnectionAnswer>,
    /// `Unsuccessful[]` items (and failed calls), with what the state read back says of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureAnswer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principals: Option<PrincipalChange>,
    /// Reported, never acted on (no healthy target, auto-accepting service...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ConnectionAnswer {
    pub endpoint_id: String,
    pub account: String,
    pub state: ConnectionState,
    pub action: Action,
    pub reason: Reason,
    /// The state read back after acting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

impl ConnectionAnswer {
    pub fn of(verdict: &Verdict, outcome: Option<Outcome>) -> Self {
        ConnectionAnswer {
            endpoint_id: verdict.endpoint_id.clone(),
            account: verdict.account.clone(),
            state: verdict.state.clone(),
            action: verdict.action,
            reason: verdict.reason.clone(),
            outcome,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FailureAnswer {
    pub action: Action,
    #[serde(flatten)]
    pub failure: Failure,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}
