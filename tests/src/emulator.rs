//! The local AWS emulator (moto server + `tests/emulator`), one child process per [`Emulator`].
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::capture::Capture;
use crate::http;
use crate::workspace_root;

/// How long the emulator may take to print `ready <port>`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One entry of the emulator's request log (`GET /vpcwarden-api/requests`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RequestRecord {
    /// SigV4 signing name, e.g. `ec2`, `dynamodb`, `sts`.
    #[serde(default)]
    pub service: String,
    /// API action, e.g. `CreateRoute`.
    #[serde(default)]
    pub action: String,
    /// The account the call was made as (assumed-role keys map to the role's account).
    #[serde(default)]
    pub account: String,
    /// Region from the credential scope.
    #[serde(default)]
    pub region: String,
    /// HTTP status of the answer.
    #[serde(default)]
    pub status: u16,
    /// Whether a fault rule answered the call.
    #[serde(default)]
    pub fault: bool,
    /// The fault rule that fired, if any.
    #[serde(default)]
    pub fault_id: Option<String>,
    /// Who started the chain of credentials (`vpcwarden-<function>` for a function's calls).
    #[serde(default)]
    pub source_key: String,
    /// For `AssumeRole`: `RoleArn`, `RoleSessionName`, `DurationSeconds` as asked for.
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// Injected delay, if any.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// When the call arrived (Unix seconds).
    #[serde(default)]
    pub at: f64,
    /// How long the emulator took to answer it (milliseconds; absent for fault answers).
    #[serde(default)]
    pub ms: f64,
}

/// A running emulator on 127.0.0.1; the child process is killed on drop.
pub struct Emulator {
    /// Base URL, `http://127.0.0.1:<port>` (what `AWS_ENDPOINT_URL` is set to).
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    child: Child,
    output: Capture,
}

