//! The route executor against mocked EC2 answers (aws-smithy-mocks): a dry run calls nothing,
//! a partial failure leaves the other changes done, a route found elsewhere is a conflict; and
//! the records the recorder derives from the outcomes.
use aws_sdk_ec2::operation::create_route::CreateRouteOutput;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::types::{Route as SdkRoute, RouteTable as SdkRouteTable};
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use ipnet::IpNet;

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn create(table: &str, destination: &str) -> RouteChange {
    RouteChange::Create { route_table: table.into(), destination: net(destination), pcx: "pcx-0a1b2c3d".into() }
}

fn delete(table: &str, destination: &str) -> RouteChange {
    RouteChange::Delete { route_table: table.into(), destination: net(destination), pcx: "pcx-0a1b2c3d".into() }
}

fn ec2_error(code: &str) -> String {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>{code}</Message></Error></Errors></Response>")
}

macro_rules! client {
    ($mode:expr, $rules:expr) => {
        mock_client!(aws_sdk_ec2, $mode, $rules, |c| c.retry_config(aws_config::retry::RetryConfig::disabled()))
    };
}

#[tokio::test]
async fn a_dry_run_calls_nothing_and_plans_everything() {
    let rule = mock!(Client::create_route).then_output(|| CreateRouteOutput::builder().build());
    let ec2 = Ec2::new(client!(RuleMode::MatchAny, &[&rule]));
    let plan = vec![create("rtb-2", "10.1.0.0/16"), create("rtb-1", "10.1.0.0/16")];
    let done = execute(&ec2, Side::Accepter, plan, true).await;
    assert_eq!(rule.num_calls(), 0);
    assert_eq!(done.iter().map(|e| e.change.route_table()).collect::<Vec<_>>(), ["rtb-1", "rtb-2"]);
    assert!(done.iter().all(|e| e.outcome == RouteOutcome::Planned && e.side == Side::Accepter));
}

#[tokio::test]
async fn a_failed_call_fails_only_its_change() {
    let created = mock!(Client::create_route)
        .match_requests(|r| r.route_table_id() == Some("rtb-1"))
        .then_output(|| CreateRouteOutput::builder().build());
    let refused =
        mock!(Client::create_route).match_requests(|r| r.route_table_id() == Some("rtb-2")).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(ec2_error("UnauthorizedOperation")),
            )
        });
    let gone = mock!(Client::delete_route).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(ec2_error("InvalidRoute.NotFound")),
        )
    });
    let ec2 = Ec2::new(client!(RuleMode::MatchAny, &[&created, &refused, &gone]));
    let plan = vec![create("rtb-1", "10.1.0.0/16"), create("rtb-2", "10.1.0.0/16"), delete("rtb-3", "10.9.0.0/16")];
    let done = execute(&ec2, Side::Requester, plan, false).await;
    assert_eq!(done[0].outcome, RouteOutcome::Done);
    assert!(matches!(&done[1].outcome, RouteOutcome::Failed { error } if error.contains("UnauthorizedOperation")));
    assert_eq!(done[2].outcome, RouteOutcome::Unchanged, "an absent route is already deleted");
}

#[tokio::test]
async fn a_route_found_elsewhere_is_a_conflict_never_overwritten() {
    let exists = mock!(Client::create_route).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(ec2_error("RouteAlreadyExists")),
        )
    });
    let table = mock!(Client::describe_route_tables).then_output(|| {
        DescribeRouteTablesOutput::builder()
            .route_tables(
                SdkRouteTable::builder()
                    .route_table_id("rtb-1")
                    .vpc_id("vpc-0a1b2c3d")
                    .routes(SdkRoute::builder().destination_cidr_block("10.1.0.0/16").gateway_id("tgw-1").build())
                    .build(),
            )
            .build()
    });
    let ec2 = Ec2::new(client!(RuleMode::MatchAny, &[&exists, &table]));
    let done = execute(&ec2, Side::Accepter, vec![create("rtb-1", "10.1.0.0/16")], false).await;
    assert_eq!(done[0].outcome, RouteOutcome::Conflict { existing: RouteTarget::Other("tgw-1".into()) });
}

fn executed(change: RouteChange, outcome: RouteOutcome) -> Executed {
    Executed { side: Side::Accepter, change, outcome }
}

