//! Approval requests (`UNLISTED_ACTION=ask`): list the open ones, approve one (write the
//! narrowest grant that admits exactly it), deny one (reject it now). Each decision is recorded
//! under the request in the ledger with who made it and why.
use clap::Args;
use serde_json::{json, Value};

use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden::aws::ec2::{filter, Ec2};
use vpcwarden::aws::endpoints::Endpoints;
use vpcwarden::aws::ledger::{Ledger, OpenRequest};
use vpcwarden::domain::{ConnectionState, Grant, LedgerAction, LedgerKey, PeeringStatus};
use vpcwarden_core::requests::{endpoint_grant_for, peering_grant_for, RequestKind};

use crate::output::{pretty, Table};
use crate::{input, Failure};

/// Who decided, and when (epoch s).
pub struct Person {
    pub who: String,
    pub now: i64,
}

#[derive(Args)]
pub struct ApproveArgs {
    /// The request: a peering connection (pcx-…) or an endpoint (vpce-…).
    #[arg(value_parser = input::request_id)]
    pub id: String,
    /// When the grant ends: a date, an RFC 3339 time or a duration (30d); none = no end.
    #[arg(long, value_name = "WHEN")]
    pub expires: Option<String>,
    /// Why it is granted (kept with the grant).
    #[arg(long, value_parser = input::note)]
    pub note: Option<String>,
}

#[derive(Args)]
pub struct DenyArgs {
    /// The request: a peering connection (pcx-…) or an endpoint (vpce-…).
    #[arg(value_parser = input::request_id)]
    pub id: String,
    /// Why it is denied (recorded in the ledger).
    #[arg(long, value_parser = input::reason)]
    pub reason: String,
}

