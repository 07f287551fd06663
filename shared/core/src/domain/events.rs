//! What vpcwarden tells others (DESIGN.md "Events out"): the EventBridge detail types, the ARNs
//! an event names, and the detail of each type — small, typed, and documented by one JSON Schema
//! per detail type in `shared/schemas/events/` (a test validates these types against them).
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::finding::{FindingCode, Severity};
use super::peering::Side;

/// `Source` of every event vpcwarden publishes.
pub const SOURCE: &str = "vpcwarden";

/// The `DetailType` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DetailType {
    PeeringDecision,
    EndpointConnectionDecision,
    ApprovalRequested,
    FindingOpened,
    FindingResolved,
    AuditCompleted,
}

impl DetailType {
    pub const ALL: [DetailType; 6] = [
        DetailType::PeeringDecision,
        DetailType::EndpointConnectionDecision,
        DetailType::ApprovalRequested,
        DetailType::FindingOpened,
        DetailType::FindingResolved,
        DetailType::AuditCompleted,
    ];

    /// As EventBridge carries it (`detail-type`), and rules match it.
    pub fn as_str(self) -> &'static str {
        match self {
            DetailType::PeeringDecision => "Peering Decision",
            DetailType::EndpointConnectionDecision => "Endpoint Connection Decision",
            DetailType::ApprovalRequested => "Approval Requested",
            DetailType::FindingOpened => "Finding Opened",
            DetailType::FindingResolved => "Finding Resolved",
            DetailType::AuditCompleted => "Audit Completed",
        }
    }

    /// The file of its JSON Schema under `shared/schemas/events/`.
    pub fn schema_file(self) -> String {
        format!("{}.schema.json", self.as_str().to_ascii_lowercase().replace(' ', "-"))
    }
}

impl fmt::Display for DetailType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a resource lives, for its ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}

/// An EC2 resource an event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ec2Resource<'a> {
    PeeringConnection(&'a str),
    RouteTable(&'a str),
    Vpc(&'a str),
    EndpointService(&'a str),
    Endpoint(&'a str),
}

/// `arn:<partition>:ec2:<region>:<account>:<type>/<id>`, as EC2 names its resources.
pub fn arn(place: &Place<'_>, resource: Ec2Resource<'_>) -> String {
    let (kind, id) = match resource {
        Ec2Resource::PeeringConnection(id) => ("vpc-peering-connection", id),
        Ec2Resource::RouteTable(id) => ("route-table", id),
        Ec2Resource::Vpc(id) => ("vpc", id),
        Ec2Resource::EndpointService(id) => ("vpc-endpoint-service", id),
        Ec2Resource::Endpoint(id) => ("vpc-endpoint", id),
    };
    format!("arn:{}:ec2:{}:{}:{kind}/{id}", place.partition, place.region, place.account)
}

/// One event: its type, the ARNs it is about, and its detail (one of the detail types below,
/// serialised).
#[derive(Clone, Debug, PartialEq)]
pub struct Event<D: Serialize> {
    pub detail_type: DetailType,
    pub resources: Vec<String>,
    pub detail: D,
}

/// A VPC on one side of a peering connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeeringSide {
    pub account: String,
    pub vpc: String,
    pub region: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<IpNet>,
}

/// A route an event reports changed (or in conflict).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteNote {
    pub side: Side,
    pub route_table: String,
    pub destination: IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_target: Option<String>,
}

/// `Peering Decision`: what peering-acceptor decided or did about one connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeeringDecision {
    /// `accepted`, `ignored`, `rejected`, `routes-added`, `routes-removed`, `route-conflict`,
    /// `routes-failed` (the ledger's actions).
    pub decision: String,
    pub pcx: String,
    /// The refusal's stable code (`no-grant`, `cidr-overlaps-accepter`, …), when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    pub reason: String,
    /// The two sides, when the connection could be read (routes removed after a connection
    /// vanished name it by id only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<PeeringSide>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepter: Option<PeeringSide>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteNote>,
    pub dry_run: bool,
}

/// `Endpoint Connection Decision`: what endpoint-approver decided or did about one connection
/// (or, for `principals-synced`, about a service's allowed principals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointConnectionDecision {
    /// `accepted`, `rejected`, `revoked`, `ignored`, `accept-failed`, `reject-failed`,
    /// `principals-synced`.
    pub decision: String,
    pub service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub reason_code: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub principals_removed: Vec<String>,
    pub dry_run: bool,
}

/// The verdict of one check of a request, for the person who decides it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckVerdict {
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

/// `Approval Requested`: a request no grant admits, waiting for a person (`UNLISTED_ACTION=ask`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalRequested {
    /// `pcx-…` or `vpce-…`.
    pub request: String,
    /// `peering` or `endpoint`.
    pub kind: String,
    pub account: String,
    pub region: String,
    /// Our VPC the peering asks to join, or our endpoint service.
    pub target: String,
    /// The requester's VPC (peering only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester_vpc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<IpNet>,
    pub checks: Vec<CheckVerdict>,
    pub first_seen: String,
    pub approve_command: String,
    pub deny_command: String,
}

/// `Finding Opened` / `Finding Resolved`: a finding that is new in this audit, or gone since the
/// previous one (once each, by id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    pub finding_id: String,
    pub code: FindingCode,
    pub severity: Severity,
    pub account: String,
    pub region: String,
    pub resource: String,
    pub first_seen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
}

/// Counts of an audit, by severity (waived findings counted apart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    pub total: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub new: usize,
    pub resolved: usize,
    pub waived: usize,
}

/// `Audit Completed`: an audit run's counts and where its reports are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditCompleted {
    pub generated_at: String,
    pub scopes_audited: usize,
    pub scopes_failed: usize,
    pub summary: AuditCounts,
    /// `s3://…` addresses of the reports (empty without a report bucket).
    pub reports: Vec<String>,
    pub dry_run: bool,
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
