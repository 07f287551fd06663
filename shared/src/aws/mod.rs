//! AWS adapters: SDK calls in, domain types out. Built once per process and reused.
pub mod allowlist;
pub mod ec2;
pub mod elbv2;
pub mod endpoints;
pub mod eventbridge;
pub mod grant_item;
pub mod identity;
pub mod ledger;
pub mod organizations;
pub mod runs;
pub mod s3;
pub mod securityhub;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::config::Common;
use crate::error::{Error, Result};

/// Attempts per call and the longest pause between two: throttling rides out a few seconds of a
/// drained bucket, and a dependency that stays down fails the invocation well inside its timeout.
pub(crate) const MAX_ATTEMPTS: u32 = 8;
pub(crate) const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(2);

/// The SDK configuration every function and the CLI start from: the standard provider chain
/// (so `AWS_REGION`, profiles and `AWS_ENDPOINT_URL` work) with the SDK's standard retries
/// (exponential backoff with jitter, up to [`MAX_ATTEMPTS`]).
///
/// Not the adaptive mode: its client-side limiter cuts the rate of every call of a client on any
/// throttle, random or not, and climbs back slowly — 46 s and 136 attempts for 100 routes with a
/// fifth of CreateRoute calls throttled (BENCHMARKS.md). The calls made by the thousand, route
/// calls, are paced and retried by the route executor instead (`routes::execute`); the few others
/// (Describe*, tags, the ledger) ride out throttling on standard backoff.
pub async fn load_sdk_config() -> Result<SdkConfig> {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_max_backoff(MAX_BACKOFF))
        .load()
        .await;
    if config.region().is_none() {
        return Err(Error::Config(
            "AWS_REGION is required but not set (no region in the environment or profile)".into(),
        ));
    }
    Ok(config)
}

/// The same configuration pointed at another region.
pub(crate) fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config.to_builder().region(Region::new(region.to_string())).build()
}

/// What every function reads and writes besides its own services, built once per process: the
/// allowlist, the ledger (entries signed by `actor`), the caller's identity (sessions named after
/// `actor`), the region it runs in and the event bus.
pub struct Shared {
    pub region: String,
    pub allowlist: allowlist::Allowlist,
    pub ledger: ledger::Ledger,
    pub identity: identity::Identity,
    /// Where events go (`EVENT_BUS`), when configured.
    pub events: Option<eventbridge::EventBus>,
}

impl Shared {
    pub fn new(sdk: &SdkConfig, config: &Common, actor: &'static str) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        Shared {
            region: sdk.region().map(ToString::to_string).unwrap_or_default(),
            allowlist: allowlist::Allowlist::new(dynamodb.clone(), &config.allowlist_table),
            ledger: ledger::Ledger::new(dynamodb, &config.ledger_table, actor),
            identity: identity::Identity::new(sdk, actor),
            events: config
                .event_bus
                .as_ref()
                .map(|bus| eventbridge::EventBus::new(aws_sdk_eventbridge::Client::new(sdk), bus)),
        }
    }
}