/// The open requests, oldest first, with the verdict of every check and the commands that
/// decide each.
pub async fn list(ledger: &Ledger, json_out: bool) -> Result<(), Failure> {
    let open = ledger.open_requests().await?;
    if json_out {
        println!("{}", pretty(&json!(open)));
        return Ok(());
    }
    if open.is_empty() {
        println!("no open approval requests");
        return Ok(());
    }
    let mut table =
        Table::new(&["REQUEST", "KIND", "ACCOUNT", "INTO", "CIDRS", "FIRST SEEN", "FAILED CHECKS", "APPROVE"]);
    for o in &open {
        let r = &o.request;
        let failed = o.failed_checks();
        let cidrs: Vec<String> = r.cidrs.iter().map(ToString::to_string).collect();
        table.row(vec![
            r.id.clone(),
            r.kind.as_str().into(),
            r.account.clone(),
            r.target.clone(),
            cidrs.join(","),
            o.first_seen.clone(),
            failed.join(","),
            o.approve_command.clone(),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

/// The request as the ledger has it, when it is still open.
async fn open_request(ledger: &Ledger, id: &str) -> Result<Option<OpenRequest>, Failure> {
    match ledger.request(id).await? {
        Some((r, true)) => Ok(Some(r)),
        Some((_, false)) => Err(Failure::NotFound(format!("the approval request {id} is already closed"))),
        None => Ok(None),
    }
}

/// Writes the narrowest grant that admits exactly the request, after the acceptor's own checks;
/// refuses (naming the check) when something other than the grant would still refuse it.
pub async fn approve(
    sdk: &aws_config::SdkConfig,
    allowlist: &Allowlist,
    ledger: &Ledger,
    args: ApproveArgs,
    expires_at: Option<i64>,
    person: Person,
) -> Result<(), Failure> {
    let request = open_request(ledger, &args.id).await?;
    let grant = if args.id.starts_with("pcx-") {
        let ec2 = Ec2::new(aws_sdk_ec2::Client::new(sdk));
        let mut p = ec2
            .peering(&args.id)
            .await?
            .ok_or_else(|| Failure::NotFound(format!("{} does not exist (any more)", args.id)))?;
        if p.status != PeeringStatus::PendingAcceptance {
            return Err(Failure::NotFound(format!(
                "{} is {}, not pending: nothing to approve",
                p.id,
                p.status.as_str()
            )));
        }
        let cidrs = ec2.vpcs_cidrs(&[p.accepter.vpc_id.as_str()]).await?;
        p.accepter.cidrs.extend(cidrs.get(&p.accepter.vpc_id).into_iter().flatten().copied());
        let tables = ec2.route_tables(vec![filter("vpc-id", [p.accepter.vpc_id.as_str()])]).await?;
        let tables: Vec<_> = tables.iter().collect();
        let grant = peering_grant_for(&p, &tables, (&person.who, person.now), expires_at, args.note.clone()).map_err(
            |refusal| {
                Failure::NotFound(format!(
                    "cannot approve {}: the {} check fails — {refusal}; a grant would not admit it",
                    p.id,
                    refusal.code()
                ))
            },
        )?;
        Grant::Peering(grant)
    } else {
        let request = request.as_ref().ok_or_else(|| {
            Failure::NotFound(format!("no approval request for {}: the approver has not asked about it", args.id))
        })?;
        let endpoints = Endpoints::new(aws_sdk_ec2::Client::new(sdk));
        let service = request.request.target.clone();
        let all = endpoints.connections(std::slice::from_ref(&service), None).await?;
        let c = all
            .iter()
            .find(|c| c.endpoint_id == args.id && c.state == ConnectionState::PendingAcceptance)
            .ok_or_else(|| Failure::NotFound(format!("{} is no longer pending on {service}", args.id)))?;
        let connected = all.iter().filter(|o| o.account == c.account && o.state.holds_a_slot()).count() as u32;
        Grant::Endpoint(endpoint_grant_for(c, connected, (&person.who, person.now), expires_at, args.note.clone()))
    };
    allowlist.put(&grant).await?;
    let request_key = LedgerKey::Request(args.id.clone());
    let reason = Some(format!("approved by {}", person.who));
    let details = json!({"by": person.who, "grant": grant_json(&grant)});
    ledger.record(&request_key, LedgerAction::Approved, reason, false, details).await?;
    let key = grant.key();
    println!("approved {}: grant {}/{} written; it is accepted within seconds", args.id, key.pk(), key.sk());
    Ok(())
}

fn grant_json(grant: &Grant) -> Value {
    match grant {
        Grant::Peering(g) => json!(g),
        Grant::Endpoint(g) => json!(g),
    }
}

/// Rejects the request now and records who denied it and why.
pub async fn deny(sdk: &aws_config::SdkConfig, ledger: &Ledger, args: DenyArgs, person: Person) -> Result<(), Failure> {
    let request = open_request(ledger, &args.id).await?;
    if args.id.starts_with("pcx-") {
        Ec2::new(aws_sdk_ec2::Client::new(sdk)).reject(&args.id).await?;
    } else {
        let request = request
            .as_ref()
            .filter(|r| r.request.kind == RequestKind::Endpoint)
            .ok_or_else(|| Failure::NotFound(format!("no approval request for {}: its service is unknown", args.id)))?;
        let endpoints = Endpoints::new(aws_sdk_ec2::Client::new(sdk));
        let service = &request.request.target;
        let failed = endpoints.reject(service, std::slice::from_ref(&args.id)).await?;
        if let Some(f) = failed.first() {
            // Its owner deleted it meanwhile: nothing left to deny, so the request closes.
            let all = endpoints.connections(std::slice::from_ref(service), None).await?;
            if !all.iter().any(|c| c.endpoint_id == args.id && !c.state.is_gone()) {
                let key = LedgerKey::Request(args.id.clone());
                let reason = Some(format!("the endpoint is gone ({}); closed by {}", f.code, person.who));
                ledger.record(&key, LedgerAction::RequestClosed, reason, false, json!({"by": person.who})).await?;
                println!("{} no longer exists: its approval request is closed", args.id);
                return Ok(());
            }
            return Err(Failure::NotFound(format!("{} was not rejected: {}: {}", args.id, f.code, f.message)));
        }
    }
    let key = LedgerKey::Request(args.id.clone());
    let reason = Some(format!("denied by {}: {}", person.who, args.reason));
    ledger.record(&key, LedgerAction::Denied, reason, false, json!({"by": person.who, "reason": args.reason})).await?;
    println!("denied {}: rejected, and recorded with your reason", args.id);
    Ok(())
}
