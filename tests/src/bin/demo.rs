//! `make demo`: a small two-account estate in the local emulator, and vpcwarden's functions run
//! through the Lambda Runtime API exactly as Lambda runs them. Prints what happened.
use serde_json::Value;
use std::collections::HashMap;
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::seed::{self, SeededVpc};
use vpcwarden_tests::stage::Stage;

use aws_sdk_dynamodb::types::AttributeValue;
use vpcwarden_tests::demo_approvals::cli;
use vpcwarden_tests::privatelink::{
    self, connection_states, principal, sns_event, stream_event, stream_record, Service,
};
use vpcwarden_tests::{tables, ACCOUNT, REGION};

const PAYMENTS: &str = "222222222222";
const ANALYTICS: &str = "333333333333";
const STRANGER: &str = "444444444444";
const ACME: &str = "555555555555";
const GLOBEX: &str = "666666666666";

fn heading(text: &str) {
    println!("\n== {text}");
}

fn vpc_line(label: &str, v: &SeededVpc) {
    println!(
        "  {label:<22} {} in {} ({}), {}, {} route table(s)",
        v.id,
        v.account,
        v.region,
        v.cidrs.join(" + "),
        v.route_tables.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("vpcwarden demo: everything below runs against a local AWS emulator on 127.0.0.1.");
    let stage = Stage::new().await;
    println!("  emulator at {}", stage.emu.url);

    heading("The estate");
    let hub = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.name("hub").route_tables(2).create().await;
    let payments = seed::vpc(&stage.aws, PAYMENTS, REGION, "10.1.0.0/16").await.name("payments").create().await;
    let analytics = seed::vpc(&stage.aws, ANALYTICS, REGION, "10.1.0.0/16").await.name("analytics").create().await;
    let stranger = seed::vpc(&stage.aws, STRANGER, REGION, "10.9.0.0/16").await.name("stranger").create().await;
    vpc_line("hub (ours, accepter)", &hub);
    vpc_line("payments", &payments);
    vpc_line("analytics", &analytics);
    vpc_line("stranger", &stranger);

    heading("The allowlist (DynamoDB)");
    tables::put_peering_grant(&stage.aws, Some(&hub.id), PAYMENTS, &["10.1.0.0/16"], None, Some(true)).await;
    tables::put_peering_grant(&stage.aws, Some(&hub.id), ANALYTICS, &[], None, None).await;
    println!("  peering#{} / account#{PAYMENTS}  allowed_cidrs=[10.1.0.0/16] dns_resolution=true", hub.id);
    println!("  peering#{} / account#{ANALYTICS}", hub.id);
    println!("  (nothing for {STRANGER})");

    heading("Three peering requests arrive (cross-account: only the sweep sees them)");
    let mut requests = Vec::new();
    for (label, vpc) in [
        ("payments (granted)", &payments),
        ("analytics (granted, but 10.1.0.0/16 again)", &analytics),
        ("stranger (unlisted)", &stranger),
    ] {
        requests.push((label, seed::request_peering(&stage.aws, vpc, &hub).await));
        // Requests carry second-resolution timestamps; the oldest is decided first.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    for (label, pcx) in &requests {
        println!("  {pcx}  from {label}");
    }

    heading("peering-acceptor, scheduled sweep, through the Lambda Runtime API");
    let acceptor = stage.function("peering-acceptor", &[("REQUESTER_ROLE_NAME", "vpcwarden-member")]);
    let answer =
        acceptor.invoke(schedule()).await.unwrap_or_else(|e| panic!("acceptor failed: {e}\n{}", acceptor.logs()));
    if let Some(init) = acceptor.init_duration() {
        println!("  (process start to first /next poll: {:.1} ms)", init.as_secs_f64() * 1000.0);
    }
    for out in answer["peerings"].as_array().into_iter().flatten() {
        let label = requests.iter().find(|(_, id)| out["pcx"] == id.as_str()).map_or("?", |(l, _)| l);
        println!("  {} {:<10} {label}", out["pcx"].as_str().unwrap_or("?"), out["action"].as_str().unwrap_or("?"));
        if let Some(reason) = out["reason"].as_str() {
            println!("      why: {reason}");
        }
        for r in out["routes_added"].as_array().into_iter().flatten() {
            println!(
                "      + route {} -> {} in {} ({} side)",
                r["destination"].as_str().unwrap_or(""),
                out["pcx"].as_str().unwrap_or(""),
                r["route_table"].as_str().unwrap_or(""),
                r["side"].as_str().unwrap_or("")
            );
        }
    }

    heading("Connection states afterwards");
    for (label, pcx) in &requests {
        println!("  {pcx}  {:<20} {label}", seed::peering_status(&stage.aws, ACCOUNT, REGION, pcx).await);
    }

    heading("The hub's route tables");
    for (table, dest, target, state) in seed::routes(&stage.aws, &hub).await {
        println!("  {table}  {dest:<15} -> {target:<24} {state}");
    }

    heading("The ledger (every decision, with its reason)");
    for entry in tables::ledger_entries(&stage.aws, "pcx#").await {
        let field = |k: &str| entry[k].as_str().unwrap_or("").to_string();
        let reason = entry.get("reason").and_then(Value::as_str).unwrap_or("");
        println!("  {}  {:<13} {reason}", field("pk"), field("action"));
    }

    heading("A replayed sweep changes nothing");
    let again = acceptor.invoke(schedule()).await.expect("second sweep");
    let summary: Vec<String> = again["peerings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| format!("{} {}", o["pcx"].as_str().unwrap_or(""), o["action"].as_str().unwrap_or("")))
        .collect();
    println!("  {}", summary.join("; "));

    vendor_onboarding(&stage).await;

    let out = std::path::Path::new("out");
    vpcwarden_tests::demo_audit::night(
        &stage,
        &out.join("night-1"),
        "drift-auditor, night 1 (nightly schedule, through the Lambda Runtime API)",
    )
    .await;
    the_next_day(&stage, &hub, &requests).await;
    vpcwarden_tests::demo_audit::night(&stage, out, "drift-auditor, night 2: compared with night 1").await;
    vpcwarden_tests::demo_approvals::story().await;
    vpcwarden_tests::demo_org::story(&out.join("org")).await;
    println!("\nDone. Run `make test` for the full suite.");
}

/// Between two nights: one finding is fixed, one drift appears, one risk is accepted.
async fn the_next_day(stage: &Stage, hub: &SeededVpc, requests: &[(&str, String)]) {
    heading("The next day");
    let pcx = |label: &str| requests.iter().find(|(l, _)| l.starts_with(label)).map(|(_, p)| p.clone()).unwrap();
    let stranger = pcx("stranger");
    stage
        .aws
        .ec2(ACCOUNT, REGION)
        .await
        .reject_vpc_peering_connection()
        .vpc_peering_connection_id(&stranger)
        .send()
        .await
        .expect("RejectVpcPeeringConnection");
    println!("  fixed: the network team rejects the stranger's request {stranger}");
    let table = &hub.route_tables[2];
    seed::add_route(&stage.aws, hub, table, "10.1.5.0/24", seed::RouteTargetSpec::InternetGateway).await;
    println!("  drift: someone routes 10.1.5.0/24 (inside payments' 10.1.0.0/16) in {table} to an internet gateway");
    println!("  accepted risk: analytics' blocked request is waived until its team renumbers");
    cli(
        stage,
        &[
            "waive",
            "--code",
            "PEERING_PENDING_BLOCKED",
            "--resource",
            &pcx("analytics"),
            "--reason",
            "analytics renumbers to 10.11.0.0/16 next sprint (NET-481)",
            "--expires",
            "30d",
            "--added-by",
            "network-team",
        ],
    );
    cli(stage, &["waivers", "list"]);
}

/// The allowlist item of a grant as it now stands, for the stream record Lambda would deliver.
async fn grant_item(stage: &Stage, service: &Service, account: &str) -> Option<HashMap<String, AttributeValue>> {
    let key = [("pk", format!("endpoint#{}", service.id)), ("sk", format!("account#{account}"))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), AttributeValue::S(v)))
        .collect();
    let out = stage.aws.dynamodb().await.get_item().table_name(tables::ALLOWLIST).set_key(Some(key)).send().await;
    out.expect("GetItem").item().cloned()
}

