//! A stage for end-to-end runs: an emulator, SDK access to it, the two tables, and functions
//! started through the Runtime API with the configuration they need.
use crate::{aws::Aws, bin_path, emulator::Emulator, function_env, tables, Function};

pub struct Stage {
    pub emu: Emulator,
    pub aws: Aws,
}

impl Stage {
    /// Starts a fresh emulator and creates the allowlist and ledger tables.
    pub async fn new() -> Stage {
        let emu = Emulator::start();
        let aws = Aws::new(&emu).await;
        tables::create(&aws).await;
        Stage { emu, aws }
    }

    /// The same stage on plain moto server, without vpcwarden's emulator extensions.
    pub async fn unmodified() -> Stage {
        let emu = Emulator::start_unmodified();
        let aws = Aws::new(&emu).await;
        tables::create(&aws).await;
        Stage { emu, aws }
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

    /// Starts the built binary `bin` (e.g. `peering-acceptor`) through the Runtime API.
    pub fn function(&self, bin: &str, extra: &[(&str, &str)]) -> Function {
        Function::spawn(&bin_path(bin), &self.env(extra))
    }
}
