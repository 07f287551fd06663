//! Builders for seeded network estates: VPCs (with CIDRs and route tables), peering requests
//! and routes, each made with the EC2 client of the owning account and region.
use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;

use crate::aws::Aws;

/// A VPC made by [`VpcBuilder::create`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededVpc {
    /// `vpc-…` id.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Primary CIDR first, then the secondary ones in order, then IPv6 blocks.
    pub cidrs: Vec<String>,
    /// Main route table first, then the extra tables in creation order.
    pub route_tables: Vec<String>,
}

impl SeededVpc {
    /// The main route table.
    pub fn main_table(&self) -> &str {
        &self.route_tables[0]
    }
}

/// Options for a VPC to create; see [`vpc`].
pub struct VpcBuilder {
    ec2: Client,
    account: String,
    region: String,
    cidr: String,
    name: Option<String>,
    secondary: Vec<String>,
    ipv6: bool,
    extra_tables: usize,
    tagged_tables: Vec<(usize, String, String)>,
}

/// Starts a VPC with primary `cidr` in `account`/`region`; finish with `.create().await`.
pub async fn vpc(aws: &Aws, account: &str, region: &str, cidr: &str) -> VpcBuilder {
    VpcBuilder {
        ec2: aws.ec2(account, region).await,
        account: account.to_string(),
        region: region.to_string(),
        cidr: cidr.to_string(),
        name: None,
        secondary: Vec::new(),
        ipv6: false,
        extra_tables: 0,
        tagged_tables: Vec::new(),
    }
}

impl VpcBuilder {
    /// Tags the VPC (and names its extra route tables) with `Name=<name>`.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Associates a secondary IPv4 CIDR block.
    pub fn secondary(mut self, cidr: &str) -> Self {
        self.secondary.push(cidr.to_string());
        self
    }

    /// Requests an Amazon-provided IPv6 block.
    pub fn ipv6(mut self) -> Self {
        self.ipv6 = true;
        self
    }

    /// Adds `n` extra route tables, each tagged `Name`.
    pub fn route_tables(mut self, n: usize) -> Self {
        self.extra_tables += n;
        self
    }

    /// Adds `n` extra route tables tagged `key=value` (and `Name`).
    pub fn tagged_tables(mut self, n: usize, key: &str, value: &str) -> Self {
        self.tagged_tables.push((n, key.to_string(), value.to_string()));
        self
    }

    /// Creates the VPC, its CIDR associations and route tables.
    pub async fn create(self) -> SeededVpc {
        let mut create = self.ec2.create_vpc().cidr_block(&self.cidr).amazon_provided_ipv6_cidr_block(self.ipv6);
        if let Some(name) = &self.name {
            create = create.tag_specifications(tags(ResourceType::Vpc, &[("Name", name)]));
        }
        let vpc = create.send().await.unwrap_or_else(|e| panic!("CreateVpc {}: {e:?}", self.cidr));
        let id = vpc.vpc().and_then(|v| v.vpc_id()).expect("CreateVpc returns an id").to_string();
        for cidr in &self.secondary {
            self.ec2
                .associate_vpc_cidr_block()
                .vpc_id(&id)
                .cidr_block(cidr)
                .send()
                .await
                .unwrap_or_else(|e| panic!("AssociateVpcCidrBlock {cidr} to {id}: {e:?}"));
        }
        let mut cidrs = vec![self.cidr.clone()];
        cidrs.extend(self.secondary.iter().cloned());
        if self.ipv6 {
            let described = self
                .ec2
                .describe_vpcs()
                .vpc_ids(&id)
                .send()
                .await
                .unwrap_or_else(|e| panic!("DescribeVpcs {id}: {e:?}"));
            for vpc in described.vpcs() {
                for block in vpc.ipv6_cidr_block_association_set() {
                    cidrs.extend(block.ipv6_cidr_block().map(str::to_string));
                }
            }
        }

        let tables = self
            .ec2
            .describe_route_tables()
            .filters(filter("vpc-id", &id))
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeRouteTables of {id}: {e:?}"));
        let main = tables
            .route_tables()
            .iter()
            .find(|t| t.associations().iter().any(|a| a.main() == Some(true)))
            .and_then(|t| t.route_table_id())
            .unwrap_or_else(|| panic!("{id} has no main route table"))
            .to_string();
        let mut route_tables = vec![main];
        let base = self.name.clone().unwrap_or_else(|| id.clone());
        let mut wanted: Vec<Option<(String, String)>> = vec![None; self.extra_tables];
        for (n, key, value) in &self.tagged_tables {
            wanted.extend(std::iter::repeat_n(Some((key.clone(), value.clone())), *n));
        }
        for (i, tag) in wanted.into_iter().enumerate() {
            let name = format!("{base}-rt-{}", i + 1);
            let mut pairs = vec![("Name", name.as_str())];
            if let Some((key, value)) = &tag {
                pairs.push((key, value));
            }
            let table = self
                .ec2
                .create_route_table()
                .vpc_id(&id)
                .tag_specifications(tags(ResourceType::RouteTable, &pairs))
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateRouteTable in {id}: {e:?}"));
            route_tables.push(
                table
                    .route_table()
                    .and_then(|t| t.route_table_id())
                    .expect("CreateRouteTable returns an id")
                    .to_string(),
            );
        }
        SeededVpc { id, account: self.account, region: self.region, cidrs, route_tables }
    }
}

