//! What a function does with a request no grant admits (`UNLISTED_ACTION`).
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnlistedAction {
    /// Leave it pending.
    Ignore,
    /// Reject it.
    Reject,
    /// Leave it pending and ask a person: an approval request (ledger record and event).
    Ask,
}

impl UnlistedAction {
    pub fn parse(v: &str) -> Result<Self, String> {
        match v.to_ascii_lowercase().as_str() {
            "ignore" => Ok(Self::Ignore),
            "reject" => Ok(Self::Reject),
            "ask" => Ok(Self::Ask),
            _ => Err(format!("`{v}` must be `ignore`, `reject` or `ask`")),
        }
    }
}
