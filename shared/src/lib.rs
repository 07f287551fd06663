//! vpcwarden: keeps cross-VPC connectivity on AWS in the state its owners declared.
//!
//! `domain` and `core` are pure (no I/O, no SDK types); `aws` holds the adapters; `acceptor`
//! (and the other function modules) orchestrate: parse → load → decide → act → record → answer.
pub mod core;
pub mod domain;

#[cfg(test)]
mod fixtures;
