//! Nothing here: the benchmarks are in `benches/core.rs` (`cargo bench -p vpcwarden-core-bench`).
