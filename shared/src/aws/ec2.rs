//! EC2 adapter: peering connections, VPCs and route tables in and out of domain types.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, PeeringConnectionOptionsRequest, Tag};
use aws_sdk_ec2::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ipnet::IpNet;

use crate::domain::{Peering, PeeringStatus, Route, RouteTable, RouteTarget, Side, Vpc, VpcSide};
use crate::error::{Error, Result};
use crate::routes::{Pacer, MUTATING};
use vpcwarden_core::RouteChange;

/// An adapter for one account and region. Its clones share the pace of the route calls: EC2's
/// request buckets are per account, region and action, and so are the pacers.
#[derive(Clone, Debug)]
pub struct Ec2 {
    client: Client,
    pacers: Arc<RoutePacers>,
}

#[derive(Debug)]
struct RoutePacers {
    create: Pacer,
    delete: Pacer,
}

/// Route calls are not retried by the SDK: the route executor retries them at its pacer's pace
/// (a throttle is news for the pacer, which an SDK retry would hide).
fn without_sdk_retries() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}

pub fn filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Filter {
    Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

#[derive(Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// This call accepted it; the status the API answered with.
    Accepted(PeeringStatus),
    /// Someone (a concurrent invocation) accepted it first.
    AlreadyAccepted,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The destination exists already, through this target.
    Exists(Option<RouteTarget>),
}

impl Ec2 {
    pub fn new(client: Client) -> Self {
        let pacers = RoutePacers { create: Pacer::new(MUTATING), delete: Pacer::new(MUTATING) };
        Ec2 { client, pacers: Arc::new(pacers) }
    }

    /// The pace of the action that carries out `change`.
    pub(crate) fn pacer(&self, change: &RouteChange) -> &Pacer {
        match change {
            RouteChange::Delete { .. } => &self.pacers.delete,
            _ => &self.pacers.create,
        }
    }

    /// One connection by id; `None` when AWS no longer knows it.
    pub async fn peering(&self, id: &str) -> Result<Option<Peering>> {
        let out = self.client.describe_vpc_peering_connections().vpc_peering_connection_ids(id).send().await;
        match out {
            Ok(out) => Ok(out.vpc_peering_connections().iter().filter_map(to_peering).find(|p| p.id == id)),
            Err(e) if e.code() == Some("InvalidVpcPeeringConnectionID.NotFound") => Ok(None),
            Err(e) => Err(Error::aws("DescribeVpcPeeringConnections", e)),
        }
    }

