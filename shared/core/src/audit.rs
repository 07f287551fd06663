//! The pure drift audit (issue 5): what the allowlist and configuration say should be
//! ([`Desired`]) against what one scope — one account in one region — holds ([`Observed`]),
//! as findings with stable codes, and the safe part of the drift as route changes
//! ([`plan_remediation`]). No I/O, no SDK types.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::IpNet;
use serde::Serialize;

use crate::decide::live_grant;
use crate::domain::cidr::overlaps;
use crate::domain::ids::is_account_id;
use crate::domain::route::{managed_tables, routed_peerings, select_tables};
use crate::domain::{Connection, ConnectionState, LoadBalancerHealth};
use crate::domain::{
    EndpointGrant, Finding, FindingCode, Peering, PeeringGrant, PeeringStatus, RouteTable, RouteTarget, Side,
    TagFilter, Vpc, VpcScope,
};
use crate::plan::{plan_cleanup, plan_routes, RouteChange};

/// AWS expires a pending peering request this long after it was made.
pub const PENDING_LIFETIME: i64 = 7 * 24 * 3600;

/// What should be: the allowlist and the auditor's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    pub peering_grants: Vec<PeeringGrant>,
    pub endpoint_grants: Vec<EndpointGrant>,
    /// `ROUTE_TABLE_TAG`: only tables with this tag are managed (`None`: every table).
    pub route_table_tag: Option<TagFilter>,
    /// `STALE_PENDING_HOURS`, in seconds.
    pub stale_pending: i64,
    /// `EXPIRY_WARNING_DAYS`, in seconds.
    pub expiry_warning: i64,
}

/// An endpoint service this scope owns, with everything the audit looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointService {
    pub id: String,
    pub name: String,
    pub acceptance_required: bool,
    pub allowed_principals: Vec<String>,
    pub connections: Vec<Connection>,
    /// The service's load balancers and the health of their target groups.
    pub load_balancers: Vec<LoadBalancerHealth>,
}

/// What one scope (an account in a region) holds, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub account: String,
    pub region: String,
    pub vpcs: Vec<Vpc>,
    /// Every connection the scope describes, whichever side it is on.
    pub peerings: Vec<Peering>,
    pub route_tables: Vec<RouteTable>,
    pub services: Vec<EndpointService>,
    /// Connections the ledger says vpcwarden accepted (their tag may be gone with them).
    pub ledger_accepted: BTreeSet<String>,
    /// Whether this scope reports on the allowlist itself (GRANT_EXPIRING): one scope per run.
    pub holds_allowlist: bool,
}

impl Observed {
    fn holds(&self, side: &crate::domain::VpcSide) -> bool {
        side.account == self.account && (side.region.is_empty() || side.region == self.region)
    }

    /// vpcwarden accepted it: its tag, or its ledger.
    pub fn is_managed(&self, p: &Peering) -> bool {
        p.is_managed() || self.ledger_accepted.contains(&p.id)
    }

    /// The connection as the audit judges it: each side held here also gets the CIDRs its VPC
    /// has now (blocks associated after the request are missing from the request's VPC info).
    fn enriched(&self, p: &Peering, vpcs: &HashMap<&str, &Vpc>) -> Peering {
        let mut p = p.clone();
        for side in [Side::Accepter, Side::Requester] {
            let held = self.holds(p.side(side));
            let info = match side {
                Side::Accepter => &mut p.accepter,
                Side::Requester => &mut p.requester,
            };
            if let Some(vpc) = vpcs.get(info.vpc_id.as_str()).filter(|_| held) {
                info.cidrs.extend(vpc.cidrs.iter().copied());
                info.cidrs.sort();
                info.cidrs.dedup();
            }
        }
        p
    }

    /// The sides of `p` whose VPC lies in this scope.
    fn sides_here(&self, p: &Peering) -> Vec<Side> {
        [Side::Accepter, Side::Requester].into_iter().filter(|s| self.holds(p.side(*s))).collect()
    }
}

