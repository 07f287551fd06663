//! `make bench`, the audit at scale: for each estate size, seeds a fresh emulator
//! (tests/src/bench_estate.rs) and measures, on the same estate and in the same run, one
//! scheduled drift-auditor invocation (through the Runtime API), Cloud Custodian's peering
//! policies (tests/src/c7n.rs) and the floor: `describe-floor`, the same Describe calls with no
//! processing. Wall time, peak RSS and API calls (from the emulator's request log) of each; the
//! median of `--runs`. A measurement, not a test.
//!
//! `cargo run -p vpcwarden-tests --bin audit-bench [-- --sizes 100,300,1000 --runs 3 --write]`
//! Binaries from `VPCWARDEN_BIN_DIR` (make bench: target/release); `--write` rewrites the
//! generated sections of BENCHMARKS.md and the plot tests/bench/audit-scale.svg.
use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use vpcwarden_tests::audit_seed::BUCKET;
use vpcwarden_tests::bench_estate::{self, Estate, Sizes};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::measure::{self, median};
use vpcwarden_tests::plot::{self, Panel, Series};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bench_doc, bin_path, c7n, function_env, workspace_root, RequestRecord};

/// The estate size the targets are stated at.
const TARGET_SIZE: usize = 1000;

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    write: bool,
}

fn options() -> Options {
    let mut o = Options { sizes: vec![100, 300, 1000], runs: 3, write: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--sizes" => o.sizes = value().split(',').map(|v| v.trim().parse().expect("--sizes 100,300")).collect(),
            "--runs" => o.runs = value().parse().expect("--runs N"),
            "--write" => o.write = true,
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(o.runs >= 1 && !o.sizes.is_empty());
    o
}

/// One program's figures on one estate (medians over the runs).
#[derive(Clone, Debug, Default)]
struct Figures {
    wall: f64,
    /// CPU time of the program itself (user + system).
    cpu: f64,
    rss_mb: f64,
    calls: usize,
    /// The time the emulator had at least one of the program's calls in hand.
    busy: f64,
    /// From process start to the first call, and from the last answer to the end.
    head: f64,
    tail: f64,
    /// The emulator's time per operation (summed over calls, which overlap when concurrent).
    ms_by_action: BTreeMap<String, f64>,
    /// The longest stretches with none of the program's calls at the emulator: (seconds, the
    /// call answered before, the call made after).
    gaps: Vec<(f64, String, String)>,
}

impl Figures {
    fn of(run: &measure::Run) -> Self {
        Figures {
            wall: run.wall.as_secs_f64(),
            cpu: run.cpu.as_secs_f64(),
            rss_mb: run.peak_rss_kb as f64 / 1024.0,
            ..Figures::default()
        }
    }

    /// Fills the emulator's side from the request log of a program started at `start`.
    fn with_log(mut self, log: &[RequestRecord], start: SystemTime) -> Self {
        let start = start.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
        self.calls = log.len();
        for r in log {
            *self.ms_by_action.entry(r.action.clone()).or_default() += r.ms;
        }
        let mut spans: Vec<(f64, f64, &str)> =
            log.iter().map(|r| (r.at, r.at + r.ms / 1000.0, r.action.as_str())).collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut reach, mut before) = (f64::MIN, "");
        for &(from, to, action) in &spans {
            if reach > f64::MIN && from > reach {
                self.gaps.push((from - reach, before.to_string(), action.to_string()));
            }
            self.busy += (to - from.max(reach)).max(0.0);
            if to > reach {
                (reach, before) = (to, action);
            }
        }
        self.gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
        self.gaps.truncate(5);
        if let (Some(first), Some(last)) = (
            log.iter().map(|r| r.at).min_by(f64::total_cmp),
            log.iter().map(|r| r.at + r.ms / 1000.0).max_by(f64::total_cmp),
        ) {
            self.head = first - start;
            self.tail = start + self.wall - last;
        }
        self
    }
}

impl Figures {
    fn median_of(runs: &[Figures]) -> Figures {
        let pick = |f: fn(&Figures) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Figures {
            wall: pick(|r| r.wall),
            cpu: pick(|r| r.cpu),
            rss_mb: pick(|r| r.rss_mb),
            calls: median(&runs.iter().map(|r| r.calls).collect::<Vec<_>>()),
            busy: pick(|r| r.busy),
            head: pick(|r| r.head),
            tail: pick(|r| r.tail),
            ms_by_action: runs.last().map(|r| r.ms_by_action.clone()).unwrap_or_default(),
            gaps: runs.last().map(|r| r.gaps.clone()).unwrap_or_default(),
        }
    }
}

