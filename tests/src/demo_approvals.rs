//! The demo's last act, a person in the loop (`UNLISTED_ACTION=ask`): a stranger's peering
//! request becomes an approval request (ledger record and event), a person approves it with the
//! CLI, and the grant's stream record makes the acceptor accept it at once. The events are read
//! from a queue subscribed to the bus, as any consumer would.
use serde_json::Value;

use crate::consumer::Consumer;
use crate::events::schedule;
use crate::privatelink::{grant_record, stream_event};
use crate::seed;
use crate::stage::Stage;
use crate::{bin_path, tables, ACCOUNT, REGION};
use vpcwarden::domain::{Grant, PeeringGrant, VpcScope};

const PARTNER: &str = "777777777777";
const BUS: &str = "vpcwarden-events";

fn heading(text: &str) {
    println!("\n== {text}");
}

/// Runs the `vpcwarden` CLI against the emulator, echoing the command and its output.
pub fn cli(stage: &Stage, args: &[&str]) {
    println!("  $ vpcwarden {}", args.join(" "));
    let out = std::process::Command::new(bin_path("vpcwarden"))
        .args(args)
        .env_clear()
        .envs(stage.env(&[]))
        .output()
        .expect("the vpcwarden CLI runs");
    for line in String::from_utf8_lossy(&out.stdout).lines().chain(String::from_utf8_lossy(&out.stderr).lines()) {
        println!("    {line}");
    }
    assert!(out.status.success(), "vpcwarden {} failed", args.join(" "));
}

/// The events waiting in the consumer's queue, one line each.
fn show_events(consumer: &Consumer) {
    for e in consumer.drain() {
        let d = &e["detail"];
        let what = d["decision"].as_str().or(d["kind"].as_str()).unwrap_or("");
        let subject = d["pcx"].as_str().or(d["request"].as_str()).unwrap_or("");
        let extra = d["approve_command"].as_str().map(|c| format!("  ({c})")).unwrap_or_default();
        println!("  event  {:<20} {what:<13} {subject}{extra}", e["detail-type"].as_str().unwrap_or(""));
    }
}

fn show_outcomes(answer: &Value) {
    for out in answer["peerings"].as_array().into_iter().flatten() {
        let (pcx, action) = (out["pcx"].as_str().unwrap_or("?"), out["action"].as_str().unwrap_or("?"));
        println!("  {pcx} {action:<9} {}", out["reason"].as_str().unwrap_or(""));
        let added = out["routes_added"].as_array().map_or(0, Vec::len);
        if added > 0 {
            println!("      + {added} route(s) through it");
        }
    }
}

pub async fn story() {
    heading("A person in the loop (UNLISTED_ACTION=ask, EVENT_BUS set): a fresh estate");
    let stage = Stage::new().await;
    let consumer = Consumer::new(&stage, BUS).await;
    println!("  events: a rule on bus {BUS} delivers everything from source vpcwarden to an SQS queue");
    let hub = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.name("hub").route_tables(1).create().await;
    let partner = seed::vpc(&stage.aws, PARTNER, REGION, "10.7.0.0/16").await.name("partner").create().await;
    let pcx = seed::request_peering(&stage.aws, &partner, &hub).await;
    println!("  {pcx}: account {PARTNER} ({}, 10.7.0.0/16) asks to peer with the hub; no grant names it", partner.id);

    heading("peering-acceptor sweeps twice: one approval request, one event");
    let acceptor = stage.function("peering-acceptor", &[("UNLISTED_ACTION", "ask"), ("EVENT_BUS", BUS)]);
    let mut answer = Value::Null;
    for _ in 0..2 {
        answer = acceptor.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", acceptor.logs()));
    }
    show_outcomes(&answer);
    show_events(&consumer);
    cli(&stage, &["requests"]);

    heading("The network team approves it: the narrowest grant, that account into the hub, its CIDR only");
    cli(&stage, &["approve", &pcx, "--expires", "90d", "--note", "partner onboarding, CHG-1207"]);
    cli(&stage, &["grants", "list"]);

    heading("The grant's stream record reaches the acceptor: accepted within one invocation");
    let grant = Grant::Peering(PeeringGrant {
        scope: VpcScope::Vpc(hub.id.clone()),
        account: PARTNER.into(),
        allowed_cidrs: None,
        dns_resolution: None,
        expires_at: None,
        note: None,
        added_by: tables::ADDED_BY.into(),
        added_at: 0,
    });
    let answer = acceptor
        .invoke(stream_event(vec![grant_record("INSERT", &grant, false)]))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", acceptor.logs()));
    show_outcomes(&answer);
    println!("  {pcx} is now {}", seed::peering_status(&stage.aws, ACCOUNT, REGION, &pcx).await);
    show_events(&consumer);
    cli(&stage, &["requests"]);

    heading("The request's story in the ledger");
    for entry in tables::ledger_entries(&stage.aws, &format!("request#{pcx}")).await {
        let reason = entry.get("reason").and_then(Value::as_str).unwrap_or("");
        println!("  {}  {:<19} {reason}", entry["pk"].as_str().unwrap_or(""), entry["action"].as_str().unwrap_or(""));
    }
}