    /// Every connection matching the filters, all pages. Callers re-check the filtered fields
    /// client-side: not every emulator (nor every past AWS behaviour) honours every filter.
    pub async fn peerings(&self, filters: Vec<Filter>) -> Result<Vec<Peering>> {
        let mut pages = self
            .client
            .describe_vpc_peering_connections()
            .set_filters(Some(filters))
            .max_results(1000)
            .into_paginator()
            .send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeVpcPeeringConnections", e))?;
            all.extend(page.vpc_peering_connections().iter().filter_map(to_peering));
        }
        Ok(all)
    }

    /// Every IPv4 and IPv6 block associated with each of `vpc_ids`, in one paginated call.
    pub async fn vpcs_cidrs(&self, vpc_ids: &[&str]) -> Result<HashMap<String, Vec<IpNet>>> {
        let mut pages = self
            .client
            .describe_vpcs()
            .set_vpc_ids(Some(vpc_ids.iter().map(ToString::to_string).collect()))
            .into_paginator()
            .send();
        let mut all = HashMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeVpcs", e))?;
            for vpc in page.vpcs() {
                if let Some(id) = vpc.vpc_id() {
                    all.insert(id.to_string(), vpc_cidrs(vpc));
                }
            }
        }
        Ok(all)
    }

    /// Route tables matching the filters, all pages.
    pub async fn route_tables(&self, filters: Vec<Filter>) -> Result<Vec<RouteTable>> {
        let mut pages =
            self.client.describe_route_tables().set_filters(Some(filters)).max_results(100).into_paginator().send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeRouteTables", e))?;
            all.extend(page.route_tables().iter().filter_map(to_route_table));
        }
        Ok(all)
    }

    pub async fn accept(&self, pcx: &str) -> Result<AcceptOutcome> {
        match self.client.accept_vpc_peering_connection().vpc_peering_connection_id(pcx).send().await {
            Ok(out) => Ok(AcceptOutcome::Accepted(
                out.vpc_peering_connection()
                    .and_then(|p| p.status())
                    .and_then(|s| s.code())
                    .map(|c| PeeringStatus::parse(c.as_str()))
                    .unwrap_or(PeeringStatus::Provisioning),
            )),
            Err(e) if e.code() == Some("InvalidStateTransition") => Ok(AcceptOutcome::AlreadyAccepted),
            Err(e) => Err(Error::aws("AcceptVpcPeeringConnection", e)),
        }
    }

    pub async fn reject(&self, pcx: &str) -> Result<()> {
        match self.client.reject_vpc_peering_connection().vpc_peering_connection_id(pcx).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("InvalidStateTransition") => Ok(()),
            Err(e) => Err(Error::aws("RejectVpcPeeringConnection", e)),
        }
    }

    pub async fn tag(&self, resource: &str, tags: &[(&str, &str)]) -> Result<()> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect();
        self.client
            .create_tags()
            .resources(resource)
            .set_tags(Some(tags))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws("CreateTags", e))
    }

    /// Lets `side`'s VPC resolve the peer's private DNS names.
    pub(crate) async fn allow_dns_resolution(&self, pcx: &str, side: Side) -> Result<()> {
        let opts = PeeringConnectionOptionsRequest::builder().allow_dns_resolution_from_remote_vpc(true).build();
        let req = self.client.modify_vpc_peering_connection_options().vpc_peering_connection_id(pcx);
        let req = match side {
            Side::Accepter => req.accepter_peering_connection_options(opts),
            Side::Requester => req.requester_peering_connection_options(opts),
        };
        req.send().await.map(|_| ()).map_err(|e| Error::aws("ModifyVpcPeeringConnectionOptions", e))
    }

    pub async fn create_route(&self, route_table: &str, destination: &IpNet, pcx: &str) -> Result<CreateOutcome> {
        let req = self.client.create_route().route_table_id(route_table).vpc_peering_connection_id(pcx);
        let req = match destination {
            IpNet::V4(_) => req.destination_cidr_block(destination.to_string()),
            IpNet::V6(_) => req.destination_ipv6_cidr_block(destination.to_string()),
        };
        match req.customize().config_override(without_sdk_retries()).send().await {
            Ok(_) => Ok(CreateOutcome::Created),
            Err(e) if e.code() == Some("RouteAlreadyExists") => {
                let tables = self.route_tables(vec![filter("route-table-id", [route_table])]).await?;
                let target = tables.iter().find_map(|t| t.route_to(destination)).map(|r| r.target.clone());
                Ok(CreateOutcome::Exists(target))
            }
            Err(e) => Err(Error::aws("CreateRoute", e)),
        }
    }

    /// `false` when the route was already gone.
    pub(crate) async fn delete_route(&self, route_table: &str, destination: &IpNet) -> Result<bool> {
        let req = self.client.delete_route().route_table_id(route_table);
        let req = match destination {
            IpNet::V4(_) => req.destination_cidr_block(destination.to_string()),
            IpNet::V6(_) => req.destination_ipv6_cidr_block(destination.to_string()),
        };
        match req.customize().config_override(without_sdk_retries()).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("InvalidRoute.NotFound") => Ok(false),
            Err(e) => Err(Error::aws("DeleteRoute", e)),
        }
    }

    /// The regions enabled in this account (`DescribeRegions` without `AllRegions`: opted-in
    /// regions and those that need no opt-in), sorted.
    pub async fn enabled_regions(&self) -> Result<Vec<String>> {
        let out = self.client.describe_regions().send().await.map_err(|e| Error::aws("DescribeRegions", e))?;
        let mut regions: Vec<String> = out
            .regions()
            .iter()
            .filter(|r| r.opt_in_status().is_none_or(|s| s != "not-opted-in"))
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect();
        regions.sort();
        Ok(regions)
    }

    /// Every VPC of the account in this region (all pages), with its CIDRs and `Name` tag.
    pub async fn vpcs(&self) -> Result<Vec<Vpc>> {
        let mut pages = self.client.describe_vpcs().max_results(1000).into_paginator().send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeVpcs", e))?;
            all.extend(page.vpcs().iter().filter_map(|v| {
                Some(Vpc { id: v.vpc_id()?.to_string(), cidrs: vpc_cidrs(v), name: tags_of(v.tags()).remove("Name") })
            }));
        }
        Ok(all)
    }
}