struct Row {
    estate: Estate,
    ours: Figures,
    floor: Figures,
    c7n: Figures,
    /// The floor of Cloud Custodian's own calls (`describe-floor peerings`).
    c7n_floor: Figures,
    findings: Value,
    c7n_matched: Vec<(String, usize)>,
    by_operation: BTreeMap<(String, String), usize>,
    minimum: BTreeMap<&'static str, usize>,
    budget: usize,
}

/// Before each program: an empty request log and no garbage left in the emulator by the last one
/// (a full collection after a 9,000-table listing pauses the next caller's first calls).
fn quiesce(stage: &Stage) {
    stage.emu.clear_requests();
    stage.emu.collect_garbage();
}

fn by_operation(log: &[RequestRecord]) -> BTreeMap<(String, String), usize> {
    let mut calls = BTreeMap::new();
    for r in log {
        *calls.entry((r.service.clone(), r.action.clone())).or_default() += 1;
    }
    calls
}

fn pages(n: usize, per_page: usize) -> usize {
    n.div_ceil(per_page).max(1)
}

/// The fewest calls that read the estate: each listing at its largest page size, and what cannot
/// be batched (per service, per target group, identity, allowlist, report objects, ledger).
fn minimum(e: &Estate) -> (BTreeMap<&'static str, usize>, usize) {
    let t = &e.totals;
    let listings = [
        ("DescribeVpcs", pages(t["vpcs"], 1000)),
        ("DescribeRouteTables", pages(t["route tables"], 100)),
        ("DescribeVpcPeeringConnections", pages(t["peerings"], 1000)),
        ("DescribeVpcEndpointServiceConfigurations", pages(e.services, 1000)),
        ("DescribeVpcEndpointConnections", pages(t["connections"], 1000) * e.services.div_ceil(200).max(1)),
    ];
    let listing_min: usize = listings.iter().map(|(_, n)| n).sum();
    let rest = [
        ("DescribeVpcEndpointServicePermissions", e.services),
        ("DescribeTargetGroups", e.services),
        ("DescribeTargetHealth", e.target_groups),
        ("GetCallerIdentity", 1),
        ("Scan", 1),
        ("PutObject", 3),
        ("PutItem", 1),
    ];
    let budget = (listing_min as f64 * 1.1).floor() as usize + e.services * 2 + e.target_groups + 6;
    (listings.into_iter().chain(rest).collect(), budget)
}

