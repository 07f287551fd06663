//! Benchmark (not a test): how many API calls, and how long, the endpoint-approver takes to
//! settle 500 pending PrivateLink connections across 10 endpoint services, counted from the
//! emulator's request log.
//!
//!     cargo build -p endpoint-approver && cargo run -p vpcwarden-tests --bin bench-endpoint-approver [-- --write]
//!
//! `--write` rewrites the generated `approver` section of BENCHMARKS.md.
//!
//! Options (environment): `BENCH_SERVICES` (10), `BENCH_CONNECTIONS` (500), `BENCH_ACCOUNTS`
//! (10, the last one unlisted), `VPCWARDEN_BIN_DIR` to run another build (e.g. release).
//! The estate: one NLB with a healthy target, the services requiring acceptance, consumers in
//! `BENCH_ACCOUNTS` accounts spreading their endpoints round-robin; every account but the last
//! holds a grant for every service; the function runs with `UNLISTED_ACTION=reject`, so each
//! service needs one Accept and one Reject call.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::task::JoinSet;
use vpcwarden::aws::allowlist::Allowlist;
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::privatelink::{self, connection_states, endpoint_grant, principal};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bench_doc, tables, RequestRecord};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn by_action(log: &[RequestRecord]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in log {
        *counts.entry(format!("{}:{}", r.service, r.action)).or_insert(0) += 1;
    }
    counts
}

fn print_counts(title: &str, elapsed: Duration, log: &[RequestRecord]) -> Value {
    let counts = by_action(log);
    println!("\n{title}: {:.2} s wall time, {} API calls", elapsed.as_secs_f64(), log.len());
    for (action, n) in &counts {
        println!("  {n:>5}  {action}");
    }
    json!({"wall_seconds": elapsed.as_secs_f64(), "api_calls": log.len(), "by_action": counts})
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n_services = setting("BENCH_SERVICES", 10);
    let n_connections = setting("BENCH_CONNECTIONS", 500);
    let n_accounts = setting("BENCH_ACCOUNTS", 10).max(2);
    let accounts: Vec<String> = (0..n_accounts).map(|i| format!("{:012}", 210_000_000_000u64 + i as u64)).collect();
    let (granted, unlisted) = accounts.split_at(n_accounts - 1);

    println!("seeding {n_connections} pending connections over {n_services} services from {n_accounts} accounts…");
    let seeding = Instant::now();
    let stage = Stage::new().await;
    let provider = privatelink::provider(&stage.aws, true).await;
    let principals: Vec<String> = accounts.iter().map(|a| principal(a)).collect();
    let mut services = Vec::new();
    for _ in 0..n_services {
        services.push(privatelink::service(&stage.aws, &provider, &principals).await);
    }
    let allowlist = Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST);
    for svc in &services {
        for a in granted {
            allowlist.put(&endpoint_grant(&svc.id, a, None, None)).await.expect("grant");
        }
    }
    let mut consumers = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        consumers.push(std::sync::Arc::new(
            privatelink::consumer(&stage.aws, a, &format!("10.{}.0.0/16", 1 + i % 250)).await,
        ));
    }
    let mut tasks = JoinSet::new();
    for i in 0..n_connections {
        let consumer = consumers[i % n_accounts].clone();
        let svc = services[(i / n_accounts) % n_services].clone();
        tasks.spawn(async move { consumer.connect(&svc).await });
        while tasks.len() >= 16 {
            tasks.join_next().await.expect("a task").expect("connected");
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("connected");
    }
    println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());

    let f = stage.function("endpoint-approver", &[("UNLISTED_ACTION", "reject")]);
    // Warm the process (cold start, STS identity) on an empty notification-less run? No: measure
    // the cold invocation as Lambda would run it, then a second sweep with nothing to do.
    stage.emu.clear_requests();
    let started = Instant::now();
    let answer = f.invoke_with_timeout(schedule(), Duration::from_secs(600)).await.expect("the sweep settles");
    let first = started.elapsed();
    let first_log = stage.emu.requests();

    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for svc in &services {
        for state in connection_states(&stage.aws, &svc.id).await.into_values() {
            *states.entry(state).or_insert(0) += 1;
        }
    }
    let accepted: usize =
        answer["services"].as_array().into_iter().flatten().map(|s| s["accepted"].as_array().map_or(0, Vec::len)).sum();
    let rejected: usize =
        answer["services"].as_array().into_iter().flatten().map(|s| s["rejected"].as_array().map_or(0, Vec::len)).sum();

    stage.emu.clear_requests();
    let started = Instant::now();
    f.invoke_with_timeout(schedule(), Duration::from_secs(600)).await.expect("the second sweep");
    let second = started.elapsed();
    let second_log = stage.emu.requests();

    let first_summary = print_counts("first sweep (settles everything)", first, &first_log);
    println!("  accepted {accepted}, rejected {rejected}; states afterwards {states:?}");
    let second_summary = print_counts("second sweep (nothing left to do)", second, &second_log);
    let summary = json!({
        "services": n_services, "connections": n_connections, "accounts": n_accounts,
        "unlisted_accounts": unlisted.len(),
        "first_sweep": first_summary, "second_sweep": second_summary,
        "accepted": accepted, "rejected": rejected, "states_after": states,
        "function_init_seconds": f.init_duration().map(|d| d.as_secs_f64()),
        "function_peak_rss_kb": f.peak_rss_kb(),
    });
    println!("\n{}", serde_json::to_string_pretty(&summary).expect("JSON"));
    if std::env::args().any(|a| a == "--write") {
        bench_doc::replace_section("approver", &markdown(&summary, &by_action(&first_log), &by_action(&second_log)));
    }
}

/// The summary as BENCHMARKS.md shows it.
fn markdown(summary: &Value, first: &BTreeMap<String, usize>, second: &BTreeMap<String, usize>) -> String {
    let mut s = format!(
        "{} pending connections over {} services from {} accounts ({} unlisted, `UNLISTED_ACTION=reject`): \
         first sweep {:.2} s, {} accepted, {} rejected; second sweep {:.2} s. Peak RSS {} kB.\n\n\
         | operation | first sweep | second sweep |\n|---|---|---|\n",
        summary["connections"],
        summary["services"],
        summary["accounts"],
        summary["unlisted_accounts"],
        summary["first_sweep"]["wall_seconds"].as_f64().unwrap_or(0.0),
        summary["accepted"],
        summary["rejected"],
        summary["second_sweep"]["wall_seconds"].as_f64().unwrap_or(0.0),
        summary["function_peak_rss_kb"],
    );
    let ops: std::collections::BTreeSet<&String> = first.keys().chain(second.keys()).collect();
    for op in ops {
        let n = |m: &BTreeMap<String, usize>| m.get(op).copied().unwrap_or(0);
        s.push_str(&format!("| {op} | {} | {} |\n", n(first), n(second)));
    }
    s
}
