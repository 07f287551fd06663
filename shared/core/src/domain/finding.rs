//! Findings of the drift audit, as data: each finding is the [`Facts`] of one kind of drift in
//! one scope (account and region). The stable code and the severity follow from the facts, so
//! they can never disagree with them; the words a person reads are the reports' business.
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::allowlist::AllowlistKey;
use super::fingerprint::{fingerprint, Identity};
use super::ids::principal_account;
use super::{ConnectionState, PeeringStatus, RouteTarget, Side, VpcScope};
use crate::decide::Refusal;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

macro_rules! finding_codes {
    ($($variant:ident => $code:literal, $severity:ident;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum FindingCode { $(#[serde(rename = $code)] $variant,)* }

        impl FindingCode {
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $code,)* }
            }

            /// The code named `name` (exactly as it is spelled in reports).
            pub fn parse(name: &str) -> Option<FindingCode> {
                match name { $($code => Some(FindingCode::$variant),)* _ => None }
            }

            pub fn severity(self) -> Severity {
                match self { $(FindingCode::$variant => Severity::$severity,)* }
            }
        }
    };
}

finding_codes! {
    PeeringPendingUnlisted => "PEERING_PENDING_UNLISTED", Medium;
    PeeringPendingStale => "PEERING_PENDING_STALE", Low;
    PeeringNotAllowlisted => "PEERING_NOT_ALLOWLISTED", High;
    PeeringRouteMissing => "PEERING_ROUTE_MISSING", High;
    PeeringRouteBlackhole => "PEERING_ROUTE_BLACKHOLE", High;
    PeeringRouteConflict => "PEERING_ROUTE_CONFLICT", High;
    PeeringCidrOverlap => "PEERING_CIDR_OVERLAP", High;
    PeeringDnsDrift => "PEERING_DNS_DRIFT", Low;
    EndpointNotAllowlisted => "ENDPOINT_NOT_ALLOWLISTED", Critical;
    EndpointPending => "ENDPOINT_PENDING", Medium;
    EndpointOverQuota => "ENDPOINT_OVER_QUOTA", Medium;
    EndpointServiceAutoAccept => "ENDPOINT_SERVICE_AUTO_ACCEPT", High;
    EndpointServiceWildcardPrincipal => "ENDPOINT_SERVICE_WILDCARD_PRINCIPAL", Critical;
    EndpointServicePrincipalUnlisted => "ENDPOINT_SERVICE_PRINCIPAL_UNLISTED", Medium;
    EndpointServiceUnhealthy => "ENDPOINT_SERVICE_UNHEALTHY", High;
    GrantExpiring => "GRANT_EXPIRING", Low;
    PeeringPendingBlocked => "PEERING_PENDING_BLOCKED", Medium;
    WaiverExpiring => "WAIVER_EXPIRING", Low;
}

/// The requesting side of a peering connection, as a finding names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Requester {
    pub account: String,
    pub vpc: String,
    pub cidrs: Vec<IpNet>,
}

/// Why a route through a peering connection carries nothing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "reason", content = "status", rename_all = "snake_case")]
pub enum DeadReason {
    /// The connection is not described any more (deleted long ago) or was never known here.
    NotDescribed,
    /// The connection is in this status, not `active`.
    Status(PeeringStatus),
    /// The connection is active, but the API reports the route itself as `blackhole`.
    RouteBlackhole,
}

/// A target group of a service's load balancer without a healthy target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SickTargetGroup {
    pub arn: String,
    /// Targets registered in it (none of them healthy).
    pub registered: u32,
}

