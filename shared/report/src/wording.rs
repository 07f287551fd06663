//! The words of a finding: what drifted (the message) and what to do about it (the
//! remediation), from its facts. The one place that phrases findings for people: the JSON,
//! Markdown and HTML reports and the CLI all show these words.
use ipnet::IpNet;
use vpcwarden_core::domain::ids::principal_account;
use vpcwarden_core::domain::{
    AllowlistKey, ConnectionState, DeadReason, Facts, LedgerKey, PeeringStatus, Requester, RouteTarget,
    SickTargetGroup, Side, VpcScope,
};
use vpcwarden_core::Refusal;

/// What drifted, in one sentence.
pub fn message(facts: &Facts) -> String {
    words(facts).0
}

/// What to do about it.
pub fn remediation(facts: &Facts) -> String {
    words(facts).1
}

/// One function per kind of drift, each given the facts it words.
fn words(facts: &Facts) -> (String, String) {
    match facts {
        Facts::PeeringPendingUnlisted { pcx, requester, accepter_vpc } => {
            pending_unlisted(pcx, requester, accepter_vpc)
        }
        Facts::PeeringPendingStale { pcx, requester, accepter_vpc, pending_for, expires_in, granted } => {
            let waited = Waited { pending_for: *pending_for, expires_in: *expires_in, granted: *granted };
            stale(pcx, requester, accepter_vpc, waited)
        }
        Facts::PeeringNotAllowlisted { pcx, requester, accepter_vpc } => not_allowlisted(pcx, requester, accepter_vpc),
        Facts::PeeringCidrOverlap { pcx, requester, accepter_vpc, requester_cidr, accepter_cidr, status } => {
            overlap(pcx, requester, accepter_vpc, (requester_cidr, accepter_cidr), status)
        }
        Facts::PeeringDnsDrift { pcx, accepter_vpc, had, wanted } => dns_drift(pcx, accepter_vpc, *had, *wanted),
        Facts::PeeringRouteMissing { route_table, vpc, side, destination, pcx } => {
            missing(route_table, vpc, *side, destination, pcx)
        }
        Facts::PeeringRouteBlackhole { route_table, vpc, destination, pcx, why, managed } => {
            blackhole(route_table, vpc, destination, pcx, why, *managed)
        }
        Facts::PeeringRouteConflict { route_table, vpc, pcx, peer_cidr, destination, target, .. } => {
            conflict(route_table, vpc, pcx, peer_cidr, destination, target)
        }
        Facts::EndpointPending { service, endpoint, account, granted } => {
            endpoint_pending(service, endpoint, account, *granted)
        }
        Facts::EndpointNotAllowlisted { service, endpoint, account, state } => {
            endpoint_not_allowlisted(service, endpoint, account, state)
        }
        Facts::EndpointOverQuota { service, account, in_use, max } => over_quota(service, account, *in_use, *max),
        Facts::EndpointServiceAutoAccept { service, name } => auto_accept(service, name),
        Facts::EndpointServiceWildcardPrincipal { service } => wildcard(service),
        Facts::EndpointServicePrincipalUnlisted { service, principal } => principal_unlisted(service, principal),
        Facts::EndpointServiceUnhealthy { service, load_balancer, target_group } => {
            unhealthy(service, load_balancer, target_group.as_ref())
        }
        Facts::GrantExpiring { grant, expires_in } => grant_expiring(grant, *expires_in),
        Facts::PeeringPendingBlocked { pcx, requester, accepter_vpc, refusal } => {
            blocked(pcx, requester, accepter_vpc, refusal)
        }
        Facts::WaiverExpiring { waiver, expires_in } => waiver_expiring(waiver, *expires_in),
    }
}

/// `10.1.0.0/16, 100.64.0.0/20`, or `no CIDR`.
fn cidr_list(cidrs: &[IpNet]) -> String {
    if cidrs.is_empty() {
        return "no CIDR".into();
    }
    cidrs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// `222222222222/vpc-req (10.1.0.0/16)`.
fn requester(r: &Requester) -> String {
    format!("{}/{} ({})", r.account, r.vpc, cidr_list(&r.cidrs))
}

/// A duration for people: hours up to two days, days after.
pub fn duration(seconds: i64) -> String {
    let h = seconds as f64 / 3600.0;
    if h >= 48.0 {
        format!("{:.1} days", h / 24.0)
    } else {
        format!("{h:.0} hours")
    }
}

fn enabled(on: bool) -> &'static str {
    if on {
        "enabled"
    } else {
        "disabled"
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Accepter => "accepter",
        Side::Requester => "requester",
    }
}

