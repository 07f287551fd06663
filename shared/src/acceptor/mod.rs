//! peering-acceptor: accept granted peering requests, wire their routes on both sides, repair
//! incomplete routing, and clean up after deleted connections.
//!
//! Every path is parse → load → decide (pure) → act → record → answer, and every step is safe to
//! repeat: the same event twice, or two invocations at once, end in the same state.
mod answer;
pub mod event;
mod routes;

use std::collections::HashMap;

use aws_config::SdkConfig;
use futures::future::join_all;
use ipnet::IpNet;
use serde_json::{json, Value};

pub use answer::{Action, Answer, Outcome};
use event::Trigger;

use crate::aws::allowlist::Allowlist;
use crate::aws::ec2::{filter, AcceptOutcome, Ec2};
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::Shared;
use crate::config::{AcceptorConfig, UnlistedAction};
use crate::core::{decide, plan_routes, Decision, RouteChange};
use crate::domain::peering::{ACCEPTED_AT_TAG, MANAGED_TAG};
use crate::domain::route::select_tables;
use crate::domain::{Peering, PeeringStatus, RouteTable, RouteTarget, Side};
use crate::error::{Error, Result};

pub const ACTOR: &str = "peering-acceptor";

/// Built once per process; every invocation borrows it.
pub struct Acceptor {
    config: AcceptorConfig,
    region: String,
    ec2: Ec2,
    allowlist: Allowlist,
    ledger: Ledger,
    identity: Identity,
}

/// What the accepter side looks like: route tables and CIDRs of the VPCs involved, read once.
#[derive(Default)]
struct Snapshot {
    tables: Vec<RouteTable>,
    cidrs: HashMap<String, Vec<IpNet>>,
}

impl Snapshot {
    /// Records the accepter-side routes an outcome added (or, in a dry run, planned).
    fn add_accepter_routes(&mut self, out: &Outcome) {
        let added = out
            .routes_added
            .iter()
            .filter(|r| r.side == Side::Accepter)
            .map(|r| (r.route_table.as_str(), r.destination));
        let planned = out.planned.iter().filter_map(|c| match c {
            RouteChange::Create { route_table, destination, .. } => Some((route_table.as_str(), *destination)),
            _ => None,
        });
        let target = RouteTarget::PeeringConnection(out.pcx.clone());
        let new: Vec<(String, IpNet)> = added.chain(planned).map(|(t, d)| (t.to_string(), d)).collect();
        for (table_id, destination) in new {
            if let Some(table) = self.tables.iter_mut().find(|t| t.id == table_id) {
                table.routes.push(crate::domain::Route { destination, target: target.clone(), blackhole: false });
            }
        }
    }

    fn managed_tables(&self, vpc_id: &str, config: &AcceptorConfig) -> Vec<&RouteTable> {
        select_tables(&self.tables, vpc_id, config.route_table_tag.as_ref())
    }
}

fn now_epoch() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn ledger_pk(pcx: &str) -> String {
    format!("pcx#{pcx}")
}

