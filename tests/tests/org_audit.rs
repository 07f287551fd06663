//! drift-auditor at organisation scale, end to end: scopes discovered from an AWS Organization
//! seeded in the emulator (organisational units, a suspended account, an excluded one, a member
//! whose role cannot be assumed), enabled regions, and the bad inputs that must fail the run
//! clearly with nothing written.
use serde_json::{json, Value};
use vpcwarden::domain::LedgerKey;
use vpcwarden_tests::audit_seed;
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::org::Sample;
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, Function, ACCOUNT, REGION};

const ROLE: &str = "vpcwarden-audit";

async fn auditor(stage: &Stage, extra: &[(&str, &str)]) -> Function {
    let mut env = vec![("AUDIT_ROLE_NAME", ROLE)];
    env.extend_from_slice(extra);
    audit_seed::auditor(stage, &env).await
}

/// The (account, region, status) of every scope of an answer, in its order.
fn scopes(answer: &Value) -> Vec<(String, String, String)> {
    let field = |s: &Value, k: &str| s[k].as_str().unwrap_or_default().to_string();
    answer["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (field(s, "account"), field(s, "region"), field(s, "status")))
        .collect()
}

#[tokio::test]
async fn organisational_units_are_audited_recursively_without_the_suspended_and_excluded() {
    let stage = Stage::new().await;
    let o = Sample::create(&stage).await;
    let units = format!("ou:{},ou:{}", o.prod, o.dev);
    let f = auditor(&stage, &[("AUDIT_ACCOUNTS", &units), ("AUDIT_EXCLUDE_ACCOUNTS", &o.playground)]).await;
    // One member's role cannot be assumed: only its scope fails.
    let denied = format!("arn:aws:iam::{}:role/{ROLE}", o.ledger);
    stage.emu.add_fault(json!({"service": "sts", "action": "AssumeRole", "error": "AccessDenied", "status": 403,
                               "message": "not authorized to perform sts:AssumeRole", "params": {"RoleArn": denied}}));

    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let mut audited: Vec<(String, String, String)> = scopes(&answer);
    audited.sort();
    let mut expected = vec![
        (o.payments.clone(), REGION.to_string(), "ok".to_string()),
        (o.ledger.clone(), REGION.to_string(), "failed".to_string()),
        (o.payments_eu.clone(), REGION.to_string(), "ok".to_string()),
    ];
    expected.sort();
    assert_eq!(audited, expected, "{answer:#}");
    let notes: Vec<&str> = answer["notes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(notes.iter().any(|n| n.contains(&o.sandbox) && n.contains("SUSPENDED")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains(&o.playground) && n.contains("AUDIT_EXCLUDE_ACCOUNTS")), "{notes:?}");
    let failed = answer["scopes"].as_array().unwrap().iter().find(|s| s["status"] == "failed").unwrap();
    assert!(failed["error"].as_str().unwrap().contains("AccessDenied"), "{failed}");
    // The organisation was read once: one ListAccountsForParent and one ListChildren per unit.
    assert_eq!(stage.calls("ListAccountsForParent"), 3, "prod, prod-eu, dev");
    assert_eq!(stage.calls("ListChildren"), 3);
    assert_eq!(stage.calls("ListAccounts"), 0);
}

#[tokio::test]
async fn the_whole_organisation_in_every_enabled_region() {
    let stage = Stage::new().await;
    let o = Sample::create(&stage).await;
    // One opt-in region enabled for our account on top of the 17 that need no opt-in.
    stage.emu.set_region_opt_in(ACCOUNT, "ap-east-1", true);
    let exclude = [o.payments.as_str(), o.ledger.as_str(), o.payments_eu.as_str(), o.playground.as_str()].join(",");
    let f = auditor(
        &stage,
        &[("AUDIT_ACCOUNTS", "org"), ("AUDIT_EXCLUDE_ACCOUNTS", &exclude), ("AUDIT_REGIONS", "enabled")],
    )
    .await;
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let audited = scopes(&answer);
    assert!(audited.iter().all(|(account, _, status)| account == ACCOUNT && status == "ok"), "{audited:?}");
    let regions: Vec<&str> = audited.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(regions.len(), 18, "17 regions without opt-in, and ap-east-1: {regions:?}");
    assert!(regions.contains(&"ap-east-1") && regions.contains(&"us-east-1") && !regions.contains(&"me-south-1"));
    assert_eq!((stage.calls("ListAccounts"), stage.calls("DescribeRegions")), (1, 1), "read once per run");
}

#[tokio::test]
async fn bad_organisation_input_fails_the_run_by_name_and_writes_nothing() {
    let stage = Stage::new().await;
    let o = Sample::create(&stage).await;

    let unknown = auditor(&stage, &[("AUDIT_ACCOUNTS", "ou:ou-zz99-zzzzzzzz")]).await;
    let err = unknown.invoke(schedule()).await.expect_err("an unknown OU");
    assert_eq!(err.error_type, "NonRetryable.Aws", "{err}");
    assert!(
        err.error_message.contains("ou-zz99-zzzzzzzz") && err.error_message.contains("not an organisational unit"),
        "{err}"
    );

    // The auditor running in a member account may not list the organisation.
    let member = stage.aws.config(&o.payments, REGION).await;
    let keys = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        member.credentials_provider().as_ref().unwrap(),
    )
    .await
    .unwrap();
    let env = [
        ("AWS_ACCESS_KEY_ID", keys.access_key_id()),
        ("AWS_SECRET_ACCESS_KEY", keys.secret_access_key()),
        ("AWS_SESSION_TOKEN", keys.session_token().unwrap()),
        ("AUDIT_ACCOUNTS", "org"),
    ];
    let in_member = auditor(&stage, &env).await;
    let err = in_member.invoke(schedule()).await.expect_err("a member cannot list the organisation");
    assert_eq!(err.error_type, "NonRetryable.Aws", "{err}");
    assert!(err.error_message.contains("management account or a delegated administrator"), "{err}");

    assert_eq!(audit_seed::report_keys(&stage.aws, "nightly/").await, Vec::<String>::new(), "no report written");
    let reports = LedgerKey::Report { account: String::new(), region: String::new() };
    assert!(tables::ledger_entries(&stage.aws, reports.kind_prefix()).await.is_empty(), "no report summary ledgered");
}