// -- peering connections -----------------------------------------------------------------------

fn pending_unlisted(pcx: &str, r: &Requester, accepter_vpc: &str) -> (String, String) {
    (
        format!("pending request {pcx} from {} into {accepter_vpc} has no live peering grant", requester(r)),
        format!(
            "Reject {pcx} if it is not expected; otherwise add a peering grant for account {} \
             (peering#{accepter_vpc} or peering#*) and let peering-acceptor accept it.",
            r.account
        ),
    )
}

/// How long a request has waited, and whether a grant covers it.
struct Waited {
    pending_for: i64,
    expires_in: i64,
    granted: bool,
}

fn stale(pcx: &str, r: &Requester, accepter_vpc: &str, waited: Waited) -> (String, String) {
    let message = format!(
        "request {pcx} from {} into {accepter_vpc} has been pending for {} (AWS expires it in {})",
        requester(r),
        duration(waited.pending_for),
        duration(waited.expires_in)
    );
    let remediation = if waited.granted {
        let key = LedgerKey::Peering(pcx.to_string());
        format!(
            "A grant covers it but it was not accepted: check peering-acceptor's ledger entries for {pcx} \
             (pk {key}: a refused CIDR check?) and that its sweep runs."
        )
    } else {
        format!("Accept {pcx} (after adding a grant) or reject it, rather than letting it expire.")
    };
    (message, remediation)
}

fn not_allowlisted(pcx: &str, r: &Requester, accepter_vpc: &str) -> (String, String) {
    (
        format!("active peering {pcx} with {} into {accepter_vpc} has no live peering grant", requester(r)),
        format!(
            "Delete {pcx} if the peering is no longer wanted (vpcwarden then removes its routes), or grant \
             account {} again (peering#{accepter_vpc} or peering#*).",
            r.account
        ),
    )
}

fn overlap(
    pcx: &str,
    r: &Requester,
    accepter_vpc: &str,
    (requester_cidr, accepter_cidr): (&IpNet, &IpNet),
    status: &PeeringStatus,
) -> (String, String) {
    (
        format!(
            "{pcx}: requester {}/{} CIDR {requester_cidr} overlaps accepter {accepter_vpc} CIDR {accepter_cidr} ({})",
            r.account,
            r.vpc,
            status.as_str()
        ),
        format!(
            "Traffic to {requester_cidr} cannot be routed to both VPCs: renumber one VPC or remove the \
             overlapping secondary block, then re-peer."
        ),
    )
}

fn dns_drift(pcx: &str, accepter_vpc: &str, had: bool, wanted: bool) -> (String, String) {
    (
        format!(
            "DNS resolution from the accepter VPC {accepter_vpc} over {pcx} is {}, the grant says {}",
            enabled(had),
            enabled(wanted)
        ),
        format!(
            "Run ModifyVpcPeeringConnectionOptions on {pcx} with AllowDnsResolutionFromRemoteVpc={wanted} for the \
             accepter, or change the grant."
        ),
    )
}

// -- routes ------------------------------------------------------------------------------------

fn missing(table: &str, vpc: &str, side: Side, destination: &IpNet, pcx: &str) -> (String, String) {
    (
        format!("{table} ({vpc}, {} side) has no route {destination} -> {pcx}", side_name(side)),
        format!(
            "Add the route {destination} -> {pcx} to {table}; drift-auditor with REMEDIATE=true (or the next \
             peering-acceptor sweep) recreates it."
        ),
    )
}

fn dead_reason(pcx: &str, why: &DeadReason) -> String {
    match why {
        DeadReason::NotDescribed => format!("{pcx} is no longer described (deleted or unknown)"),
        DeadReason::Status(status) => format!("{pcx} is {}", status.as_str()),
        DeadReason::RouteBlackhole => "the route's state is blackhole".into(),
    }
}

