//! Benchmark (not a test): peering-acceptor wiring one peering between two VPCs of this account
//! with N route tables a side (2N CreateRoute calls), unthrottled, under the emulator's model of
//! EC2's documented token buckets (CreateRoute: a burst of 50, then 5 a second), and under 20 %
//! random throttling of CreateRoute. Lambda's invocations are driven as Lambda's retries and the
//! next sweeps would: each has the function's 120 s timeout as its deadline, and an answer
//! `Retryable.*` is followed by the next invocation at once, until one answers Ok. Reports the
//! total time, invocations, CreateRoute attempts and throttled calls, next to what the bucket
//! allows (the burst at once, then the refill rate).
//!
//! `VPCWARDEN_BIN_DIR=target/release cargo run -p vpcwarden-tests --bin bench-throttling -- [--sizes 50,200,500] [--write]`
use std::fmt::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::plot::{self, Panel, Series};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bench_doc, seed, tables, workspace_root, ACCOUNT, REGION};

/// The function's timeout (infra: `Timeout: 120`), the deadline of each invocation.
const TIMEOUT: Duration = Duration::from_secs(120);
/// Invocations before the bench gives up on a run.
const MAX_INVOCATIONS: usize = 10;
/// EC2's documented bucket for CreateRoute (a mutating action).
const BURST: f64 = 50.0;
const REFILL: f64 = 5.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unthrottled,
    Bucket,
    Random,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Unthrottled => "unthrottled",
            Mode::Bucket => "EC2's buckets (documented numbers)",
            Mode::Random => "20 % of CreateRoute throttled at random",
        }
    }
}

struct Run {
    tables: usize,
    mode: Mode,
    seconds: f64,
    invocations: usize,
    attempts: usize,
    throttled: usize,
    routes: usize,
}

/// What the bucket allows for `routes` CreateRoute calls: the burst at once, then the refill.
fn limit(routes: usize) -> f64 {
    (routes as f64 - BURST).max(0.0) / REFILL
}

async fn run(stage: &Stage, pair: usize, tables: usize, mode: Mode) -> Run {
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, &format!("10.{}.0.0/16", 2 * pair)).await;
    let acc = acc.route_tables(tables - 1).create().await;
    let req = seed::vpc(&stage.aws, ACCOUNT, REGION, &format!("10.{}.0.0/16", 2 * pair + 1)).await;
    let req = req.route_tables(tables - 1).create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), ACCOUNT, &[], None, None).await;
    let pcx = seed::request_peering(&stage.aws, &req, &acc).await;
    let fault = match mode {
        Mode::Unthrottled => None,
        // Every bucket full, as in an account nothing else has used lately.
        Mode::Bucket => {
            stage.emu.throttle(json!({}));
            None
        }
        Mode::Random => Some(stage.emu.add_fault(json!({"action": "CreateRoute", "fraction": 0.2, "seed": 7}))),
    };
    let f = stage.function("peering-acceptor", &[]);
    stage.emu.clear_requests();
    let started = Instant::now();
    let mut invocations = 0;
    loop {
        invocations += 1;
        match f.invoke_with_deadline(schedule(), TIMEOUT, TIMEOUT + Duration::from_secs(30)).await {
            Ok(_) => break,
            Err(e) if e.error_type.starts_with("Retryable.") && invocations < MAX_INVOCATIONS => {
                println!("    invocation {invocations}: {}", e.error_type);
            }
            Err(e) => panic!("{tables} tables, {}: {e}\n{}", mode.name(), f.logs()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(fault) = fault {
        stage.emu.remove_fault(&fault);
    }
    if mode == Mode::Bucket {
        stage.emu.stop_throttling();
    }
    let calls: Vec<_> = stage.emu.requests().into_iter().filter(|r| r.action == "CreateRoute").collect();
    let routes = seed::routes_through(&stage.aws, &acc, &pcx).await.len()
        + seed::routes_through(&stage.aws, &req, &pcx).await.len();
    assert_eq!(routes, 2 * tables, "{tables} tables, {}: a route in every table", mode.name());
    let throttled = calls.iter().filter(|r| r.fault).count();
    Run { tables, mode, seconds, invocations, attempts: calls.len(), throttled, routes }
}

fn sizes() -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').map(|n| n.trim().parse().expect("--sizes takes numbers")).collect())
        .unwrap_or_else(|| vec![50, 200, 500])
}

fn table(runs: &[Run]) -> String {
    let mut s = String::from(
        "| route tables a side | CreateRoute calls needed | mode | time | invocations | CreateRoute attempts | \
         throttled | bucket limit | time / limit |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let ratio = match (r.mode, limit(r.routes)) {
            (Mode::Bucket, l) if l > 0.0 => format!("{:.2}", r.seconds / l),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} s | {} | {} | {} | {:.0} s | {ratio} |",
            r.tables,
            r.routes,
            r.mode.name(),
            r.seconds,
            r.invocations,
            r.attempts,
            r.throttled,
            limit(r.routes)
        );
    }
    s
}

