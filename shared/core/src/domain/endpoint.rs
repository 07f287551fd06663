//! PrivateLink as the core sees it: endpoint connections to our services, their states, the
//! health behind a service, and what a batch call reports as unsuccessful.
use serde::Serialize;

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

/// An item of `Unsuccessful[]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub endpoint_id: String,
    pub code: String,
    pub message: String,
}
