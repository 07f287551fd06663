//! The acceptor's answer: what was done, per connection.
use ipnet::IpNet;
use serde::Serialize;

pub use crate::approver::BatchItemFailure;
use crate::domain::{Peering, RouteTarget, Side};
use vpcwarden_core::RouteChange;

#[derive(Debug, Default, Serialize)]
pub struct Answer {
    pub trigger: &'static str,
    pub dry_run: bool,
    pub account: String,
    pub region: String,
    pub peerings: Vec<Outcome>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// For a stream batch: the record Lambda retries from (the first of the unit that failed),
    /// or none when the batch was processed whole (Lambda's partial batch response).
    #[serde(rename = "batchItemFailures", skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Accepted,
    /// Refused and left pending (`UNLISTED_ACTION=ignore`).
    Ignored,
    /// Refused and rejected (`UNLISTED_ACTION=reject`).
    Rejected,
    /// No grant: left pending, and a person asked (`UNLISTED_ACTION=ask`).
    Asked,
    /// Active and ours: routes checked and completed.
    Reconciled,
    /// Dead and ours: routes removed.
    CleanedUp,
    /// Nothing for this account to do (not the accepter, not ours, not found).
    Skipped,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRef {
    pub side: Side,
    pub route_table: String,
    pub destination: IpNet,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub side: Side,
    pub route_table: String,
    pub destination: IpNet,
    pub existing_target: String,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub pcx: String,
    pub status: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes_added: Vec<RouteRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes_removed: Vec<RouteRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// With DRY_RUN: the changes that would have been made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<RouteChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn new(pcx: &str, status: &str, action: Action) -> Self {
        Outcome {
            pcx: pcx.to_string(),
            status: status.to_string(),
            action,
            reason: None,
            requester: None,
            routes_added: Vec::new(),
            routes_removed: Vec::new(),
            conflicts: Vec::new(),
            planned: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Names the connection's requester (`account/vpc`).
    pub fn with_requester(mut self, p: &Peering) -> Self {
        self.requester = Some(format!("{}/{}", p.requester.account, p.requester.vpc_id));
        self
    }

    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn conflict(&mut self, side: Side, route_table: &str, destination: IpNet, existing: &RouteTarget) {
        self.conflicts.push(Conflict {
            side,
            route_table: route_table.to_string(),
            destination,
            existing_target: existing.to_string(),
        });
    }
}