impl Acceptor {
    pub fn new(config: AcceptorConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity } = Shared::new(sdk, &config.common, ACTOR);
        Acceptor { region, ec2: Ec2::new(aws_sdk_ec2::Client::new(sdk)), allowlist, ledger, identity, config }
    }

    fn dry_run(&self) -> bool {
        self.config.common.dry_run
    }

    /// Reads the route tables and CIDRs of `vpcs` (this account, this region) in one call each.
    async fn snapshot(&self, vpcs: &[&str]) -> Result<Snapshot> {
        let mut vpcs: Vec<&str> = vpcs.to_vec();
        vpcs.sort_unstable();
        vpcs.dedup();
        if vpcs.is_empty() {
            return Ok(Snapshot::default());
        }
        let (tables, cidrs) = tokio::join!(
            self.ec2.route_tables(vec![filter("vpc-id", vpcs.iter().copied())]),
            self.ec2.vpcs_cidrs(&vpcs)
        );
        Ok(Snapshot { tables: tables?, cidrs: cidrs? })
    }

    /// An EC2 adapter acting on the requester's side, when vpcwarden may: same account (any
    /// region), or another account through `REQUESTER_ROLE_NAME`.
    async fn requester_ec2(&self, p: &Peering, me: &str) -> Result<Option<Ec2>> {
        let requester = &p.requester;
        if requester.account == me {
            if requester.region == self.region {
                return Ok(Some(self.ec2.clone()));
            }
            let config = crate::aws::in_region(self.identity.base(), &requester.region);
            return Ok(Some(Ec2::new(aws_sdk_ec2::Client::new(&config))));
        }
        match &self.config.requester_role_name {
            Some(role) => {
                let config = self.identity.assume(&requester.account, role, &requester.region).await?;
                Ok(Some(Ec2::new(aws_sdk_ec2::Client::new(&config))))
            }
            None => Ok(None),
        }
    }

    /// Whether vpcwarden accepted this connection: its tag, or failing that its ledger.
    async fn is_ours(&self, p: &Peering) -> Result<bool> {
        if p.is_managed() {
            return Ok(true);
        }
        self.ledger.has(&ledger_pk(&p.id), "accepted").await
    }

    /// A connection tagged as ours whose acceptance never reached the ledger (the write failed
    /// right after accepting) gets its record now: cleanup after deletion relies on it.
    async fn ensure_acceptance_recorded(&self, p: &Peering) -> Result<()> {
        if self.dry_run() || !p.is_managed() {
            return Ok(());
        }
        if self.ledger.has(&ledger_pk(&p.id), "accepted").await? {
            return Ok(());
        }
        let details = json!({
            "requester": {"account": p.requester.account, "vpc": p.requester.vpc_id, "region": p.requester.region, "cidrs": p.requester.cidrs},
            "accepted_at": p.tags.get(ACCEPTED_AT_TAG),
        });
        let reason = "accepted by vpcwarden (its tag); the record was written late".to_string();
        self.record(&p.id, "accepted", Some(reason), details).await
    }

    async fn record(&self, pcx: &str, action: &str, reason: Option<String>, details: Value) -> Result<()> {
        self.ledger.record(&ledger_pk(pcx), action, reason, self.dry_run(), details).await.map(|_| ())
    }

    /// Refusals and conflicts repeat on every sweep; the ledger keeps one record per change.
    async fn record_refusal(&self, pcx: &str, action: &str, reason: &str, details: Value) -> Result<()> {
        let pk = ledger_pk(pcx);
        self.ledger
            .record_unless_repeated(&pk, action, Some(reason.to_string()), self.dry_run(), details)
            .await
            .map(|_| ())
    }

    async fn handle_one(&self, id: &str, me: &str, deleted_hint: bool) -> Result<Outcome> {
        let Some(p) = self.ec2.peering(id).await? else {
            if deleted_hint {
                return self.cleanup_vanished(id, me).await;
            }
            return Ok(Outcome::new(id, "not-found", Action::Skipped).because("the connection no longer exists"));
        };
        if p.accepter.account != me || p.accepter.region != self.region {
            let why =
                format!("the accepter is {} in {}, not this account/region", p.accepter.account, p.accepter.region);
            return Ok(Outcome::new(id, p.status.as_str(), Action::Skipped).because(why));
        }
        let snapshot = self.snapshot(&[&p.accepter.vpc_id]).await?;
        self.process(p, me, &snapshot).await
    }

    async fn process(&self, p: Peering, me: &str, snapshot: &Snapshot) -> Result<Outcome> {
        match &p.status {
            PeeringStatus::PendingAcceptance => self.decide_and_act(p, me, snapshot).await,
            PeeringStatus::Active | PeeringStatus::Provisioning if self.is_ours(&p).await? => {
                self.ensure_acceptance_recorded(&p).await?;
                self.reconcile(&p, me, snapshot, Action::Reconciled).await
            }
            s if s.is_dead() && self.is_ours(&p).await? => self.cleanup(&p, me, snapshot).await,
            s => {
                Ok(Outcome::new(&p.id, s.as_str(), Action::Skipped)
                    .because("not pending and not accepted by vpcwarden"))
            }
        }
    }

    async fn decide_and_act(&self, mut p: Peering, me: &str, snapshot: &Snapshot) -> Result<Outcome> {
        // Fail closed: an unreadable allowlist is an error, never an empty grant set.
        let grants = self.allowlist.peering_grants(&p.requester.account, &p.accepter.vpc_id).await?;
        if let Some(cidrs) = snapshot.cidrs.get(&p.accepter.vpc_id) {
            p.accepter.cidrs.extend(cidrs.iter().copied());
            p.accepter.cidrs.sort();
            p.accepter.cidrs.dedup();
        }
        let tables = snapshot.managed_tables(&p.accepter.vpc_id, &self.config);
        let summary = json!({
            "requester": {"account": p.requester.account, "vpc": p.requester.vpc_id, "region": p.requester.region, "cidrs": p.requester.cidrs},
            "accepter": {"vpc": p.accepter.vpc_id, "cidrs": p.accepter.cidrs},
            "route_tables": tables.len(),
            "malformed_grants": grants.malformed,
        });
        let requester = format!("{}/{}", p.requester.account, p.requester.vpc_id);
        match decide(&p, &grants.grants, &tables, now_epoch()) {
            Decision::Refuse { reason } => {
                let reject = self.config.unlisted_action == UnlistedAction::Reject;
                let (action, verb) = if reject { (Action::Rejected, "rejected") } else { (Action::Ignored, "ignored") };
                if reject && !self.dry_run() {
                    self.ec2.reject(&p.id).await?;
                }
                let text = reason.to_string();
                let mut details = summary;
                details["refusal"] = serde_json::to_value(&reason).unwrap_or_default();
                self.record_refusal(&p.id, verb, &text, details).await?;
                let mut out = Outcome::new(&p.id, p.status.as_str(), action).because(text);
                out.requester = Some(requester);
                Ok(out)
            }
            Decision::Accept { grant } => {
                let mut details = summary;
                details["grant"] = serde_json::to_value(&grant).unwrap_or_default();
                if self.dry_run() {
                    self.record(&p.id, "accepted", Some("dry run: a grant matches".into()), details).await?;
                    let active = Peering { status: PeeringStatus::Active, ..p };
                    let mut out = self.reconcile(&active, me, snapshot, Action::Accepted).await?;
                    out.status = PeeringStatus::PendingAcceptance.as_str().into();
                    out.reason = Some("dry run: would accept".into());
                    return Ok(out);
                }
                // Tag first: a crash after accepting leaves a connection the sweep recognises as ours.
                let at = crate::aws::ledger::rfc3339(crate::aws::ledger::now_nanos());
                self.ec2.tag(&p.id, &[(MANAGED_TAG, "true"), (ACCEPTED_AT_TAG, &at)]).await?;
                let accepted = self.ec2.accept(&p.id).await?;
                let reason = match &accepted {
                    AcceptOutcome::Accepted(_) => "a live grant matches and the CIDR checks pass",
                    AcceptOutcome::AlreadyAccepted => "already accepted by a concurrent invocation",
                };
                if matches!(accepted, AcceptOutcome::Accepted(_)) {
                    self.record(&p.id, "accepted", Some(reason.into()), details).await?;
                }
                let active = self.wait_active(&p, accepted).await?;
                if grant.dns_resolution == Some(true) {
                    self.ec2.allow_dns_resolution(&active.id, Side::Accepter).await?;
                }
                let mut out = self.reconcile(&active, me, snapshot, Action::Accepted).await?;
                out.reason = Some(reason.into());
                if grant.dns_resolution == Some(true) && out.errors.is_empty() {
                    if let Some(requester_ec2) = self.requester_ec2(&active, me).await? {
                        requester_ec2.allow_dns_resolution(&active.id, Side::Requester).await?;
                    }
                }
                Ok(out)
            }
        }
    }

    /// Bounded wait for `active` (routes to a connection that is still provisioning fail).
    async fn wait_active(&self, p: &Peering, accepted: AcceptOutcome) -> Result<Peering> {
        if accepted == AcceptOutcome::Accepted(PeeringStatus::Active) {
            return Ok(Peering { status: PeeringStatus::Active, ..p.clone() });
        }
        let deadline = tokio::time::Instant::now() + self.config.active_wait;
        loop {
            match self.ec2.peering(&p.id).await? {
                Some(now) if now.status == PeeringStatus::Active => return Ok(now),
                Some(now) if now.status.is_dead() => {
                    return Err(Error::Unexpected(format!(
                        "{} turned {} right after acceptance",
                        p.id,
                        now.status.as_str()
                    )))
                }
                _ if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::Aws {
                        operation: "DescribeVpcPeeringConnections",
                        code: "NotActiveYet".into(),
                        message: format!(
                            "{} was accepted but is not active after {:?}; the next sweep wires its routes",
                            p.id, self.config.active_wait
                        ),
                        retryable: true,
                    })
                }
                _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
    }

    /// Completes the routes of an active connection on both sides (as far as vpcwarden may).
    async fn reconcile(&self, p: &Peering, me: &str, snapshot: &Snapshot, action: Action) -> Result<Outcome> {
        let mut out = Outcome::new(&p.id, p.status.as_str(), action);
        out.requester = Some(format!("{}/{}", p.requester.account, p.requester.vpc_id));
        let accepter_tables = snapshot.managed_tables(&p.accepter.vpc_id, &self.config);
        let accepter_plan = plan_routes(p, Side::Accepter, &accepter_tables);
        routes::apply(self, &self.ec2, Side::Accepter, accepter_plan, &mut out).await;

        match self.requester_ec2(p, me).await {
            Ok(Some(ec2)) => match ec2.route_tables(vec![filter("vpc-id", [p.requester.vpc_id.as_str()])]).await {
                Ok(tables) => {
                    let selected = select_tables(&tables, &p.requester.vpc_id, self.config.route_table_tag.as_ref());
                    let plan = plan_routes(p, Side::Requester, &selected);
                    routes::apply(self, &ec2, Side::Requester, plan, &mut out).await;
                }
                Err(e) => out.errors.push(format!("requester side: {e}")),
            },
            Ok(None) => {}
            Err(e) => out.errors.push(format!("requester side: {e}")),
        }
        routes::record(self, &out).await?;
        if out.reason.is_none() && action == Action::Reconciled {
            out.reason =
                Some(if out.routes_added.is_empty() { "routes complete" } else { "missing routes added" }.into());
        }
        Ok(out)
    }

    /// Removes the routes vpcwarden created for a dead connection, on both sides.
    async fn cleanup(&self, p: &Peering, me: &str, snapshot: &Snapshot) -> Result<Outcome> {
        let mut out = Outcome::new(&p.id, p.status.as_str(), Action::CleanedUp);
        let accepter_tables = snapshot.managed_tables(&p.accepter.vpc_id, &self.config);
        let plan = crate::core::plan_cleanup(&p.id, Some(p.peer_cidrs(Side::Accepter)), &accepter_tables);
        routes::apply(self, &self.ec2, Side::Accepter, plan, &mut out).await;
        match self.requester_ec2(p, me).await {
            Ok(Some(ec2)) => {
                let found = ec2
                    .route_tables(vec![
                        filter("vpc-id", [p.requester.vpc_id.as_str()]),
                        filter("route.vpc-peering-connection-id", [p.id.as_str()]),
                    ])
                    .await;
                match found {
                    Ok(tables) => {
                        let selected =
                            select_tables(&tables, &p.requester.vpc_id, self.config.route_table_tag.as_ref());
                        let plan = crate::core::plan_cleanup(&p.id, Some(p.peer_cidrs(Side::Requester)), &selected);
                        routes::apply(self, &ec2, Side::Requester, plan, &mut out).await;
                    }
                    Err(e) => out.errors.push(format!("requester side: {e}")),
                }
            }
            Ok(None) => {}
            Err(e) => out.errors.push(format!("requester side: {e}")),
        }
        routes::record(self, &out).await?;
        out.reason = Some(format!("connection is {}", p.status.as_str()));
        Ok(out)
    }

    /// A delete event for a connection AWS no longer describes: if the ledger says vpcwarden
    /// accepted it, every route through it in this account's managed tables is a blackhole.
    async fn cleanup_vanished(&self, id: &str, _me: &str) -> Result<Outcome> {
        if !self.ledger.has(&ledger_pk(id), "accepted").await? {
            return Ok(Outcome::new(id, "not-found", Action::Skipped).because("gone, and not accepted by vpcwarden"));
        }
        let tables = self.ec2.route_tables(vec![filter("route.vpc-peering-connection-id", [id])]).await?;
        let selected: Vec<&RouteTable> =
            tables.iter().filter(|t| self.config.route_table_tag.as_ref().is_none_or(|f| f.matches(&t.tags))).collect();
        let mut out = Outcome::new(id, "not-found", Action::CleanedUp).because("connection gone");
        let plan = crate::core::plan_cleanup(id, None, &selected);
        routes::apply(self, &self.ec2, Side::Accepter, plan, &mut out).await;
        routes::record(self, &out).await?;
        Ok(out)
    }

    /// Pending requests, incomplete routes and dead connections where this account/region
    /// accepts: one listing, one read of the tables, then each connection on its own.
    async fn sweep(&self, me: &str, answer: &mut Answer) -> Result<Vec<Error>> {
        let listed = self.ec2.peerings(vec![filter("accepter-vpc-info.owner-id", [me])]).await?;
        let mut candidates = Vec::new();
        for p in listed {
            // Re-checked here: the filter is only an optimisation.
            if p.accepter.account != me || p.accepter.region != self.region {
                continue;
            }
            let relevant = match &p.status {
                PeeringStatus::PendingAcceptance => true,
                s if matches!(s, PeeringStatus::Active | PeeringStatus::Provisioning) || s.is_dead() => {
                    self.is_ours(&p).await?
                }
                _ => false,
            };
            if relevant {
                candidates.push(p);
            }
        }
        let vpcs: Vec<&str> = candidates.iter().map(|p| p.accepter.vpc_id.as_str()).collect();
        let mut snapshot = self.snapshot(&vpcs).await?;
        let (mut pending, settled): (Vec<Peering>, Vec<Peering>) =
            candidates.into_iter().partition(|p| p.status == PeeringStatus::PendingAcceptance);

        let mut results = join_all(settled.into_iter().map(|p| {
            let (id, status) = (p.id.clone(), p.status.as_str().to_string());
            let snapshot = &snapshot;
            async move { (id, status, self.process(p, me, snapshot).await) }
        }))
        .await;
        // Pending requests one at a time, oldest first, each seeing the routes the previous ones
        // added: two requests for the same CIDR must not both pass the capture check.
        pending.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
        for p in pending {
            let (id, status) = (p.id.clone(), p.status.as_str().to_string());
            let result = self.process(p, me, &snapshot).await;
            if let Ok(out) = &result {
                snapshot.add_accepter_routes(out);
            }
            results.push((id, status, result));
        }

        let mut errors = Vec::new();
        for (id, status, result) in results {
            match result {
                // A dead connection with nothing left to remove is not news.
                Ok(out)
                    if out.action == Action::CleanedUp && out.routes_removed.is_empty() && out.errors.is_empty() => {}
                Ok(out) => answer.peerings.push(out),
                Err(e) => {
                    let mut out = Outcome::new(&id, &status, Action::Failed);
                    out.errors.push(e.to_string());
                    answer.peerings.push(out);
                    errors.push(e);
                }
            }
        }
        Ok(errors)
    }
}

