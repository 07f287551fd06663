//! Elastic Load Balancing v2 adapter: target health of endpoint services' load balancers, so the
//! approver can warn before connecting a consumer to a service that answers nobody.
use aws_sdk_elasticloadbalancingv2::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::domain::{LoadBalancerHealth, TargetGroupHealth};
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Elbv2 {
    client: Client,
}

impl Elbv2 {
    pub fn new(client: Client) -> Self {
        Elbv2 { client }
    }

    /// The target groups of one load balancer (all pages) and how many of their targets are
    /// healthy.
    pub async fn health(&self, load_balancer_arn: &str) -> Result<LoadBalancerHealth> {
        let mut pages =
            self.client.describe_target_groups().load_balancer_arn(load_balancer_arn).into_paginator().send();
        let mut group_arns = Vec::new();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                // A load balancer without target groups (AWS answers an empty list; some
                // implementations answer this code).
                Err(e) if e.code() == Some("TargetGroupNotFound") => break,
                Err(e) => return Err(Error::aws("DescribeTargetGroups", e)),
            };
            group_arns.extend(page.target_groups().iter().filter_map(|g| g.target_group_arn().map(str::to_string)));
        }
        let mut target_groups = Vec::with_capacity(group_arns.len());
        for arn in group_arns {
            let out = self
                .client
                .describe_target_health()
                .target_group_arn(&arn)
                .send()
                .await
                .map_err(|e| Error::aws("DescribeTargetHealth", e))?;
            let targets = out.target_health_descriptions();
            let healthy = targets
                .iter()
                .filter(|t| {
                    t.target_health()
                        .and_then(|h| h.state())
                        .is_some_and(|s| s.as_str().eq_ignore_ascii_case("healthy"))
                })
                .count();
            target_groups.push(TargetGroupHealth { arn, healthy: healthy as u32, total: targets.len() as u32 });
        }
        Ok(LoadBalancerHealth { arn: load_balancer_arn.to_string(), target_groups })
    }
}
