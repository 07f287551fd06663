//! BENCHMARKS.md holds hand-written prose and generated figures; the benches rewrite only the
//! parts between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`, so a run updates the
//! figures without touching the explanation around them.
use std::path::PathBuf;

use crate::workspace_root;

/// BENCHMARKS.md at the workspace root.
pub fn path() -> PathBuf {
    workspace_root().join("BENCHMARKS.md")
}

/// Replaces the generated section `name` with `body` (appended at the end if the markers are absent).
pub fn replace_section(name: &str, body: &str) {
    let path = path();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (open, close) = (format!("<!-- generated:{name} -->"), format!("<!-- /generated:{name} -->"));
    let section = format!("{open}\n{}\n{close}", body.trim_end());
    let new = match (text.find(&open), text.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{section}{}", &text[..a], &text[b + close.len()..]),
        _ => format!("{}\n{section}\n", text.trim_end()),
    };
    std::fs::write(&path, new).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
