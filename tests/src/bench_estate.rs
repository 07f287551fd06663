//! Large synthetic estates for the benchmarks, in one account and region: VPCs with a managed
//! (`peering=yes`) route table among plain ones, peering connections in every state with their
//! routes (some missing, some left behind by deleted connections), and NLB-backed endpoint
//! services with consumers' connections. See BENCHMARKS.md for the shape.
use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_ec2::types::Tag;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
    TargetTypeEnum,
};
use futures::stream::{self, StreamExt};

use crate::audit_seed;
use crate::seed::{self, SeededVpc};
use crate::stage::Stage;
use crate::{tables, ACCOUNT, REGION};

/// Seeding calls in flight.
const SEEDING: usize = 8;

/// The shape of an estate.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub vpcs: usize,
    pub peerings: usize,
    pub tables_per_vpc: usize,
    pub services: usize,
    pub connections: usize,
    pub consumers: usize,
}

impl Sizes {
    /// An estate of `peerings` peerings with everything else in proportion (the 1,000-peering
    /// estate is 500 VPCs x 6 tables, 50 endpoint services and 1,000 connections).
    pub fn scaled(peerings: usize) -> Sizes {
        Sizes {
            vpcs: (peerings / 2).max(2),
            peerings,
            tables_per_vpc: 6,
            services: (peerings / 20).max(1),
            connections: peerings,
            consumers: 10,
        }
    }
}

/// VPC `i`: 10.x.y.0/24, its main table, `tables - 2` plain tables and one tagged `peering=yes`.
pub async fn vpc(stage: &Stage, i: usize, tables: usize) -> SeededVpc {
    let cidr = format!("10.{}.{}.0/24", 1 + i / 250, i % 250);
    seed::vpc(&stage.aws, ACCOUNT, REGION, &cidr)
        .await
        .name(&format!("bench-{i}"))
        .route_tables(tables - 2)
        .tagged_tables(1, "peering", "yes")
        .create()
        .await
}

pub async fn peerings(stage: &Stage, vpcs: &[SeededVpc], n: usize) -> (usize, usize, usize) {
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    let count = vpcs.len();
    let made: Vec<(usize, &'static str)> = stream::iter(0..n)
        .map(|k| {
            let ec2 = ec2.clone();
            async move {
                // Distinct pairs: (i, i+1), then (i, i+4), (i, i+7)…
                let (r, a) = (k % count, (k % count + 1 + 3 * (k / count)) % count);
                let (req, acc) = (&vpcs[r], &vpcs[a]);
                let pcx = seed::request_peering(&stage.aws, req, acc).await;
                if k % 20 == 0 {
                    return (k, "pending");
                }
                ec2.accept_vpc_peering_connection().vpc_peering_connection_id(&pcx).send().await.expect("accept");
                ec2.create_tags()
                    .resources(&pcx)
                    .tags(Tag::builder().key("vpcwarden:managed").value("true").build())
                    .send()
                    .await
                    .expect("tag");
                // Routes in the managed table of each side; one in 50 left missing.
                for (side, peer) in [(acc, req), (req, acc)] {
                    if k % 50 == 7 && std::ptr::eq(side, req) {
                        continue;
                    }
                    ec2.create_route()
                        .route_table_id(&side.route_tables[side.route_tables.len() - 1])
                        .destination_cidr_block(&peer.cidrs[0])
                        .vpc_peering_connection_id(&pcx)
                        .send()
                        .await
                        .expect("route");
                }
                if k % 20 == 1 {
                    ec2.delete_vpc_peering_connection().vpc_peering_connection_id(&pcx).send().await.expect("delete");
                    return (k, "deleted");
                }
                (k, "active")
            }
        })
        .buffer_unordered(SEEDING)
        .collect()
        .await;
    let count = |s: &str| made.iter().filter(|(_, st)| *st == s).count();
    (count("active"), count("pending"), count("deleted"))
}

/// `services` NLB-backed endpoint services (four in five with a healthy target group), and
/// `connections` endpoints from `consumers` accounts, nine in ten accepted.
pub async fn privatelink(stage: &Stage, services: usize, connections: usize, consumers: usize) -> (usize, usize) {
    let aws = &stage.aws;
    let ec2 = aws.ec2(ACCOUNT, REGION).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&aws.config(ACCOUNT, REGION).await);
    let vpc = ec2.create_vpc().cidr_block("10.250.0.0/16").send().await.expect("provider VPC");
    let vpc_id = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.250.0.0/24")
        .availability_zone(format!("{REGION}a"))
        .send()
        .await
        .expect("provider subnet");
    let subnet_id = subnet.subnet().and_then(|s| s.subnet_id()).unwrap().to_string();
    let consumer_accounts: Vec<String> = (0..consumers).map(|c| format!("{}", 600_000_000_000u64 + c as u64)).collect();
    let principals: Vec<String> = consumer_accounts.iter().map(|a| crate::privatelink::principal(a)).collect();
    let mut target_groups = 0;
    let mut ids = Vec::new();
    for s in 0..services {
        let nlb = elb
            .create_load_balancer()
            .name(format!("bench-nlb-{s}"))
            .subnets(&subnet_id)
            .r#type(LoadBalancerTypeEnum::Network)
            .scheme(LoadBalancerSchemeEnum::Internal)
            .send()
            .await
            .expect("NLB");
        let nlb_arn = nlb.load_balancers()[0].load_balancer_arn().unwrap().to_string();
        if s % 5 != 4 {
            let tg = elb
                .create_target_group()
                .name(format!("bench-tg-{s}"))
                .protocol(ProtocolEnum::Tcp)
                .port(443)
                .vpc_id(&vpc_id)
                .target_type(TargetTypeEnum::Ip)
                .send()
                .await
                .expect("target group");
            let tg_arn = tg.target_groups()[0].target_group_arn().unwrap().to_string();
            elb.register_targets()
                .target_group_arn(&tg_arn)
                .targets(TargetDescription::builder().id("10.250.0.10").port(443).build())
                .send()
                .await
                .expect("register");
            elb.create_listener()
                .load_balancer_arn(&nlb_arn)
                .protocol(ProtocolEnum::Tcp)
                .port(443)
                .default_actions(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&tg_arn).build())
                .send()
                .await
                .expect("listener");
            target_groups += 1;
        }
        let svc = ec2
            .create_vpc_endpoint_service_configuration()
            .network_load_balancer_arns(&nlb_arn)
            .acceptance_required(true)
            .send()
            .await
            .expect("service");
        let config = svc.service_configuration().unwrap();
        let (id, name) = (config.service_id().unwrap().to_string(), config.service_name().unwrap().to_string());
        ec2.modify_vpc_endpoint_service_permissions()
            .service_id(&id)
            .set_add_allowed_principals(Some(principals.clone()))
            .send()
            .await
            .expect("permissions");
        ids.push((id, name));
    }
    // Consumers: one VPC and subnet each, endpoints spread over the services.
    let mut accepted: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let per_consumer = connections.div_ceil(consumers.max(1));
    for (c, account) in consumer_accounts.iter().enumerate() {
        let consumer = crate::privatelink::consumer(aws, account, &format!("10.{}.0.0/16", 100 + c)).await;
        let made: Vec<(usize, usize, String)> = stream::iter(0..per_consumer.min(connections - c * per_consumer))
            .map(|j| {
                let consumer = &consumer;
                let ids = &ids;
                async move {
                    let s = (c * per_consumer + j) % ids.len();
                    let svc = crate::privatelink::Service { id: ids[s].0.clone(), name: ids[s].1.clone() };
                    (s, j, consumer.connect(&svc).await)
                }
            })
            .buffer_unordered(SEEDING)
            .collect()
            .await;
        for (s, j, endpoint) in made {
            if j % 10 != 9 {
                accepted.entry(s).or_default().push(endpoint);
            }
        }
        for (id, _) in &ids {
            tables::put_endpoint_grant(aws, id, account, Some(5), None).await;
        }
    }
    for (s, endpoints) in &accepted {
        audit_seed::accept_endpoints(aws, &ids[*s].0, endpoints).await;
    }
    (ids.len(), target_groups)
}