fn blackhole(
    table: &str,
    vpc: &str,
    destination: &IpNet,
    pcx: &str,
    why: &DeadReason,
    managed: bool,
) -> (String, String) {
    let message = format!("{table} ({vpc}): route {destination} -> {pcx} is a blackhole: {}", dead_reason(pcx, why));
    let remediation = if managed {
        format!(
            "vpcwarden accepted {pcx}: drift-auditor with REMEDIATE=true (or the next peering-acceptor sweep) \
             deletes the routes it created. By hand: delete {destination} from {table}."
        )
    } else {
        format!("Delete the route {destination} from {table} (vpcwarden did not create it).")
    };
    (message, remediation)
}

fn conflict(
    table: &str,
    vpc: &str,
    pcx: &str,
    peer_cidr: &IpNet,
    destination: &IpNet,
    target: &RouteTarget,
) -> (String, String) {
    if destination == peer_cidr {
        (
            format!("{table} ({vpc}) routes peer CIDR {destination} to {target}, not to {pcx}"),
            format!(
                "Decide which target should carry {destination}: vpcwarden never overwrites it. Remove the route \
                 to {target} from {table} if the peering should win."
            ),
        )
    } else {
        (
            format!("{table} ({vpc}) routes {destination} (inside peer CIDR {peer_cidr} of {pcx}) to {target}"),
            format!(
                "The more specific route wins over {peer_cidr} -> {pcx}: remove {destination} -> {target} from \
                 {table} if that part of the peer should be reached through the peering."
            ),
        )
    }
}

// -- endpoint connections -----------------------------------------------------------------------

fn endpoint_pending(service: &str, endpoint: &str, account: &str, granted: bool) -> (String, String) {
    if granted {
        (
            format!("{endpoint} from {account} to {service} is pending although a live grant covers it"),
            format!(
                "endpoint-approver should have accepted it: check its ledger ({}) for an over-quota refusal, and \
                 that its sweep and SNS trigger run.",
                LedgerKey::Endpoint(endpoint.to_string())
            ),
        )
    } else {
        (
            format!("{endpoint} from {account} to {service} is pending and unlisted (no live grant)"),
            format!(
                "Reject {endpoint} unless account {account} should be granted (endpoint#{service} / \
                 account#{account})."
            ),
        )
    }
}

fn endpoint_not_allowlisted(service: &str, endpoint: &str, account: &str, state: &ConnectionState) -> (String, String) {
    (
        format!("{endpoint} from {account} is connected ({state}) to {service} without a live grant"),
        format!(
            "Reject (disconnect) {endpoint} with RejectVpcEndpointConnections, or grant account {account} \
             (endpoint-approver with REVOKE_ON_REMOVAL=true disconnects removed grants)."
        ),
    )
}

fn over_quota(service: &str, account: &str, in_use: usize, max: u32) -> (String, String) {
    (
        format!("account {account} has {in_use} endpoints connected to {service}, its grant allows {max}"),
        format!(
            "Reject {} of the account's endpoints, or raise max_endpoints in its grant (endpoint#{service} / \
             account#{account}).",
            in_use.saturating_sub(max as usize)
        ),
    )
}

// -- endpoint services --------------------------------------------------------------------------

fn auto_accept(service: &str, name: &str) -> (String, String) {
    (
        format!(
            "{service} ({name}) has AcceptanceRequired=false: any allowed principal connects without the allowlist"
        ),
        format!("Run ModifyVpcEndpointServiceConfiguration on {service} with AcceptanceRequired=true."),
    )
}

fn wildcard(service: &str) -> (String, String) {
    (
        format!("{service} allows the principal `*`: every AWS account can find and request it"),
        format!(
            "Remove `*` with ModifyVpcEndpointServicePermissions on {service} (endpoint-approver with \
             SYNC_PRINCIPALS=true keeps the principals equal to the grants)."
        ),
    )
}

fn principal_unlisted(service: &str, principal: &str) -> (String, String) {
    let account = principal_account(principal).unwrap_or("…");
    (
        format!("{service} allows {principal}, which has no live endpoint grant"),
        format!(
            "Remove {principal} from the service's allowed principals, or add an endpoint grant \
             (endpoint#{service} / account#{account})."
        ),
    )
}

