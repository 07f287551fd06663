//! peering-acceptor Lambda: wires configuration, clients and the runtime; the logic lives in
//! `vpcwarden::acceptor`.
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use vpcwarden::acceptor::{handle, Acceptor};
use vpcwarden::clock::Deadline;
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
        // The invocation's deadline bounds the work it starts (see `vpcwarden::clock::Deadline`);
        // boxed, the handler's future stays one type deep inside the scope.
        move |event: LambdaEvent<Value>| async move {
            Deadline::at_epoch_ms(event.context.deadline).scope(Box::pin(handle(event.payload, acceptor))).await
        },
    ))
    .await
}

async fn start() -> Result<Acceptor, Error> {
    let config = AcceptorConfig::from_env(&Env::process())?;
    let sdk = vpcwarden::aws::load_sdk_config().await?;
    Ok(Acceptor::new(config, &sdk))
}
