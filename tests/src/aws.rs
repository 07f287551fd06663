//! SDK configurations and clients against the emulator, per account and region.
use std::collections::HashMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use tokio::sync::Mutex;

use crate::emulator::Emulator;
use crate::{ACCOUNT, REGION};

/// Role name assumed in other accounts (any name works in the emulator).
pub const ROLE_NAME: &str = "vpcwarden-tests";

/// Builds SDK clients that talk to one emulator, as any account, in any region.
pub struct Aws {
    url: String,
    assumed: Mutex<HashMap<String, Credentials>>,
}

impl Aws {
    /// Clients for the emulator at `emu.url`.
    pub async fn new(emu: &Emulator) -> Aws {
        Aws::from_url(&emu.url)
    }

    /// Clients for an emulator at `url` (e.g. one started by someone else).
    pub fn from_url(url: &str) -> Aws {
        Aws { url: url.to_string(), assumed: Mutex::new(HashMap::new()) }
    }

    /// The emulator's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Configuration acting in `account`: [`ACCOUNT`] uses static dummy keys, any other
    /// account the keys of an STS AssumeRole into it (cached per account).
    pub async fn config(&self, account: &str, region: &str) -> SdkConfig {
        if account == ACCOUNT {
            return self.build(region, dummy_credentials());
        }
        let mut cache = self.assumed.lock().await;
        if let Some(credentials) = cache.get(account) {
            return self.build(region, credentials.clone());
        }
        let sts = aws_sdk_sts::Client::new(&self.build(REGION, dummy_credentials()));
        let arn = format!("arn:aws:iam::{account}:role/{ROLE_NAME}");
        let out = sts
            .assume_role()
            .role_arn(&arn)
            .role_session_name(ROLE_NAME)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AssumeRole {arn}: {e:?}"));
        let keys = out.credentials().expect("AssumeRole returns credentials");
        let credentials = Credentials::new(
            keys.access_key_id(),
            keys.secret_access_key(),
            Some(keys.session_token().to_string()),
            None,
            "vpcwarden-tests-assume-role",
        );
        cache.insert(account.to_string(), credentials.clone());
        self.build(region, credentials)
    }

    /// An EC2 client acting in `account`, `region`.
    pub async fn ec2(&self, account: &str, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config(account, region).await)
    }

    /// A DynamoDB client in [`ACCOUNT`], [`REGION`] (where the functions' tables live).
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config(ACCOUNT, REGION).await)
    }

    /// An STS client acting in `account`.
    pub async fn sts(&self, account: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config(account, REGION).await)
    }

    /// A configuration that reads nothing from the environment: only the emulator is reachable.
    fn build(&self, region: &str, credentials: Credentials) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .build()
    }
}

/// The static dummy keys that the emulator maps to [`ACCOUNT`].
fn dummy_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "vpcwarden-tests-static")
}
