//! `invoke-function`: runs one built function binary once through the local Lambda Runtime API,
//! against an AWS endpoint this process did not start (typically the emulator a pytest started).
//!
//! ```text
//! invoke-function <function> <event> [--endpoint URL] [--region REGION] [--timeout SECS] [--logs] [NAME=VALUE ...]
//! ```
//!
//! * `<function>`: a binary of the workspace (`peering-acceptor`, `endpoint-approver`, ...), found
//!   like the tests find it (`$VPCWARDEN_BIN_DIR`, else `<target>/debug`);
//! * `<event>`: `schedule` (an EventBridge scheduled event), inline JSON (`{...}`), `-` (stdin) or
//!   the path of a JSON file;
//! * `--endpoint`: the AWS endpoint (default `$AWS_ENDPOINT_URL`); the function gets the harness
//!   environment for it (region, dummy secret, access key id `vpcwarden-<function>` so that the
//!   emulator attributes its calls), then the `NAME=VALUE` pairs (e.g. `ALLOWLIST_TABLE=...`);
//! * prints the function's answer (JSON) on stdout and exits 0; if the function answers an
//!   error, prints `{"errorType", "errorMessage"}` on stdout and exits 1; usage errors exit 2.
//!   `--logs` (or any failure) copies the function's own output to stderr.
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use vpcwarden_tests::runtime::function_env_for;
use vpcwarden_tests::stage::FUNCTION_KEY_PREFIX;
use vpcwarden_tests::{bin_path, events, Function, REGION};

const USAGE: &str = "usage: invoke-function <function> <event: schedule | {json} | - | file.json> \
                     [--endpoint URL] [--region REGION] [--timeout SECS] [--logs] [NAME=VALUE ...]";

struct Args {
    function: String,
    event: Value,
    endpoint: String,
    region: String,
    timeout: Duration,
    logs: bool,
    env: Vec<(String, String)>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let mut region = REGION.to_string();
    let mut timeout = Duration::from_secs(120);
    let mut logs = false;
    let mut env = Vec::new();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--region" => region = value("--region")?,
            "--timeout" => {
                let secs: u64 = value("--timeout")?.parse().map_err(|e| format!("--timeout: {e}"))?;
                timeout = Duration::from_secs(secs);
            }
            "--logs" => logs = true,
            "-h" | "--help" => return Err(String::new()),
            _ if positional.len() >= 2 => match arg.split_once('=') {
                Some((k, v)) if !k.is_empty() => env.push((k.to_string(), v.to_string())),
                _ => return Err(format!("expected NAME=VALUE, got {arg:?}")),
            },
            _ => positional.push(arg.clone()),
        }
    }
    let [function, event] = <[String; 2]>::try_from(positional).map_err(|_| "a function and an event are required")?;
    let event = match event.as_str() {
        "schedule" => events::schedule(),
        "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("stdin: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("event on stdin: {e}"))?
        }
        inline if inline.trim_start().starts_with('{') => {
            serde_json::from_str(inline).map_err(|e| format!("inline event: {e}"))?
        }
        path => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?
        }
    };
    let endpoint = endpoint.ok_or("no --endpoint and no AWS_ENDPOINT_URL")?;
    Ok(Args { function, event, endpoint, region, timeout, logs, env })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(args) => args,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("invoke-function: {why}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let mut env = function_env_for(&args.endpoint);
    let key = format!("{FUNCTION_KEY_PREFIX}{}", args.function);
    let overrides: Vec<(String, String)> =
        [("AWS_REGION".to_string(), args.region.clone()), ("AWS_ACCESS_KEY_ID".to_string(), key)]
            .into_iter()
            .chain(args.env.iter().cloned())
            .collect();
    for (k, v) in overrides {
        env.retain(|(name, _)| *name != k);
        env.push((k, v));
    }

    let function = Function::spawn(&bin_path(&args.function), &env);
    let outcome = function.invoke_with_timeout(args.event, args.timeout).await;
    let failed = outcome.is_err();
    if args.logs || failed {
        eprintln!("{}", function.logs());
    }
    match outcome {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            println!("{}", json!({ "errorType": err.error_type, "errorMessage": err.error_message }));
            ExitCode::from(1)
        }
    }
}
