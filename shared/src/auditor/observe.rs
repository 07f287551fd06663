//! Reading one scope once: VPCs, route tables, peering connections, endpoint services with their
//! allowed principals, connections and load-balancer health, and the ledger's word on the dead
//! connections that routes still point at. Every listing is paginated; reads within a scope run
//! concurrently but bounded, so EC2's per-action request buckets (refilling ~20/s) are not
//! drained by one scope; the SDK's standard retries absorb the rest.
use std::collections::{BTreeSet, HashMap};

use aws_config::SdkConfig;
use futures::{StreamExt, TryStreamExt};

use super::Auditor;
use crate::aws::ec2::Ec2;
use crate::aws::elbv2::Elbv2;
use crate::aws::endpoints::{Endpoints, Service};
use crate::domain::route::routed_peerings;
use crate::domain::Connection;
use crate::domain::{Peering, PeeringStatus, RouteTable};
use crate::error::Result;
use vpcwarden_core::audit::{EndpointService, Observed};

/// Per-service calls (allowed principals, target health) in flight in one scope.
const SERVICE_CALLS: usize = 4;
/// Ledger look-ups in flight in one scope.
const LEDGER_CALLS: usize = 8;

/// One scope, read.
pub(super) struct Scope {
    pub observed: Observed,
    /// The scope's EC2 adapter, for remediation.
    pub ec2: Ec2,
    pub notes: Vec<String>,
    /// Every endpoint service the scope owns (whether audited or not).
    pub owned_services: Vec<String>,
    /// The SDK configuration acting in the scope (for its Security Hub export).
    pub config: SdkConfig,
}

pub(super) async fn scope(ctx: &Auditor, config: &SdkConfig, account: &str, region: &str) -> Result<Scope> {
    let client = aws_sdk_ec2::Client::new(config);
    let ec2 = Ec2::new(client.clone());
    let endpoints = Endpoints::new(client);
    let elbv2 = Elbv2::new(aws_sdk_elasticloadbalancingv2::Client::new(config));
    let mut notes = Vec::new();
    // Two independent chains: the network listings (then the ledger's word on the connections
    // they show) and the endpoint services (then their per-service calls). Neither waits for the
    // other, so the scope takes as long as the slower chain, not the sum of their slowest steps.
    let network = async {
        let (vpcs, route_tables, peerings) =
            tokio::try_join!(ec2.vpcs(), ec2.route_tables(Vec::new()), ec2.peerings(Vec::new()))?;
        let ledger_accepted = ledger_accepted(ctx, &peerings, &route_tables).await?;
        Ok::<_, crate::error::Error>((vpcs, route_tables, peerings, ledger_accepted))
    };
    let privatelink = async {
        let owned = endpoints.services().await?;
        let owned_services: Vec<String> = owned.iter().map(|s| s.id.clone()).collect();
        let audited: Vec<Service> = owned
            .into_iter()
            .filter(|s| ctx.config.endpoint_service_ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
            .collect();
        let services = services(&endpoints, &elbv2, audited, &mut notes).await?;
        Ok::<_, crate::error::Error>((owned_services, services))
    };
    let ((vpcs, route_tables, peerings, ledger_accepted), (owned_services, services)) =
        tokio::try_join!(network, privatelink)?;
    let observed = Observed {
        account: account.to_string(),
        region: region.to_string(),
        vpcs,
        peerings,
        route_tables,
        services,
        ledger_accepted,
        holds_allowlist: false,
    };
    Ok(Scope { observed, ec2, notes, owned_services, config: config.clone() })
}

/// The audited services with their principals, connections and load-balancer health. A health
/// that cannot be read is a note (the service is audited without it), not a failed scope.
async fn services(
    endpoints: &Endpoints,
    elbv2: &Elbv2,
    services: Vec<Service>,
    notes: &mut Vec<String>,
) -> Result<Vec<EndpointService>> {
    let ids: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
    let principals = futures::stream::iter(services.iter().map(|s| endpoints.allowed_principals(&s.id)))
        .buffered(SERVICE_CALLS)
        .try_collect::<Vec<Vec<String>>>();
    let arns: Vec<(usize, String)> = services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.load_balancers.iter().map(move |arn| (i, arn.clone())))
        .collect();
    let health = futures::stream::iter(arns.into_iter().map(|(i, arn)| async move {
        let health = elbv2.health(&arn).await;
        (i, arn, health)
    }))
    .buffered(SERVICE_CALLS)
    .collect::<Vec<_>>();
    let (connections, principals, health) = tokio::join!(endpoints.connections(&ids, None), principals, health);
    let (connections, principals): (Vec<Connection>, Vec<Vec<String>>) = (connections?, principals?);
    let mut out: Vec<EndpointService> = services
        .into_iter()
        .zip(principals)
        .map(|(s, allowed_principals)| EndpointService {
            connections: connections.iter().filter(|c| c.service_id == s.id).cloned().collect(),
            id: s.id,
            name: s.name,
            acceptance_required: s.acceptance_required,
            allowed_principals,
            load_balancers: Vec::new(),
        })
        .collect();
    for (i, arn, result) in health {
        match result {
            Ok(h) => out[i].load_balancers.push(h),
            Err(e) => notes.push(format!("{}: the health of {arn} cannot be read: {e}", out[i].id)),
        }
    }
    Ok(out)
}

/// Whether vpcwarden accepted the connections that carry no managed tag, from the ledger (as
/// peering-acceptor records it): the active ones (a tag can be removed, and some APIs show only
/// the requester's tags) and the dead or vanished ones that routes still point at.
async fn ledger_accepted(ctx: &Auditor, peerings: &[Peering], tables: &[RouteTable]) -> Result<BTreeSet<String>> {
    let by_id: HashMap<&str, &Peering> = peerings.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut unknown: BTreeSet<&str> = routed_peerings(tables)
        .into_iter()
        .filter(|id| match by_id.get(id) {
            None => true,
            Some(p) => p.status.is_dead() && !p.is_managed(),
        })
        .collect();
    unknown.extend(
        peerings.iter().filter(|p| p.status == PeeringStatus::Active && !p.is_managed()).map(|p| p.id.as_str()),
    );
    let found: Vec<Option<String>> = futures::stream::iter(unknown.into_iter().map(|id| async move {
        Ok::<_, crate::error::Error>(ctx.ledger.was_accepted(id).await?.then(|| id.to_string()))
    }))
    .buffer_unordered(LEDGER_CALLS)
    .try_collect()
    .await?;
    Ok(found.into_iter().flatten().collect())
}
