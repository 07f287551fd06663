//! The floor of an audit: the Describe calls drift-auditor makes, at the largest page sizes, in
//! the same order and with the same concurrency, and nothing done with the answers. The audit bench runs it against the
//! same estate as the auditor and Cloud Custodian; what each spends above it is its overhead.
//! Prints one JSON line: `{"calls": n, "items": {...}}`. Environment: the usual AWS variables.
//!
//! `describe-floor peerings` issues only what Cloud Custodian's peering policies read (all
//! peering connections and all route tables, one unbounded page each, one after the other, as c7n
//! asks): the floor of its run, so each program's overhead is measured above the calls it makes
//! itself, made the way it makes them.
use aws_sdk_ec2::types::Filter;
use futures::stream::{self, StreamExt};
use serde_json::json;

/// Per-service calls in flight: drift-auditor's bound (shared/src/auditor/observe.rs).
const SERVICE_CALLS: usize = 4;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    if std::env::args().nth(1).as_deref() == Some("peerings") {
        let peerings = async {
            let mut pages = ec2.describe_vpc_peering_connections().into_paginator().send();
            let mut items = 0;
            while let Some(page) = pages.next().await {
                items += page?.vpc_peering_connections().len();
            }
            Ok::<_, Error>(items)
        };
        let tables = async {
            let mut pages = ec2.describe_route_tables().into_paginator().send();
            let mut items = 0;
            while let Some(page) = pages.next().await {
                items += page?.route_tables().len();
            }
            Ok::<_, Error>(items)
        };
        // One after the other, as Cloud Custodian reads them (peerings, then its missing-route
        // filter's route tables).
        let peerings = peerings.await?;
        let tables = tables.await?;
        println!("{}", json!({"items": {"peerings": peerings, "route_tables": tables}}));
        return Ok(());
    }

    let vpcs = async {
        let mut pages = ec2.describe_vpcs().max_results(1000).into_paginator().send();
        let (mut calls, mut items) = (0, 0);
        while let Some(page) = pages.next().await {
            (calls, items) = (calls + 1, items + page?.vpcs().len());
        }
        Ok::<_, Error>((calls, items))
    };
    let tables = async {
        let mut pages = ec2.describe_route_tables().max_results(100).into_paginator().send();
        let (mut calls, mut items) = (0, 0);
        while let Some(page) = pages.next().await {
            (calls, items) = (calls + 1, items + page?.route_tables().len());
        }
        Ok::<_, Error>((calls, items))
    };
    let peerings = async {
        let mut pages = ec2.describe_vpc_peering_connections().max_results(1000).into_paginator().send();
        let (mut calls, mut items) = (0, 0);
        while let Some(page) = pages.next().await {
            (calls, items) = (calls + 1, items + page?.vpc_peering_connections().len());
        }
        Ok::<_, Error>((calls, items))
    };
    let services = async {
        let mut pages = ec2.describe_vpc_endpoint_service_configurations().max_results(1000).into_paginator().send();
        let (mut calls, mut all) = (0, Vec::new());
        while let Some(page) = pages.next().await {
            calls += 1;
            all.extend(page?.service_configurations().iter().cloned());
        }
        Ok::<_, Error>((calls, all))
    };
    // drift-auditor's two independent chains (shared/src/auditor/observe.rs): the network
    // listings, and the endpoint services followed by their per-service calls.
    let network = async { tokio::try_join!(vpcs, tables, peerings) };
    let privatelink = async {
        let (service_calls, services) = services.await?;
        let ids: Vec<String> = services.iter().filter_map(|s| s.service_id().map(str::to_string)).collect();
        let lbs: Vec<String> = services.iter().flat_map(|s| s.network_load_balancer_arns().to_vec()).collect();
        per_service(&ec2, &elb, &ids, &lbs)
            .await
            .map(|(calls, connections)| (service_calls + calls, ids.len(), connections))
    };
    let ((vpcs, tables, peerings), (service_calls, services, connections)) = tokio::try_join!(network, privatelink)?;
    let calls = vpcs.0 + tables.0 + peerings.0 + service_calls;
    let items = json!({"vpcs": vpcs.1, "route_tables": tables.1, "peerings": peerings.1,
                       "services": services, "connections": connections});
    println!("{}", json!({ "calls": calls, "items": items }));
    Ok(())
}

/// The connections of `ids`, their allowed principals and their load balancers' target health:
/// (calls, connections).
async fn per_service(
    ec2: &aws_sdk_ec2::Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    ids: &[String],
    lbs: &[String],
) -> Result<(usize, usize), Error> {
    let connections = async {
        let (mut calls, mut items) = (0, 0);
        for chunk in ids.chunks(200) {
            let filter = Filter::builder().name("service-id").set_values(Some(chunk.to_vec())).build();
            let mut pages =
                ec2.describe_vpc_endpoint_connections().filters(filter).max_results(1000).into_paginator().send();
            while let Some(page) = pages.next().await {
                (calls, items) = (calls + 1, items + page?.vpc_endpoint_connections().len());
            }
        }
        Ok::<_, Error>((calls, items))
    };
    let permissions = stream::iter(ids.iter())
        .map(|id| ec2.describe_vpc_endpoint_service_permissions().service_id(id).max_results(1000).send())
        .buffered(SERVICE_CALLS)
        .collect::<Vec<_>>();
    let health = stream::iter(lbs.iter())
        .map(|arn| {
            let elb = &elb;
            async move {
                let groups = elb.describe_target_groups().load_balancer_arn(arn).send().await;
                let arns: Vec<String> = groups
                    .map(|g| {
                        g.target_groups().iter().filter_map(|g| g.target_group_arn().map(str::to_string)).collect()
                    })
                    .unwrap_or_default();
                for tg in &arns {
                    elb.describe_target_health().target_group_arn(tg).send().await?;
                }
                Ok::<_, Error>(1 + arns.len())
            }
        })
        .buffered(SERVICE_CALLS)
        .collect::<Vec<_>>();
    let (connections, permissions, health) = tokio::join!(connections, permissions, health);
    let connections = connections?;
    for p in &permissions {
        p.as_ref().map_err(|e| format!("DescribeVpcEndpointServicePermissions: {e}"))?;
    }
    let mut health_calls = 0;
    for h in health {
        health_calls += h?;
    }
    Ok((connections.0 + permissions.len() + health_calls, connections.1))
}
