//! Adapter behaviour against mocked EC2 responses (aws-smithy-mocks): `Unsuccessful[]` mapped
//! to failures, throttling retried, camelCase states parsed, `*` never sent.
use aws_sdk_ec2::operation::accept_vpc_endpoint_connections::AcceptVpcEndpointConnectionsOutput;
use aws_sdk_ec2::operation::describe_vpc_endpoint_connections::DescribeVpcEndpointConnectionsOutput;
use aws_sdk_ec2::operation::reject_vpc_endpoint_connections::RejectVpcEndpointConnectionsOutput;
use aws_sdk_ec2::types::{State, UnsuccessfulItemError, VpcEndpointConnection};
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};

use super::*;

const SVC: &str = "vpce-svc-0123456789abcdef0";

fn ec2_error(code: &str) -> String {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>{code} happened</Message></Error></Errors><RequestID>r-1</RequestID></Response>")
}

macro_rules! client {
    ($rules:expr) => {
        client!(RuleMode::Sequential, $rules)
    };
    ($mode:expr, $rules:expr) => {
        mock_client!(aws_sdk_ec2, $mode, $rules, |c| c.retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ))
    };
}

fn unsuccessful(id: &str, code: &str) -> UnsuccessfulItem {
    UnsuccessfulItem::builder()
        .resource_id(id)
        .error(UnsuccessfulItemError::builder().code(code).message(format!("{id}: {code}")).build())
        .build()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn unsuccessful_items_come_back_as_failures() {
    let rule = mock!(Client::accept_vpc_endpoint_connections)
        .match_requests(|r| r.service_id() == Some(SVC) && r.vpc_endpoint_ids().len() == 3)
        .then_output(|| {
            AcceptVpcEndpointConnectionsOutput::builder()
                .unsuccessful(unsuccessful("vpce-2", "InvalidVpcEndpointState"))
                .unsuccessful(unsuccessful("vpce-3", "InvalidVpcEndpointId.NotFound"))
                .build()
        });
    let eps = Endpoints::new(client!(&[&rule]));
    let failed = eps.accept(SVC, &ids(&["vpce-1", "vpce-2", "vpce-3"])).await.unwrap();
    assert_eq!(rule.num_calls(), 1, "one call for the whole batch");
    assert_eq!(
        failed,
        vec![
            Failure {
                endpoint_id: "vpce-2".into(),
                code: "InvalidVpcEndpointState".into(),
                message: "vpce-2: InvalidVpcEndpointState".into()
            },
            Failure {
                endpoint_id: "vpce-3".into(),
                code: "InvalidVpcEndpointId.NotFound".into(),
                message: "vpce-3: InvalidVpcEndpointId.NotFound".into()
            },
        ]
    );
}

#[tokio::test]
async fn an_unsuccessful_item_without_details_is_still_reported() {
    let rule = mock!(Client::reject_vpc_endpoint_connections).then_output(|| {
        RejectVpcEndpointConnectionsOutput::builder().unsuccessful(UnsuccessfulItem::builder().build()).build()
    });
    let failed = Endpoints::new(client!(&[&rule])).reject(SVC, &ids(&["vpce-1"])).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].endpoint_id.as_str(), failed[0].code.as_str()), ("?", "Unknown"));
}

#[tokio::test]
async fn throttled_accepts_are_retried_until_they_succeed() {
    let rule = mock!(Client::accept_vpc_endpoint_connections)
        .sequence()
        .http_status(503, Some(ec2_error("RequestLimitExceeded")))
        .times(2)
        .output(|| AcceptVpcEndpointConnectionsOutput::builder().build())
        .build();
    let failed = Endpoints::new(client!(&[&rule])).accept(SVC, &ids(&["vpce-1"])).await.unwrap();
    assert!(failed.is_empty());
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_retryable_error() {
    let rule = mock!(Client::reject_vpc_endpoint_connections)
        .sequence()
        .http_status(503, Some(ec2_error("RequestLimitExceeded")))
        .repeatedly()
        .build();
    let err = Endpoints::new(client!(&[&rule])).reject(SVC, &ids(&["vpce-1"])).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.code(), Some("RequestLimitExceeded"));
    assert!(err.to_string().contains("RejectVpcEndpointConnections"));
}