/// Requests a peering from `requester` (its account and region) to `accepter`; the pcx id.
pub async fn request_peering(aws: &Aws, requester: &SeededVpc, accepter: &SeededVpc) -> String {
    let out = aws
        .ec2(&requester.account, &requester.region)
        .await
        .create_vpc_peering_connection()
        .vpc_id(&requester.id)
        .peer_vpc_id(&accepter.id)
        .peer_owner_id(&accepter.account)
        .peer_region(&accepter.region)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateVpcPeeringConnection {} -> {}: {e:?}", requester.id, accepter.id));
    out.vpc_peering_connection()
        .and_then(|p| p.vpc_peering_connection_id())
        .expect("CreateVpcPeeringConnection returns an id")
        .to_string()
}

/// A peering connection's status code (`pending-acceptance`, `active`, …) as seen by
/// `account` in `region`.
pub async fn peering_status(aws: &Aws, account: &str, region: &str, pcx: &str) -> String {
    let out = aws
        .ec2(account, region)
        .await
        .describe_vpc_peering_connections()
        .vpc_peering_connection_ids(pcx)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeVpcPeeringConnections {pcx}: {e:?}"));
    out.vpc_peering_connections()
        .first()
        .and_then(|p| p.status())
        .and_then(|s| s.code())
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| panic!("{pcx} has no status"))
}

/// Every route of every route table of `vpc`, as (table, destination, target id, state),
/// sorted. Local routes have target `local`.
pub async fn routes(aws: &Aws, vpc: &SeededVpc) -> Vec<(String, String, String, String)> {
    let out = aws
        .ec2(&vpc.account, &vpc.region)
        .await
        .describe_route_tables()
        .filters(filter("vpc-id", &vpc.id))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeRouteTables of {}: {e:?}", vpc.id));
    let mut routes = Vec::new();
    for table in out.route_tables() {
        let rtb = table.route_table_id().unwrap_or_default();
        for r in table.routes() {
            let dest = r
                .destination_cidr_block()
                .or(r.destination_ipv6_cidr_block())
                .or(r.destination_prefix_list_id())
                .unwrap_or_default();
            // Raw ids, not the product's domain types: the tests read what AWS says.
            let target = vpcwarden::aws::ec2::route_target_id(r).unwrap_or_default();
            let state = r.state().map(|s| s.as_str()).unwrap_or_default();
            routes.push((rtb.to_string(), dest.to_string(), target.to_string(), state.to_string()));
        }
    }
    routes.sort();
    routes
}

/// Routes through `target` (e.g. a pcx id) in `vpc`, as sorted (table, destination) pairs.
pub async fn routes_through(aws: &Aws, vpc: &SeededVpc, target: &str) -> Vec<(String, String)> {
    routes(aws, vpc).await.into_iter().filter(|(_, _, t, _)| t == target).map(|(rtb, dest, _, _)| (rtb, dest)).collect()
}