/// How many of each the auditor will list, as the emulator has them (default VPC included).
pub async fn totals(stage: &Stage) -> BTreeMap<&'static str, usize> {
    let ec2 = stage.aws.ec2(ACCOUNT, REGION).await;
    let mut t = BTreeMap::new();
    let vpcs = ec2.describe_vpcs().into_paginator().items().send().collect::<Vec<_>>().await;
    t.insert("vpcs", vpcs.len());
    let tables = ec2.describe_route_tables().into_paginator().items().send().collect::<Vec<_>>().await;
    t.insert("route tables", tables.len());
    let pcx = ec2.describe_vpc_peering_connections().into_paginator().items().send().collect::<Vec<_>>().await;
    t.insert("peerings", pcx.len());
    let conns = ec2.describe_vpc_endpoint_connections().into_paginator().items().send().collect::<Vec<_>>().await;
    t.insert("connections", conns.len());
    t
}

/// What was seeded, and what the listings return (default VPC included).
#[derive(Clone, Debug)]
pub struct Estate {
    pub sizes: Sizes,
    pub active: usize,
    pub pending: usize,
    pub deleted: usize,
    pub services: usize,
    pub target_groups: usize,
    pub totals: BTreeMap<&'static str, usize>,
    pub seconds: f64,
}

/// Seeds the whole estate into `stage` (a `peering#*` grant for our account, the report bucket).
pub async fn seed(stage: &Stage, s: Sizes) -> Estate {
    let t = Instant::now();
    let vpcs: Vec<SeededVpc> =
        stream::iter(0..s.vpcs).map(|i| vpc(stage, i, s.tables_per_vpc)).buffered(SEEDING).collect().await;
    tables::put_peering_grant(&stage.aws, None, ACCOUNT, &[], None, None).await;
    let (active, pending, deleted) = peerings(stage, &vpcs, s.peerings).await;
    let (services, target_groups) = privatelink(stage, s.services, s.connections, s.consumers).await;
    audit_seed::ensure_bucket(&stage.aws).await;
    let totals = totals(stage).await;
    Estate { sizes: s, active, pending, deleted, services, target_groups, totals, seconds: t.elapsed().as_secs_f64() }
}
