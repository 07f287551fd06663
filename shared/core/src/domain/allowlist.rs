//! The allowlist's item keys (DESIGN.md "Allowlist"): `pk`/`sk` of a grant or a waiver, parsed
//! and written in this one place by the table adapter, the stream parser and the CLI.
use serde::Serialize;

use super::finding::FindingCode;
use super::grant::VpcScope;
use super::ids::{is_account_id, is_endpoint_service_id, is_vpc_id};
use super::waiver::resource_problem;

/// What an allowlist item is, by its key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AllowlistKey {
    /// `peering#<vpc-id|*>` / `account#<12 digits>`.
    Peering { scope: VpcScope, account: String },
    /// `endpoint#<vpce-svc-id>` / `account#<12 digits>`.
    Endpoint { service_id: String, account: String },
    /// `waiver#<FINDING_CODE>` / `resource#<resource id>`: an accepted risk, not a grant.
    Waiver { code: FindingCode, resource: String },
}

impl AllowlistKey {
    /// Reads a key, naming what is wrong with it.
    pub fn parse(pk: &str, sk: &str) -> Result<Self, String> {
        if let Some(code) = pk.strip_prefix(WAIVER_PREFIX) {
            let code = FindingCode::parse(code)
                .ok_or_else(|| format!("pk must be waiver#<finding code>: `{code}` is no finding code"))?;
            let resource = sk.strip_prefix("resource#").ok_or("sk of a waiver must be resource#<resource id>")?;
            if let Some(why) = resource_problem(resource) {
                return Err(format!("sk of a waiver must be resource#<resource id>: {why}"));
            }
            return Ok(AllowlistKey::Waiver { code, resource: resource.to_string() });
        }
        let account = sk
            .strip_prefix("account#")
            .filter(|a| is_account_id(a))
            .ok_or("sk must be account#<12 digits>")?
            .to_string();
        match pk.split_once('#') {
            Some(("peering", "*")) => Ok(AllowlistKey::Peering { scope: VpcScope::Any, account }),
            Some(("peering", vpc)) if is_vpc_id(vpc) => {
                Ok(AllowlistKey::Peering { scope: VpcScope::Vpc(vpc.to_string()), account })
            }
            Some(("peering", _)) => Err("pk must be peering#<vpc-id> or peering#*".into()),
            Some(("endpoint", service)) if is_endpoint_service_id(service) => {
                Ok(AllowlistKey::Endpoint { service_id: service.to_string(), account })
            }
            _ => Err("pk must be peering#<vpc-id|*>, endpoint#<vpce-svc-id> or waiver#<finding code>".into()),
        }
    }

    pub fn pk(&self) -> String {
        match self {
            AllowlistKey::Peering { scope: VpcScope::Any, .. } => "peering#*".into(),
            AllowlistKey::Peering { scope: VpcScope::Vpc(v), .. } => format!("peering#{v}"),
            AllowlistKey::Endpoint { service_id, .. } => format!("endpoint#{service_id}"),
            AllowlistKey::Waiver { code, .. } => format!("{WAIVER_PREFIX}{}", code.as_str()),
        }
    }

    pub fn sk(&self) -> String {
        match self {
            AllowlistKey::Peering { account, .. } | AllowlistKey::Endpoint { account, .. } => {
                format!("account#{account}")
            }
            AllowlistKey::Waiver { resource, .. } => format!("resource#{resource}"),
        }
    }

    /// Whether a partition key holds peering grants (whatever else is wrong with it).
    pub fn is_peering_pk(pk: &str) -> bool {
        pk.starts_with("peering#")
    }

    /// Whether a partition key holds waivers (whatever else is wrong with it).
    pub fn is_waiver_pk(pk: &str) -> bool {
        pk.starts_with(WAIVER_PREFIX)
    }
}

const WAIVER_PREFIX: &str = "waiver#";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_bad_ones_are_named() {
        let keys = [
            AllowlistKey::Peering { scope: VpcScope::Any, account: "222222222222".into() },
            AllowlistKey::Peering { scope: VpcScope::Vpc("vpc-0a1b2c3d".into()), account: "222222222222".into() },
            AllowlistKey::Endpoint { service_id: "vpce-svc-0a1b2c3d4e".into(), account: "222222222222".into() },
            AllowlistKey::Waiver { code: FindingCode::PeeringRouteMissing, resource: "rtb-0a1b2c3d".into() },
            AllowlistKey::Waiver {
                code: FindingCode::GrantExpiring,
                resource: "peering#*/account#222222222222".into(),
            },
        ];
        for key in keys {
            assert_eq!(AllowlistKey::parse(&key.pk(), &key.sk()), Ok(key));
        }
        let err = |pk, sk| AllowlistKey::parse(pk, sk).unwrap_err();
        assert_eq!(err("peering#*", "account#12"), "sk must be account#<12 digits>");
        assert_eq!(err("peering#vpc-XY", "account#222222222222"), "pk must be peering#<vpc-id> or peering#*");
        assert!(err("endpoint#svc-1", "account#222222222222").contains("endpoint#<vpce-svc-id>"));
        assert!(err("grant", "account#222222222222").contains("pk must be"));
        assert!(err("waiver#NOT_A_CODE", "resource#rtb-1").contains("`NOT_A_CODE` is no finding code"));
        assert!(err("waiver#PEERING_ROUTE_MISSING", "account#222222222222").contains("resource#<resource id>"));
        assert!(err("waiver#PEERING_ROUTE_MISSING", "resource#").contains("empty"));
        assert!(AllowlistKey::is_waiver_pk("waiver#X") && !AllowlistKey::is_waiver_pk("peering#*"));
    }
}
