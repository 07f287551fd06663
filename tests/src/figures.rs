//! Figures of the reliability runs. Each reliability test appends one JSON object per
//! scenario to `<target>/reliability/figures.jsonl`; `make soak` (tests/tools/soak.sh) clears the
//! file first and sums it into the table RELIABILITY.md shows.
use std::io::Write;

use serde_json::Value;

/// Rounds of each faulted scenario, each with its own fault seed: 1 in `make test`,
/// `VPCWARDEN_SOAK_ROUNDS` in `make soak`.
pub fn soak_rounds() -> u64 {
    std::env::var("VPCWARDEN_SOAK_ROUNDS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(1)
}

/// Appends `figures` (an object) for `scenario`, and prints it for the test's output.
pub fn record(scenario: &str, mut figures: Value) {
    figures["scenario"] = Value::from(scenario);
    let line = figures.to_string();
    eprintln!("reliability: {line}");
    let dir = crate::target_dir().join("reliability");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("figures.jsonl"))?;
        writeln!(file, "{line}")
    });
    if let Err(e) = written {
        eprintln!("reliability: cannot record figures in {}: {e}", dir.display());
    }
}
