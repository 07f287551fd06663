//! VPCs as the audit and the reports see them.
use ipnet::IpNet;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vpc {
    pub id: String,
    /// Every associated IPv4 block (primary and secondary) and IPv6 block, sorted.
    pub cidrs: Vec<IpNet>,
    /// The `Name` tag, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}
