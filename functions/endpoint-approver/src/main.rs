//! endpoint-approver Lambda: wires configuration, clients and the runtime; the logic lives in
//! `vpcwarden::approver`.
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use vpcwarden::approver::{handle, Approver};
use vpcwarden::config::{ApproverConfig, Env};
use vpcwarden::error::Error;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vpcwarden::telemetry::init();
    let approver = match start().await {
        Ok(a) => a,
        Err(e) => {
            // Fail at start, naming the problem: Lambda reports it as an init error.
            tracing::error!(error = %e, "endpoint-approver cannot start");
            return Err(e.into());
        }
    };
    let approver = &approver;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move { handle(event.payload, approver).await },
    ))
    .await
}

async fn start() -> Result<Approver, Error> {
    let config = ApproverConfig::from_env(&Env::process())?;
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    Ok(Approver::new(config, &sdk))
}
