//! Cloud Custodian (PyPI `c7n`, in ./.venv-c7n from tests/tools/c7n.sh), run against the emulator
//! as the audit bench's comparison: the peering policies closest to what drift-auditor checks.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::measure::{self, Run};
use crate::stage::Stage;
use crate::{workspace_root, REGION};

/// The policies: peerings with an account outside our own (`cross-account`), and active
/// peerings missing a route in a route table of one of their VPCs (`missing-route`; the status
/// filter keeps pending requests, which have no routes yet, out of it, as drift-auditor does).
pub const POLICY: &str = "\
policies:
  - name: peering-cross-account
    resource: aws.peering-connection
    filters:
      - type: cross-account
  - name: peering-missing-route
    resource: aws.peering-connection
    filters:
      - type: value
        key: Status.Code
        value: active
      - type: missing-route
";

/// What one `custodian run` found and cost.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub run: Run,
    /// Matched resources per policy name.
    pub matched: Vec<(String, usize)>,
}

/// `<root>/.venv-c7n/bin/custodian`; panics when tests/tools/c7n.sh has not run.
pub fn custodian() -> PathBuf {
    let path = workspace_root().join(".venv-c7n/bin/custodian");
    assert!(path.is_file(), "{} not found: run tests/tools/c7n.sh first", path.display());
    path
}

/// One `custodian run` of [`POLICY`] into `dir` (emptied first), against the stage's emulator,
/// with a cache file of its own so the two policies share the listings, as in a real run.
pub fn run(stage: &Stage, dir: &Path) -> Outcome {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let policy = dir.join("policy.yml");
    std::fs::write(&policy, POLICY).expect("policy file");
    let mut command = Command::new(custodian());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ENDPOINT_URL", &stage.emu.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("run")
        .args(["--region", REGION])
        .arg("--cache")
        .arg(dir.join("cache.pkl"))
        .arg("-s")
        .arg(dir.join("output"))
        .arg(&policy);
    let run = measure::run(&mut command, &dir.join("custodian"));
    assert!(run.ok(), "custodian run failed ({:?}):\n{}\n{}", run.code, run.stdout, run.stderr);
    let matched = ["peering-cross-account", "peering-missing-route"]
        .iter()
        .map(|name| {
            let file = dir.join("output").join(name).join("resources.json");
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let resources: Vec<serde_json::Value> = serde_json::from_str(&text).expect("resources.json");
            (name.to_string(), resources.len())
        })
        .collect();
    Outcome { run, matched }
}
