//! The floor of the functions' footprint: the same Lambda runtime and SDK clients (aws-config,
//! ec2, dynamodb, elbv2) answering one DescribeVpcs, and nothing of vpcwarden. The footprint
//! bench runs it next to the three functions, so the floor is measured in the same run.
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

struct Clients {
    ec2: aws_sdk_ec2::Client,
    // Built like the functions build theirs, so their start-up cost is in the floor.
    _dynamodb: aws_sdk_dynamodb::Client,
    _elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = Clients {
        ec2: aws_sdk_ec2::Client::new(&config),
        _dynamodb: aws_sdk_dynamodb::Client::new(&config),
        _elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
    };
    let clients = &clients;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let vpcs = clients.ec2.describe_vpcs().send().await?;
        Ok::<Value, lambda_runtime::Error>(json!({ "vpcs": vpcs.vpcs().len() }))
    }))
    .await
}