fn unhealthy(service: &str, load_balancer: &str, target_group: Option<&SickTargetGroup>) -> (String, String) {
    match target_group {
        None => (
            format!("{service}: load balancer {load_balancer} has no target group: consumers reach nothing"),
            "Add a listener and a target group with healthy targets, or retire the service.".into(),
        ),
        Some(tg) => (
            format!(
                "{service}: target group {} of {load_balancer} has no healthy target ({} registered)",
                tg.arn, tg.registered
            ),
            format!(
                "Register healthy targets in {} (or fix their health checks) behind the service's load balancer.",
                tg.arn
            ),
        ),
    }
}

// -- the allowlist ------------------------------------------------------------------------------

fn grant_expiring(grant: &AllowlistKey, expires_in: i64) -> (String, String) {
    let key = format!("{}/{}", grant.pk(), grant.sk());
    match grant {
        AllowlistKey::Peering { scope, account } => {
            let into = match scope {
                VpcScope::Any => "any VPC (*)".to_string(),
                VpcScope::Vpc(vpc) => vpc.clone(),
            };
            (
                format!("the peering grant for account {account} into {into} expires in {}", duration(expires_in)),
                format!(
                    "Extend expires_at of {key} if the peering should stay; otherwise plan its removal (the \
                     acceptor stops accepting, the auditor reports the live peering as not allowlisted)."
                ),
            )
        }
        AllowlistKey::Endpoint { service_id, account } => (
            format!("the endpoint grant for account {account} on {service_id} expires in {}", duration(expires_in)),
            format!(
                "Extend expires_at of {key} if the consumer should stay connected; with REVOKE_ON_REMOVAL=true \
                 its endpoints are disconnected when the grant goes."
            ),
        ),
        // The audit files expiring waivers under their own code; worded alike if ever here.
        AllowlistKey::Waiver { .. } => waiver_expiring(grant, expires_in),
    }
}

/// The check is worded as the acceptor words its refusal in the ledger (the same rule).
fn blocked(pcx: &str, r: &Requester, accepter_vpc: &str, refusal: &Refusal) -> (String, String) {
    let message = format!(
        "{pcx}: the request from {} into {accepter_vpc} has a live grant but cannot be accepted: {refusal}",
        requester(r)
    );
    let fix = match refusal {
        Refusal::CidrAlreadyRouted { route_table, destination, target, .. } => format!(
            "Remove the route {destination} -> {target} from {route_table} if it is stale, or ask account {} for \
             another CIDR; the acceptor accepts {pcx} on its next sweep once the check passes.",
            r.account
        ),
        Refusal::CidrOverlapsAccepter { .. } => format!(
            "Overlapping VPCs cannot be routed to each other: ask account {} to peer from a VPC that does not \
             overlap {accepter_vpc}, and reject {pcx}.",
            r.account
        ),
        Refusal::CidrNotAllowed { cidr, .. } => format!(
            "Add {cidr} to the grant's allowed_cidrs if account {} may use it; otherwise reject {pcx}.",
            r.account
        ),
        Refusal::NoRequesterCidrs | Refusal::NoGrant { .. } | Refusal::GrantExpired { .. } => format!(
            "Check the request {pcx} from account {} and the grant for it; reject it if it is not wanted.",
            r.account
        ),
    };
    (message, fix)
}

fn waiver_expiring(waiver: &AllowlistKey, expires_in: i64) -> (String, String) {
    let key = format!("{}/{}", waiver.pk(), waiver.sk());
    let (code, resource) = match waiver {
        AllowlistKey::Waiver { code, resource } => (code.as_str(), resource.as_str()),
        _ => ("?", "?"),
    };
    (
        format!("the waiver of {code} on {resource} ends in {}", duration(expires_in)),
        format!(
            "Fix the finding before then, or review the accepted risk and extend expires_at of {key} (at most \
             366 days from now); once it ends the finding counts again in every total and alarm."
        ),
    )
}

#[cfg(test)]
#[path = "wording_tests.rs"]
mod tests;