#[test]
fn records_group_outcomes_per_connection_and_kind() {
    let done = [
        executed(create("rtb-1", "10.1.0.0/16"), RouteOutcome::Done),
        executed(create("rtb-2", "10.1.0.0/16"), RouteOutcome::Done),
        executed(create("rtb-3", "10.1.0.0/16"), RouteOutcome::Unchanged),
        executed(create("rtb-4", "10.1.0.0/16"), RouteOutcome::Failed { error: "boom".into() }),
        executed(
            RouteChange::Conflict {
                route_table: "rtb-5".into(),
                destination: net("10.1.0.0/16"),
                existing: RouteTarget::Other("tgw-1".into()),
            },
            RouteOutcome::Conflict { existing: RouteTarget::Other("tgw-1".into()) },
        ),
    ];
    let context = json!({"account": "111111111111"});
    let wiring = records(Purpose::Wiring, Some("pcx-0a1b2c3d"), &done, &context);
    let kinds: Vec<LedgerAction> = wiring.iter().map(|r| r.action).collect();
    assert_eq!(kinds, [LedgerAction::RoutesAdded, LedgerAction::RoutesFailed, LedgerAction::RouteConflict]);
    assert!(wiring.iter().all(|r| r.key == LedgerKey::Peering("pcx-0a1b2c3d".into())));
    assert_eq!(wiring[0].details["routes"].as_array().unwrap().len(), 2);
    assert_eq!(wiring[0].details["account"], "111111111111");
    assert_eq!(wiring[0].reason, None);
    assert_eq!(wiring[1].details["routes"][0]["error"], "boom");
    assert_eq!(wiring[2].details["routes"][0]["existing_target"], "tgw-1");

    let remediation = records(Purpose::Remediation, None, &done[..2], &context);
    assert_eq!(remediation.len(), 1);
    assert_eq!(remediation[0].action, LedgerAction::RoutesRestored);
    assert_eq!(remediation[0].reason.as_deref(), Some("remediation of PEERING_ROUTE_MISSING"));
    let removed =
        records(Purpose::Remediation, None, &[executed(delete("rtb-1", "10.1.0.0/16"), RouteOutcome::Done)], &context);
    assert_eq!(removed[0].action, LedgerAction::RoutesRemoved);
    assert_eq!(removed[0].reason.as_deref(), Some("remediation of PEERING_ROUTE_BLACKHOLE"));
    let planned = [executed(create("rtb-1", "10.1.0.0/16"), RouteOutcome::Planned)];
    assert!(records(Purpose::Wiring, None, &planned, &context).is_empty(), "a dry run records nothing");
}

fn ec2_response(status: u16, code: &str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(ec2_error(code)),
    )
}

#[tokio::test]
async fn a_throttled_or_failing_call_is_retried_by_the_executor_not_the_sdk() {
    let throttled_then_done = mock!(Client::create_route)
        .match_requests(|r| r.route_table_id() == Some("rtb-1"))
        .sequence()
        .http_response(|| ec2_response(503, "RequestLimitExceeded"))
        .times(3)
        .output(|| CreateRouteOutput::builder().build())
        .build();
    let unavailable_then_done = mock!(Client::create_route)
        .match_requests(|r| r.route_table_id() == Some("rtb-2"))
        .sequence()
        .http_response(|| ec2_response(503, "Unavailable"))
        .times(2)
        .output(|| CreateRouteOutput::builder().build())
        .build();
    let refused = mock!(Client::delete_route).then_http_response(|| ec2_response(400, "UnauthorizedOperation"));
    let client = mock_client!(
        aws_sdk_ec2,
        RuleMode::MatchAny,
        &[&throttled_then_done, &unavailable_then_done, &refused],
        // The functions' own retry settings: route calls must not be retried by the SDK anyway.
        |c| c.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(8))
    );
    let ec2 = Ec2::new(client);
    let plan = vec![create("rtb-1", "10.1.0.0/16"), create("rtb-2", "10.1.0.0/16"), delete("rtb-3", "10.9.0.0/16")];
    let done = execute(&ec2, Side::Accepter, plan, false).await;
    assert_eq!(done[0].outcome, RouteOutcome::Done);
    assert_eq!(throttled_then_done.num_calls(), 4, "three throttles, then done");
    assert_eq!(done[1].outcome, RouteOutcome::Done);
    assert_eq!(unavailable_then_done.num_calls(), 3);
    assert!(matches!(&done[2].outcome, RouteOutcome::Failed { error } if error.contains("UnauthorizedOperation")));
    assert_eq!(refused.num_calls(), 1, "an error a retry cannot help is not retried");
}

#[tokio::test]
async fn near_the_deadline_no_call_is_started_and_every_change_is_deferred() {
    let rule = mock!(Client::create_route).then_output(|| CreateRouteOutput::builder().build());
    let ec2 = Ec2::new(client!(RuleMode::MatchAny, &[&rule]));
    let plan = vec![create("rtb-1", "10.1.0.0/16"), delete("rtb-2", "10.1.0.0/16")];
    let almost_over = crate::clock::Deadline::at_epoch_ms((crate::clock::now_nanos() / 1_000_000) as u64 + 5_000);
    let done = almost_over.scope(execute(&ec2, Side::Accepter, plan.clone(), false)).await;
    assert_eq!(rule.num_calls(), 0);
    assert!(done.iter().all(|e| e.outcome == RouteOutcome::Deferred), "{done:?}");
    let records = records(Purpose::Wiring, Some("pcx-0a1b2c3d"), &done, &json!({}));
    assert_eq!(records.iter().map(|r| r.action).collect::<Vec<_>>(), [LedgerAction::RoutesDeferred]);
    assert_eq!(records[0].details["routes"].as_array().unwrap().len(), 2);

    let far = crate::clock::Deadline::at_epoch_ms((crate::clock::now_nanos() / 1_000_000) as u64 + 60_000);
    let done = far.scope(execute(&ec2, Side::Accepter, vec![plan[0].clone()], false)).await;
    assert_eq!(done[0].outcome, RouteOutcome::Done);
    assert_eq!(rule.num_calls(), 1);
}
