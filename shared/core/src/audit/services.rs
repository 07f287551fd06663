//! Endpoint services this scope owns: how they admit consumers (acceptance, allowed
//! principals), whether anything answers behind them, and their connections per consumer
//! account (pending, connected without a grant, over the grant's quota).
use std::collections::BTreeMap;

use super::{Desired, EndpointService, Findings};
use crate::domain::ids::principal_account;
use crate::domain::{Connection, ConnectionState, EndpointGrant, Facts, SickTargetGroup};

/// The live endpoint grant for (service, account): the most generous limit wins.
fn endpoint_grant<'g>(
    grants: &'g [EndpointGrant],
    service: &str,
    account: &str,
    now: i64,
) -> Option<&'g EndpointGrant> {
    grants
        .iter()
        .filter(|g| g.service_id == service && g.account == account && g.is_live(now))
        .max_by_key(|g| g.max_endpoints.map_or(u64::MAX, u64::from))
}

pub(super) fn audit_service(desired: &Desired, f: &mut Findings, s: &EndpointService, now: i64) {
    admission(desired, f, s, now);
    health(f, s);
    let mut by_account: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for c in s.connections.iter().filter(|c| c.service_id == s.id) {
        by_account.entry(&c.account).or_default().push(c);
    }
    for (account, conns) in by_account {
        let grant = endpoint_grant(&desired.endpoint_grants, &s.id, account, now);
        connections(f, s, account, &conns, grant);
    }
}

/// Who may connect: acceptance must be required, and every allowed principal granted (a `*`
/// is its own, critical, finding rather than also an unlisted one).
fn admission(desired: &Desired, f: &mut Findings, s: &EndpointService, now: i64) {
    if !s.acceptance_required {
        f.push(Facts::EndpointServiceAutoAccept { service: s.id.clone(), name: s.name.clone() });
    }
    for principal in &s.allowed_principals {
        if principal.trim() == "*" {
            f.push(Facts::EndpointServiceWildcardPrincipal { service: s.id.clone() });
            continue;
        }
        let granted = principal_account(principal)
            .is_some_and(|a| endpoint_grant(&desired.endpoint_grants, &s.id, a, now).is_some());
        if !granted {
            f.push(Facts::EndpointServicePrincipalUnlisted { service: s.id.clone(), principal: principal.clone() });
        }
    }
}

/// A load balancer without a target group, or a target group without a healthy target,
/// answers nobody.
fn health(f: &mut Findings, s: &EndpointService) {
    for lb in &s.load_balancers {
        if lb.target_groups.is_empty() {
            f.push(Facts::EndpointServiceUnhealthy {
                service: s.id.clone(),
                load_balancer: lb.arn.clone(),
                target_group: None,
            });
        }
        for tg in lb.target_groups.iter().filter(|tg| tg.healthy == 0) {
            f.push(Facts::EndpointServiceUnhealthy {
                service: s.id.clone(),
                load_balancer: lb.arn.clone(),
                target_group: Some(SickTargetGroup { arn: tg.arn.clone(), registered: tg.total }),
            });
        }
    }
}

/// One consumer account's connections to the service, against its live grant.
fn connections(
    f: &mut Findings,
    s: &EndpointService,
    account: &str,
    conns: &[&Connection],
    grant: Option<&EndpointGrant>,
) {
    for c in conns {
        if c.state == ConnectionState::PendingAcceptance {
            f.push(Facts::EndpointPending {
                service: s.id.clone(),
                endpoint: c.endpoint_id.clone(),
                account: account.to_string(),
                granted: grant.is_some(),
            });
        } else if c.state.holds_a_slot() && grant.is_none() {
            f.push(Facts::EndpointNotAllowlisted {
                service: s.id.clone(),
                endpoint: c.endpoint_id.clone(),
                account: account.to_string(),
                state: c.state.clone(),
            });
        }
    }
    let in_use = conns.iter().filter(|c| c.state.holds_a_slot()).count();
    if let Some(max) = grant.and_then(|g| g.max_endpoints) {
        if in_use > max as usize {
            f.push(Facts::EndpointOverQuota { service: s.id.clone(), account: account.to_string(), in_use, max });
        }
    }
}