async fn auditor(stage: &Stage) -> (Figures, Value, BTreeMap<(String, String), usize>, String) {
    quiesce(stage);
    // From process start, as for the other two programs (init is a few milliseconds).
    let (t, start) = (Instant::now(), SystemTime::now());
    let f = stage.function(
        "drift-auditor",
        &[("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "bench"), ("ROUTE_TABLE_TAG", "peering=yes")],
    );
    let answer = f
        .invoke_with_timeout(schedule(), Duration::from_secs(900))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", f.logs()));
    let wall = t.elapsed().as_secs_f64();
    let rss_mb = f.peak_rss_kb().unwrap_or(0) as f64 / 1024.0;
    let cpu = f.cpu_time().unwrap_or_default().as_secs_f64();
    let log = stage.emu.requests();
    let figures = Figures { wall, cpu, rss_mb, ..Figures::default() }.with_log(&log, start);
    (figures, answer, by_operation(&log), f.logs())
}

/// `describe-floor` with `args`: the Describe calls alone (drift-auditor's, or with `peerings`
/// Cloud Custodian's).
fn floor(stage: &Stage, dir: &std::path::Path, args: &[&str]) -> Figures {
    quiesce(stage);
    let mut command = Command::new(bin_path("describe-floor"));
    command.env_clear().envs(function_env(&stage.emu)).args(args);
    let start = SystemTime::now();
    let run = measure::run(&mut command, &dir.join(format!("describe-floor{}", args.join("-"))));
    assert!(run.ok(), "describe-floor failed: {}", run.stderr);
    Figures::of(&run).with_log(&stage.emu.requests(), start)
}

fn custodian(stage: &Stage, dir: &std::path::Path) -> (Figures, Vec<(String, usize)>) {
    quiesce(stage);
    let start = SystemTime::now();
    let outcome = c7n::run(stage, &dir.join("c7n"));
    (Figures::of(&outcome.run).with_log(&stage.emu.requests(), start), outcome.matched)
}

async fn measure_size(peerings: usize, runs: usize) -> Row {
    let stage = Stage::new().await;
    let estate = bench_estate::seed(&stage, Sizes::scaled(peerings)).await;
    println!(
        "\n== {peerings} peerings: seeded in {:.0} s: {:?}; peerings {} active, {} pending, {} deleted; {} services",
        estate.seconds, estate.totals, estate.active, estate.pending, estate.deleted, estate.services
    );
    let dir = vpcwarden_tests::target_dir().join("bench").join(format!("audit-{peerings}"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (mut ours, mut floors, mut c7ns, mut c7n_floors) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut findings, mut matched, mut ops) = (Value::Null, Vec::new(), BTreeMap::new());
    for run in 1..=runs {
        // Interleaved, so a slower moment of the machine touches all three alike.
        let (f, answer, calls, log) = auditor(&stage).await;
        let fl = floor(&stage, &dir, &[]);
        let (c, m) = custodian(&stage, &dir);
        let cf = floor(&stage, &dir, &["peerings"]);
        println!(
            "  run {run}: vpcwarden {:.2} s {:.1} MB {} calls | floor {:.2} s {} calls | c7n {:.2} s {:.1} MB {} calls {m:?} | c7n floor {:.2} s {} calls",
            f.wall, f.rss_mb, f.calls, fl.wall, fl.calls, c.wall, c.rss_mb, c.calls, cf.wall, cf.calls
        );
        for (name, x) in [("vpcwarden", &f), ("floor", &fl), ("c7n", &c), ("c7n floor", &cf)] {
            println!(
                "    {name}: emulator busy {:.2} s, idle {:.2} s (first call at {:.3} s, {:.3} s after the last answer)",
                x.busy, x.wall - x.busy, x.head, x.tail
            );
            let mut slowest: Vec<_> = x.ms_by_action.iter().collect();
            slowest.sort_by(|a, b| b.1.total_cmp(a.1));
            let slowest: Vec<String> = slowest.iter().take(16).map(|(a, ms)| format!("{a} {ms:.0} ms")).collect();
            println!("      emulator time by operation: {}", slowest.join(", "));
            let gaps: Vec<String> = x.gaps.iter().map(|(g, a, b)| format!("{:.0} ms {a}→{b}", g * 1000.0)).collect();
            println!("      longest idle stretches: {}", gaps.join(", "));
        }
        for line in log.lines().filter(|l| l.contains("elapsed_ms")) {
            println!("    drift-auditor log: {line}");
        }
        c7n_floors.push(cf);
        (findings, matched, ops) = (answer["findings"].clone(), m, calls);
        ours.push(f);
        floors.push(fl);
        c7ns.push(c);
    }
    let (minimum, budget) = minimum(&estate);
    Row {
        estate,
        ours: Figures::median_of(&ours),
        floor: Figures::median_of(&floors),
        c7n: Figures::median_of(&c7ns),
        c7n_floor: Figures::median_of(&c7n_floors),
        findings,
        c7n_matched: matched,
        by_operation: ops,
        minimum,
        budget,
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".into()
    }
}

fn idle(f: &Figures) -> f64 {
    f.wall - f.busy
}

fn scale_table(rows: &[Row], runs: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Medians of {runs} run(s) per size (one above {TARGET_SIZE} peerings). Wall time from process start to answer (vpcwarden) or exit (the others); \
         overhead = wall time minus the floor of the program's own Describe calls. Emulator busy: the time the emulator \
         had at least one of the program's calls in hand (from its request log); idle: the rest of the wall time, when the \
         program was working on its own (or starting).\n"
    );
    s.push_str(
        "| peerings | route tables | services | program | wall time | overhead above floor | emulator busy | idle | CPU time | peak RSS | API calls | found |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let e = &r.estate;
        let head = format!("| {} | {} | {} ", e.sizes.peerings, e.totals["route tables"], e.services);
        let ours_found = format!("{} findings {}", r.findings_total(), r.findings);
        let c7n_found = r.c7n_matched.iter().map(|(n, k)| format!("{n}: {k}")).collect::<Vec<_>>().join(", ");
        for (name, f, floor, found) in [
            ("vpcwarden drift-auditor", &r.ours, Some(&r.floor), ours_found.as_str()),
            ("floor of its calls (`describe-floor`)", &r.floor, None, "–"),
            ("Cloud Custodian 0.9.53", &r.c7n, Some(&r.c7n_floor), c7n_found.as_str()),
            ("floor of its calls (`describe-floor peerings`)", &r.c7n_floor, None, "–"),
        ] {
            let over = floor.map_or("–".into(), |fl| format!("{:.2} s", f.wall - fl.wall));
            let _ = writeln!(
                s,
                "{head}| {name} | {:.2} s | {over} | {:.2} s | {:.2} s | {:.2} s | {:.1} MB | {} | {found} |",
                f.wall,
                f.busy,
                idle(f),
                f.cpu,
                f.rss_mb,
                f.calls
            );
        }
    }
    s.push_str("\n| peerings | vpcwarden / its floor (time) | vpcwarden / c7n (time) | overhead vpcwarden / c7n | CPU time vpcwarden / c7n | RSS vpcwarden / c7n | calls vpcwarden / c7n |\n|---|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.estate.sizes.peerings,
            ratio(r.ours.wall, r.floor.wall),
            ratio(r.ours.wall, r.c7n.wall),
            ratio(r.ours.wall - r.floor.wall, r.c7n.wall - r.c7n_floor.wall),
            ratio(r.ours.cpu, r.c7n.cpu),
            ratio(r.ours.rss_mb, r.c7n.rss_mb),
            ratio(r.ours.calls as f64, r.c7n.calls as f64),
        );
    }
    s
}

impl Row {
    fn findings_total(&self) -> u64 {
        self.findings.as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0)
    }
}

