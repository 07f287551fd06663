//! `make bench`: seeds a large synthetic estate in the emulator and measures one drift-auditor
//! run through the Runtime API: wall time, peak RSS, and the AWS API calls by operation next to
//! the fewest pages those Describe calls need. A measurement, not a test.
//!
//! `cargo run -p vpcwarden-tests --bin audit-bench [-- --vpcs 500 --peerings 1000 --tables-per-vpc 6
//!  --services 50 --connections 1000]` (debug binaries unless VPCWARDEN_BIN_DIR names others).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::Tag;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
    TargetTypeEnum,
};
use futures::stream::{self, StreamExt};
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::seed::{self, SeededVpc};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{tables, ACCOUNT, REGION};

/// Seeding calls in flight.
const SEEDING: usize = 8;

struct Sizes {
    vpcs: usize,
    peerings: usize,
    tables_per_vpc: usize,
    services: usize,
    connections: usize,
    consumers: usize,
}

fn sizes() -> Sizes {
    let mut s = Sizes { vpcs: 500, peerings: 1000, tables_per_vpc: 6, services: 50, connections: 1000, consumers: 10 };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = || pair.get(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{} needs a number", pair[0]));
        match pair[0].as_str() {
            "--vpcs" => s.vpcs = value(),
            "--peerings" => s.peerings = value(),
            "--tables-per-vpc" => s.tables_per_vpc = value(),
            "--services" => s.services = value(),
            "--connections" => s.connections = value(),
            "--consumers" => s.consumers = value(),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(s.vpcs >= 2 && s.vpcs <= 40_000 && s.tables_per_vpc >= 2);
    s
}

/// VPC `i`: 10.x.y.0/24, its main table, `tables - 2` plain tables and one tagged `peering=yes`.
async fn vpc(stage: &Stage, i: usize, tables: usize) -> SeededVpc {
    let cidr = format!("10.{}.{}.0/24", 1 + i / 250, i % 250);
    seed::vpc(&stage.aws, ACCOUNT, REGION, &cidr)
        .await
        .name(&format!("bench-{i}"))
        .route_tables(tables - 2)
        .tagged_tables(1, "peering", "yes")
        .create()
        .await
}

async fn peerings(stage: &Stage, vpcs: &[SeededVpc], n: usize) -> (usize, usize, usize) {
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
async fn privatelink(stage: &Stage, services: usize, connections: usize, consumers: usize) -> (usize, usize) {
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
    let principals: Vec<String> =
        consumer_accounts.iter().map(|a| vpcwarden_tests::privatelink::principal(a)).collect();
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
        let consumer = vpcwarden_tests::privatelink::consumer(aws, account, &format!("10.{}.0.0/16", 100 + c)).await;
        let made: Vec<(usize, usize, String)> = stream::iter(0..per_consumer.min(connections - c * per_consumer))
            .map(|j| {
                let consumer = &consumer;
                let ids = &ids;
                async move {
                    let s = (c * per_consumer + j) % ids.len();
                    let svc = vpcwarden_tests::privatelink::Service { id: ids[s].0.clone(), name: ids[s].1.clone() };
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
async fn totals(stage: &Stage) -> BTreeMap<&'static str, usize> {
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

fn pages(n: usize, per_page: usize) -> usize {
    n.div_ceil(per_page).max(1)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let s = sizes();
    let stage = Stage::new().await;
    println!(
        "seeding: {} VPCs x {} route tables, {} peerings, {} endpoint services, {} connections",
        s.vpcs, s.tables_per_vpc, s.peerings, s.services, s.connections
    );
    let t = Instant::now();
    let vpcs: Vec<SeededVpc> =
        stream::iter(0..s.vpcs).map(|i| vpc(&stage, i, s.tables_per_vpc)).buffered(SEEDING).collect().await;
    tables::put_peering_grant(&stage.aws, None, ACCOUNT, &[], None, None).await;
    let (active, pending, deleted) = peerings(&stage, &vpcs, s.peerings).await;
    let (services, target_groups) = privatelink(&stage, s.services, s.connections, s.consumers).await;
    audit_seed::ensure_bucket(&stage.aws).await;
    let totals = totals(&stage).await;
    println!(
        "seeded in {:.0} s: {totals:?}; peerings {active} active, {pending} pending, {deleted} deleted",
        t.elapsed().as_secs_f64()
    );

    let f = stage.function(
        "drift-auditor",
        &[("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "bench"), ("ROUTE_TABLE_TAG", "peering=yes")],
    );
    while f.init_duration().is_none() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stage.emu.clear_requests();
    let t = Instant::now();
    let answer = f
        .invoke_with_timeout(schedule(), Duration::from_secs(900))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let wall = t.elapsed();
    let rss = f.peak_rss_kb().unwrap_or(0);
    let requests = stage.emu.requests();

    let mut calls: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &requests {
        *calls.entry((r.service.clone(), r.action.clone())).or_default() += 1;
    }
    // The fewest calls: each listing at its largest page size, and what cannot be batched.
    let minimum: BTreeMap<&str, usize> = [
        ("DescribeVpcs", pages(totals["vpcs"], 1000)),
        ("DescribeRouteTables", pages(totals["route tables"], 100)),
        ("DescribeVpcPeeringConnections", pages(totals["peerings"], 1000)),
        ("DescribeVpcEndpointServiceConfigurations", pages(services, 1000)),
        ("DescribeVpcEndpointConnections", pages(totals["connections"], 1000) * services.div_ceil(200).max(1)),
        ("DescribeVpcEndpointServicePermissions", services),
        ("DescribeTargetGroups", services),
        ("DescribeTargetHealth", target_groups),
        ("GetCallerIdentity", 1),
        ("Scan", 1),
        ("PutObject", 3),
        ("PutItem", 1),
    ]
    .into_iter()
    .collect();
    let describe_min: usize = minimum
        .iter()
        .filter(|(k, _)| {
            k.starts_with("Describe")
                && !["DescribeVpcEndpointServicePermissions", "DescribeTargetGroups", "DescribeTargetHealth"]
                    .contains(k)
        })
        .map(|(_, n)| n)
        .sum();
    let per_service = services * 2 + target_groups;

    println!("\ndrift-auditor, one scheduled run ({})", vpcwarden_tests::bin_path("drift-auditor").display());
    println!("  wall time   {:.2} s", wall.as_secs_f64());
    println!("  peak RSS    {:.1} MB ({rss} kB)", rss as f64 / 1024.0);
    println!("  findings    {} {}", answer["total"], answer["findings"]);
    for line in f.logs().lines().filter(|l| l.contains("elapsed_ms")) {
        println!("  log         {line}");
    }
    println!("\n| service | operation | calls | minimum |\n|---|---|---|---|");
    let mut total = 0;
    for ((service, action), n) in &calls {
        total += n;
        let min = minimum.get(action.as_str()).map(|m| m.to_string()).unwrap_or_else(|| "–".into());
        println!("| {service} | {action} | {n} | {min} |");
    }
    let budget = (describe_min as f64 * 1.1).floor() as usize + per_service + 6;
    println!(
        "\n{total} calls in all; the target is at most {budget} (listing minimum {describe_min} + 10%, one call per \
         service ({}) and target group ({target_groups}), 1 STS, 1 Scan, 3 PutObject, 1 PutItem)",
        services * 2
    );
    let ok = total <= budget && rss < 96 * 1024;
    println!("{}", if ok { "within targets" } else { "OUTSIDE TARGETS" });
}
