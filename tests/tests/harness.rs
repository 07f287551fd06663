//! Tests of the harness itself: the emulator, account mapping, tables, seeding and the
//! Lambda Runtime API host (through the `echo-function` test binary).
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use serde_json::json;
use vpcwarden_tests::seed::{self, RouteTargetSpec};
use vpcwarden_tests::{bin_path, function_env, tables, Aws, Emulator, Function, ACCOUNT, REGION};

const OTHER: &str = "222222222222";

#[tokio::test]
async fn emulator_answers_logs_requests_and_injects_faults() {
    let emu = Emulator::start();
    let aws = Aws::new(&emu).await;
    let ec2 = aws.ec2(ACCOUNT, REGION).await;
    ec2.describe_vpcs().send().await.expect("DescribeVpcs");

    let log = emu.requests();
    let call = log.iter().find(|r| r.action == "DescribeVpcs").expect("DescribeVpcs logged");
    assert_eq!((call.service.as_str(), call.account.as_str(), call.region.as_str()), ("ec2", ACCOUNT, REGION));
    assert_eq!((call.status, call.fault), (200, false));

    emu.clear_requests();
    let id = emu.add_fault(json!({
        "service": "ec2", "action": "DescribeVpcs", "count": 1,
        "error": "UnauthorizedOperation", "status": 403,
    }));
    let err = ec2.describe_vpcs().send().await.expect_err("faulted call");
    assert_eq!(err.code(), Some("UnauthorizedOperation"));
    let log = emu.requests();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].fault);
    assert_eq!(log[0].fault_id.as_deref(), Some(id.as_str()));
    assert_eq!(emu.faults()["injected"], json!(1));

    emu.add_fault(json!({ "action": "DescribeVpcs" }));
    emu.clear_faults();
    emu.advance_clock(60);
    ec2.describe_vpcs().send().await.expect("faults cleared");

    seed::vpc(&aws, ACCOUNT, REGION, "10.1.0.0/16").await.create().await;
    emu.reset();
    assert!(emu.requests().is_empty());
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    assert!(vpcs.vpcs().iter().all(|v| v.cidr_block() != Some("10.1.0.0/16")), "moto state survived the reset");
}

#[tokio::test]
async fn assumed_role_maps_to_its_account() {
    let emu = Emulator::start();
    let aws = Aws::new(&emu).await;
    let theirs = seed::vpc(&aws, OTHER, REGION, "10.20.0.0/16").await.create().await;

    let ours = aws.ec2(ACCOUNT, REGION).await;
    let err = ours.describe_vpcs().vpc_ids(&theirs.id).send().await.expect_err("another account's VPC is invisible");
    assert_eq!(err.code(), Some("InvalidVpcID.NotFound"));
    let seen = aws
        .ec2(OTHER, REGION)
        .await
        .describe_vpcs()
        .vpc_ids(&theirs.id)
        .send()
        .await
        .expect("visible in its own account");
    assert_eq!(seen.vpcs()[0].owner_id(), Some(OTHER));

    let identity = aws.sts(OTHER).await.get_caller_identity().send().await;
    assert_eq!(identity.expect("GetCallerIdentity").account(), Some(OTHER));
    let log = emu.requests();
    assert!(log.iter().any(|r| r.action == "CreateVpc" && r.account == OTHER));
}