/// The scope indexed once per audit: the per-connection and per-route look-ups would otherwise
/// scan every VPC, table and connection (quadratic: 0.7 s for 10,000 tables).
struct Scope<'a> {
    /// Every connection, [enriched](Observed::enriched), in the observed order.
    peerings: Vec<Peering>,
    by_id: HashMap<String, usize>,
    tables_by_vpc: HashMap<&'a str, Vec<&'a RouteTable>>,
}

impl<'a> Scope<'a> {
    fn new(observed: &'a Observed) -> Self {
        let vpcs: HashMap<&str, &Vpc> = observed.vpcs.iter().map(|v| (v.id.as_str(), v)).collect();
        let peerings: Vec<Peering> = observed.peerings.iter().map(|p| observed.enriched(p, &vpcs)).collect();
        let mut by_id = HashMap::with_capacity(peerings.len());
        for (i, p) in peerings.iter().enumerate() {
            by_id.entry(p.id.clone()).or_insert(i);
        }
        let mut tables_by_vpc: HashMap<&str, Vec<&RouteTable>> = HashMap::new();
        for t in &observed.route_tables {
            tables_by_vpc.entry(t.vpc_id.as_str()).or_default().push(t);
        }
        Scope { peerings, by_id, tables_by_vpc }
    }

    fn peering(&self, id: &str) -> Option<&Peering> {
        self.by_id.get(id).map(|i| &self.peerings[*i])
    }

    /// The tables of `vpc` that `tag` selects, in the observed order.
    fn tables(&self, vpc: &str, tag: Option<&TagFilter>) -> Vec<&'a RouteTable> {
        let all = self.tables_by_vpc.get(vpc).map(Vec::as_slice).unwrap_or_default();
        select_tables(all.iter().copied(), vpc, tag)
    }
}

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

/// The account an allowed principal belongs to: `arn:<partition>:iam::<account>:…` or a bare id.
pub fn principal_account(principal: &str) -> Option<&str> {
    let principal = principal.trim();
    if is_account_id(principal) {
        return Some(principal);
    }
    let mut parts = principal.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("iam"), Some(""), Some(account)) if is_account_id(account) => Some(account),
        _ => None,
    }
}

fn cidr_list(cidrs: &[IpNet]) -> String {
    let list: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
    if list.is_empty() {
        "no CIDR".into()
    } else {
        list.join(", ")
    }
}

fn hours(seconds: i64) -> String {
    let h = seconds as f64 / 3600.0;
    if h >= 48.0 {
        format!("{:.1} days", h / 24.0)
    } else {
        format!("{h:.0} hours")
    }
}

/// Builds findings for one scope.
struct Findings<'a> {
    observed: &'a Observed,
    out: Vec<Finding>,
}

impl Findings<'_> {
    fn push(&mut self, code: FindingCode, resource: &str, message: String, remediation: String) {
        self.out.push(Finding {
            code,
            severity: code.severity(),
            resource: resource.to_string(),
            account: self.observed.account.clone(),
            region: self.observed.region.clone(),
            message,
            remediation,
        });
    }
}

/// Every finding of one scope, most severe first (then by code, resource and message).
///
/// Peering findings about a connection as a whole (pending, grant, overlap, DNS) come from the
/// accepter's scope; route findings from the scope that holds the route table. A route to a
/// connection that is not `active` — deleted, rejected, expired, failed, still pending, or no
/// longer described at all — is a blackhole whatever the route's own state says.
pub fn audit(desired: &Desired, observed: &Observed, now: i64) -> Vec<Finding> {
    let mut f = Findings { observed, out: Vec::new() };
    let scope = Scope::new(observed);
    for p in &scope.peerings {
        audit_peering(desired, &mut f, p, now);
        audit_peering_routes(desired, &mut f, &scope, p);
    }
    audit_blackholes(&mut f, &scope);
    for service in &observed.services {
        audit_service(desired, &mut f, service, now);
    }
    if observed.holds_allowlist {
        audit_grants(desired, &mut f, now);
    }
    let mut out = f.out;
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), a.code, &a.resource, &a.message).cmp(&(
            std::cmp::Reverse(b.severity),
            b.code,
            &b.resource,
            &b.message,
        ))
    });
    out.dedup();
    out
}

