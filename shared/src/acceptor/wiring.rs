//! The routes of a connection on both of its sides: planned with the core's `plan_routes` /
//! `plan_cleanup`, carried out by the one route executor, recorded by the one recorder, and
//! summed up in the connection's outcome.
use serde_json::json;

use super::answer::{Action, Outcome, RouteRef};
use super::{Acceptor, Snapshot};
use crate::aws::ec2::{filter, Ec2};
use crate::domain::route::select_tables;
use crate::domain::{Peering, RouteTable, Side};
use crate::error::Result;
use crate::routes::{self, Executed, Purpose, RouteOutcome};
use vpcwarden_core::{plan_cleanup, plan_routes, RouteChange};

/// What a connection's routes should become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wanted {
    /// Every peer CIDR routed through the connection (it is, or is about to be, active).
    Routes,
    /// The routes vpcwarden created through it removed (it is dead).
    Cleanup,
}

impl Wanted {
    fn plan(self, p: &Peering, side: Side, tables: &[&RouteTable]) -> Vec<RouteChange> {
        match self {
            Wanted::Routes => plan_routes(p, side, tables),
            Wanted::Cleanup => plan_cleanup(&p.id, Some(p.peer_cidrs(side)), tables),
        }
    }
}

impl Acceptor {
    /// An EC2 adapter acting on the requester's side, when vpcwarden may: same account (any
    /// region), or another account through `REQUESTER_ROLE_NAME`.
    pub(super) async fn requester_ec2(&self, p: &Peering, me: &str) -> Result<Option<Ec2>> {
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

    /// The requester side's adapter and the tables `wanted` concerns there, when reachable.
    async fn requester_tables(&self, p: &Peering, me: &str, wanted: Wanted) -> Result<Option<(Ec2, Vec<RouteTable>)>> {
        let Some(ec2) = self.requester_ec2(p, me).await? else { return Ok(None) };
        let mut filters = vec![filter("vpc-id", [p.requester.vpc_id.as_str()])];
        if wanted == Wanted::Cleanup {
            filters.push(filter("route.vpc-peering-connection-id", [p.id.as_str()]));
        }
        let tables = ec2.route_tables(filters).await?;
        Ok(Some((ec2, tables)))
    }

    /// Plans `wanted` on each side vpcwarden may touch and carries it out (a dry run plans
    /// only). A requester side that cannot be read is an error of the outcome, not of the run.
    async fn on_both_sides(
        &self,
        p: &Peering,
        me: &str,
        snapshot: &Snapshot,
        wanted: Wanted,
        out: &mut Outcome,
    ) -> Vec<Executed> {
        let tag = self.config.route_table_tag.as_ref();
        let accepter = wanted.plan(p, Side::Accepter, &snapshot.managed_tables(&p.accepter.vpc_id, tag));
        let mut executed = routes::execute(&self.ec2, Side::Accepter, accepter, self.dry_run()).await;
        match self.requester_tables(p, me, wanted).await {
            Ok(Some((ec2, tables))) => {
                let plan = wanted.plan(p, Side::Requester, &select_tables(&tables, &p.requester.vpc_id, tag));
                executed.extend(routes::execute(&ec2, Side::Requester, plan, self.dry_run()).await);
            }
            Ok(None) => {}
            Err(e) => out.errors.push(format!("requester side: {e}")),
        }
        executed
    }

    /// [`Self::on_both_sides`], summed up in `out` and recorded in the ledger.
    async fn change_routes(
        &self,
        p: &Peering,
        me: &str,
        snapshot: &Snapshot,
        wanted: Wanted,
        out: &mut Outcome,
    ) -> Result<()> {
        let executed = self.on_both_sides(p, me, snapshot, wanted, out).await;
        absorb(out, &executed);
        let written = routes::record(&self.ledger, Purpose::Wiring, Some(&p.id), &executed, &json!({})).await?;
        self.tell_routes(&p.id, Some(p), &written).await;
        Ok(())
    }

    /// Completes the routes of an active connection on both sides (as far as vpcwarden may).
    pub(super) async fn reconcile(
        &self,
        p: &Peering,
        me: &str,
        snapshot: &Snapshot,
        action: Action,
    ) -> Result<Outcome> {
        let mut out = Outcome::new(&p.id, p.status.as_str(), action).with_requester(p);
        self.change_routes(p, me, snapshot, Wanted::Routes, &mut out).await?;
        if action == Action::Reconciled {
            let done = if out.routes_added.is_empty() { "routes complete" } else { "missing routes added" };
            out.reason = Some(done.into());
        }
        Ok(out)
    }

    /// DRY_RUN: what accepting `p` would do to the routes of both sides, with nothing changed.
    pub(super) async fn plan_acceptance(&self, p: &Peering, me: &str, snapshot: &Snapshot) -> Outcome {
        let mut out =
            Outcome::new(&p.id, p.status.as_str(), Action::Accepted).with_requester(p).because("dry run: would accept");
        let planned = self.on_both_sides(p, me, snapshot, Wanted::Routes, &mut out).await;
        absorb(&mut out, &planned);
        out
    }

    /// Removes the routes vpcwarden created for a dead connection, on both sides.
    pub(super) async fn cleanup(&self, p: &Peering, me: &str, snapshot: &Snapshot) -> Result<Outcome> {
        let mut out = Outcome::new(&p.id, p.status.as_str(), Action::CleanedUp);
        self.change_routes(p, me, snapshot, Wanted::Cleanup, &mut out).await?;
        out.reason = Some(format!("connection is {}", p.status.as_str()));
        Ok(out)
    }

    /// A delete event for a connection AWS no longer describes: if the ledger says vpcwarden
    /// accepted it, every route through it in this account's managed tables is a blackhole.
    pub(super) async fn cleanup_vanished(&self, id: &str) -> Result<Outcome> {
        if !self.ledger.was_accepted(id).await? {
            return Ok(Outcome::new(id, "not-found", Action::Skipped).because("gone, and not accepted by vpcwarden"));
        }
        let tables = self.ec2.route_tables(vec![filter("route.vpc-peering-connection-id", [id])]).await?;
        let managed = crate::domain::route::managed_tables(&tables, self.config.route_table_tag.as_ref());
        let mut out = Outcome::new(id, "not-found", Action::CleanedUp).because("connection gone");
        let executed =
            routes::execute(&self.ec2, Side::Accepter, plan_cleanup(id, None, &managed), self.dry_run()).await;
        absorb(&mut out, &executed);
        let written = routes::record(&self.ledger, Purpose::Wiring, Some(id), &executed, &json!({})).await?;
        self.tell_routes(id, None, &written).await;
        Ok(out)
    }
}

/// Sums up what the executor did in the connection's outcome (in a dry run: what it planned).
fn absorb(out: &mut Outcome, executed: &[Executed]) {
    let mut deferred = 0;
    for e in executed {
        let (route_table, destination) = (e.change.route_table(), e.change.destination());
        let route = || RouteRef { side: e.side, route_table: route_table.to_string(), destination };
        match (&e.outcome, &e.change) {
            (RouteOutcome::Planned, change) => out.planned.push(change.clone()),
            (RouteOutcome::Done, RouteChange::Create { .. }) => out.routes_added.push(route()),
            (RouteOutcome::Done, _) => out.routes_removed.push(route()),
            (RouteOutcome::Unchanged, _) => {}
            (RouteOutcome::Conflict { existing }, _) => out.conflict(e.side, route_table, destination, existing),
            (RouteOutcome::Failed { error }, _) => {
                out.errors.push(format!("{:?} {route_table} {destination}: {error}", e.side))
            }
            (RouteOutcome::Deferred, _) => deferred += 1,
        }
    }
    if deferred > 0 {
        // An error of the outcome: the invocation answers Retryable.Partial, and Lambda's retry
        // or the next sweep carries them out.
        out.errors.push(format!("{deferred} route changes not started: the invocation was near its deadline"));
    }
    // Both sides in one stable order, for answers and ledger records.
    let order = |r: &RouteRef| (r.route_table.clone(), r.destination);
    out.routes_added.sort_by_key(order);
    out.routes_removed.sort_by_key(order);
}
