//! Start-up and footprint of the function binaries, through the Runtime API against the
//! emulator: init (process start → first `/next` poll, median of N cold starts), first and warm
//! answer to a realistic event, peak RSS, binary size. A measurement, not a test.
//!
//! `VPCWARDEN_BIN_DIR=target/rel/release cargo run -p vpcwarden-tests --bin footprint`
use std::time::{Duration, Instant};

use vpcwarden_tests::events::schedule;
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::{bin_path, seed, tables, ACCOUNT, REGION};

const COLD_STARTS: usize = 15;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let stage = Stage::new().await;
    let bin = bin_path("peering-acceptor");
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);

    let mut inits = Vec::new();
    for _ in 0..COLD_STARTS {
        let f = stage.function("peering-acceptor", &[]);
        let start = Instant::now();
        while f.init_duration().is_none() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        inits.push(f.init_duration().expect("polled /next"));
    }

    // One sweep that accepts and wires a cross-account peering (3 + 1 route tables).
    let acc = seed::vpc(&stage.aws, ACCOUNT, REGION, "10.0.0.0/16").await.route_tables(2).create().await;
    let req = seed::vpc(&stage.aws, "222222222222", REGION, "10.1.0.0/16").await.create().await;
    tables::put_peering_grant(&stage.aws, Some(&acc.id), "222222222222", &[], None, None).await;
    seed::request_peering(&stage.aws, &req, &acc).await;
    let f = stage.function("peering-acceptor", &[("REQUESTER_ROLE_NAME", "vpcwarden-member")]);
    let t = Instant::now();
    let first = f.invoke(schedule()).await.expect("first sweep");
    let first_time = t.elapsed();
    assert_eq!(first["peerings"][0]["action"], "accepted", "{first:#}");
    let t = Instant::now();
    f.invoke(schedule()).await.expect("warm sweep");
    let warm_time = t.elapsed();

    println!("peering-acceptor ({})", bin.display());
    println!("  binary size         {:.1} MB ({size} bytes)", size as f64 / 1e6);
    println!("  init (median of {COLD_STARTS})  {}", ms(median(inits)));
    println!("  first answer        {} (sweep: accept + wire 4 routes, incl. STS)", ms(first_time));
    println!("  warm answer         {} (sweep: reconcile, nothing to do)", ms(warm_time));
    println!("  peak RSS            {} kB", f.peak_rss_kb().unwrap_or(0));
}
