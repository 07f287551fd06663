//! Findings of the drift audit: stable codes (reports, metrics and tests rely on them).
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

macro_rules! finding_codes {
    ($($variant:ident => $code:literal, $severity:ident;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum FindingCode { $(#[serde(rename = $code)] $variant,)* }

        impl FindingCode {
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $code,)* }
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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: FindingCode,
    pub severity: Severity,
    pub resource: String,
    pub account: String,
    pub region: String,
    pub message: String,
    pub remediation: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_stable_names() {
        for code in FindingCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(FindingCode::ALL.len(), 16);
        assert_eq!(FindingCode::EndpointNotAllowlisted.severity(), Severity::Critical);
    }
}
