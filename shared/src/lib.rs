//! vpcwarden: keeps cross-VPC connectivity on AWS in the state its owners declared.
//!
//! The pure core (domain types and the decisions over them) is its own crate, `vpcwarden-core`;
//! `aws` holds the adapters; `acceptor`, `approver` and `auditor` orchestrate: parse → load →
//! decide → act → record → answer; the reports, which word the audit's findings, are
//! their own crate, `vpcwarden-report`, re-exported as `report`.
pub mod acceptor;
pub mod approver;
pub mod auditor;
pub mod aws;
pub mod clock;
pub mod config;
pub mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod event_shapes;
pub mod routes;
pub mod telemetry;

/// The domain types of the pure core, re-exported: adapters and reports speak them.
pub use vpcwarden_core::domain;

/// The reports (crate `vpcwarden-report`), under their old path: `crate::report::…`.
pub use vpcwarden_report as report;

#[cfg(test)]
mod robustness_tests;