#[tokio::test]
async fn seeds_estates_and_tables() {
    let emu = Emulator::start();
    let aws = Aws::new(&emu).await;
    let accepter = seed::vpc(&aws, ACCOUNT, REGION, "10.0.0.0/16")
        .await
        .route_tables(1)
        .tagged_tables(2, "vpcwarden", "peering")
        .create()
        .await;
    assert_eq!(accepter.route_tables.len(), 4);
    let requester =
        seed::vpc(&aws, OTHER, "us-west-2", "10.1.0.0/16").await.secondary("100.64.0.0/20").ipv6().create().await;
    assert_eq!(&requester.cidrs[..2], ["10.1.0.0/16", "100.64.0.0/20"]);
    assert_eq!(requester.cidrs.len(), 3, "{:?}", requester.cidrs);
    assert!(requester.cidrs[2].contains(':'));

    let pcx = seed::request_peering(&aws, &requester, &accepter).await;
    assert_eq!(seed::peering_status(&aws, ACCOUNT, REGION, &pcx).await, "pending-acceptance");

    let main = accepter.main_table().to_string();
    let igw = seed::add_route(&aws, &accepter, &main, "0.0.0.0/0", RouteTargetSpec::InternetGateway).await;
    let tgw = seed::add_route(&aws, &accepter, &main, "10.0.0.0/8", RouteTargetSpec::TransitGateway).await;
    seed::add_route(&aws, &accepter, &main, "10.1.0.0/16", RouteTargetSpec::Pcx(pcx.clone())).await;
    let routes: Vec<_> = seed::routes(&aws, &accepter)
        .await
        .into_iter()
        .filter(|r| r.0 == main)
        .map(|(_, dest, target, state)| (dest, target, state))
        .collect();
    let route = |d: &str, t: &str| (d.to_string(), t.to_string(), "active".to_string());
    assert_eq!(
        routes,
        [
            route("0.0.0.0/0", &igw),
            route("10.0.0.0/16", "local"),
            route("10.0.0.0/8", &tgw),
            route("10.1.0.0/16", &pcx),
        ]
    );

    tables::create(&aws).await;
    tables::put_peering_grant(&aws, None, OTHER, &["10.1.0.0/16", "100.64.0.0/16"], Some(4_000_000_000), Some(true))
        .await;
    let grants = tables::scan(&aws, tables::ALLOWLIST).await;
    assert_eq!(grants.len(), 1);
    let grant = &grants[0];
    assert_eq!(grant["pk"], "peering#*");
    assert_eq!(grant["sk"], format!("account#{OTHER}"));
    assert_eq!(grant["allowed_cidrs"], json!(["10.1.0.0/16", "100.64.0.0/16"]));
    assert_eq!(grant["dns_resolution"], true);
    assert_eq!(grant["expires_at"], 4_000_000_000i64);
    assert_eq!(grant["added_by"], tables::ADDED_BY);
    assert!(grant["added_at"].as_i64().is_some());

    let entry = |pk: &str, sk: &str| {
        std::collections::HashMap::from([
            ("pk".to_string(), aws_sdk_dynamodb::types::AttributeValue::S(pk.into())),
            ("sk".to_string(), aws_sdk_dynamodb::types::AttributeValue::S(sk.into())),
        ])
    };
    tables::put_raw_item(&aws, tables::LEDGER, entry("pcx#b", "2")).await;
    tables::put_raw_item(&aws, tables::LEDGER, entry("pcx#a", "1")).await;
    tables::put_raw_item(&aws, tables::LEDGER, entry("vpce#c", "1")).await;
    let ledger = tables::ledger_entries(&aws, "pcx#").await;
    let keys: Vec<_> = ledger.iter().map(|e| (e["pk"].clone(), e["sk"].clone())).collect();
    assert_eq!(keys, [(json!("pcx#a"), json!("1")), (json!("pcx#b"), json!("2"))]);
}

#[tokio::test]
async fn runtime_host_round_trips_responses_and_errors() {
    let emu = Emulator::start();
    let function = Function::spawn(&bin_path("echo-function"), &function_env(&emu));
    let event = json!({ "hello": "world", "n": [1, 2, 3] });
    assert_eq!(function.invoke(event.clone()).await, Ok(event));
    let err = function.invoke(json!({ "fail": true })).await.expect_err("asked to fail");
    assert_eq!(err.error_type, "EchoFailure");
    assert_eq!(err.error_message, "asked to fail");
    assert_eq!(function.invoke(json!(7)).await, Ok(json!(7)));

    assert!(function.init_duration().is_some());
    assert!(function.peak_rss_kb().is_some_and(|kb| kb > 0));
    let logs = function.logs();
    assert!(logs.contains("echo-function: starting"), "{logs}");
    assert_eq!(logs.matches("echo-function: invocation").count(), 3, "{logs}");
}

#[tokio::test]
async fn failing_start_is_reported() {
    let mut env = vec![("ECHO_EXIT_AT_START", "1")];
    env.push(("AWS_REGION", REGION));
    let mut function = Function::spawn(&bin_path("echo-function"), &env);
    let status = function.wait_exit(Duration::from_secs(10)).expect("exits at start");
    assert_eq!(status.code(), Some(3));
    assert!(!function.is_running());
    assert!(function.logs().contains("ECHO_EXIT_AT_START is set"));

    // Invoking a dead function panics with its output.
    let function = Arc::new(function);
    let panic = tokio::spawn({
        let function = function.clone();
        async move { function.invoke(json!({})).await }
    })
    .await
    .expect_err("invoke panics");
    let message = panic.into_panic();
    let message = message.downcast_ref::<String>().expect("a formatted panic message");
    assert!(message.contains("exited"), "{message}");
    assert!(message.contains("ECHO_EXIT_AT_START is set"), "{message}");
}
