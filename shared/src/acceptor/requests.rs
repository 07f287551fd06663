//! Approval requests on the peering side (`UNLISTED_ACTION=ask`): a request no grant admits is
//! opened once (ledger `request#<pcx>`, `Approval Requested` event), a grant written for it
//! (`vpcwarden approve`) reaches the acceptor through the allowlist stream, and a request that
//! dies first (expired after 7 days, deleted, rejected) is closed by the sweep that sees it dead.
use super::answer::{Action, Answer, BatchItemFailure, Outcome};
use super::event::PeeringUnit;
use super::{Acceptor, ACTOR};
use crate::aws::eventbridge::tell;
use crate::clock;
use crate::domain::events::Place;
use crate::domain::{LedgerAction, LedgerKey, Peering, RouteTable};
use crate::error::Result;
use vpcwarden_core::announce;
use vpcwarden_core::requests::ApprovalRequest;

/// How long AWS keeps a peering request pending: its expiry less this is when it was made.
const PENDING_LIFETIME: i64 = 7 * 86_400;

impl Acceptor {
    /// Opens the approval request for `p` (once: a sweep meets it every few minutes, and two
    /// invocations may meet it at once) and announces it when this call opened it.
    pub(super) async fn ask(&self, p: &Peering, tables: &[&RouteTable]) -> Result<Outcome> {
        let request = ApprovalRequest::peering(p, tables);
        let first_seen = p.expires_at.map_or_else(clock::now_epoch, |e| e - PENDING_LIFETIME);
        if self.ledger.open_request(&request, first_seen, self.dry_run()).await? {
            let at = clock::rfc3339_second(first_seen.min(clock::now_epoch()));
            if let Some(bus) = &self.events {
                if let Ok(caller) = self.identity.caller().await {
                    let place = Place { partition: &caller.partition, region: &self.region, account: &caller.account };
                    tell(Some(bus), ACTOR, vec![announce::approval_requested(&place, &request, &at)]).await;
                }
            }
        }
        let why = format!("no grant admits it: approval requested ({})", request.approve_command());
        Ok(Outcome::new(&p.id, p.status.as_str(), Action::Asked).with_requester(p).because(why))
    }

    /// Closes the open approval request of a dead connection; whether anything is left to do
    /// for it (never: its routes are not ours).
    pub(super) async fn close_request(&self, p: &Peering) -> Result<bool> {
        let Some((_, true)) = self.ledger.request(&p.id).await? else { return Ok(false) };
        let reason = format!("the request is {} before anyone decided it", p.status.as_str());
        let key = LedgerKey::Request(p.id.clone());
        self.ledger
            .record(&key, LedgerAction::RequestClosed, Some(reason), self.dry_run(), serde_json::json!({}))
            .await?;
        Ok(false)
    }

    /// A stream batch, unit after unit, stopping at the first that fails: the answer's
    /// `batchItemFailures` names that unit's record, so Lambda (with `ReportBatchItemFailures`)
    /// retries from there and never the units before it.
    pub(super) async fn settle_batch(&self, me: &str, units: &[PeeringUnit], answer: &mut Answer) {
        let mut failures = Vec::new();
        for unit in units {
            let failed = match self.sweep(me, answer, Some(unit)).await {
                Ok(errors) => errors.first().map(ToString::to_string),
                Err(e) => Some(e.to_string()),
            };
            if let Some(why) = failed {
                tracing::error!(account = %unit.account, sequence = %unit.sequence, error = %why,
                    "stream records not processed: Lambda retries from this one");
                answer.notes.push(format!("grant for {} (records from {} on): {why}", unit.account, unit.sequence));
                failures.push(BatchItemFailure { item_identifier: unit.sequence.clone() });
                break;
            }
        }
        answer.batch_item_failures = Some(failures);
    }
}
