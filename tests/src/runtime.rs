//! A minimal Lambda Runtime API host (one per function process) and the spawned function.
//!
//! Served on 127.0.0.1 with tiny_http, one thread per request:
//! `GET /2018-06-01/runtime/invocation/next` (long-polls until an invocation is queued),
//! `POST /2018-06-01/runtime/invocation/{id}/response`, `POST .../{id}/error`,
//! `POST /2018-06-01/runtime/init/error`, and just enough of the Extensions API
//! (`/2020-01-01/extension/register`, `event/next`) for a runtime that registers one.
use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::oneshot;

use crate::emulator::Emulator;
use crate::{ACCOUNT, REGION};

/// Default bound of one invocation.
pub const DEFAULT_INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The error a function reported for an invocation (`POST .../{id}/error`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvokeError {
    /// `errorType` of the report.
    pub error_type: String,
    /// `errorMessage` of the report.
    pub error_message: String,
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

impl std::error::Error for InvokeError {}

/// The environment a function needs to reach the emulator as the default account.
pub fn function_env(emu: &Emulator) -> Vec<(String, String)> {
    function_env_for(&emu.url)
}

/// [`function_env`] for an emulator (or any AWS endpoint) at `url` that this process did not start.
pub fn function_env_for(url: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", url),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

struct Invocation {
    id: String,
    body: Vec<u8>,
    deadline_ms: u64,
    trace_id: String,
}

type Outcome = Result<Value, InvokeError>;

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    pending: HashMap<String, oneshot::Sender<Outcome>>,
    first_poll: Option<Instant>,
    init_error: Option<InvokeError>,
    shutdown: bool,
}

struct Host {
    state: Mutex<State>,
    wake: Condvar,
    function_name: String,
    function_arn: String,
}

impl Host {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A built function binary running against its own Runtime API host; killed on drop.
pub struct Function {
    name: String,
    pid: u32,
    child: Mutex<Child>,
    host: Arc<Host>,
    server: Arc<tiny_http::Server>,
    acceptor: Option<JoinHandle<()>>,
    output: crate::capture::Capture,
    spawned_at: Instant,
}

impl Function {
    /// Starts `bin` with a clean environment (only `PATH` kept), the Lambda variables and `env`.
    pub fn spawn<K: AsRef<OsStr>, V: AsRef<OsStr>>(bin: &Path, env: &[(K, V)]) -> Function {
        let name = bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| panic!("not a binary path: {}", bin.display()));
        let region = env
            .iter()
            .find(|(k, _)| k.as_ref() == "AWS_REGION")
            .map(|(_, v)| v.as_ref().to_string_lossy().into_owned())
            .unwrap_or_else(|| REGION.to_string());
        let server = Arc::new(
            tiny_http::Server::http("127.0.0.1:0").unwrap_or_else(|e| panic!("cannot bind the runtime API host: {e}")),
        );
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let host = Arc::new(Host {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            function_arn: format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"),
            function_name: name.clone(),
        });
        let acceptor = {
            let (server, host) = (server.clone(), host.clone());
            thread::spawn(move || accept_loop(&server, &host))
        };

        let mut command = Command::new(bin);
        command.env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/[$LATEST]{}", random_hex(32)));
        for (k, v) in env {
            command.env(k, v);
        }
        let spawned_at = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let output = crate::capture::Capture::new(16 << 20);
        output.follow(child.stdout.take().expect("piped stdout"), |_| {});
        output.follow(child.stderr.take().expect("piped stderr"), |_| {});
        Function {
            name,
            pid: child.id(),
            child: Mutex::new(child),
            host,
            server,
            acceptor: Some(acceptor),
            output,
            spawned_at,
        }
    }

    /// Invokes the function with `event`, bounded by [`DEFAULT_INVOKE_TIMEOUT`].
    pub async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        self.invoke_with_timeout(event, DEFAULT_INVOKE_TIMEOUT).await
    }

    /// Invokes the function with `event`: `Ok` with its response or `Err` with the error it
    /// reported; panics (with the captured logs) on timeout, exit or an init error.
    pub async fn invoke_with_timeout(&self, event: Value, timeout: Duration) -> Result<Value, InvokeError> {
        self.invoke_with_deadline(event, timeout, timeout).await
    }

    /// [`Function::invoke_with_timeout`], with the invocation's deadline (what the function is
    /// told: `Lambda-Runtime-Deadline-Ms`) `deadline` from now, apart from how long the host
    /// waits for the answer (`timeout`).
    pub async fn invoke_with_deadline(
        &self,
        event: Value,
        deadline: Duration,
        timeout: Duration,
    ) -> Result<Value, InvokeError> {
        let id = request_id();
        let (tx, mut rx) = oneshot::channel();
        let started = Instant::now();
        {
            let mut state = self.host.lock();
            state.pending.insert(id.clone(), tx);
            state.queue.push_back(Invocation {
                id: id.clone(),
                body: serde_json::to_vec(&event).expect("serializable event"),
                deadline_ms: epoch_ms() + deadline.as_millis() as u64,
                trace_id: trace_id(),
            });
        }
        self.host.wake.notify_all();
        loop {
            tokio::select! {
                outcome = &mut rx => {
                    return outcome.expect("the runtime API host dropped an invocation");
                }
                _ = tokio::time::sleep(Duration::from_millis(25)) => {}
            }
            if let Ok(outcome) = rx.try_recv() {
                return outcome;
            }
            let problem = if let Some(status) = self.exit_status() {
                Some(format!("exited ({status}) during invocation {id}"))
            } else if let Some(err) = self.host.lock().init_error.clone() {
                Some(format!("reported an init error ({err})"))
            } else if started.elapsed() > timeout {
                Some(format!("did not answer invocation {id} within {}s", timeout.as_secs_f64()))
            } else {
                None
            };
            if let Some(problem) = problem {
                self.forget(&id);
                self.output.wait_closed(Duration::from_millis(500));
                panic!("function {} {problem}; its output:\n{}", self.name, self.logs());
            }
        }
    }

    /// Time from spawn to the function's first `/next` poll (its cold start), once seen.
    pub fn init_duration(&self) -> Option<Duration> {
        self.host.lock().first_poll.map(|t| t.saturating_duration_since(self.spawned_at))
    }

    /// Peak resident set size (VmHWM) in KiB, while the process is alive.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// CPU time (user + system) the process has used so far, while it is alive: its own
    /// processing, apart from the time it spends waiting on AWS.
    pub fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Some(Duration::from_secs_f64(ticks as f64 / per_second))
    }

    /// Everything the process wrote to stdout and stderr so far (once the pipes' readers have
    /// caught up with it).
    pub fn logs(&self) -> String {
        self.output.settled_text()
    }

    /// The error the function reported through `/runtime/init/error`, if any.
    pub fn init_error(&self) -> Option<InvokeError> {
        self.host.lock().init_error.clone()
    }

    /// Waits (at most `timeout`) for the process to exit; its status, or `None` if still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                self.output.wait_closed(Duration::from_millis(500));
                return Some(status);
            }
            if Instant::now() >= end {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process (SIGKILL), as a crash or a Lambda timeout would, and waits for it.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    fn exit_status(&self) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        child.try_wait().ok().flatten()
    }

    fn forget(&self, id: &str) {
        let mut state = self.host.lock();
        state.pending.remove(id);
        state.queue.retain(|i| i.id != id);
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.host.lock().shutdown = true;
        self.host.wake.notify_all();
        self.server.unblock();
        {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(server: &tiny_http::Server, host: &Arc<Host>) {
    loop {
        match server.recv() {
            Ok(request) => {
                let host = host.clone();
                thread::spawn(move || handle(&host, request));
            }
            Err(_) if host.lock().shutdown => return,
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn handle(host: &Host, mut request: tiny_http::Request) {
    let method = request.method().clone();
    let path = request.url().split('?').next().unwrap_or_default().to_string();
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    use tiny_http::Method::{Get, Post};
    match (&method, segments.as_slice()) {
        (Get, ["2018-06-01", "runtime", "invocation", "next"]) => next(host, request),
        (Post, ["2018-06-01", "runtime", "invocation", id, "response"]) => {
            let value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            complete(host, request, id, Ok(value));
        }
        (Post, ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let error = error_report(&request, &body);
            complete(host, request, id, Err(error));
        }
        (Post, ["2018-06-01", "runtime", "init", "error"]) => {
            host.lock().init_error = Some(error_report(&request, &body));
            respond_json(request, 202, &serde_json::json!({ "status": "OK" }), &[]);
        }
        (Post, ["2020-01-01", "extension", "register"]) => {
            let answer = serde_json::json!({
                "functionName": host.function_name,
                "functionVersion": "$LATEST",
                "handler": host.function_name,
            });
            let id = request_id();
            respond_json(request, 200, &answer, &[("Lambda-Extension-Identifier", id.as_str())]);
        }
        (Get, ["2020-01-01", "extension", "event", "next"]) => {
            // No events are ever sent to extensions: hold the poll until shutdown.
            let mut state = host.lock();
            while !state.shutdown {
                state = host.wake.wait_timeout(state, Duration::from_secs(1)).unwrap_or_else(|e| e.into_inner()).0;
            }
        }
        (Post, ["2020-01-01", "extension", _, "error"]) => {
            respond_json(request, 202, &serde_json::json!({ "status": "OK" }), &[]);
        }
        _ => {
            let answer = serde_json::json!({
                "errorType": "NotFound",
                "errorMessage": format!("{method} {path} is not served by this runtime API host"),
            });
            respond_json(request, 404, &answer, &[]);
        }
    }
}

/// Long-polls for the next queued invocation and hands it to the runtime.
fn next(host: &Host, request: tiny_http::Request) {
    let invocation = {
        let mut state = host.lock();
        state.first_poll.get_or_insert_with(Instant::now);
        loop {
            if state.shutdown {
                return;
            }
            if let Some(invocation) = state.queue.pop_front() {
                break invocation;
            }
            state = host.wake.wait_timeout(state, Duration::from_secs(1)).unwrap_or_else(|e| e.into_inner()).0;
        }
    };
    let deadline = invocation.deadline_ms.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("Lambda-Runtime-Aws-Request-Id", invocation.id.as_str()),
        ("Lambda-Runtime-Deadline-Ms", deadline.as_str()),
        ("Lambda-Runtime-Invoked-Function-Arn", host.function_arn.as_str()),
        ("Lambda-Runtime-Trace-Id", invocation.trace_id.as_str()),
    ];
    let mut response = tiny_http::Response::from_data(invocation.body.clone());
    for (name, value) in headers {
        response.add_header(header(name, value));
    }
    if request.respond(response).is_err() {
        // The runtime went away before taking it: keep it for the next poll.
        host.lock().queue.push_front(invocation);
    }
}

/// Delivers an invocation's outcome to the waiting `invoke`.
fn complete(host: &Host, request: tiny_http::Request, id: &str, outcome: Outcome) {
    let waiter = host.lock().pending.remove(id);
    match waiter {
        Some(waiter) => {
            let _ = waiter.send(outcome);
            respond_json(request, 202, &serde_json::json!({ "status": "OK" }), &[]);
        }
        None => {
            let answer = serde_json::json!({
                "errorType": "InvalidRequestID",
                "errorMessage": format!("no pending invocation {id}"),
            });
            respond_json(request, 400, &answer, &[]);
        }
    }
}

/// `{errorType, errorMessage}` from an error body, leniently.
fn error_report(request: &tiny_http::Request, body: &[u8]) -> InvokeError {
    let header_type = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Lambda-Runtime-Function-Error-Type"))
        .map(|h| h.value.as_str().to_string());
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| parsed.get(name).and_then(Value::as_str).map(str::to_string);
    InvokeError {
        error_type: field("errorType").or(header_type).unwrap_or_else(|| "Unknown".to_string()),
        error_message: field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

fn respond_json(request: tiny_http::Request, status: u16, body: &Value, extra: &[(&str, &str)]) {
    let mut response = tiny_http::Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"));
    for (name, value) in extra {
        response.add_header(header(name, value));
    }
    let _ = request.respond(response);
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn epoch_ms() -> u64 {
    (vpcwarden::clock::now_nanos() / 1_000_000) as u64
}

/// Hex digits that differ between calls and processes (not cryptographic).
fn random_hex(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::new();
    while out.len() < len {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let mut x = nanos
            ^ (u64::from(std::process::id()) << 32)
            ^ COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // splitmix64 finaliser
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        out.push_str(&format!("{x:016x}"));
    }
    out.truncate(len);
    out
}

/// A UUID-shaped request id.
fn request_id() -> String {
    let h = random_hex(32);
    format!("{}-{}-4{}-8{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// An X-Ray style trace header.
fn trace_id() -> String {
    let secs = epoch_ms() / 1000;
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", random_hex(24), random_hex(16))
}
