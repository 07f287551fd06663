//! A tiny Lambda function for the harness's own tests: echoes its event, or fails with
//! `EchoFailure` when the event has `"fail": true`. With `ECHO_EXIT_AT_START` set it exits at
//! once with status 3 (a function whose start-up fails).
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    println!("echo-function: invocation {}", event.context.request_id);
    if event.payload.get("fail") == Some(&Value::Bool(true)) {
        return Err(Diagnostic { error_type: "EchoFailure".into(), error_message: "asked to fail".into() });
    }
    Ok(event.payload)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var_os("ECHO_EXIT_AT_START").is_some() {
        eprintln!("echo-function: ECHO_EXIT_AT_START is set, exiting");
        std::process::exit(3);
    }
    eprintln!("echo-function: starting");
    lambda_runtime::run(service_fn(handler)).await
}
