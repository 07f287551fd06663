//! drift-auditor Lambda: wires configuration, clients and the runtime; the logic lives in
//! `vpcwarden::auditor`.
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use vpcwarden::auditor::{handle, Auditor};
use vpcwarden::config::{AuditorConfig, Env};
use vpcwarden::error::Error;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vpcwarden::telemetry::init();
    let auditor = match start().await {
        Ok(a) => a,
        Err(e) => {
            // Fail at start, naming the problem: Lambda reports it as an init error.
            tracing::error!(error = %e, "drift-auditor cannot start");
            return Err(e.into());
        }
    };
    let auditor = &auditor;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move { handle(event.payload, auditor).await },
    ))
    .await
}

async fn start() -> Result<Auditor, Error> {
    let config = AuditorConfig::from_env(&Env::process())?;
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    Ok(Auditor::new(config, &sdk))
}
