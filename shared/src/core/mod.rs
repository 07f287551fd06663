//! The pure core: synchronous functions over domain types, no I/O.
pub mod audit;
pub mod decide;
pub mod endpoint;
pub mod plan;

pub use decide::{decide, Decision, Refusal};
pub use plan::{plan_cleanup, plan_routes, RouteChange};

#[cfg(test)]
mod properties_tests;
