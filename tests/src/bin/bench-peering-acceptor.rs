//! Benchmark (not a test): peering-acceptor accepts and wires one peering between two VPCs of
//! this account with 50 route tables each (49 extra tables + the main one), in one sweep. Counts
//! the API calls by operation (emulator request log) next to the minimum: one Describe per
//! resource kind and side, one CreateRoute per missing route. Then the same sweep on a fresh
//! pair with a fifth of the CreateRoute calls throttled (`RequestLimitExceeded`), which the
//! route executor (its pacing and retries) must absorb.
//!
//! `VPCWARDEN_BIN_DIR=target/release cargo run -p vpcwarden-tests --bin bench-peering-acceptor [-- --write]`
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

use serde_json::json;
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bench_doc, seed, tables, ACCOUNT, REGION};

const TABLES: usize = 50;

/// One sweep over a fresh pair of VPCs; the calls by operation, wall time and routes added.
async fn sweep(stage: &Stage, n: usize) -> (BTreeMap<String, usize>, f64, usize) {
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, &format!("10.{}.0.0/16", 2 * n)).await;
    let acc = acc.route_tables(TABLES - 1).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, &format!("10.{}.0.0/16", 2 * n + 1)).await;
    let req = req.route_tables(TABLES - 1).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    seed::request_peering(&stage.aws, &req, &acc).await;
    let f = stage.function("peering-acceptor", &[]);
    stage.emu.clear_requests();
    let t = Instant::now();
    let answer = f.invoke(schedule()).await.unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let wall = t.elapsed().as_secs_f64();
    let peering = answer["peerings"].as_array().into_iter().flatten().find(|p| p["action"] == "accepted");
    let added = peering.and_then(|p| p["routes_added"].as_array()).map_or(0, Vec::len);
    let mut calls = BTreeMap::new();
    for r in stage.emu.requests() {
        *calls.entry(format!("{}:{}", r.service, r.action)).or_insert(0) += 1;
    }
    (calls, wall, added)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let stage = Stage::new().await;
    let (calls, wall, added) = sweep(&stage, 1).await;
    assert_eq!(added, 2 * TABLES, "a route in every table of both sides");

    let fault = stage.emu.add_fault(json!({"action": "CreateRoute", "fraction": 0.2, "seed": 7}));
    let (throttled, throttled_wall, throttled_added) = sweep(&stage, 2).await;
    stage.emu.remove_fault(&fault);
    let injected = stage.emu.faults()["injected"].clone();

    let mut s = format!(
        "One sweep: accept a peering between two VPCs of this account with {TABLES} route tables each and wire \
         a route in all {} tables. Wall time {wall:.2} s; {added} routes added.\n\n\
         | operation | calls | minimum |\n|---|---|---|\n",
        2 * TABLES
    );
    let minimum = |op: &str| match op {
        "ec2:CreateRoute" => (2 * TABLES).to_string(),
        "ec2:DescribeRouteTables" => "2 (one per side)".into(),
        "ec2:DescribeVpcs" | "ec2:DescribeVpcPeeringConnections" => "1".into(),
        _ => "–".into(),
    };
    for (op, n) in &calls {
        let _ = writeln!(s, "| {op} | {n} | {} |", minimum(op));
    }
    let _ = writeln!(
        s,
        "\nWith a fifth of CreateRoute calls answered `RequestLimitExceeded` (fault injected: {injected}): \
         {throttled_added} routes added in {throttled_wall:.2} s, {} CreateRoute attempts.",
        throttled.get("ec2:CreateRoute").copied().unwrap_or(0)
    );
    println!("{s}");
    if write {
        bench_doc::replace_section("acceptor", &s);
    }
}