/// Associated (or associating) IPv4 and IPv6 blocks of a VPC.
pub(crate) fn vpc_cidrs(vpc: &aws_sdk_ec2::types::Vpc) -> Vec<IpNet> {
    let v4 = vpc
        .cidr_block_association_set()
        .iter()
        .filter(|a| a.cidr_block_state().and_then(|s| s.state()).is_none_or(|s| is_associated(s.as_str())))
        .filter_map(|a| a.cidr_block());
    let v6 = vpc
        .ipv6_cidr_block_association_set()
        .iter()
        .filter(|a| a.ipv6_cidr_block_state().and_then(|s| s.state()).is_none_or(|s| is_associated(s.as_str())))
        .filter_map(|a| a.ipv6_cidr_block());
    let mut cidrs: Vec<IpNet> = v4.chain(v6).chain(vpc.cidr_block()).filter_map(parse_net).collect();
    cidrs.sort();
    cidrs.dedup();
    cidrs
}

fn is_associated(state: &str) -> bool {
    state.eq_ignore_ascii_case("associated") || state.eq_ignore_ascii_case("associating")
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>().ok().map(|n| n.trunc())
}

fn tags_of(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn to_side(info: &aws_sdk_ec2::types::VpcPeeringConnectionVpcInfo) -> VpcSide {
    let v4 = info.cidr_block_set().iter().filter_map(|c| c.cidr_block());
    let v6 = info.ipv6_cidr_block_set().iter().filter_map(|c| c.ipv6_cidr_block());
    let mut cidrs: Vec<IpNet> = info.cidr_block().into_iter().chain(v4).chain(v6).filter_map(parse_net).collect();
    cidrs.sort();
    cidrs.dedup();
    VpcSide {
        account: info.owner_id().unwrap_or_default().to_string(),
        vpc_id: info.vpc_id().unwrap_or_default().to_string(),
        region: info.region().unwrap_or_default().to_string(),
        cidrs,
    }
}

pub(crate) fn to_peering(p: &aws_sdk_ec2::types::VpcPeeringConnection) -> Option<Peering> {
    let accepter = p.accepter_vpc_info()?;
    Some(Peering {
        id: p.vpc_peering_connection_id()?.to_string(),
        status: PeeringStatus::parse(p.status().and_then(|s| s.code()).map(|c| c.as_str()).unwrap_or("")),
        requester: to_side(p.requester_vpc_info()?),
        accepter: to_side(accepter),
        tags: tags_of(p.tags()),
        accepter_dns_resolution: accepter.peering_options().and_then(|o| o.allow_dns_resolution_from_remote_vpc()),
        expires_at: p.expiration_time().map(|t| t.secs()),
    })
}

/// The id of whatever a route sends its traffic to (`local`, a pcx, a gateway, an ENI…): EC2
/// reports it in one of many fields, and this is the one list of them.
pub fn route_target_id(r: &aws_sdk_ec2::types::Route) -> Option<&str> {
    r.vpc_peering_connection_id()
        .or(r.gateway_id())
        .or(r.transit_gateway_id())
        .or(r.nat_gateway_id())
        .or(r.network_interface_id())
        .or(r.instance_id())
        .or(r.egress_only_internet_gateway_id())
        .or(r.local_gateway_id())
        .or(r.carrier_gateway_id())
        .or(r.core_network_arn())
}

fn to_target(r: &aws_sdk_ec2::types::Route) -> RouteTarget {
    if let Some(pcx) = r.vpc_peering_connection_id() {
        return RouteTarget::PeeringConnection(pcx.to_string());
    }
    match route_target_id(r) {
        Some("local") => RouteTarget::Local,
        Some(id) => RouteTarget::Other(id.to_string()),
        None => RouteTarget::Other("unknown".into()),
    }
}

pub(crate) fn to_route_table(t: &aws_sdk_ec2::types::RouteTable) -> Option<RouteTable> {
    let routes = t
        .routes()
        .iter()
        .filter_map(|r| {
            // Prefix-list destinations are not CIDRs and never collide with a peer's blocks.
            let destination = parse_net(r.destination_cidr_block().or(r.destination_ipv6_cidr_block())?)?;
            let blackhole = r.state().is_some_and(|s| s.as_str().eq_ignore_ascii_case("blackhole"));
            Some(Route { destination, target: to_target(r), blackhole })
        })
        .collect();
    Some(RouteTable {
        id: t.route_table_id()?.to_string(),
        vpc_id: t.vpc_id().unwrap_or_default().to_string(),
        tags: tags_of(t.tags()),
        routes,
    })
}

#[cfg(test)]
#[path = "ec2_tests.rs"]
mod tests;
