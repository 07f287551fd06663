//! Configuration parsing: defaults follow DESIGN.md, every malformed value is named.
use super::*;
use crate::domain::ids::is_region;
use crate::domain::scopes::{AccountSelection, RegionSelection};

/// The two required tables, then `extra`.
fn env(extra: &[(&'static str, &'static str)]) -> Env<'static> {
    let base = [("ALLOWLIST_TABLE", "allow"), ("LEDGER_TABLE", "ledger")];
    let pairs: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
    Env::from_pairs(Box::leak(pairs.into_boxed_slice()))
}

#[test]
fn an_event_bus_is_a_name_or_an_arn() {
    let bus = |v: &'static str| Common::from_env(&env(&[("EVENT_BUS", v)])).map(|c| c.event_bus);
    assert_eq!(bus("vpcwarden").unwrap().as_deref(), Some("vpcwarden"));
    let arn = "arn:aws:events:us-east-1:123456789012:event-bus/vpcwarden";
    assert_eq!(bus(arn).unwrap().as_deref(), Some(arn));
    assert_eq!(Common::from_env(&env(&[])).unwrap().event_bus, None);
    for bad in [
        "bus with spaces",
        "arn:aws:events:us-east-1:123:event-bus/x",
        "arn:aws:sns:us-east-1:123456789012:event-bus/x",
    ] {
        let err = bus(bad).unwrap_err();
        assert!(err.to_string().contains("EVENT_BUS"), "{bad}: {err}");
        assert!(!err.is_retryable());
    }
}

#[test]
fn the_organisation_and_enabled_regions_are_selections() {
    let c = AuditorConfig::from_env(&env(&[
        ("AUDIT_ACCOUNTS", "org"),
        ("AUDIT_EXCLUDE_ACCOUNTS", "111111111111"),
        ("AUDIT_REGIONS", "enabled"),
    ]))
    .unwrap();
    assert_eq!((c.audit_accounts, c.audit_regions), (AccountSelection::Organization, RegionSelection::Enabled));
    assert_eq!(c.audit_exclude_accounts, ["111111111111"]);
    let c = AuditorConfig::from_env(&env(&[("AUDIT_ACCOUNTS", "ou:ou-ab12-cdefgh34,222222222222")])).unwrap();
    assert!(c.audit_accounts.needs_organization());
}

mod acceptor {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AcceptorConfig> {
        AcceptorConfig::from_env(&env(extra))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert_eq!(c.common.allowlist_table, "allow");
        assert!(!c.common.dry_run);
        assert_eq!(c.unlisted_action, UnlistedAction::Ignore);
        assert!(c.route_table_tag.is_none() && c.requester_role_name.is_none());
    }

    #[test]
    fn missing_tables_are_named() {
        let err = AcceptorConfig::from_env(&Env::from_pairs(&[("LEDGER_TABLE", "l")])).unwrap_err();
        assert_eq!(err.to_string(), "configuration: ALLOWLIST_TABLE is required but not set");
        let err =
            AcceptorConfig::from_env(&Env::from_pairs(&[("ALLOWLIST_TABLE", "a"), ("LEDGER_TABLE", " ")])).unwrap_err();
        assert!(err.to_string().contains("LEDGER_TABLE"));
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 5] = [
            ("DRY_RUN", "maybe"),
            ("UNLISTED_ACTION", "drop"),
            ("ROUTE_TABLE_TAG", "nokey"),
            ("REQUESTER_ROLE_NAME", "bad role/name"),
            ("ACTIVE_WAIT_SECONDS", "-3"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("DRY_RUN", "TRUE"),
            ("UNLISTED_ACTION", "reject"),
            ("ROUTE_TABLE_TAG", "vpcwarden=peer"),
            ("REQUESTER_ROLE_NAME", "vpcwarden-member"),
        ])
        .unwrap();
        assert!(c.common.dry_run);
        assert_eq!(c.unlisted_action, UnlistedAction::Reject);
        assert_eq!(c.route_table_tag, Some(TagFilter { key: "vpcwarden".into(), value: "peer".into() }));
        assert_eq!(c.requester_role_name.as_deref(), Some("vpcwarden-member"));
    }
}

