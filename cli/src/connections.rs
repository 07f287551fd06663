//! `vpcwarden connections --service …`: a live view of an endpoint service's connections, each
//! with its grant and what endpoint-approver would decide about it now (the core's own decision).
use std::collections::HashMap;

use serde_json::{json, Value};

use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden::aws::endpoints::Endpoints;
use vpcwarden::domain::{EndpointGrant, UnlistedAction};
use vpcwarden_core::endpoint::{decide_connections, Focus, Policy, Verdict};

use crate::input::format_time;
use crate::output::{pretty, Table};
use crate::Failure;

pub async fn show(
    endpoints: &Endpoints,
    allowlist: &Allowlist,
    service: &str,
    now: i64,
    json: bool,
) -> Result<(), Failure> {
    let connections = endpoints.connections(&[service.to_string()], None).await?;
    let grants = allowlist.endpoint_grants(service).await?;
    for m in &grants.malformed {
        eprintln!("warning: {m} (it grants nothing)");
    }
    let policy = Policy { unlisted: UnlistedAction::Ignore, revoke_on_removal: false };
    let verdicts = decide_connections(service, &connections, &grants.grants, &policy, &Focus::Service, now);
    let created: HashMap<&str, Option<i64>> =
        connections.iter().map(|c| (c.endpoint_id.as_str(), c.created_at)).collect();
    let rows: Vec<Value> = verdicts
        .iter()
        .map(|v| connection_json(v, created.get(v.endpoint_id.as_str()).copied().flatten(), &grants.grants, now))
        .collect();
    if json {
        println!("{}", pretty(&json!(rows)));
    } else {
        print_connections(&rows);
    }
    Ok(())
}

fn connection_json(v: &Verdict, created_at: Option<i64>, grants: &[EndpointGrant], now: i64) -> Value {
    let grant = grants
        .iter()
        .filter(|g| g.account == v.account)
        .max_by_key(|g| (g.is_live(now), g.expires_at.unwrap_or(i64::MAX)));
    let grant = match grant {
        None => json!({"status": "none"}),
        Some(g) => json!({
            "status": if g.is_live(now) { "live" } else { "expired" },
            "expires_at": g.expires_at,
            "max_endpoints": g.max_endpoints,
        }),
    };
    json!({
        "endpoint_id": v.endpoint_id,
        "account": v.account,
        "state": v.state,
        "created_at": created_at.map(format_time),
        "grant": grant,
        "decision": v.reason.code(),
        "reason": v.reason.to_string(),
    })
}

fn print_connections(rows: &[Value]) {
    if rows.is_empty() {
        println!("no connections");
        return;
    }
    let mut t = Table::new(&["ENDPOINT", "ACCOUNT", "STATE", "CREATED", "GRANT", "DECISION", "REASON"]);
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    for r in rows {
        let g = &r["grant"];
        let mut grant = s(&g["status"]);
        if let Some(max) = g["max_endpoints"].as_u64() {
            grant.push_str(&format!(", max {max}"));
        }
        if let Some(at) = g["expires_at"].as_i64() {
            grant.push_str(&format!(", until {}", format_time(at)));
        }
        t.row(vec![
            s(&r["endpoint_id"]),
            s(&r["account"]),
            s(&r["state"]),
            s(&r["created_at"]),
            grant,
            s(&r["decision"]),
            s(&r["reason"]),
        ]);
    }
    println!("{}", t.render());
}