async fn show_connections(stage: &Stage, service: &Service, vendors: &[(&str, &str)]) {
    for (endpoint, state) in connection_states(&stage.aws, &service.id).await {
        let who = vendors.iter().find(|(e, _)| *e == endpoint).map_or("?", |(_, w)| w);
        println!("  {endpoint}  {state:<18} {who}");
    }
}

/// PrivateLink: a vendor on the allowlist connects and it just works; one that is not waits
/// until granted; a grant that ends disconnects it.
async fn vendor_onboarding(stage: &Stage) {
    heading("PrivateLink: our endpoint service (behind an NLB), acceptance required");
    let provider = privatelink::provider(&stage.aws, true).await;
    let service = privatelink::service(&stage.aws, &provider, &[principal(ACME), principal(GLOBEX)]).await;
    println!("  {} ({})", service.id, service.name);

    heading("The network team grants ACME with the CLI");
    cli(
        stage,
        &[
            "grant",
            "endpoint",
            "--service",
            &service.id,
            "--account",
            ACME,
            "--expires",
            "90d",
            "--note",
            "ACME support contract",
        ],
    );
    cli(stage, &["grants", "list"]);

    heading("ACME and Globex create interface endpoints to it");
    let acme = privatelink::consumer(&stage.aws, ACME, "10.20.0.0/16").await.connect(&service).await;
    let globex = privatelink::consumer(&stage.aws, GLOBEX, "10.30.0.0/16").await.connect(&service).await;
    let vendors = [(acme.as_str(), "ACME"), (globex.as_str(), "Globex")];
    show_connections(stage, &service, &vendors).await;

    heading("endpoint-approver, woken by the connection notifications (SNS)");
    let approver = stage.function("endpoint-approver", &[("REVOKE_ON_REMOVAL", "true")]);
    for (endpoint, owner) in [(&acme, ACME), (&globex, GLOBEX)] {
        let event = sns_event("Connect", &service.id, endpoint, owner, "pendingAcceptance");
        approver.invoke(event).await.unwrap_or_else(|e| panic!("approver failed: {e}\n{}", approver.logs()));
    }
    show_connections(stage, &service, &vendors).await;

    heading("Globex signs; the grant's stream record approves its waiting endpoint at once");
    cli(stage, &["grant", "endpoint", "--service", &service.id, "--account", GLOBEX, "--max-endpoints", "2"]);
    let item = grant_item(stage, &service, GLOBEX).await.expect("Globex's grant");
    approver.invoke(stream_event(vec![stream_record("INSERT", &item, false)])).await.expect("stream INSERT");
    show_connections(stage, &service, &vendors).await;

    heading("ACME's contract ends: revoking the grant disconnects it (REVOKE_ON_REMOVAL=true)");
    let item = grant_item(stage, &service, ACME).await.expect("ACME's grant");
    cli(stage, &["revoke", "endpoint", "--service", &service.id, "--account", ACME]);
    approver.invoke(stream_event(vec![stream_record("REMOVE", &item, false)])).await.expect("stream REMOVE");
    show_connections(stage, &service, &vendors).await;
    cli(stage, &["connections", "--service", &service.id]);
}
