//! A pending request, decided: load its grants → decide (the core's pure `decide`) → refuse, or
//! accept and wire (in a dry run: plan), each decision ledgered with its reason.
use serde_json::{json, Value};

use super::answer::{Action, Outcome};
use super::{ledger_key, Acceptor, Snapshot};
use crate::aws::ec2::AcceptOutcome;
use crate::clock;
use crate::config::UnlistedAction;
use crate::domain::peering::{ACCEPTED_AT_TAG, MANAGED_TAG};
use crate::domain::{LedgerAction, Peering, PeeringGrant, PeeringStatus, Side};
use crate::error::{Error, Result};
use vpcwarden_core::announce::Told;
use vpcwarden_core::{decide, Decision, Refusal};

/// The requester as the ledger summarises it.
pub(super) fn requester_json(p: &Peering) -> Value {
    json!({"account": p.requester.account, "vpc": p.requester.vpc_id, "region": p.requester.region,
           "cidrs": p.requester.cidrs})
}

impl Acceptor {
    pub(super) async fn decide_and_act(&self, mut p: Peering, me: &str, snapshot: &Snapshot) -> Result<Outcome> {
        // Fail closed: an unreadable allowlist is an error, never an empty grant set.
        let grants = self.allowlist.peering_grants(&p.requester.account, &p.accepter.vpc_id).await?;
        if let Some(cidrs) = snapshot.cidrs.get(&p.accepter.vpc_id) {
            p.accepter.cidrs.extend(cidrs.iter().copied());
            p.accepter.cidrs.sort();
            p.accepter.cidrs.dedup();
        }
        let tables = snapshot.managed_tables(&p.accepter.vpc_id, self.config.route_table_tag.as_ref());
        let summary = json!({
            "requester": requester_json(&p),
            "accepter": {"vpc": p.accepter.vpc_id, "cidrs": p.accepter.cidrs},
            "route_tables": tables.len(),
            "malformed_grants": grants.malformed,
        });
        match decide(&p, &grants.grants, &tables, clock::now_epoch()) {
            Decision::Refuse { reason } if self.asks(&reason) => self.ask(&p, &tables).await,
            Decision::Refuse { reason } => self.refuse(&p, &reason, summary).await,
            Decision::Accept { grant } if self.dry_run() => {
                let mut details = summary;
                details["grant"] = json!(grant);
                let reason = "dry run: a grant matches";
                self.record(&p.id, LedgerAction::Accepted, Some(reason.into()), details).await?;
                let told = Told { action: LedgerAction::Accepted, reason_code: None, reason, dry_run: true };
                self.tell(&p.id, Some(&p), told, Vec::new()).await;
                Ok(self.plan_acceptance(&p, me, snapshot).await)
            }
            Decision::Accept { grant } => self.accept(&p, &grant, me, snapshot, summary).await,
        }
    }

    /// Whether a person is asked about a refusal: only with `UNLISTED_ACTION=ask`, and only when
    /// no live grant admits the requester (a grant would settle it; an overlap it would not).
    fn asks(&self, reason: &Refusal) -> bool {
        self.config.unlisted_action == UnlistedAction::Ask
            && matches!(reason, Refusal::NoGrant { .. } | Refusal::GrantExpired { .. })
    }

    /// Leaves the request pending or rejects it (`UNLISTED_ACTION`), with the reason recorded
    /// once per change of mind: a sweep meets the same refusal every few minutes.
    async fn refuse(&self, p: &Peering, reason: &Refusal, summary: Value) -> Result<Outcome> {
        let reject = self.config.unlisted_action == UnlistedAction::Reject;
        let (action, recorded) =
            if reject { (Action::Rejected, LedgerAction::Rejected) } else { (Action::Ignored, LedgerAction::Ignored) };
        if reject && !self.dry_run() {
            self.ec2.reject(&p.id).await?;
        }
        let text = reason.to_string();
        let mut details = summary;
        details["refusal"] = json!(reason);
        let written = self
            .ledger
            .record_unless_repeated(&ledger_key(&p.id), recorded, Some(text.clone()), self.dry_run(), details)
            .await?;
        if written {
            let told =
                Told { action: recorded, reason_code: Some(reason.code()), reason: &text, dry_run: self.dry_run() };
            self.tell(&p.id, Some(p), told, Vec::new()).await;
        }
        Ok(Outcome::new(&p.id, p.status.as_str(), action).with_requester(p).because(text))
    }

    /// Tags, accepts, waits for `active`, sets DNS resolution as granted, and wires the routes.
    async fn accept(
        &self,
        p: &Peering,
        grant: &PeeringGrant,
        me: &str,
        snapshot: &Snapshot,
        summary: Value,
    ) -> Result<Outcome> {
        // Tag first: a crash after accepting leaves a connection the sweep recognises as ours.
        let at = clock::rfc3339(clock::now_nanos());
        self.ec2.tag(&p.id, &[(MANAGED_TAG, "true"), (ACCEPTED_AT_TAG, &at)]).await?;
        let accepted = self.ec2.accept(&p.id).await?;
        let reason = match &accepted {
            AcceptOutcome::Accepted(_) => "a live grant matches and the CIDR checks pass",
            AcceptOutcome::AlreadyAccepted => "already accepted by a concurrent invocation",
        };
        if matches!(accepted, AcceptOutcome::Accepted(_)) {
            let mut details = summary;
            details["grant"] = json!(grant);
            self.record(&p.id, LedgerAction::Accepted, Some(reason.into()), details).await?;
            let told = Told { action: LedgerAction::Accepted, reason_code: None, reason, dry_run: false };
            self.tell(&p.id, Some(p), told, Vec::new()).await;
        }
        let active = self.wait_active(p, accepted).await?;
        let dns = grant.dns_resolution == Some(true);
        if dns {
            self.ec2.allow_dns_resolution(&active.id, Side::Accepter).await?;
        }
        let mut out = self.reconcile(&active, me, snapshot, Action::Accepted).await?;
        out.reason = Some(reason.into());
        if dns && out.errors.is_empty() {
            if let Some(requester_ec2) = self.requester_ec2(&active, me).await? {
                requester_ec2.allow_dns_resolution(&active.id, Side::Requester).await?;
            }
        }
        Ok(out)
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
                    return Err(Error::NotActiveYet { pcx: p.id.clone(), waited: self.config.active_wait })
                }
                _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
    }
}
