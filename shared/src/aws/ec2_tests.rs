//! Adapter error handling against mocked EC2 responses (aws-smithy-mocks): retries on
//! throttling, EC2's untyped error codes mapped to outcomes, unknown errors surfaced.
use aws_sdk_ec2::operation::describe_vpc_peering_connections::DescribeVpcPeeringConnectionsOutput;
use aws_sdk_ec2::types::{
    VpcPeeringConnection, VpcPeeringConnectionStateReason, VpcPeeringConnectionStateReasonCode,
    VpcPeeringConnectionVpcInfo,
};
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};

use super::*;

fn ec2_error(code: &str) -> String {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>{code} happened</Message></Error></Errors><RequestID>r-1</RequestID></Response>")
}

fn info(account: &str, vpc: &str, cidr: &str) -> VpcPeeringConnectionVpcInfo {
    VpcPeeringConnectionVpcInfo::builder().owner_id(account).vpc_id(vpc).region("us-east-1").cidr_block(cidr).build()
}

fn pcx_output() -> DescribeVpcPeeringConnectionsOutput {
    DescribeVpcPeeringConnectionsOutput::builder()
        .vpc_peering_connections(
            VpcPeeringConnection::builder()
                .vpc_peering_connection_id("pcx-0123456789abcdef0")
                .status(
                    VpcPeeringConnectionStateReason::builder()
                        .code(VpcPeeringConnectionStateReasonCode::PendingAcceptance)
                        .build(),
                )
                .requester_vpc_info(info("222222222222", "vpc-req", "10.1.0.0/16"))
                .accepter_vpc_info(info("111111111111", "vpc-acc", "10.0.0.0/16"))
                .build(),
        )
        .build()
}

macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_ec2, RuleMode::Sequential, $rules, |c| c.retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
        ))
    };
}

#[tokio::test]
async fn throttling_is_retried_until_it_succeeds() {
    let rule = mock!(Client::describe_vpc_peering_connections)
        .sequence()
        .http_status(503, Some(ec2_error("RequestLimitExceeded")))
        .times(2)
        .output(pcx_output)
        .build();
    let ec2 = Ec2::new(client!(&[&rule]));
    let p = ec2.peering("pcx-0123456789abcdef0").await.unwrap().unwrap();
    assert_eq!(p.status, PeeringStatus::PendingAcceptance);
    assert_eq!(p.requester.cidrs, vec!["10.1.0.0/16".parse::<IpNet>().unwrap()]);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_the_retries_is_a_retryable_error() {
    let rule = mock!(Client::describe_vpc_peering_connections)
        .sequence()
        .http_status(503, Some(ec2_error("RequestLimitExceeded")))
        .repeatedly()
        .build();
    let err = Ec2::new(client!(&[&rule])).peering("pcx-0123456789abcdef0").await.unwrap_err();
    assert_eq!(err.code(), Some("RequestLimitExceeded"));
    assert!(err.is_retryable(), "{err}");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn unknown_errors_are_surfaced_with_their_code_and_not_retried() {
    let rule = mock!(Client::describe_route_tables)
        .sequence()
        .http_status(403, Some(ec2_error("UnauthorizedOperation")))
        .repeatedly()
        .build();
    let err = Ec2::new(client!(&[&rule])).route_tables(vec![filter("vpc-id", ["vpc-1"])]).await.unwrap_err();
    assert_eq!(err.to_string(), "DescribeRouteTables failed: UnauthorizedOperation: UnauthorizedOperation happened");
    assert!(!err.is_retryable());
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_vanished_connection_reads_as_none() {
    let rule = mock!(Client::describe_vpc_peering_connections)
        .sequence()
        .http_status(400, Some(ec2_error("InvalidVpcPeeringConnectionID.NotFound")))
        .build();
    assert_eq!(Ec2::new(client!(&[&rule])).peering("pcx-0123456789abcdef0").await.unwrap(), None);
}

#[tokio::test]
async fn accepting_an_already_active_connection_is_success() {
    let rule = mock!(Client::accept_vpc_peering_connection)
        .sequence()
        .http_status(400, Some(ec2_error("InvalidStateTransition")))
        .build();
    assert_eq!(
        Ec2::new(client!(&[&rule])).accept("pcx-0123456789abcdef0").await.unwrap(),
        AcceptOutcome::AlreadyAccepted
    );
}

#[tokio::test]
async fn an_existing_route_reports_its_target() {
    use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
    use aws_sdk_ec2::types::{Route as SdkRoute, RouteTable as SdkTable};
    let create = mock!(Client::create_route).sequence().http_status(400, Some(ec2_error("RouteAlreadyExists"))).build();
    let describe = mock!(Client::describe_route_tables).then_output(|| {
        DescribeRouteTablesOutput::builder()
            .route_tables(
                SdkTable::builder()
                    .route_table_id("rtb-1")
                    .vpc_id("vpc-acc")
                    .routes(
                        SdkRoute::builder().destination_cidr_block("10.1.0.0/16").transit_gateway_id("tgw-9").build(),
                    )
                    .build(),
            )
            .build()
    });
    let ec2 = Ec2::new(client!(&[&create, &describe]));
    let out = ec2.create_route("rtb-1", &"10.1.0.0/16".parse().unwrap(), "pcx-0123456789abcdef0").await.unwrap();
    assert_eq!(out, CreateOutcome::Exists(Some(RouteTarget::Other("tgw-9".into()))));
}

#[tokio::test]
async fn deleting_a_missing_route_is_not_an_error() {
    let rule =
        mock!(Client::delete_route).sequence().http_status(400, Some(ec2_error("InvalidRoute.NotFound"))).build();
    assert!(!Ec2::new(client!(&[&rule])).delete_route("rtb-1", &"10.1.0.0/16".parse().unwrap()).await.unwrap());
}

#[test]
fn routes_convert_with_targets_and_blackholes() {
    use aws_sdk_ec2::types::{Route as SdkRoute, RouteState, RouteTable as SdkTable};
    let t = SdkTable::builder()
        .route_table_id("rtb-1")
        .vpc_id("vpc-1")
        .routes(SdkRoute::builder().destination_cidr_block("10.0.0.0/16").gateway_id("local").build())
        .routes(
            SdkRoute::builder()
                .destination_cidr_block("10.1.0.0/16")
                .vpc_peering_connection_id("pcx-1")
                .state(RouteState::Blackhole)
                .build(),
        )
        .routes(SdkRoute::builder().destination_ipv6_cidr_block("::/0").gateway_id("igw-1").build())
        .routes(SdkRoute::builder().destination_prefix_list_id("pl-1").gateway_id("vpce-1").build())
        .build();
    let table = to_route_table(&t).unwrap();
    assert_eq!(table.routes.len(), 3, "prefix-list routes are skipped");
    assert_eq!(table.routes[0].target, RouteTarget::Local);
    assert!(table.routes[1].blackhole && table.routes[1].target.is_pcx("pcx-1"));
    assert_eq!(table.routes[2].target, RouteTarget::Other("igw-1".into()));
}
