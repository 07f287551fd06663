//! PrivateLink estates for the endpoint-approver tests and benchmark: a provider (our account)
//! with NLB-backed endpoint services requiring acceptance, consumers in other accounts with
//! endpoints to them, and the events AWS would deliver (SNS connection notifications, allowlist
//! stream records).
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::types::Filter;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
};
use serde_json::{json, Value};
use vpcwarden::aws::grant_item::item_from_grant;
use vpcwarden::domain::{EndpointGrant, Grant};
use vpcwarden::event_shapes as shapes;

use crate::aws::Aws;
use crate::{ACCOUNT, REGION};

static NAMES: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", NAMES.fetch_add(1, Ordering::Relaxed))
}

/// `arn:aws:iam::<account>:root`.
pub fn principal(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// Our network load balancer, with (`healthy`) or without a target group with a healthy target.
pub struct Provider {
    pub nlb_arn: String,
}

/// An endpoint service of ours.
#[derive(Clone, Debug)]
pub struct Service {
    pub id: String,
    pub name: String,
}

async fn subnet(ec2: &aws_sdk_ec2::Client, cidr: &str) -> (String, String) {
    let vpc = ec2.create_vpc().cidr_block(cidr).send().await.unwrap_or_else(|e| panic!("CreateVpc {cidr}: {e:?}"));
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).expect("a VPC id").to_string();
    let subnet_cidr = cidr.replace("/16", "/24");
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(&subnet_cidr)
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateSubnet {subnet_cidr}: {e:?}"));
    let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).expect("a subnet id").to_string();
    (vpc_id, subnet_id)
}

/// A VPC, a subnet and an internal NLB in our account; with `healthy`, also a listener to an IP
/// target group with one registered (healthy) target.
pub async fn provider(aws: &Aws, healthy: bool) -> Provider {
    provider_in(aws, ACCOUNT, healthy).await
}

/// [`provider`] in `account`.
pub async fn provider_in(aws: &Aws, account: &str, healthy: bool) -> Provider {
    let ec2 = aws.ec2(account, REGION).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&aws.config(account, REGION).await);
    let (vpc_id, subnet_id) = subnet(&ec2, "10.0.0.0/16").await;
    let nlb = elb
        .create_load_balancer()
        .name(unique("svc-nlb"))
        .subnets(&subnet_id)
        .r#type(LoadBalancerTypeEnum::Network)
        .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateLoadBalancer: {e:?}"));
    let nlb_arn = nlb.load_balancers()[0].load_balancer_arn().expect("an NLB ARN").to_string();
    if healthy {
        let tg = elb
            .create_target_group()
            .name(unique("svc-tg"))
            .protocol(ProtocolEnum::Tcp)
            .port(443)
            .vpc_id(&vpc_id)
            .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateTargetGroup: {e:?}"));
        let tg_arn = tg.target_groups()[0].target_group_arn().expect("a target group ARN").to_string();
        elb.register_targets()
            .target_group_arn(&tg_arn)
            .targets(TargetDescription::builder().id("10.0.0.10").port(443).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("RegisterTargets: {e:?}"));
        elb.create_listener()
            .load_balancer_arn(&nlb_arn)
            .protocol(ProtocolEnum::Tcp)
            .port(443)
            .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateListener: {e:?}"));
    }
    Provider { nlb_arn }
}

/// An endpoint service on `provider`'s NLB, requiring acceptance, allowing `principals`.
pub async fn service(aws: &Aws, provider: &Provider, principals: &[String]) -> Service {
    service_in(aws, ACCOUNT, provider, principals).await
}