/// The Lambda handler: one event in, one answer out.
pub async fn handle(event: Value, ctx: &Acceptor) -> Result<Value> {
    let trigger = event::parse(event)?;
    let me = ctx.identity.caller().await?.account.clone();
    let mut answer = Answer {
        trigger: trigger.name(),
        dry_run: ctx.dry_run(),
        account: me.clone(),
        region: ctx.region.clone(),
        ..Answer::default()
    };
    let mut errors = Vec::new();
    match &trigger {
        Trigger::Created(id) | Trigger::Deleted(id) => {
            match ctx.handle_one(id, &me, matches!(trigger, Trigger::Deleted(_))).await {
                Ok(out) => answer.peerings.push(out),
                Err(e) => {
                    let mut out = Outcome::new(id, "unknown", Action::Failed);
                    out.errors.push(e.to_string());
                    answer.peerings.push(out);
                    errors.push(e);
                }
            }
        }
        Trigger::Sweep => errors = ctx.sweep(&me, &mut answer).await?,
        Trigger::Nothing(why) => answer.notes.push(why.clone()),
    }
    let partial: Vec<String> = answer
        .peerings
        .iter()
        .filter(|o| o.action != Action::Failed)
        .flat_map(|o| o.errors.iter().map(move |e| format!("{}: {e}", o.pcx)))
        .collect();
    let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(e.to_string()))?;
    tracing::info!(answer = %value, "peering-acceptor done");
    if errors.is_empty() && partial.is_empty() {
        return Ok(value);
    }
    let retryable = errors.iter().any(Error::is_retryable) || !partial.is_empty();
    let total = answer.peerings.len().max(1);
    let mut messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    messages.extend(partial);
    Err(Error::Partial { failed: messages.len().min(total), total, errors: messages, retryable })
}
