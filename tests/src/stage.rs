//! A stage for end-to-end runs: an emulator, SDK access to it, the two tables, and functions
//! started through the Runtime API with the configuration they need.
//!
//! Each function started with [`Stage::function`] gets its own access key id,
//! `vpcwarden-<binary>` (the emulator maps any unknown key to the default account), so the
//! emulator can attribute every AWS call to the function that made it, including calls made
//! through a role it assumed. When the stage is dropped, what each function called is appended to
//! `<target>/iam-usage/<function>-<pid>-<n>.jsonl`: the evidence tests/infra/test_least_privilege.py
//! checks the IAM policies against.
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{aws::Aws, bin_path, emulator::Emulator, function_env, tables, Function};

/// Prefix of the access key id each function process gets.
pub const FUNCTION_KEY_PREFIX: &str = "vpcwarden-";

pub struct Stage {
    pub emu: Emulator,
    pub aws: Aws,
    /// Functions started by [`Stage::function`], with the mtime of their binary at that moment.
    spawned: std::sync::Mutex<std::collections::BTreeMap<String, Option<u64>>>,
}

impl Stage {
    /// Starts a fresh emulator and creates the allowlist and ledger tables.
    pub async fn new() -> Stage {
        let emu = Emulator::start();
        let aws = Aws::new(&emu).await;
        tables::create(&aws).await;
        Stage { emu, aws, spawned: Default::default() }
    }

    /// The same stage on plain moto server, without vpcwarden's emulator extensions.
    pub async fn unmodified() -> Stage {
        let emu = Emulator::start_unmodified();
        let aws = Aws::new(&emu).await;
        tables::create(&aws).await;
        Stage { emu, aws, spawned: Default::default() }
    }

    /// The environment of a deployed function: emulator access, the two tables, then `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = function_env(&self.emu);
        env.push(("ALLOWLIST_TABLE".into(), tables::ALLOWLIST.into()));
        env.push(("LEDGER_TABLE".into(), tables::LEDGER.into()));
        for (k, v) in extra {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v.to_string()));
        }
        env
    }

    /// [`Stage::env`] plus the function's own access key id, `vpcwarden-<bin>` (`extra` may
    /// still override it).
    pub fn function_env(&self, bin: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let key = format!("{FUNCTION_KEY_PREFIX}{bin}");
        let mut all = vec![("AWS_ACCESS_KEY_ID", key.as_str())];
        all.extend_from_slice(extra);
        self.env(&all)
    }

    /// Starts the built binary `bin` (e.g. `peering-acceptor`) through the Runtime API.
    pub fn function(&self, bin: &str, extra: &[(&str, &str)]) -> Function {
        let path = bin_path(bin);
        let mtime = binary_mtime(&path);
        self.spawned.lock().unwrap_or_else(|e| e.into_inner()).entry(bin.to_string()).or_insert(mtime);
        Function::spawn(&path, &self.function_env(bin, extra))
    }

    /// Runs the `vpcwarden` CLI against this stage's emulator, with the stage's environment
    /// only: (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = std::process::Command::new(bin_path("vpcwarden"))
            .args(args)
            .env_clear()
            .envs(self.env(&[]))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .expect("the vpcwarden CLI runs");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// How many calls of `action` the emulator answered (faulted calls not counted).
    pub fn calls(&self, action: &str) -> usize {
        self.emu.requests().iter().filter(|r| r.action == action && !r.fault).count()
    }

    /// Appends what each function of this stage called (per the emulator's usage log) to
    /// `<target>/iam-usage/<function>-<pid>-<n>.jsonl`, one JSON object per (role, service,
    /// action): `{"function", "role", "service", "action", "count", "binary_mtime"}`, where
    /// `role` is `null` for the function's own role, else the ARN of the role it assumed, and
    /// `binary_mtime` (seconds since the epoch, taken when the function was started) identifies
    /// the build that ran. Errors are reported on stderr, never raised (this runs in `Drop`).
    pub fn record_iam_usage(&self) {
        if let Err(e) = self.try_record_iam_usage() {
            eprintln!("vpcwarden-tests: IAM usage not recorded: {e}");
        }
    }

    fn try_record_iam_usage(&self) -> Result<(), String> {
        let answer =
            crate::http::request(self.emu.port, "GET", "/vpcwarden-api/usage", None).map_err(|e| e.to_string())?;
        if answer.status == 404 {
            return Ok(()); // plain moto (Stage::unmodified): no usage log
        }
        if answer.status != 200 {
            return Err(format!("GET /vpcwarden-api/usage answered {}: {}", answer.status, answer.text()));
        }
        let usage: Vec<serde_json::Value> = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
        let spawned = self.spawned.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut by_function: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for u in &usage {
            let Some(function) = u["source_key"].as_str().and_then(|k| k.strip_prefix(FUNCTION_KEY_PREFIX)) else {
                continue;
            };
            let line = serde_json::json!({
                "function": function,
                "role": u["assumed_role"],
                "service": u["service"],
                "action": u["action"],
                "count": u["count"],
                "binary_mtime": spawned.get(function).copied().flatten(),
            });
            by_function.entry(function.to_string()).or_default().push(line.to_string());
        }
        if by_function.is_empty() {
            return Ok(());
        }
        static STAGES: AtomicUsize = AtomicUsize::new(0);
        let n = STAGES.fetch_add(1, Ordering::Relaxed);
        let dir = crate::target_dir().join("iam-usage");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (function, lines) in by_function {
            let path = dir.join(format!("{function}-{}-{n}.jsonl", std::process::id()));
            std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        self.record_iam_usage();
    }
}

/// Modification time (seconds since the epoch) of a built binary.
fn binary_mtime(path: &std::path::Path) -> Option<u64> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    Some(modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}