/// What distinguishes one drift from another: one variant per kind of drift (per code).
///
/// Durations (`pending_for`, `expires_in`: seconds at the time of the audit), counts, and the
/// states a drift passes through (a connection's status, whether a grant covers a request)
/// change from run to run while the drift stays the same: [`Facts::distinction`], and so
/// [`Finding::identity`], leave them out.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Facts {
    /// A pending request into one of our VPCs that no live grant covers.
    PeeringPendingUnlisted { pcx: String, requester: Requester, accepter_vpc: String },
    /// A request pending longer than `STALE_PENDING_HOURS`; `granted`: a live grant covers it.
    PeeringPendingStale {
        pcx: String,
        requester: Requester,
        accepter_vpc: String,
        pending_for: i64,
        expires_in: i64,
        granted: bool,
    },
    /// An active connection into one of our VPCs that no live grant covers.
    PeeringNotAllowlisted { pcx: String, requester: Requester, accepter_vpc: String },
    /// A managed table of `vpc` (on `side` of `pcx`) lacks the route `destination -> pcx`.
    PeeringRouteMissing { route_table: String, vpc: String, side: Side, destination: IpNet, pcx: String },
    /// A route `destination -> pcx` that carries nothing; `managed`: vpcwarden accepted `pcx`.
    PeeringRouteBlackhole {
        route_table: String,
        vpc: String,
        destination: IpNet,
        pcx: String,
        why: DeadReason,
        managed: bool,
    },
    /// A route for `destination` (equal to, or more specific inside, `peer_cidr` of `pcx`)
    /// goes to `target` instead of the peering.
    PeeringRouteConflict {
        route_table: String,
        vpc: String,
        side: Side,
        pcx: String,
        peer_cidr: IpNet,
        destination: IpNet,
        target: RouteTarget,
    },
    /// A CIDR of the requester overlaps one of the accepter's (`status`: the connection's).
    PeeringCidrOverlap {
        pcx: String,
        requester: Requester,
        accepter_vpc: String,
        requester_cidr: IpNet,
        accepter_cidr: IpNet,
        status: PeeringStatus,
    },
    /// DNS resolution from the accepter VPC is `had`, the grant wants `wanted`.
    PeeringDnsDrift { pcx: String, accepter_vpc: String, had: bool, wanted: bool },
    /// An endpoint connected (`state`) to our service without a live grant.
    EndpointNotAllowlisted { service: String, endpoint: String, account: String, state: ConnectionState },
    /// An endpoint connection waiting for acceptance; `granted`: a live grant covers it.
    EndpointPending { service: String, endpoint: String, account: String, granted: bool },
    /// The account holds `in_use` connections to the service, its grant allows `max`.
    EndpointOverQuota { service: String, account: String, in_use: usize, max: u32 },
    /// The service accepts every connection without asking (`AcceptanceRequired=false`).
    EndpointServiceAutoAccept { service: String, name: String },
    /// The service allows the principal `*`.
    EndpointServiceWildcardPrincipal { service: String },
    /// The service allows a principal that no live endpoint grant covers.
    EndpointServicePrincipalUnlisted { service: String, principal: String },
    /// A load balancer of the service has no target group (`target_group: None`) or one
    /// without a healthy target.
    EndpointServiceUnhealthy { service: String, load_balancer: String, target_group: Option<SickTargetGroup> },
    /// The grant stored under `grant` expires in `expires_in` seconds.
    GrantExpiring { grant: AllowlistKey, expires_in: i64 },
    /// A pending request a live grant covers, which the acceptor's own decision refuses for
    /// `refusal` (an overlap, a CIDR already routed, a CIDR outside the grant...).
    PeeringPendingBlocked { pcx: String, requester: Requester, accepter_vpc: String, refusal: Refusal },
    /// The waiver stored under `waiver` ends in `expires_in` seconds.
    WaiverExpiring { waiver: AllowlistKey, expires_in: i64 },
}

/// One drift in one scope.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Finding {
    /// The scope's account and region (where the audit read it).
    pub account: String,
    pub region: String,
    pub facts: Facts,
}

impl Facts {
    pub fn code(&self) -> FindingCode {
        match self {
            Facts::PeeringPendingUnlisted { .. } => FindingCode::PeeringPendingUnlisted,
            Facts::PeeringPendingStale { .. } => FindingCode::PeeringPendingStale,
            Facts::PeeringNotAllowlisted { .. } => FindingCode::PeeringNotAllowlisted,
            Facts::PeeringRouteMissing { .. } => FindingCode::PeeringRouteMissing,
            Facts::PeeringRouteBlackhole { .. } => FindingCode::PeeringRouteBlackhole,
            Facts::PeeringRouteConflict { .. } => FindingCode::PeeringRouteConflict,
            Facts::PeeringCidrOverlap { .. } => FindingCode::PeeringCidrOverlap,
            Facts::PeeringDnsDrift { .. } => FindingCode::PeeringDnsDrift,
            Facts::EndpointNotAllowlisted { .. } => FindingCode::EndpointNotAllowlisted,
            Facts::EndpointPending { .. } => FindingCode::EndpointPending,
            Facts::EndpointOverQuota { .. } => FindingCode::EndpointOverQuota,
            Facts::EndpointServiceAutoAccept { .. } => FindingCode::EndpointServiceAutoAccept,
            Facts::EndpointServiceWildcardPrincipal { .. } => FindingCode::EndpointServiceWildcardPrincipal,
            Facts::EndpointServicePrincipalUnlisted { .. } => FindingCode::EndpointServicePrincipalUnlisted,
            Facts::EndpointServiceUnhealthy { .. } => FindingCode::EndpointServiceUnhealthy,
            Facts::GrantExpiring { .. } => FindingCode::GrantExpiring,
            Facts::PeeringPendingBlocked { .. } => FindingCode::PeeringPendingBlocked,
            Facts::WaiverExpiring { .. } => FindingCode::WaiverExpiring,
        }
    }

