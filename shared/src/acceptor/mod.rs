//! peering-acceptor: accept granted peering requests, wire their routes on both sides, repair
//! incomplete routing, and clean up after deleted connections.
//!
//! Every path is parse → load → decide (pure) → act → record → answer, and every step is safe to
//! repeat: the same event twice, or two invocations at once, end in the same state.
mod answer;
mod decision;
pub mod event;
mod requests;
mod wiring;

use std::collections::HashMap;

use aws_config::SdkConfig;
use futures::future::join_all;
use ipnet::IpNet;
use serde_json::{json, Value};

pub use answer::{Action, Answer, Outcome};
use event::{PeeringUnit, Trigger};

use crate::aws::allowlist::Allowlist;
use crate::aws::ec2::{filter, Ec2};
use crate::aws::eventbridge::{tell, EventBus};
use crate::aws::identity::Identity;
use crate::aws::ledger::Ledger;
use crate::aws::Shared;
use crate::clock::Deadline;
use crate::config::AcceptorConfig;
use crate::domain::events::{Place, RouteNote};
use crate::domain::peering::ACCEPTED_AT_TAG;
use crate::domain::route::select_tables;
use crate::domain::{
    LedgerAction, LedgerKey, Peering, PeeringStatus, RouteTable, RouteTarget, Side, TagFilter, VpcScope,
};
use crate::error::{Error, Result};
use crate::routes;
use vpcwarden_core::announce::{self, Told};
use vpcwarden_core::RouteChange;

pub const ACTOR: &str = "peering-acceptor";

/// Built once per process; every invocation borrows it.
pub struct Acceptor {
    config: AcceptorConfig,
    region: String,
    ec2: Ec2,
    allowlist: Allowlist,
    ledger: Ledger,
    identity: Identity,
    events: Option<EventBus>,
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

    fn managed_tables(&self, vpc_id: &str, tag: Option<&TagFilter>) -> Vec<&RouteTable> {
        select_tables(&self.tables, vpc_id, tag)
    }
}

fn ledger_key(pcx: &str) -> LedgerKey {
    LedgerKey::Peering(pcx.to_string())
}

impl Acceptor {
    pub fn new(config: AcceptorConfig, sdk: &SdkConfig) -> Self {
        let Shared { region, allowlist, ledger, identity, events } = Shared::new(sdk, &config.common, ACTOR);
        let ec2 = Ec2::new(aws_sdk_ec2::Client::new(sdk));
        Acceptor { region, ec2, allowlist, ledger, identity, events, config }
    }

    /// Publishes the `Peering Decision` of a ledger record just written about `pcx` (`p`: the
    /// connection, when it could be read). Never fails: a decision is never undone by its event.
    async fn tell(&self, pcx: &str, p: Option<&Peering>, told: Told<'_>, routes: Vec<RouteNote>) {
        let Some(bus) = &self.events else { return };
        let caller = match self.identity.caller().await {
            Ok(caller) => caller,
            Err(e) => {
                tracing::error!(error = %e, pcx, "event not published: the caller's identity is unknown");
                return;
            }
        };
        let place = Place { partition: &caller.partition, region: &self.region, account: &caller.account };
        if let Some(event) = announce::peering_decision(&place, pcx, p, told, routes) {
            tell(Some(bus), ACTOR, vec![event]).await;
        }
    }

    /// Tells the route records just written about `pcx`.
    async fn tell_routes(&self, pcx: &str, p: Option<&Peering>, written: &[routes::RouteRecord]) {
        for r in written {
            let told =
                Told { action: r.action, reason_code: None, reason: r.reason.as_deref().unwrap_or(""), dry_run: false };
            self.tell(pcx, p, told, r.route_notes()).await;
        }
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

    /// Whether vpcwarden accepted this connection: its tag, or failing that its ledger.
    async fn is_ours(&self, p: &Peering) -> Result<bool> {
        if p.is_managed() {
            return Ok(true);
        }
        self.ledger.was_accepted(&p.id).await
    }

    /// A connection tagged as ours whose acceptance never reached the ledger (the write failed
    /// right after accepting) gets its record now: cleanup after deletion relies on it.
    async fn ensure_acceptance_recorded(&self, p: &Peering) -> Result<()> {
        if self.dry_run() || !p.is_managed() {
            return Ok(());
        }
        if self.ledger.was_accepted(&p.id).await? {
            return Ok(());
        }
        let details = json!({"requester": decision::requester_json(p), "accepted_at": p.tags.get(ACCEPTED_AT_TAG)});
        let reason = "accepted by vpcwarden (its tag); the record was written late".to_string();
        self.record(&p.id, LedgerAction::Accepted, Some(reason), details).await
    }

    async fn record(&self, pcx: &str, action: LedgerAction, reason: Option<String>, details: Value) -> Result<()> {
        self.ledger.record(&ledger_key(pcx), action, reason, self.dry_run(), details).await.map(|_| ())
    }

    async fn handle_one(&self, id: &str, me: &str, deleted_hint: bool) -> Result<Outcome> {
        let Some(p) = self.ec2.peering(id).await? else {
            if deleted_hint {
                return self.cleanup_vanished(id).await;
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

    /// Pending requests, incomplete routes and dead connections where this account/region
    /// accepts: one listing, one read of the tables, then each connection on its own.
    /// With `focus` (a peering grant just written), only that account's pending requests into
    /// the grant's VPC(s) are decided.
    async fn sweep(&self, me: &str, answer: &mut Answer, focus: Option<&PeeringUnit>) -> Result<Vec<Error>> {
        let mut filters = vec![filter("accepter-vpc-info.owner-id", [me])];
        if let Some(unit) = focus {
            filters.push(filter("status-code", ["pending-acceptance"]));
            filters.push(filter("requester-vpc-info.owner-id", [unit.account.as_str()]));
            if let VpcScope::Vpc(vpc) = &unit.scope {
                filters.push(filter("accepter-vpc-info.vpc-id", [vpc.as_str()]));
            }
        }
        let listed = self.ec2.peerings(filters).await?;
        let mut candidates = Vec::new();
        for p in listed {
            // Re-checked here: the filter is only an optimisation.
            if p.accepter.account != me || p.accepter.region != self.region {
                continue;
            }
            let relevant = match &p.status {
                PeeringStatus::PendingAcceptance => true,
                _ if focus.is_some() => false,
                PeeringStatus::Active | PeeringStatus::Provisioning => self.is_ours(&p).await?,
                s if s.is_dead() => self.is_ours(&p).await? || self.close_request(&p).await?,
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
            if Deadline::current().is_near(routes::DEADLINE_MARGIN) {
                let mut out = Outcome::new(&id, &status, Action::Skipped);
                out.errors.push("not decided: the invocation was near its deadline; the next one decides it".into());
                results.push((id, status, Ok(out)));
                continue;
            }
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
        Trigger::Sweep => errors = ctx.sweep(&me, &mut answer, None).await?,
        Trigger::Nothing(why) => answer.notes.push(why.clone()),
        Trigger::Grants { units, ignored } => {
            answer.notes.extend(ignored.iter().map(|i| format!("{i}: not for this function")));
            ctx.settle_batch(&me, units, &mut answer).await;
            let value = serde_json::to_value(&answer).map_err(|e| Error::Unexpected(e.to_string()))?;
            tracing::info!(answer = %value, "peering-acceptor done");
            return Ok(value);
        }
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
