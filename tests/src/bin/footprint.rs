//! Start-up and footprint of the function binaries next to the bare probe (tests/probe: the same
//! runtime and SDK clients answering one DescribeVpcs), in the same run, through the Runtime API
//! against the emulator: init (process start → first `/next` poll, median of 15 cold starts),
//! first and warm answer to a realistic event, peak RSS, binary size and the size of the
//! deployment zip (`bootstrap` deflated, as cargo-lambda packs it). A measurement, not a test.
//!
//! `VPCWARDEN_BIN_DIR=target/release cargo run -p vpcwarden-tests --bin footprint [-- --write]`
//! (`--write` rewrites the generated `footprint` section of BENCHMARKS.md).
use std::fmt::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use vpcwarden_tests::audit_seed::{self, BUCKET};
use vpcwarden_tests::events::schedule;
use vpcwarden_tests::measure::median;
use vpcwarden_tests::privatelink::{self, principal};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bench_doc, bin_path, seed, tables, target_dir, ACCOUNT, REGION};

const COLD_STARTS: usize = 15;
/// The consumer account of the approver's event.
const VENDOR: &str = "210987654321";

struct Figures {
    name: &'static str,
    event: &'static str,
    size: u64,
    zip: u64,
    init: Duration,
    first: Duration,
    warm: Duration,
    rss_kb: u64,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The deployment zip cargo-lambda builds (`bootstrap`, deflated), written under target/bench/zips.
fn zip_size(bin: &Path, name: &str) -> u64 {
    let zip = target_dir().join("bench/zips").join(format!("{name}.zip"));
    std::fs::create_dir_all(zip.parent().expect("a parent")).expect("zips dir");
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=6) as z:\n\
        \x20   i = zipfile.ZipInfo('bootstrap'); i.external_attr = 0o755 << 16; i.compress_type = zipfile.ZIP_DEFLATED\n\
        \x20   z.writestr(i, open(sys.argv[1], 'rb').read())\n";
    let status = Command::new("python3").args(["-c", script]).arg(bin).arg(&zip).status().expect("python3");
    assert!(status.success(), "zipping {}", bin.display());
    std::fs::metadata(&zip).map(|m| m.len()).unwrap_or(0)
}

async fn cold_init(stage: &Stage, name: &str) -> Duration {
    let mut inits = Vec::new();
    for _ in 0..COLD_STARTS {
        let f = stage.function(name, &[]);
        let start = Instant::now();
        while f.init_duration().is_none() && start.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        inits.push(f.init_duration().unwrap_or_else(|| panic!("{name} polled /next")));
    }
    median(&inits)
}

/// A fresh process answers `event` twice: the first (cold) and the warm answer, and its peak RSS.
async fn answers(
    stage: &Stage,
    name: &'static str,
    what: &'static str,
    env: &[(&str, &str)],
    event: Value,
    check: fn(&Value) -> bool,
) -> Figures {
    let bin = bin_path(name);
    let init = cold_init(stage, name).await;
    let f = stage.function(name, env);
    let t = Instant::now();
    let first = f.invoke(event.clone()).await.unwrap_or_else(|e| panic!("{name}: {e}\n{}", f.logs()));
    let first_time = t.elapsed();
    assert!(check(&first), "{name} answered {first:#}");
    let t = Instant::now();
    f.invoke(event).await.unwrap_or_else(|e| panic!("{name} (warm): {e}"));
    let warm = t.elapsed();
    Figures {
        name,
        event: what,
        size: std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0),
        zip: zip_size(&bin, name),
        init,
        first: first_time,
        warm,
        rss_kb: f.peak_rss_kb().unwrap_or(0),
    }
}

fn table(all: &[Figures]) -> String {
    let probe = &all[0];
    let mut s = String::from(
        "| binary | event | stripped size | zip | init (median of 15) | first answer | warm answer | peak RSS |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for f in all {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} MB |",
            f.name,
            f.event,
            mb(f.size),
            mb(f.zip),
            ms(f.init),
            ms(f.first),
            ms(f.warm),
            f.rss_kb as f64 / 1024.0
        );
    }
    let _ = writeln!(s, "\nRatios to the probe (the floor), and the targets:\n");
    s.push_str("| binary | size | zip (≤ 6 MB) | init (≤ 8 ms) | peak RSS (≤ 16 MB; auditor < 96 MB) |\n|---|---|---|---|---|\n");
    for f in &all[1..] {
        let rss_limit = if f.name == "drift-auditor" { 96.0 } else { 16.0 };
        let verdict = |ok: bool| if ok { "met" } else { "missed" };
        let _ = writeln!(
            s,
            "| {} | {:.2} × | {:.2} × ({}) | {:.2} × ({}) | {:.2} × ({}) |",
            f.name,
            f.size as f64 / probe.size as f64,
            f.zip as f64 / probe.zip as f64,
            verdict(f.zip <= 6_000_000),
            f.init.as_secs_f64() / probe.init.as_secs_f64(),
            verdict(f.init <= Duration::from_millis(8)),
            f.rss_kb as f64 / probe.rss_kb as f64,
            verdict((f.rss_kb as f64 / 1024.0) < rss_limit),
        );
    }
    s
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let write = std::env::args().any(|a| a == "--write");
    let stage = Stage::new().await;
    let mut all = Vec::new();
    all.push(answers(&stage, "probe", "any (one DescribeVpcs)", &[], schedule(), |a| a["vpcs"].is_number()).await);

    // One sweep that accepts and wires a cross-account peering (3 + 1 route tables).
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await;
    let req = seed::vpc(&stage.aws, "222222222222", REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), "222222222222", &[], None, None).await;
    seed::request_peering(&stage.aws, &req, &acc).await;
    all.push(
        answers(
            &stage,
            "peering-acceptor",
            "sweep: accept a cross-account peering, wire 4 routes (warm: nothing to do)",
            &[("REQUESTER_ROLE_NAME", "vpcwarden-member")],
            schedule(),
            |a| a["peerings"][0]["action"] == "accepted",
        )
        .await,
    );

    // A granted vendor's endpoint: the connection notification wakes the approver.
    let provider = privatelink::provider(&stage.aws, true).await;
    let service = privatelink::service(&stage.aws, &provider, &[principal(VENDOR)]).await;
    tables::put_endpoint_grant(&stage.aws, &service.id, VENDOR, Some(5), None).await;
    let vendor = privatelink::consumer(&stage.aws, VENDOR, "10.20.0.0/16").await;
    let endpoint = vendor.connect(&service).await;
    let event = privatelink::sns_event("Connect", &service.id, &endpoint, VENDOR, "pendingAcceptance");
    all.push(
        answers(&stage, "endpoint-approver", "SNS connection notification: accept one endpoint", &[], event, |a| {
            a.to_string().contains("accepted")
        })
        .await,
    );

    audit_seed::ensure_bucket(&stage.aws).await;
    all.push(
        answers(
            &stage,
            "drift-auditor",
            "schedule: audit the estate above, write its report (JSON, Markdown, HTML, OCSF)",
            &[("REPORT_BUCKET", BUCKET), ("REPORT_PREFIX", "footprint")],
            schedule(),
            |a| a["total"].is_number(),
        )
        .await,
    );

    let out = table(&all);
    println!(
        "binaries from {}\n\n{out}",
        bin_path("probe").parent().map(|p| p.display().to_string()).unwrap_or_default()
    );
    if write {
        let head = format!(
            "Measured by `make bench` (release build, x86_64, {} cores shared with other work).\n\n",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
        );
        bench_doc::replace_section("footprint", &(head + &out));
    }
}