fn audit_peering(desired: &Desired, f: &mut Findings, p: &Peering, now: i64) {
    if !f.observed.holds(&p.accepter) {
        return;
    }
    let requester = format!("{}/{} ({})", p.requester.account, p.requester.vpc_id, cidr_list(&p.requester.cidrs));
    let grant = live_grant(&desired.peering_grants, p, now);
    match &p.status {
        PeeringStatus::PendingAcceptance => {
            if grant.is_none() {
                f.push(
                    FindingCode::PeeringPendingUnlisted,
                    &p.id,
                    format!("pending request from {requester} into {} has no live peering grant", p.accepter.vpc_id),
                    format!(
                        "Reject {} if it is not expected; otherwise add a peering grant for account {} \
                         (peering#{} or peering#*) and let peering-acceptor accept it.",
                        p.id, p.requester.account, p.accepter.vpc_id
                    ),
                );
            }
            if let Some(expires_at) = p.expires_at {
                let waiting = now - (expires_at - PENDING_LIFETIME);
                if waiting > desired.stale_pending {
                    f.push(
                        FindingCode::PeeringPendingStale,
                        &p.id,
                        format!(
                            "request from {requester} into {} has been pending for {} (AWS expires it in {})",
                            p.accepter.vpc_id,
                            hours(waiting),
                            hours((expires_at - now).max(0))
                        ),
                        if grant.is_some() {
                            "A grant covers it but it was not accepted: check peering-acceptor's ledger entry for \
                             this connection (a refused CIDR check, or the sweep not running)."
                                .into()
                        } else {
                            "Accept it (after adding a grant) or reject it, rather than letting it expire.".into()
                        },
                    );
                }
            }
        }
        PeeringStatus::Active => match grant {
            None => f.push(
                FindingCode::PeeringNotAllowlisted,
                &p.id,
                format!("active peering with {requester} into {} has no live peering grant", p.accepter.vpc_id),
                format!(
                    "Delete {} if the peering is no longer wanted (vpcwarden then removes its routes), or \
                         grant account {} again.",
                    p.id, p.requester.account
                ),
            ),
            Some(g) => {
                if let Some(want) = g.dns_resolution {
                    let have = p.accepter_dns_resolution.unwrap_or(false);
                    if have != want {
                        f.push(
                            FindingCode::PeeringDnsDrift,
                            &p.id,
                            format!(
                                "DNS resolution from the accepter VPC {} is {}, the grant says {}",
                                p.accepter.vpc_id,
                                if have { "enabled" } else { "disabled" },
                                if want { "enabled" } else { "disabled" }
                            ),
                            format!(
                                "Run ModifyVpcPeeringConnectionOptions on {} with \
                                     AllowDnsResolutionFromRemoteVpc={want} for the accepter, or change the grant.",
                                p.id
                            ),
                        );
                    }
                }
            }
        },
        _ => {}
    }
    if !p.status.is_dead() {
        for r in &p.requester.cidrs {
            if let Some(a) = p.accepter.cidrs.iter().find(|a| overlaps(r, a)) {
                f.push(
                    FindingCode::PeeringCidrOverlap,
                    &p.id,
                    format!(
                        "requester {}/{} CIDR {r} overlaps accepter {} CIDR {a} ({})",
                        p.requester.account,
                        p.requester.vpc_id,
                        p.accepter.vpc_id,
                        p.status.as_str()
                    ),
                    "Traffic to the overlapping range cannot be routed to both VPCs: renumber one VPC or remove \
                     the overlapping secondary block, then re-peer."
                        .into(),
                );
            }
        }
    }
}

