//! vpcwarden: keeps cross-VPC connectivity on AWS in the state its owners declared.
//!
//! `domain` and `core` are pure (no I/O, no SDK types); `aws` holds the adapters; `acceptor`
//! (and the other function modules) orchestrate: parse → load → decide → act → record → answer.
pub mod acceptor;
pub mod approver;
pub mod auditor;
pub mod aws;
pub mod config;
pub mod core;
pub mod domain;
pub mod error;
pub mod report;
pub mod telemetry;

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod robustness_tests;
