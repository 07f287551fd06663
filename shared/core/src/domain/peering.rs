//! VPC peering connections as the core sees them.
use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub const MANAGED_TAG: &str = "vpcwarden:managed";
pub const ACCEPTED_AT_TAG: &str = "vpcwarden:accepted-at";

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeeringStatus {
    InitiatingRequest,
    PendingAcceptance,
    Provisioning,
    Active,
    Deleting,
    Deleted,
    Rejected,
    Expired,
    Failed,
    Other(String),
}

impl PeeringStatus {
    pub fn parse(code: &str) -> Self {
        match code.to_ascii_lowercase().as_str() {
            "initiating-request" => Self::InitiatingRequest,
            "pending-acceptance" => Self::PendingAcceptance,
            "provisioning" => Self::Provisioning,
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "deleted" => Self::Deleted,
            "rejected" => Self::Rejected,
            "expired" => Self::Expired,
            "failed" => Self::Failed,
            _ => Self::Other(code.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::InitiatingRequest => "initiating-request",
            Self::PendingAcceptance => "pending-acceptance",
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Failed => "failed",
            Self::Other(s) => s,
        }
    }

    /// A connection that will never carry traffic again: routes to it are blackholes.
    pub fn is_dead(&self) -> bool {
        matches!(self, Self::Deleting | Self::Deleted | Self::Rejected | Self::Expired | Self::Failed)
    }
}

/// One side of a peering connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VpcSide {
    pub account: String,
    pub vpc_id: String,
    pub region: String,
    /// Every IPv4 block (primary and secondary) and every IPv6 block.
    pub cidrs: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Peering {
    pub id: String,
    pub status: PeeringStatus,
    pub requester: VpcSide,
    pub accepter: VpcSide,
    pub tags: BTreeMap<String, String>,
    /// `AllowDnsResolutionFromRemoteVpc` on the accepter side, when the API reports it.
    pub accepter_dns_resolution: Option<bool>,
    /// Epoch seconds at which a pending request expires, when reported.
    pub expires_at: Option<i64>,
}

impl Peering {
    pub fn is_managed(&self) -> bool {
        self.tags.get(MANAGED_TAG).is_some_and(|v| v == "true")
    }

    pub fn side(&self, side: Side) -> &VpcSide {
        match side {
            Side::Accepter => &self.accepter,
            Side::Requester => &self.requester,
        }
    }

    /// The CIDRs a route table on `side` must send through this connection: the other side's.
    pub fn peer_cidrs(&self, side: Side) -> &[IpNet] {
        &self.side(side.other()).cidrs
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Accepter,
    Requester,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Accepter => Side::Requester,
            Side::Requester => Side::Accepter,
        }
    }
}