    /// The resource the finding is filed under: a connection, a route table, an endpoint, a
    /// service, `<service>/<account>` for a quota, `<pk>/<sk>` for a grant.
    pub fn resource(&self) -> String {
        match self {
            Facts::PeeringPendingUnlisted { pcx, .. }
            | Facts::PeeringPendingStale { pcx, .. }
            | Facts::PeeringNotAllowlisted { pcx, .. }
            | Facts::PeeringCidrOverlap { pcx, .. }
            | Facts::PeeringDnsDrift { pcx, .. }
            | Facts::PeeringPendingBlocked { pcx, .. } => pcx.clone(),
            Facts::PeeringRouteMissing { route_table, .. }
            | Facts::PeeringRouteBlackhole { route_table, .. }
            | Facts::PeeringRouteConflict { route_table, .. } => route_table.clone(),
            Facts::EndpointNotAllowlisted { endpoint, .. } | Facts::EndpointPending { endpoint, .. } => {
                endpoint.clone()
            }
            Facts::EndpointOverQuota { service, account, .. } => format!("{service}/{account}"),
            Facts::EndpointServiceAutoAccept { service, .. }
            | Facts::EndpointServiceWildcardPrincipal { service }
            | Facts::EndpointServicePrincipalUnlisted { service, .. }
            | Facts::EndpointServiceUnhealthy { service, .. } => service.clone(),
            Facts::GrantExpiring { grant: key, .. } | Facts::WaiverExpiring { waiver: key, .. } => {
                format!("{}/{}", key.pk(), key.sk())
            }
        }
    }

    /// Every AWS id the finding is about, without repeats: what a drawing of the estate looks
    /// its elements up by.
    pub fn subjects(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = match self {
            Facts::PeeringPendingUnlisted { pcx, requester, accepter_vpc }
            | Facts::PeeringPendingStale { pcx, requester, accepter_vpc, .. }
            | Facts::PeeringNotAllowlisted { pcx, requester, accepter_vpc }
            | Facts::PeeringCidrOverlap { pcx, requester, accepter_vpc, .. }
            | Facts::PeeringPendingBlocked { pcx, requester, accepter_vpc, .. } => {
                vec![pcx, accepter_vpc, &requester.vpc, &requester.account]
            }
            Facts::PeeringRouteMissing { route_table, vpc, pcx, .. }
            | Facts::PeeringRouteBlackhole { route_table, vpc, pcx, .. } => vec![route_table, vpc, pcx],
            Facts::PeeringRouteConflict { route_table, vpc, pcx, target, .. } => match target {
                RouteTarget::Local => vec![route_table, vpc, pcx],
                RouteTarget::PeeringConnection(id) | RouteTarget::Other(id) => vec![route_table, vpc, pcx, id],
            },
            Facts::PeeringDnsDrift { pcx, accepter_vpc, .. } => vec![pcx, accepter_vpc],
            Facts::EndpointNotAllowlisted { service, endpoint, account, .. }
            | Facts::EndpointPending { service, endpoint, account, .. } => vec![service, endpoint, account],
            Facts::EndpointOverQuota { service, account, .. } => vec![service, account],
            Facts::EndpointServiceAutoAccept { service, .. } | Facts::EndpointServiceWildcardPrincipal { service } => {
                vec![service]
            }
            Facts::EndpointServicePrincipalUnlisted { service, principal } => {
                let mut ids = vec![service.as_str(), principal.trim()];
                ids.extend(principal_account(principal));
                ids
            }
            Facts::EndpointServiceUnhealthy { service, load_balancer, target_group } => {
                let mut ids = vec![service.as_str(), load_balancer];
                ids.extend(target_group.as_ref().map(|tg| tg.arn.as_str()));
                ids
            }
            Facts::GrantExpiring { grant, .. } => match grant {
                AllowlistKey::Peering { scope: VpcScope::Any, account } => vec![account],
                AllowlistKey::Peering { scope: VpcScope::Vpc(vpc), account } => vec![vpc, account],
                AllowlistKey::Endpoint { service_id, account } => vec![service_id, account],
                AllowlistKey::Waiver { resource, .. } => vec![resource],
            },
            Facts::WaiverExpiring { waiver, .. } => match waiver {
                AllowlistKey::Waiver { resource, .. } => vec![resource.as_str()],
                _ => Vec::new(),
            },
        };
        let mut seen = std::collections::BTreeSet::new();
        ids.retain(|id| seen.insert(*id));
        ids
    }