mod approver {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<ApproverConfig> {
        ApproverConfig::from_env(&env(extra))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert_eq!(c.unlisted_action, UnlistedAction::Ignore);
        assert!(!c.revoke_on_removal && !c.sync_principals && !c.common.dry_run);
        assert!(c.endpoint_service_ids.is_none());
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("UNLISTED_ACTION", "Reject"),
            ("REVOKE_ON_REMOVAL", "true"),
            ("SYNC_PRINCIPALS", "1"),
            (
                "ENDPOINT_SERVICE_IDS",
                "vpce-svc-0123456789abcdef0, vpce-svc-0fedcba9876543210,vpce-svc-0123456789abcdef0",
            ),
        ])
        .unwrap();
        assert_eq!(c.unlisted_action, UnlistedAction::Reject);
        assert!(c.revoke_on_removal && c.sync_principals);
        assert_eq!(
            c.endpoint_service_ids.unwrap(),
            vec!["vpce-svc-0123456789abcdef0".to_string(), "vpce-svc-0fedcba9876543210".to_string()]
        );
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 5] = [
            ("UNLISTED_ACTION", "drop"),
            ("REVOKE_ON_REMOVAL", "sometimes"),
            ("SYNC_PRINCIPALS", "2"),
            ("ENDPOINT_SERVICE_IDS", "vpce-svc-0123456789abcdef0,svc-123"),
            ("ENDPOINT_SERVICE_IDS", ",,"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{err}");
            assert!(!err.is_retryable());
        }
        let err = ApproverConfig::from_env(&Env::from_pairs(&[("LEDGER_TABLE", "l")])).unwrap_err();
        assert!(err.to_string().contains("ALLOWLIST_TABLE"));
    }
}

mod auditor {
    use super::*;

    fn with(extra: &[(&'static str, &'static str)]) -> Result<AuditorConfig> {
        AuditorConfig::from_env(&env(extra))
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = with(&[]).unwrap();
        assert!(c.report_bucket.is_none() && c.report_prefix.is_empty());
        assert!(!c.remediate && !c.common.dry_run);
        assert_eq!((c.stale_pending_hours, c.expiry_warning_days), (24, 14));
        assert_eq!((c.audit_accounts, c.audit_regions), (AccountSelection::This, RegionSelection::This));
        assert!(c.audit_role_name.is_none() && c.audit_exclude_accounts.is_empty());
        assert!(c.route_table_tag.is_none() && c.endpoint_service_ids.is_none());
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("REPORT_BUCKET", "vpcwarden-reports.example"),
            ("REPORT_PREFIX", "/nightly/audit/"),
            ("REMEDIATE", "true"),
            ("STALE_PENDING_HOURS", "6"),
            ("EXPIRY_WARNING_DAYS", "30"),
            ("AUDIT_ACCOUNTS", "111111111111, 222222222222,111111111111"),
            ("AUDIT_ROLE_NAME", "vpcwarden-audit"),
            ("AUDIT_REGIONS", "us-east-1 eu-west-1,us-gov-west-1"),
            ("ROUTE_TABLE_TAG", "peering=yes"),
            ("ENDPOINT_SERVICE_IDS", "vpce-svc-0123456789abcdef0"),
        ])
        .unwrap();
        assert_eq!(c.report_bucket.as_deref(), Some("vpcwarden-reports.example"));
        assert_eq!(c.report_prefix, "nightly/audit");
        assert!(c.remediate);
        assert_eq!((c.stale_pending_hours, c.expiry_warning_days), (6, 30));
        let listed = vec!["111111111111".to_string(), "222222222222".to_string()];
        assert_eq!(c.audit_accounts, AccountSelection::Listed { accounts: listed, units: Vec::new() });
        assert_eq!(c.audit_role_name.as_deref(), Some("vpcwarden-audit"));
        let regions = ["us-east-1", "eu-west-1", "us-gov-west-1"].map(String::from).to_vec();
        assert_eq!(c.audit_regions, RegionSelection::Listed(regions));
        assert_eq!(c.route_table_tag.unwrap().key, "peering");
        assert_eq!(c.endpoint_service_ids.unwrap().len(), 1);
    }

    #[test]
    fn malformed_values_are_named() {
        let cases: [(&str, &str); 17] = [
            ("REPORT_BUCKET", "Bad_Bucket"),
            ("REPORT_BUCKET", "ab"),
            ("REPORT_PREFIX", "a//b"),
            ("REMEDIATE", "perhaps"),
            ("STALE_PENDING_HOURS", "1.5"),
            ("STALE_PENDING_HOURS", "a day"),
            ("EXPIRY_WARNING_DAYS", "-1"),
            ("AUDIT_ACCOUNTS", "12345"),
            ("AUDIT_ACCOUNTS", " , "),
            ("AUDIT_ROLE_NAME", "no/slashes"),
            ("AUDIT_REGIONS", "us-east"),
            ("AUDIT_REGIONS", "US-EAST-1"),
            ("AUDIT_ACCOUNTS", "org,111111111111"),
            ("AUDIT_ACCOUNTS", "ou:nope"),
            ("AUDIT_EXCLUDE_ACCOUNTS", "123"),
            ("ROUTE_TABLE_TAG", "novalue"),
            ("ENDPOINT_SERVICE_IDS", "svc-1"),
        ];
        for (k, v) in cases {
            let err = with(&[(k, v)]).unwrap_err();
            assert!(err.to_string().contains(k), "{k}={v}: {err}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn regions_are_recognised() {
        for r in ["us-east-1", "ap-southeast-4", "us-gov-west-1", "eu-central-2", "il-central-1"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["us-east", "useast1", "us-east-x", "-east-1", "us--1"] {
            assert!(!is_region(r), "{r}");
        }
    }
}
