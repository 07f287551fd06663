//! Integration-test harness for vpcwarden: the local AWS emulator, a Lambda Runtime API host
//! that runs the built function binaries, SDK clients per account/region, the DynamoDB tables
//! and builders for seeded network estates.
use std::path::{Path, PathBuf};

pub mod audit_seed;
pub mod aws;
pub mod bench_doc;
pub mod bench_estate;
pub mod c7n;
mod capture;
pub mod consumer;
pub mod demo_approvals;
pub mod demo_audit;
pub mod demo_org;
pub mod emulator;
pub mod events;
pub mod figures;
mod http;
pub mod measure;
pub mod org;
pub mod plot;
pub mod runtime;
pub mod securityhub;
pub mod seed;
pub mod stage;
pub mod tables;

pub use aws::Aws;
pub use emulator::{Emulator, RequestRecord};
pub use runtime::{function_env, Function, InvokeError};

/// The default (our) account: what any dummy credentials map to in the emulator.
pub const ACCOUNT: &str = "123456789012";

/// The default region of the harness and of the functions it runs.
pub const REGION: &str = "us-east-1";

/// The workspace root (the parent of this crate's manifest directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent directory").to_path_buf()
}

/// Path of a built binary: `$VPCWARDEN_BIN_DIR/<name>`, else `<target dir>/debug/<name>`;
/// panics if it does not exist.
pub fn bin_path(name: &str) -> PathBuf {
    let dir = match std::env::var_os("VPCWARDEN_BIN_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir().join("debug"),
    };
    let path = dir.join(name);
    if !path.is_file() {
        panic!(
            "binary `{name}` not found at {}: run `cargo build --workspace --bins` first \
             (or set VPCWARDEN_BIN_DIR to the directory holding it)",
            path.display()
        );
    }
    path
}

/// `$CARGO_TARGET_DIR` (relative paths taken from the workspace root), else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace_root().join(dir),
        _ => workspace_root().join("target"),
    }
}

pub mod privatelink;