/// Missing and conflicting routes of an active connection vpcwarden manages, in the managed
/// tables of each side held here.
fn audit_peering_routes(desired: &Desired, f: &mut Findings, scope: &Scope, p: &Peering) {
    if p.status != PeeringStatus::Active || !f.observed.is_managed(p) {
        return;
    }
    for side in f.observed.sides_here(p) {
        let vpc = p.side(side).vpc_id.clone();
        let tables = scope.tables(&vpc, desired.route_table_tag.as_ref());
        for change in plan_routes(p, side, &tables) {
            match change {
                RouteChange::Create { route_table, destination, pcx } => f.push(
                    FindingCode::PeeringRouteMissing,
                    &route_table,
                    format!("{route_table} ({vpc}, {side:?} side) has no route {destination} -> {pcx}"),
                    format!(
                        "Add the route {destination} -> {pcx} to {route_table}; drift-auditor with \
                         REMEDIATE=true (or the next peering-acceptor sweep) recreates it."
                    ),
                ),
                RouteChange::Conflict { route_table, destination, existing } => f.push(
                    FindingCode::PeeringRouteConflict,
                    &route_table,
                    format!("{route_table} ({vpc}) routes peer CIDR {destination} to {existing}, not to {}", p.id),
                    format!(
                        "Decide which target should carry {destination}: vpcwarden never overwrites it. Remove \
                         the route to {existing} if the peering should win."
                    ),
                ),
                RouteChange::Delete { .. } => {}
            }
        }
        // More specific routes elsewhere capture part of the peer's traffic.
        let peer = p.peer_cidrs(side);
        for table in &tables {
            for route in &table.routes {
                // Equal destinations are the plan's conflicts above; here, the more specific ones.
                let captured = peer.iter().find(|c| route.captures(c, &p.id) && &route.destination != *c);
                if let Some(cidr) = captured {
                    f.push(
                        FindingCode::PeeringRouteConflict,
                        &table.id,
                        format!(
                            "{} ({vpc}) routes {} (inside peer CIDR {cidr} of {}) to {}",
                            table.id, route.destination, p.id, route.target
                        ),
                        format!(
                            "The more specific route wins over {cidr} -> {}: remove it if that part of the peer \
                             should be reached through the peering.",
                            p.id
                        ),
                    );
                }
            }
        }
    }
}

/// Why a route through `pcx` carries nothing, or `None` when it works.
fn dead_reason(known: Option<&Peering>, pcx: &str, route_blackhole: bool) -> Option<String> {
    match known {
        None => Some(format!("{pcx} is no longer described (deleted or unknown)")),
        Some(p) if p.status != PeeringStatus::Active => Some(format!("{pcx} is {}", p.status.as_str())),
        Some(_) if route_blackhole => Some("the route's state is blackhole".into()),
        Some(_) => None,
    }
}

fn audit_blackholes(f: &mut Findings, scope: &Scope) {
    for table in &f.observed.route_tables {
        for route in &table.routes {
            let RouteTarget::PeeringConnection(pcx) = &route.target else { continue };
            let known = scope.peering(pcx);
            let Some(why) = dead_reason(known, pcx, route.blackhole) else { continue };
            let managed = known.is_some_and(|p| f.observed.is_managed(p)) || f.observed.ledger_accepted.contains(pcx);
            f.push(
                FindingCode::PeeringRouteBlackhole,
                &table.id,
                format!("{} ({}): route {} -> {pcx} is a blackhole: {why}", table.id, table.vpc_id, route.destination),
                if managed {
                    format!(
                        "vpcwarden created it: drift-auditor with REMEDIATE=true (or the next peering-acceptor \
                         sweep) deletes it. By hand: delete {} from {}.",
                        route.destination, table.id
                    )
                } else {
                    format!("Delete the route {} from {} (vpcwarden did not create it).", route.destination, table.id)
                },
            );
        }
    }
}