/// [`service`] in `account` (the provider's).
pub async fn service_in(aws: &Aws, account: &str, provider: &Provider, principals: &[String]) -> Service {
    let ec2 = aws.ec2(account, REGION).await;
    let out = ec2
        .create_vpc_endpoint_service_configuration()
        .network_load_balancer_arns(&provider.nlb_arn)
        .acceptance_required(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateVpcEndpointServiceConfiguration: {e:?}"));
    let config = out.service_configuration().expect("a service configuration");
    let service = Service {
        id: config.service_id().expect("a service id").to_string(),
        name: config.service_name().expect("a service name").to_string(),
    };
    if !principals.is_empty() {
        ec2.modify_vpc_endpoint_service_permissions()
            .service_id(&service.id)
            .set_add_allowed_principals(Some(principals.to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("ModifyVpcEndpointServicePermissions: {e:?}"));
    }
    service
}

/// The service's allowed principals, sorted.
pub async fn allowed_principals(aws: &Aws, service_id: &str) -> Vec<String> {
    let out = aws
        .ec2(ACCOUNT, REGION)
        .await
        .describe_vpc_endpoint_service_permissions()
        .service_id(service_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeVpcEndpointServicePermissions: {e:?}"));
    let mut list: Vec<String> =
        out.allowed_principals().iter().filter_map(|p| p.principal().map(str::to_string)).collect();
    list.sort();
    list
}

/// A consumer VPC and subnet in another account.
pub struct Consumer {
    pub account: String,
    pub ec2: aws_sdk_ec2::Client,
    pub vpc_id: String,
    pub subnet_id: String,
}

pub async fn consumer(aws: &Aws, account: &str, cidr: &str) -> Consumer {
    let ec2 = aws.ec2(account, REGION).await;
    let (vpc_id, subnet_id) = subnet(&ec2, cidr).await;
    Consumer { account: account.to_string(), ec2, vpc_id, subnet_id }
}

impl Consumer {
    /// Creates an interface endpoint to `service`; its id.
    pub async fn connect(&self, service: &Service) -> String {
        let out = self
            .ec2
            .create_vpc_endpoint()
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
            .vpc_id(&self.vpc_id)
            .service_name(&service.name)
            .subnet_ids(&self.subnet_id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateVpcEndpoint to {} from {}: {e:?}", service.name, self.account));
        out.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()).expect("an endpoint id").to_string()
    }

    pub async fn delete(&self, endpoint_id: &str) {
        self.ec2
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(endpoint_id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeleteVpcEndpoints {endpoint_id}: {e:?}"));
    }
}

/// Endpoint id → connection state (as the API spells it), for one service, as its owner sees it.
pub async fn connection_states(aws: &Aws, service_id: &str) -> BTreeMap<String, String> {
    let out = aws
        .ec2(ACCOUNT, REGION)
        .await
        .describe_vpc_endpoint_connections()
        .filters(Filter::builder().name("service-id").values(service_id).build())
        .max_results(1000)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeVpcEndpointConnections: {e:?}"));
    out.vpc_endpoint_connections()
        .iter()
        .filter_map(|c| Some((c.vpc_endpoint_id()?.to_string(), c.vpc_endpoint_state()?.as_str().to_string())))
        .collect()
}

/// An endpoint grant as the CLI or Terraform would write it.
pub fn endpoint_grant(service_id: &str, account: &str, max_endpoints: Option<u32>, expires_at: Option<i64>) -> Grant {
    Grant::Endpoint(EndpointGrant {
        service_id: service_id.to_string(),
        account: account.to_string(),
        expires_at,
        max_endpoints,
        note: None,
        added_by: crate::tables::ADDED_BY.to_string(),
        added_at: 1_767_225_600,
    })
}

/// The SNS Lambda event for a connection notification (the body the emulator publishes).
pub fn sns_event(event: &str, service_id: &str, endpoint_id: &str, owner: &str, state: &str) -> Value {
    sns_event_with_message(&shapes::sns_message(event, service_id, endpoint_id, owner, state).to_string())
}

pub use shapes::{dynamodb_json, item_json, sns_event_with_message};

/// A stream record as Lambda delivers it, with a sequence number of its own. `image` is the new
/// image (INSERT/MODIFY) or the old one (REMOVE); `ttl` marks a deletion by DynamoDB's TTL.
pub fn stream_record(event_name: &str, image: &HashMap<String, AttributeValue>, ttl: bool) -> Value {
    shapes::stream_record(event_name, image, ttl, 100 + NAMES.fetch_add(1, Ordering::Relaxed) as u64)
}

/// A stream record for a grant (its item through the one grant mapping).
pub fn grant_record(event_name: &str, grant: &Grant, ttl: bool) -> Value {
    stream_record(event_name, &item_from_grant(grant), ttl)
}

pub fn stream_event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}
