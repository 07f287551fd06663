//! vpcwarden's pure core: domain types and the plain synchronous functions that decide over
//! them — the peering decision ([`decide`]), route planning ([`plan`]), endpoint-connection
//! decisions ([`endpoint`]) and the drift audit ([`audit`]). No I/O, no clock, no AWS SDK, no
//! async runtime: `cargo tree -p vpcwarden-core` shows serde and ipnet only, so the compiler
//! keeps it that way. The adapters (crate `vpcwarden`) turn AWS answers into these types.
pub mod announce;
pub mod audit;
pub mod decide;
pub mod domain;
pub mod endpoint;
pub mod plan;
pub mod requests;

pub use decide::{decide, Decision, Refusal};
pub use plan::{plan_cleanup, plan_routes, RouteChange};

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;

#[cfg(test)]
mod properties_tests;