fn audit_service(desired: &Desired, f: &mut Findings, s: &EndpointService, now: i64) {
    let grants = &desired.endpoint_grants;
    if !s.acceptance_required {
        f.push(
            FindingCode::EndpointServiceAutoAccept,
            &s.id,
            format!(
                "{} ({}) has AcceptanceRequired=false: any allowed principal connects without the allowlist",
                s.id, s.name
            ),
            format!("Run ModifyVpcEndpointServiceConfiguration on {} with AcceptanceRequired=true.", s.id),
        );
    }
    for principal in &s.allowed_principals {
        if principal.trim() == "*" {
            f.push(
                FindingCode::EndpointServiceWildcardPrincipal,
                &s.id,
                format!("{} allows the principal `*`: every AWS account can find and request it", s.id),
                format!(
                    "Remove `*` with ModifyVpcEndpointServicePermissions on {} (endpoint-approver with \
                     SYNC_PRINCIPALS=true keeps the principals equal to the grants).",
                    s.id
                ),
            );
            continue;
        }
        let granted = principal_account(principal).is_some_and(|a| endpoint_grant(grants, &s.id, a, now).is_some());
        if !granted {
            f.push(
                FindingCode::EndpointServicePrincipalUnlisted,
                &s.id,
                format!("{} allows {principal}, which has no live endpoint grant", s.id),
                format!(
                    "Remove {principal} from the service's allowed principals, or add an endpoint grant \
                     (endpoint#{} / account#…).",
                    s.id
                ),
            );
        }
    }
    for lb in &s.load_balancers {
        if lb.target_groups.is_empty() {
            f.push(
                FindingCode::EndpointServiceUnhealthy,
                &s.id,
                format!("{}: load balancer {} has no target group: consumers reach nothing", s.id, lb.arn),
                "Add a listener and a target group with healthy targets, or retire the service.".into(),
            );
        }
        for tg in lb.target_groups.iter().filter(|tg| tg.healthy == 0) {
            f.push(
                FindingCode::EndpointServiceUnhealthy,
                &s.id,
                format!(
                    "{}: target group {} of {} has no healthy target ({} registered)",
                    s.id, tg.arn, lb.arn, tg.total
                ),
                "Register healthy targets (or fix their health checks) behind the service's load balancer.".into(),
            );
        }
    }
    let mut by_account: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for c in s.connections.iter().filter(|c| c.service_id == s.id) {
        by_account.entry(&c.account).or_default().push(c);
    }
    for (account, conns) in by_account {
        let grant = endpoint_grant(grants, &s.id, account, now);
        for c in &conns {
            if c.state == ConnectionState::PendingAcceptance {
                let (message, remediation) = match grant {
                    Some(_) => (
                        format!(
                            "{} from {account} to {} is pending although a live grant covers it",
                            c.endpoint_id, s.id
                        ),
                        "endpoint-approver should have accepted it: check its ledger (vpce#…) for an over-quota \
                         refusal, and that its sweep and SNS trigger run."
                            .to_string(),
                    ),
                    None => (
                        format!("{} from {account} to {} is pending and unlisted (no live grant)", c.endpoint_id, s.id),
                        format!("Reject {} unless account {account} should be granted.", c.endpoint_id),
                    ),
                };
                f.push(FindingCode::EndpointPending, &c.endpoint_id, message, remediation);
            } else if c.state.holds_a_slot() && grant.is_none() {
                f.push(
                    FindingCode::EndpointNotAllowlisted,
                    &c.endpoint_id,
                    format!(
                        "{} from {account} is connected ({}) to {} without a live grant",
                        c.endpoint_id, c.state, s.id
                    ),
                    format!(
                        "Reject (disconnect) {} with RejectVpcEndpointConnections, or grant account {account} \
                         (endpoint-approver with REVOKE_ON_REMOVAL=true disconnects removed grants).",
                        c.endpoint_id
                    ),
                );
            }
        }
        let in_use = conns.iter().filter(|c| c.state.holds_a_slot()).count();
        if let Some(max) = grant.and_then(|g| g.max_endpoints) {
            if in_use > max as usize {
                f.push(
                    FindingCode::EndpointOverQuota,
                    &format!("{}/{account}", s.id),
                    format!("account {account} has {in_use} endpoints connected to {}, its grant allows {max}", s.id),
                    format!(
                        "Reject {} of the account's endpoints, or raise max_endpoints in its grant.",
                        in_use - max as usize
                    ),
                );
            }
        }
    }
}