fn operations_table(r: &Row) -> String {
    let mut s = format!(
        "drift-auditor's calls at {} peerings, by operation, next to the fewest that read the estate:\n\n\
         | service | operation | calls | minimum |\n|---|---|---|---|\n",
        r.estate.sizes.peerings
    );
    for ((service, action), n) in &r.by_operation {
        let min = r.minimum.get(action.as_str()).map(|m| m.to_string()).unwrap_or_else(|| "–".into());
        let _ = writeln!(s, "| {service} | {action} | {n} | {min} |");
    }
    s
}

fn targets(r: &Row) -> String {
    let met = |ok: bool| if ok { "**met**" } else { "**missed**" };
    let (ours_over, c7n_over) = (r.ours.wall - r.floor.wall, r.c7n.wall - r.c7n_floor.wall);
    let mut s = format!("Targets at {} peerings:\n\n| target | figure | |\n|---|---|---|\n", r.estate.sizes.peerings);
    let rows = [
        (
            "overhead above the floor ≤ 1/10 of Cloud Custodian's",
            format!("{ours_over:.2} s vs {c7n_over:.2} s ({} ×)", ratio(ours_over, c7n_over)),
            ours_over <= c7n_over / 10.0,
        ),
        (
            "(for reference) CPU time of our own processing vs Cloud Custodian's",
            format!("{:.2} s vs {:.2} s ({} ×)", r.ours.cpu, r.c7n.cpu, ratio(r.ours.cpu, r.c7n.cpu)),
            r.ours.cpu * 10.0 <= r.c7n.cpu,
        ),
        (
            "(for reference) idle time above the floor's (the program's own time, apart from the emulator) vs Cloud Custodian's",
            {
                let (ours, theirs) = (idle(&r.ours) - idle(&r.floor), idle(&r.c7n) - idle(&r.c7n_floor));
                format!("{ours:.2} s vs {theirs:.2} s ({} ×)", ratio(ours, theirs))
            },
            (idle(&r.ours) - idle(&r.floor)) * 10.0 <= idle(&r.c7n) - idle(&r.c7n_floor),
        ),
        (
            "total ≤ 1.3 × the floor",
            format!("{:.2} s vs {:.2} s ({} ×)", r.ours.wall, r.floor.wall, ratio(r.ours.wall, r.floor.wall)),
            r.ours.wall <= 1.3 * r.floor.wall,
        ),
        (
            "peak RSS ≤ 1/3 of Cloud Custodian's",
            format!("{:.1} MB vs {:.1} MB ({} ×)", r.ours.rss_mb, r.c7n.rss_mb, ratio(r.ours.rss_mb, r.c7n.rss_mb)),
            r.ours.rss_mb * 3.0 <= r.c7n.rss_mb,
        ),
        ("peak RSS < 96 MB", format!("{:.1} MB", r.ours.rss_mb), r.ours.rss_mb < 96.0),
        (
            "API calls ≤ 1.1 × page minimum + 1 per service / target group + 6",
            format!("{} ≤ {}", r.ours.calls, r.budget),
            r.ours.calls <= r.budget,
        ),
    ];
    for (what, figure, ok) in rows {
        let _ = writeln!(s, "| {what} | {figure} | {} |", met(ok));
    }
    s
}