impl Emulator {
    /// Starts the emulator on a free loopback port and waits (at most 30 s) until it is ready.
    pub fn start() -> Emulator {
        let root = workspace_root();
        let python = python(&root);
        let script = root.join("tests/emulator/server.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .env("PYTHONUNBUFFERED", "1")
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the emulator ({}): {e}", python.display()));
        let output = Capture::new(1 << 20);
        let (ready_tx, ready_rx) = mpsc::channel::<u16>();
        output.follow(child.stdout.take().expect("piped stdout"), move |line| {
            if let Some(port) = line.strip_prefix("ready ") {
                if let Ok(port) = port.trim().parse() {
                    let _ = ready_tx.send(port);
                }
            }
        });
        output.follow(child.stderr.take().expect("piped stderr"), |_| {});
        let port = match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => port,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait().ok();
                output.wait_closed(Duration::from_secs(2));
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("not ready within {}s", START_TIMEOUT.as_secs())
                    }
                    mpsc::RecvTimeoutError::Disconnected => format!("exited ({status:?})"),
                };
                panic!(
                    "the emulator ({} {}) {why}; its output:\n{}",
                    python.display(),
                    script.display(),
                    output.text()
                );
            }
        };
        Emulator { url: format!("http://127.0.0.1:{port}"), port, child, output }
    }

    /// Starts plain moto server (no vpcwarden extensions) on a free loopback port: proof that
    /// the functions need nothing from the emulator beyond the AWS API. The admin API
    /// (`requests`, faults, clock) is not there.
    pub fn start_unmodified() -> Emulator {
        let root = workspace_root();
        let python = python(&root);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let mut child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto server ({}): {e}", python.display()));
        let output = Capture::new(1 << 20);
        output.follow(child.stdout.take().expect("piped stdout"), |_| {});
        output.follow(child.stderr.take().expect("piped stderr"), |_| {});
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                panic!("moto server did not start on port {port}; its output:\n{}", output.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Emulator { url: format!("http://127.0.0.1:{port}"), port, child, output }
    }

    /// Clears moto's state and the extension's faults, counters, request log and clock.
    pub fn reset(&self) {
        self.call("POST", "/vpcwarden-api/reset", None);
        self.call("POST", "/moto-api/reset", None);
    }

    /// Every AWS API request recorded since the last reset or clear.
    pub fn requests(&self) -> Vec<RequestRecord> {
        serde_json::from_value(self.call("GET", "/vpcwarden-api/requests", None)).expect("request log entries")
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.call("DELETE", "/vpcwarden-api/requests", None);
    }

    /// Runs a full garbage collection in the emulator and returns how long it took (ms): a
    /// benchmark quiesces the emulator before each program, so none pays for another's garbage.
    pub fn collect_garbage(&self) -> f64 {
        self.call("POST", "/vpcwarden-api/gc", None)["ms"].as_f64().unwrap_or_default()
    }

    /// Adds a fault rule (see tests/emulator/README.md) and returns its id.
    pub fn add_fault(&self, rule: Value) -> String {
        let answer = self.call("POST", "/vpcwarden-api/faults", Some(&rule));
        answer["id"].as_str().unwrap_or_else(|| panic!("fault rule without id: {answer}")).to_string()
    }

    /// Removes one fault rule by id.
    pub fn remove_fault(&self, id: &str) {
        self.call("DELETE", &format!("/vpcwarden-api/faults/{id}"), None);
    }

    /// Removes every fault rule (the counters remain).
    pub fn clear_faults(&self) {
        self.call("DELETE", "/vpcwarden-api/faults", None);
    }

    /// The fault rules and counters (`rules`, `injected`, `delayed`, `injected_by_action`).
    pub fn faults(&self) -> Value {
        self.call("GET", "/vpcwarden-api/faults", None)
    }

    /// Switches EC2's request throttling on with `settings` (see tests/emulator/README.md,
    /// "Throttling": `{}` is the documented buckets) and returns what is in force.
    pub fn throttle(&self, settings: Value) -> Value {
        self.call("POST", "/vpcwarden-api/throttling", Some(&settings))
    }

    /// The throttling buckets and counters (`admitted`, `throttled`, `throttled_by_action`, …).
    pub fn throttling(&self) -> Value {
        self.call("GET", "/vpcwarden-api/throttling", None)
    }

    /// Switches EC2's request throttling off (the counters remain).
    pub fn stop_throttling(&self) {
        self.call("DELETE", "/vpcwarden-api/throttling", None);
    }

    /// Moves the emulator's clock forward (e.g. to expire pending peering requests).
    pub fn advance_clock(&self, seconds: u64) {
        let body = serde_json::json!({ "advance_seconds": seconds });
        self.call("POST", "/vpcwarden-api/clock", Some(&body));
    }

    /// Marks `region` opted in (or not) for `account`, as DescribeRegions then reports it.
    pub fn set_region_opt_in(&self, account: &str, region: &str, opted_in: bool) {
        let status = if opted_in { "opted-in" } else { "not-opted-in" };
        let body = serde_json::json!({"account": account, "region": region, "opt_in_status": status});
        self.call("POST", "/vpcwarden-api/regions", Some(&body));
    }

    /// The emulator's captured stdout and stderr so far (the newest ~1 MiB).
    pub fn logs(&self) -> String {
        self.output.text()
    }

    /// One admin call; panics (with the answer) unless it succeeds.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let bytes = body.map(|b| b.to_string().into_bytes());
        let answer = http::request(self.port, method, path, bytes.as_deref())
            .unwrap_or_else(|e| panic!("emulator {method} {path} failed: {e}"));
        if !(200..300).contains(&answer.status) {
            panic!("emulator {method} {path} answered {}: {}", answer.status, answer.text());
        }
        if answer.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&answer.body).unwrap_or(Value::String(answer.text()))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$VPCWARDEN_PYTHON`, else `<root>/.venv/bin/python`.
fn python(root: &std::path::Path) -> PathBuf {
    if let Some(python) = std::env::var_os("VPCWARDEN_PYTHON") {
        return PathBuf::from(python);
    }
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        panic!("{} not found: run `make venv` (tests/tools/venv.sh) first, or set VPCWARDEN_PYTHON", python.display());
    }
    python
}