fn audit_grants(desired: &Desired, f: &mut Findings, now: i64) {
    let soon = |expires_at: Option<i64>| expires_at.filter(|t| *t > now && *t <= now + desired.expiry_warning);
    for g in &desired.peering_grants {
        if let Some(t) = soon(g.expires_at) {
            let scope = match &g.scope {
                VpcScope::Any => "*".to_string(),
                VpcScope::Vpc(v) => v.clone(),
            };
            f.push(
                FindingCode::GrantExpiring,
                &format!("peering#{scope}/account#{}", g.account),
                format!("the peering grant for account {} into {scope} expires in {}", g.account, hours(t - now)),
                "Extend expires_at if the peering should stay; otherwise plan its removal (the acceptor stops \
                 accepting, the auditor reports the live peering as not allowlisted)."
                    .into(),
            );
        }
    }
    for g in &desired.endpoint_grants {
        if let Some(t) = soon(g.expires_at) {
            f.push(
                FindingCode::GrantExpiring,
                &format!("endpoint#{}/account#{}", g.service_id, g.account),
                format!(
                    "the endpoint grant for account {} on {} expires in {}",
                    g.account,
                    g.service_id,
                    hours(t - now)
                ),
                "Extend expires_at if the consumer should stay connected; with REVOKE_ON_REMOVAL=true its \
                 endpoints are disconnected when the grant goes."
                    .into(),
            );
        }
    }
}

/// The safe part of the drift, as route changes in this scope: recreate the missing routes of
/// active connections vpcwarden manages, and delete the routes vpcwarden created through
/// connections that are dead (deleted, rejected, expired, failed) or no longer described. Only
/// managed tables are touched, never a conflict, never a route vpcwarden did not create.
pub fn plan_remediation(desired: &Desired, observed: &Observed) -> Vec<RouteChange> {
    let tag = desired.route_table_tag.as_ref();
    let mut changes = Vec::new();
    let scope = Scope::new(observed);
    for p in scope.peerings.iter().filter(|p| p.status == PeeringStatus::Active && observed.is_managed(p)) {
        for side in observed.sides_here(p) {
            let tables = scope.tables(&p.side(side).vpc_id, tag);
            changes
                .extend(plan_routes(p, side, &tables).into_iter().filter(|c| matches!(c, RouteChange::Create { .. })));
        }
    }
    // Dead or vanished connections that vpcwarden accepted, routed from a managed table here.
    let routed = routed_peerings(&observed.route_tables);
    let managed = managed_tables(&observed.route_tables, tag);
    for pcx in routed {
        let known = scope.peering(pcx);
        let (dead, ours) = match known {
            Some(p) => (p.status.is_dead(), observed.is_managed(p)),
            None => (true, observed.ledger_accepted.contains(pcx)),
        };
        if !dead || !ours {
            continue;
        }
        match known {
            // Only the routes vpcwarden makes: the peer's CIDRs, in the tables of a side held here.
            Some(p) => {
                for side in observed.sides_here(p) {
                    let tables = scope.tables(&p.side(side).vpc_id, tag);
                    // A connection described without CIDRs: every route through it is dead.
                    let peer = p.peer_cidrs(side);
                    changes.extend(plan_cleanup(pcx, (!peer.is_empty()).then_some(peer), &tables));
                }
            }
            // Not described any more: every route through it can only be a blackhole.
            None => changes.extend(plan_cleanup(pcx, None, &managed)),
        }
    }
    changes
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