fn targets(runs: &[Run]) -> String {
    let mut s = String::from("| target | figure | |\n|---|---|---|\n");
    let met = |ok: bool| if ok { "met" } else { "**missed**" };
    let find = |tables: usize, mode: Mode| runs.iter().find(|r| r.tables == tables && r.mode == mode);
    for tables in runs.iter().map(|r| r.tables).collect::<std::collections::BTreeSet<_>>() {
        let (Some(b), Some(u)) = (find(tables, Mode::Bucket), find(tables, Mode::Unthrottled)) else { continue };
        let l = limit(b.routes);
        let _ = writeln!(
            s,
            "| {tables} tables a side, buckets: ≤ 1.2 × the limit | {:.1} s vs {l:.0} s ({:.2} ×) | {} |",
            b.seconds,
            b.seconds / l.max(1e-9),
            met(b.seconds <= 1.2 * l)
        );
        if let Some(r) = find(tables, Mode::Random) {
            let bound = 2.0 * u.seconds + l;
            let _ = writeln!(
                s,
                "| {tables} tables a side, random 20 %: ≤ 2 × unthrottled + the limit | {:.1} s vs {bound:.1} s | {} |",
                r.seconds,
                met(r.seconds <= bound)
            );
        }
    }
    if let Some(r) = find(50, Mode::Random) {
        let _ = writeln!(
            s,
            "| 100 routes, random 20 %: ≤ 10 s (46 s before) | {:.1} s | {} |",
            r.seconds,
            met(r.seconds <= 10.0)
        );
    }
    s
}

fn plot_svg(runs: &[Run]) -> String {
    let points = |mode: Mode| runs.iter().filter(|r| r.mode == mode).map(|r| (r.tables as f64, r.seconds)).collect();
    let limit_line = runs.iter().filter(|r| r.mode == Mode::Bucket).map(|r| (r.tables as f64, limit(r.routes)));
    // The limit last, dashed over the line that follows it closely.
    let series = vec![
        Series {
            name: "vpcwarden, EC2's buckets".into(),
            color: "#1f77b4",
            dashed: false,
            points: points(Mode::Bucket),
        },
        Series {
            name: "vpcwarden, 20 % random throttling".into(),
            color: "#ff7f0e",
            dashed: false,
            points: points(Mode::Random),
        },
        Series {
            name: "vpcwarden, unthrottled".into(),
            color: "#2ca02c",
            dashed: false,
            points: points(Mode::Unthrottled),
        },
        Series {
            name: "bucket limit (burst, then refill)".into(),
            color: "#d62728",
            dashed: true,
            points: limit_line.collect(),
        },
    ];
    let panel = Panel { title: "Wiring one peering".into(), y_label: "seconds".into(), series };
    plot::svg(&[panel], "route tables a side (log scale)")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let write = std::env::args().any(|a| a == "--write");
    println!("peering-acceptor: {}", vpcwarden_tests::bin_path("peering-acceptor").display());
    let started = Instant::now();
    let mut runs = Vec::new();
    for (i, tables) in sizes().into_iter().enumerate() {
        // One emulator per size: a pair of VPCs per mode.
        let stage = Stage::new().await;
        for (j, mode) in [Mode::Unthrottled, Mode::Bucket, Mode::Random].into_iter().enumerate() {
            let r = run(&stage, 3 * i + j + 1, tables, mode).await;
            println!(
                "  {tables} tables a side, {}: {:.1} s, {} invocation(s), {} attempts, {} throttled",
                mode.name(),
                r.seconds,
                r.invocations,
                r.attempts,
                r.throttled
            );
            runs.push(r);
        }
    }
    let body = format!(
        "Measured by `make bench` (release build, {} cores shared with other work; the whole bench {:.0} s).\n\n{}\n{}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        started.elapsed().as_secs_f64(),
        table(&runs),
        targets(&runs)
    );
    println!("\n{body}");
    let raw: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({"tables": r.tables, "mode": r.mode.name(), "seconds": r.seconds, "invocations": r.invocations,
                        "attempts": r.attempts, "throttled": r.throttled, "limit": limit(r.routes)})
        })
        .collect();
    let out = vpcwarden_tests::target_dir().join("bench/throttling.json");
    std::fs::create_dir_all(out.parent().expect("a parent")).expect("bench dir");
    std::fs::write(&out, serde_json::to_string_pretty(&raw).expect("json")).expect("write results");
    if write {
        let svg = workspace_root().join("tests/bench/throttling.svg");
        std::fs::write(&svg, plot_svg(&runs)).expect("write plot");
        bench_doc::replace_section("throttling", &body);
        println!("wrote {} and BENCHMARKS.md", svg.display());
    }
}