#[tokio::test]
async fn an_unknown_service_is_recognised_by_its_code() {
    let rule = mock!(Client::accept_vpc_endpoint_connections)
        .sequence()
        .http_status(400, Some(ec2_error("InvalidVpcEndpointServiceId.NotFound")))
        .build();
    let err = Endpoints::new(client!(&[&rule])).accept(SVC, &ids(&["vpce-1"])).await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidVpcEndpointServiceId.NotFound"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn empty_batches_make_no_call() {
    let accept = mock!(Client::accept_vpc_endpoint_connections)
        .then_output(|| AcceptVpcEndpointConnectionsOutput::builder().build());
    let eps = Endpoints::new(client!(RuleMode::MatchAny, &[&accept]));
    assert!(eps.accept(SVC, &[]).await.unwrap().is_empty());
    assert!(eps.reject(SVC, &[]).await.unwrap().is_empty());
    eps.modify_principals(SVC, &PrincipalChange::default()).await.unwrap();
    assert_eq!(accept.num_calls(), 0);
}

#[tokio::test]
async fn camel_case_states_parse_and_other_services_are_dropped() {
    let conn = |id: &str, svc: &str, state: &str| {
        VpcEndpointConnection::builder()
            .vpc_endpoint_id(id)
            .service_id(svc)
            .vpc_endpoint_owner("222222222222")
            // What the SDK makes of the wire value: `State::Unknown("pendingAcceptance")`.
            .vpc_endpoint_state(State::from(state))
            .creation_timestamp(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .build()
    };
    let rule = mock!(Client::describe_vpc_endpoint_connections).then_output(move || {
        DescribeVpcEndpointConnectionsOutput::builder()
            .vpc_endpoint_connections(conn("vpce-1", SVC, "pendingAcceptance"))
            .vpc_endpoint_connections(conn("vpce-2", SVC, "available"))
            .vpc_endpoint_connections(conn("vpce-3", SVC, "rejected"))
            .vpc_endpoint_connections(conn("vpce-4", "vpce-svc-0fedcba9876543210", "available"))
            .build()
    });
    assert_ne!(State::from("pendingAcceptance"), State::PendingAcceptance);
    let eps = Endpoints::new(client!(&[&rule]));
    let got = eps.connections(&[SVC.to_string()], Some(&LIVE_STATES)).await.unwrap();
    assert_eq!(
        got.iter().map(|c| (c.endpoint_id.as_str(), c.state.clone())).collect::<Vec<_>>(),
        vec![("vpce-1", ConnectionState::PendingAcceptance), ("vpce-2", ConnectionState::Available)]
    );
    assert_eq!(got[0].created_at, Some(1_700_000_000));
    assert_eq!(got[0].account, "222222222222");
}

#[tokio::test]
async fn a_wildcard_principal_is_never_sent() {
    let rule = mock!(Client::modify_vpc_endpoint_service_permissions).then_output(|| {
        aws_sdk_ec2::operation::modify_vpc_endpoint_service_permissions::ModifyVpcEndpointServicePermissionsOutput::builder()
            .return_value(true)
            .build()
    });
    let eps = Endpoints::new(client!(RuleMode::MatchAny, &[&rule]));
    let change = PrincipalChange { add: vec!["*".into()], remove: vec![] };
    assert!(eps.modify_principals(SVC, &change).await.is_err());
    assert_eq!(rule.num_calls(), 0);
    let change = PrincipalChange { add: vec!["arn:aws:iam::222222222222:root".into()], remove: vec!["*".into()] };
    eps.modify_principals(SVC, &change).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}
