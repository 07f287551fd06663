//! Renders the org-audit benchmark (measured by `tests/bench/org_audit.py`, which drives the
//! emulator's Step Functions engine) into BENCHMARKS.md's `org-audit` section and the plot
//! `tests/bench/org-audit.svg`: wall time against scopes for one invocation and the state
//! machine at MaxConcurrency 10 and 40, calls per scope, peak memory, payload sizes, and what an
//! organisation of 2,000 accounts × 4 regions would cost.
//!
//! `cargo run -p vpcwarden-tests --bin bench-org-audit -- target/bench/org-audit.json --write`
use std::fmt::Write;

use serde_json::Value;
use vpcwarden_tests::plot::{self, Panel, Series};
use vpcwarden_tests::{bench_doc, workspace_root};

/// Step Functions Standard: USD per state transition; Lambda: USD per GB-second (arm64), us-east-1.
const USD_PER_TRANSITION: f64 = 0.025 / 1000.0;
const USD_PER_GB_SECOND_ARM: f64 = 0.000_013_333_4;
const MEMORY_GB: f64 = 0.5;
/// Transitions of one child execution (its Task entered and exited, the execution's end) and of
/// the parent (Options, MergeOptions, Plan, AuditScopes, Aggregate, entered and exited).
const CHILD_TRANSITIONS: f64 = 3.0;
const PARENT_TRANSITIONS: f64 = 10.0;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_default()
}

fn sizes_table(sizes: &[Value]) -> String {
    let mut s = String::from(
        "| scopes (accounts × 2 regions) | findings | one invocation | state machine, MaxConcurrency 10 | MaxConcurrency 40 | \
         peak RSS: one invocation | largest environment of the state machine (10 / 40) | aggregate step alone | \
         largest payload between states |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in sizes {
        let largest = r["payload_bytes"].as_object().map(|m| m.values().map(f).fold(0.0, f64::max)).unwrap_or(0.0);
        let _ = writeln!(
            s,
            "| {} ({}) | {} | {:.1} s | {:.1} s | {:.1} s | {:.1} MB | {:.1} / {:.1} MB | {:.1} MB | {:.1} KB |",
            r["scopes"],
            r["accounts"],
            r["findings"],
            f(&r["seconds"]["single"]),
            f(&r["seconds"]["mc10"]),
            f(&r["seconds"]["mc40"]),
            f(&r["rss_mb"]["single"]),
            f(&r["rss_mb"]["largest_environment_mc10"]),
            f(&r["rss_mb"]["largest_environment_mc40"]),
            f(&r["rss_mb"]["aggregate_alone"]),
            largest / 1024.0,
        );
    }
    s
}

/// Calls per scope by action in both modes, for the largest size (the bench's own
/// `states:*` polling left out).
fn calls_table(r: &Value) -> String {
    let scopes = f(&r["scopes"]);
    let (single, org) = (r["calls_single"].as_object().unwrap(), r["calls_org"].as_object().unwrap());
    let mut actions: Vec<&String> = single.keys().chain(org.keys()).filter(|a| !a.starts_with("states:")).collect();
    actions.sort();
    actions.dedup();
    let mut s = format!(
        "Calls at {} scopes, per scope (total in brackets); `engine` = made by Step Functions itself:\n\n\
         | action | one invocation | org audit (MaxConcurrency 10) |\n|---|---|---|\n",
        r["scopes"]
    );
    for a in actions {
        let (x, y) = (single.get(a).map(f).unwrap_or(0.0), org.get(a).map(f).unwrap_or(0.0));
        let _ = writeln!(s, "| `{a}` | {:.2} ({x}) | {:.2} ({y}) |", x / scopes, y / scopes);
    }
    s
}

/// 2,000 accounts × 4 regions on paper, from the measured time per scope.
fn cost(r: &Value) -> String {
    let scopes = 8000.0;
    let per_scope_seconds = f(&r["seconds"]["mc10"]) * 10.0 / f(&r["scopes"]);
    let transitions = scopes * CHILD_TRANSITIONS + PARENT_TRANSITIONS;
    let gb_seconds = scopes * per_scope_seconds * MEMORY_GB;
    format!(
        "**2,000 accounts × 4 regions (8,000 scopes), on paper.** State transitions: {CHILD_TRANSITIONS} per child \
         execution + {PARENT_TRANSITIONS} for the parent = {transitions:.0} a night, ${:.2} at $0.025 per 1,000. Lambda: \
         {per_scope_seconds:.2} s per scope (the measured wall time at MaxConcurrency 10 × 10 / scopes, an upper \
         bound) × 8,000 × 0.5 GB = {gb_seconds:.0} GB-s, ${:.2} on arm64; the plan and the aggregate add seconds, \
         not minutes. At MaxConcurrency 40 the night's wall time is about 8,000 × {per_scope_seconds:.2} / 40 = {:.0} \
         min.",
        transitions * USD_PER_TRANSITION,
        gb_seconds * USD_PER_GB_SECOND_ARM,
        scopes * per_scope_seconds / 40.0 / 60.0,
    )
}

fn plot_svg(sizes: &[Value]) -> String {
    let points = |mode: &str| sizes.iter().map(|r| (f(&r["scopes"]), f(&r["seconds"][mode]))).collect();
    let series = vec![
        Series { name: "one invocation".into(), color: "#ff7f0e", dashed: false, points: points("single") },
        Series {
            name: "state machine, MaxConcurrency 10".into(),
            color: "#1f77b4",
            dashed: false,
            points: points("mc10"),
        },
        Series {
            name: "state machine, MaxConcurrency 40".into(),
            color: "#2ca02c",
            dashed: false,
            points: points("mc40"),
        },
    ];
    let panel = Panel { title: "Org audit wall time".into(), y_label: "seconds".into(), series };
    plot::svg(&[panel], "scopes (log scale)")
}

/// `<profile>/<binary>` of the binary's path (`release/drift-auditor`), whatever the target dir.
fn build_and_name(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or_default();
    parts.next().map_or(name.to_string(), |profile| format!("{profile}/{name}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input =
        args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "target/bench/org-audit.json".into());
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap_or_else(|e| panic!("{input}: {e}")))
        .unwrap_or_else(|e| panic!("{input}: {e}"));
    let sizes = raw["sizes"].as_array().expect("sizes").clone();
    let largest = sizes.last().expect("at least one size");
    let body = format!(
        "Measured by `make bench` (binary `{}`, on the emulator, 2 cores shared with other work).\n\n{}\n{}\n{}\n",
        build_and_name(raw["binary"].as_str().unwrap_or_default()),
        sizes_table(&sizes),
        calls_table(largest),
        cost(largest),
    );
    println!("{body}");
    if args.iter().any(|a| a == "--write") {
        let svg = workspace_root().join("tests/bench/org-audit.svg");
        std::fs::write(&svg, plot_svg(&sizes)).expect("write plot");
        bench_doc::replace_section("org-audit", &body);
        println!("wrote {} and BENCHMARKS.md", svg.display());
    }
}
