//! peering-acceptor Lambda: wires configuration, clients and the runtime; the logic lives in
//! `vpcwarden::acceptor`.
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use vpcwarden::acceptor::{handle, Acceptor};
use vpcwarden::config::{AcceptorConfig, Env};
use vpcwarden::error::Error;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vpcwarden::telemetry::init();
    let acceptor = match start().await {
        Ok(a) => a,
        Err(e) => {
            // Fail at start, naming the problem: Lambda reports it as an init error.
            tracing::error!(error = %e, "peering-acceptor cannot start");
            return Err(e.into());
        }
    };
    let acceptor = &acceptor;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move { handle(event.payload, acceptor).await },
    ))
    .await
}

async fn start() -> Result<Acceptor, Error> {
    let config = AcceptorConfig::from_env(&Env::process())?;
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    Ok(Acceptor::new(config, &sdk))
}