    /// What tells this drift from others of its code on the same resource, by name: a route's
    /// destination and connection, an endpoint's service, a principal, a target group... Never
    /// a duration, a count or a state the drift passes through while it stays the same drift.
    pub fn distinction(&self) -> Vec<(&'static str, String)> {
        match self {
            Facts::PeeringRouteMissing { destination, pcx, .. }
            | Facts::PeeringRouteBlackhole { destination, pcx, .. }
            | Facts::PeeringRouteConflict { destination, pcx, .. } => {
                vec![("destination", destination.to_string()), ("pcx", pcx.clone())]
            }
            Facts::PeeringCidrOverlap { requester_cidr, accepter_cidr, .. } => {
                vec![("requester_cidr", requester_cidr.to_string()), ("accepter_cidr", accepter_cidr.to_string())]
            }
            Facts::PeeringDnsDrift { wanted, .. } => vec![("wanted", wanted.to_string())],
            Facts::EndpointNotAllowlisted { service, .. } | Facts::EndpointPending { service, .. } => {
                vec![("service", service.clone())]
            }
            Facts::EndpointServicePrincipalUnlisted { principal, .. } => vec![("principal", principal.clone())],
            Facts::EndpointServiceUnhealthy { load_balancer, target_group, .. } => {
                let mut parts = vec![("load_balancer", load_balancer.clone())];
                parts.extend(target_group.as_ref().map(|tg| ("target_group", tg.arn.clone())));
                parts
            }
            // The resource (a connection, a quota, a service, a grant's key) says it all.
            Facts::PeeringPendingUnlisted { .. }
            | Facts::PeeringPendingStale { .. }
            | Facts::PeeringNotAllowlisted { .. }
            | Facts::EndpointOverQuota { .. }
            | Facts::EndpointServiceAutoAccept { .. }
            | Facts::EndpointServiceWildcardPrincipal { .. }
            | Facts::GrantExpiring { .. }
            | Facts::WaiverExpiring { .. }
            | Facts::PeeringPendingBlocked { .. } => Vec::new(),
        }
    }
}

impl Finding {
    pub fn new(account: impl Into<String>, region: impl Into<String>, facts: Facts) -> Self {
        Finding { account: account.into(), region: region.into(), facts }
    }

    pub fn code(&self) -> FindingCode {
        self.facts.code()
    }

    pub fn severity(&self) -> Severity {
        self.code().severity()
    }

    /// See [`Facts::resource`].
    pub fn resource(&self) -> String {
        self.facts.resource()
    }

    /// See [`Facts::subjects`].
    pub fn subjects(&self) -> Vec<&str> {
        self.facts.subjects()
    }

    /// What makes this drift *that* drift, whatever run finds it: code, scope, resource and
    /// the distinguishing detail — not the volatile numbers, not the wording.
    pub fn identity(&self) -> Identity {
        Identity {
            code: self.code(),
            account: self.account.clone(),
            region: self.region.clone(),
            resource: self.resource(),
            detail: self.facts.distinction(),
        }
    }

    /// A short stable id of [`Finding::identity`]: 16 hex digits.
    pub fn id(&self) -> String {
        fingerprint(&self.identity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_names() {
        for code in FindingCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(FindingCode::ALL.len(), 18);
        for code in FindingCode::ALL {
            assert_eq!(FindingCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(FindingCode::parse("peering_route_missing"), None, "spelled exactly");
        assert_eq!(FindingCode::EndpointNotAllowlisted.severity(), Severity::Critical);
    }

    #[test]
    fn facts_serialise_tagged_with_their_code() {
        let facts = Facts::EndpointServiceWildcardPrincipal { service: "vpce-svc-1".into() };
        let v = serde_json::to_value(&facts).unwrap();
        assert_eq!(v["code"], facts.code().as_str());
        let grant = AllowlistKey::Peering { scope: VpcScope::Any, account: "222222222222".into() };
        let facts = Facts::GrantExpiring { grant, expires_in: 60 };
        assert_eq!(serde_json::to_value(&facts).unwrap()["code"], "GRANT_EXPIRING");
        assert_eq!(facts.resource(), "peering#*/account#222222222222");
        assert_eq!(facts.subjects(), ["222222222222"]);
    }
}
