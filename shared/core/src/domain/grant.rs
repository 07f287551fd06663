//! Grants: what the allowlist permits.
use ipnet::IpNet;
use serde::Serialize;

use super::allowlist::AllowlistKey;

/// Which accepter VPC a peering grant covers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VpcScope {
    Any,
    Vpc(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeeringGrant {
    pub scope: VpcScope,
    pub account: String,
    pub allowed_cidrs: Option<Vec<IpNet>>,
    pub dns_resolution: Option<bool>,
    pub expires_at: Option<i64>,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointGrant {
    pub service_id: String,
    pub account: String,
    pub expires_at: Option<i64>,
    pub max_endpoints: Option<u32>,
    pub note: Option<String>,
    pub added_by: String,
    pub added_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Grant {
    Peering(PeeringGrant),
    Endpoint(EndpointGrant),
}

/// A grant is live until its `expires_at` (DynamoDB TTL deletes lazily, so expiry is checked here).
pub fn is_live(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|t| t > now)
}

impl PeeringGrant {
    pub fn is_live(&self, now: i64) -> bool {
        is_live(self.expires_at, now)
    }

    pub(crate) fn covers_vpc(&self, accepter_vpc: &str) -> bool {
        match &self.scope {
            VpcScope::Any => true,
            VpcScope::Vpc(v) => v == accepter_vpc,
        }
    }
}

impl EndpointGrant {
    pub fn is_live(&self, now: i64) -> bool {
        is_live(self.expires_at, now)
    }
}

impl Grant {
    /// Where the grant lies in the allowlist.
    pub fn key(&self) -> AllowlistKey {
        match self {
            Grant::Peering(g) => AllowlistKey::Peering { scope: g.scope.clone(), account: g.account.clone() },
            Grant::Endpoint(g) => {
                AllowlistKey::Endpoint { service_id: g.service_id.clone(), account: g.account.clone() }
            }
        }
    }
}
