//! EC2 endpoint-service adapter: the services this account owns, their connections (in and out
//! of domain types), the batched Accept/Reject calls with their `Unsuccessful[]`, and the
//! services' allowed principals.
use aws_sdk_ec2::types::UnsuccessfulItem;
use aws_sdk_ec2::Client;

use super::ec2::filter;
use crate::domain::{Connection, ConnectionState, Failure};
use crate::error::{Error, Result};
use vpcwarden_core::endpoint::PrincipalChange;

#[derive(Clone, Debug)]
pub struct Endpoints {
    client: Client,
}

/// An endpoint service owned by this account.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub acceptance_required: bool,
    /// Network and Gateway Load Balancers behind the service.
    pub load_balancers: Vec<String>,
}

/// Connection states that matter for deciding (pending, and those holding a quota slot).
pub(crate) const LIVE_STATES: [&str; 4] = ["pendingAcceptance", "pending", "available", "partial"];

/// EC2 accepts at most 200 values in one filter.
const FILTER_VALUES: usize = 200;

impl Endpoints {
    pub fn new(client: Client) -> Self {
        Endpoints { client }
    }

    /// Every endpoint service this account owns, all pages.
    pub async fn services(&self) -> Result<Vec<Service>> {
        let mut pages =
            self.client.describe_vpc_endpoint_service_configurations().max_results(1000).into_paginator().send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeVpcEndpointServiceConfigurations", e))?;
            all.extend(page.service_configurations().iter().filter_map(|s| {
                Some(Service {
                    id: s.service_id()?.to_string(),
                    name: s.service_name().unwrap_or_default().to_string(),
                    acceptance_required: s.acceptance_required().unwrap_or(false),
                    load_balancers: s
                        .network_load_balancer_arns()
                        .iter()
                        .chain(s.gateway_load_balancer_arns())
                        .cloned()
                        .collect(),
                })
            }));
        }
        Ok(all)
    }

    /// The connections of the given services (one paginated call per 200 services), optionally
    /// only in the given states. Re-checked client-side: the filters are an optimisation.
    pub async fn connections(&self, service_ids: &[String], states: Option<&[&str]>) -> Result<Vec<Connection>> {
        let mut all = Vec::new();
        for chunk in service_ids.chunks(FILTER_VALUES) {
            let mut filters = vec![filter("service-id", chunk.iter().cloned())];
            if let Some(states) = states {
                filters.push(filter("vpc-endpoint-state", states.iter().copied()));
            }
            let mut pages = self
                .client
                .describe_vpc_endpoint_connections()
                .set_filters(Some(filters))
                .max_results(1000)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| Error::aws("DescribeVpcEndpointConnections", e))?;
                all.extend(
                    page.vpc_endpoint_connections()
                        .iter()
                        .filter_map(to_connection)
                        .filter(|c| chunk.contains(&c.service_id))
                        .filter(|c| states.is_none_or(|s| s.iter().any(|s| ConnectionState::parse(s) == c.state))),
                );
            }
        }
        Ok(all)
    }

    /// One AcceptVpcEndpointConnections call for every id; the ids it could not accept.
    pub async fn accept(&self, service_id: &str, endpoint_ids: &[String]) -> Result<Vec<Failure>> {
        if endpoint_ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .accept_vpc_endpoint_connections()
            .service_id(service_id)
            .set_vpc_endpoint_ids(Some(endpoint_ids.to_vec()))
            .send()
            .await
            .map_err(|e| Error::aws("AcceptVpcEndpointConnections", e))?;
        Ok(failures(out.unsuccessful()))
    }

    /// One RejectVpcEndpointConnections call for every id (an `available` connection is
    /// disconnected); the ids it could not reject.
    pub async fn reject(&self, service_id: &str, endpoint_ids: &[String]) -> Result<Vec<Failure>> {
        if endpoint_ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .reject_vpc_endpoint_connections()
            .service_id(service_id)
            .set_vpc_endpoint_ids(Some(endpoint_ids.to_vec()))
            .send()
            .await
            .map_err(|e| Error::aws("RejectVpcEndpointConnections", e))?;
        Ok(failures(out.unsuccessful()))
    }

    /// The service's allowed principals, all pages.
    pub async fn allowed_principals(&self, service_id: &str) -> Result<Vec<String>> {
        let mut pages = self
            .client
            .describe_vpc_endpoint_service_permissions()
            .service_id(service_id)
            .max_results(1000)
            .into_paginator()
            .send();
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("DescribeVpcEndpointServicePermissions", e))?;
            all.extend(page.allowed_principals().iter().filter_map(|p| p.principal().map(str::to_string)));
        }
        Ok(all)
    }

    /// Applies a principal change in one call. `*` is refused here too, whatever the caller.
    pub(crate) async fn modify_principals(&self, service_id: &str, change: &PrincipalChange) -> Result<()> {
        if change.is_empty() {
            return Ok(());
        }
        if change.add.iter().any(|p| p.trim() == "*") {
            return Err(Error::Unexpected(format!("refusing to allow `*` on {service_id}")));
        }
        let mut req = self.client.modify_vpc_endpoint_service_permissions().service_id(service_id);
        if !change.add.is_empty() {
            req = req.set_add_allowed_principals(Some(change.add.clone()));
        }
        if !change.remove.is_empty() {
            req = req.set_remove_allowed_principals(Some(change.remove.clone()));
        }
        match req.send().await {
            Ok(out) if out.return_value() == Some(false) => Err(Error::Incomplete {
                operation: "ModifyVpcEndpointServicePermissions",
                what: format!("the permissions of {service_id} were not changed"),
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(Error::aws("ModifyVpcEndpointServicePermissions", e)),
        }
    }
}

fn failures(items: &[UnsuccessfulItem]) -> Vec<Failure> {
    items
        .iter()
        .map(|item| {
            let error = item.error();
            Failure {
                endpoint_id: item.resource_id().unwrap_or("?").to_string(),
                code: error.and_then(|e| e.code()).unwrap_or("Unknown").to_string(),
                message: error.and_then(|e| e.message()).unwrap_or_default().to_string(),
            }
        })
        .collect()
}

pub(crate) fn to_connection(c: &aws_sdk_ec2::types::VpcEndpointConnection) -> Option<Connection> {
    Some(Connection {
        endpoint_id: c.vpc_endpoint_id()?.to_string(),
        service_id: c.service_id()?.to_string(),
        account: c.vpc_endpoint_owner().unwrap_or_default().to_string(),
        // aws-sdk-ec2 parses the camelCase wire value as `Unknown(..)`: compare the string.
        state: ConnectionState::parse(c.vpc_endpoint_state().map_or("", |s| s.as_str())),
        created_at: c.creation_timestamp().map(|t| t.secs()),
    })
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