/// A plotted program: its name, colour, whether dashed, and where its figures are in a row.
type Program = (&'static str, &'static str, bool, fn(&Row) -> &Figures);

fn plot_svg(rows: &[Row]) -> String {
    let series = |figure: fn(&Figures) -> f64| {
        let programs: [Program; 3] = [
            ("vpcwarden drift-auditor", "#1f77b4", false, |r| &r.ours),
            ("Cloud Custodian", "#ff7f0e", false, |r| &r.c7n),
            ("floor (Describe calls only)", "#7f7f7f", true, |r| &r.floor),
        ];
        programs
            .into_iter()
            .map(|(name, color, dashed, of)| Series {
                name: name.into(),
                color,
                dashed,
                points: rows.iter().map(|r| (r.estate.sizes.peerings as f64, figure(of(r)))).collect(),
            })
            .collect()
    };
    let time = Panel { title: "Audit wall time".into(), y_label: "seconds".into(), series: series(|f| f.wall) };
    let rss = Panel { title: "Peak RSS".into(), y_label: "MB".into(), series: series(|f| f.rss_mb) };
    plot::svg(&[time, rss], "peering connections in the estate (log scale)")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let o = options();
    println!("drift-auditor: {}", bin_path("drift-auditor").display());
    println!("floor: {}", bin_path("describe-floor").display());
    println!("Cloud Custodian: {}", c7n::custodian().display());
    let mut rows = Vec::new();
    for &size in &o.sizes {
        // Estates above the target size run once: at 3,000 peerings one round of the four
        // programs takes minutes of the emulator's time.
        rows.push(measure_size(size, if size > TARGET_SIZE { 1 } else { o.runs }).await);
    }
    let scale = scale_table(&rows, o.runs);
    println!("\n{scale}");
    let at_target = rows.iter().find(|r| r.estate.sizes.peerings == TARGET_SIZE).or(rows.last()).expect("a row");
    let ops = operations_table(at_target);
    let goals = targets(at_target);
    println!("{ops}\n{goals}");
    let raw: Vec<Value> = rows
        .iter()
        .map(|r| {
            let f = |f: &Figures| json!({"wall_s": f.wall, "cpu_s": f.cpu, "peak_rss_mb": f.rss_mb, "calls": f.calls});
            json!({"peerings": r.estate.sizes.peerings, "totals": r.estate.totals, "vpcwarden": f(&r.ours),
                   "floor": f(&r.floor), "c7n": f(&r.c7n), "c7n_floor": f(&r.c7n_floor), "findings": r.findings,
                   "c7n_matched": r.c7n_matched})
        })
        .collect();
    let out = vpcwarden_tests::target_dir().join("bench/audit-scale.json");
    std::fs::write(&out, serde_json::to_string_pretty(&raw).expect("json")).expect("write results");
    if o.write {
        let svg = workspace_root().join("tests/bench/audit-scale.svg");
        std::fs::create_dir_all(svg.parent().expect("a parent")).expect("plot dir");
        std::fs::write(&svg, plot_svg(&rows)).expect("write plot");
        let stamp = format!(
            "Measured by `make bench` ({} run(s) per size, release build, {} cores shared with other work).\n\n",
            o.runs,
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
        bench_doc::replace_section("audit-scale", &format!("{stamp}{scale}\n{ops}\n{goals}"));
        println!("wrote {} and BENCHMARKS.md", svg.display());
    }
}