/// Every route table of `vpc` with each of `dests`: what [`routes_through`] returns for a
/// connection routed everywhere.
pub fn every_table(vpc: &SeededVpc, dests: &[&str]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> =
        vpc.route_tables.iter().flat_map(|t| dests.iter().map(move |d| (t.clone(), d.to_string()))).collect();
    all.sort();
    all
}

/// What a route made by [`add_route`] points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteTargetSpec {
    /// A VPC peering connection.
    Pcx(String),
    /// The VPC's internet gateway (created and attached if it has none).
    InternetGateway,
    /// A transit gateway of the VPC's account/region (created if there is none).
    TransitGateway,
    /// An existing target by id (`igw-`, `tgw-`, `pcx-`, `nat-`, `eni-`, `i-`, `eigw-`).
    Id(String),
}

/// Adds a route `dest → target` (IPv6 if `dest` contains `:`) to `rtb` of `vpc`; returns the
/// target id.
pub async fn add_route(aws: &Aws, vpc: &SeededVpc, rtb: &str, dest: &str, target: RouteTargetSpec) -> String {
    let ec2 = aws.ec2(&vpc.account, &vpc.region).await;
    let target = match target {
        RouteTargetSpec::Pcx(id) | RouteTargetSpec::Id(id) => id,
        RouteTargetSpec::InternetGateway => internet_gateway(&ec2, &vpc.id).await,
        RouteTargetSpec::TransitGateway => transit_gateway(&ec2).await,
    };
    let mut request = ec2.create_route().route_table_id(rtb);
    request = if dest.contains(':') {
        request.destination_ipv6_cidr_block(dest)
    } else {
        request.destination_cidr_block(dest)
    };
    let (prefix, _) = target.split_once('-').unwrap_or_default();
    request = match prefix {
        "pcx" => request.vpc_peering_connection_id(&target),
        "tgw" => request.transit_gateway_id(&target),
        "nat" => request.nat_gateway_id(&target),
        "eni" => request.network_interface_id(&target),
        "i" => request.instance_id(&target),
        "eigw" => request.egress_only_internet_gateway_id(&target),
        _ => request.gateway_id(&target),
    };
    request.send().await.unwrap_or_else(|e| panic!("CreateRoute {rtb} {dest} -> {target}: {e:?}"));
    target
}

/// The internet gateway attached to `vpc_id`, creating and attaching one if needed.
async fn internet_gateway(ec2: &Client, vpc_id: &str) -> String {
    let found = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeInternetGateways of {vpc_id}: {e:?}"));
    if let Some(id) = found.internet_gateways().first().and_then(|g| g.internet_gateway_id()) {
        return id.to_string();
    }
    let igw = ec2.create_internet_gateway().send().await.unwrap_or_else(|e| panic!("CreateInternetGateway: {e:?}"));
    let id = igw
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .expect("CreateInternetGateway returns an id")
        .to_string();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&id)
        .vpc_id(vpc_id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("AttachInternetGateway {id} to {vpc_id}: {e:?}"));
    id
}

/// A transit gateway of the client's account/region, creating one if there is none.
async fn transit_gateway(ec2: &Client) -> String {
    let found =
        ec2.describe_transit_gateways().send().await.unwrap_or_else(|e| panic!("DescribeTransitGateways: {e:?}"));
    if let Some(id) = found
        .transit_gateways()
        .iter()
        .find(|t| t.state().is_none_or(|s| s.as_str() == "available"))
        .and_then(|t| t.transit_gateway_id())
    {
        return id.to_string();
    }
    let tgw = ec2
        .create_transit_gateway()
        .description("vpcwarden-tests")
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTransitGateway: {e:?}"));
    tgw.transit_gateway().and_then(|t| t.transit_gateway_id()).expect("CreateTransitGateway returns an id").to_string()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn tags(resource: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(resource);
    for (key, value) in pairs {
        spec = spec.tags(Tag::builder().key(*key).value(*value).build());
    }
    spec.build()
}
