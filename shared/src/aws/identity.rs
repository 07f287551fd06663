//! Who we are (account, partition), learned once per process, and assumed-role configurations
//! for other accounts: shortest session, a session name naming the function.
use std::collections::HashMap;
use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::SdkConfig;
use tokio::sync::{Mutex, OnceCell};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Caller {
    pub account: String,
    pub partition: String,
}

#[derive(Debug)]
pub struct Identity {
    sts: aws_sdk_sts::Client,
    base: SdkConfig,
    session_name: &'static str,
    caller: OnceCell<Caller>,
    assumed: Mutex<HashMap<(String, String, String), SdkConfig>>,
}

/// STS's minimum session length: assumed credentials live no longer than needed.
pub(crate) const SESSION_LENGTH: Duration = Duration::from_secs(900);

impl Identity {
    pub fn new(base: &SdkConfig, session_name: &'static str) -> Self {
        Identity {
            sts: aws_sdk_sts::Client::new(base),
            base: base.clone(),
            session_name,
            caller: OnceCell::new(),
            assumed: Mutex::new(HashMap::new()),
        }
    }

    /// Lazily, so a cold start makes no network call before the first event.
    pub async fn caller(&self) -> Result<&Caller> {
        self.caller
            .get_or_try_init(|| async {
                let out =
                    self.sts.get_caller_identity().send().await.map_err(|e| Error::aws("GetCallerIdentity", e))?;
                let account = out.account().unwrap_or_default().to_string();
                let partition = out.arn().and_then(|a| a.split(':').nth(1)).unwrap_or("aws").to_string();
                Ok(Caller { account, partition })
            })
            .await
    }

    /// An SDK configuration acting as `role_name` in `account`, in `region`; cached per process
    /// (the provider refreshes its credentials itself).
    pub async fn assume(&self, account: &str, role_name: &str, region: &str) -> Result<SdkConfig> {
        let key = (account.to_string(), role_name.to_string(), region.to_string());
        let mut cache = self.assumed.lock().await;
        if let Some(config) = cache.get(&key) {
            return Ok(config.clone());
        }
        let partition = self.caller().await?.partition.clone();
        let arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
        let regional = super::in_region(&self.base, region);
        let provider = AssumeRoleProvider::builder(arn)
            .session_name(self.session_name)
            .session_length(SESSION_LENGTH)
            .configure(&regional)
            .build()
            .await;
        let config = regional
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build();
        cache.insert(key, config.clone());
        Ok(config)
    }

    pub fn base(&self) -> &SdkConfig {
        &self.base
    }
}
