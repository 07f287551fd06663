//! Domain types shared by the pure core, the adapters and the reports. No SDK types here.
pub mod allowlist;
pub mod cidr;
pub mod endpoint;
pub mod events;
pub mod finding;
pub mod fingerprint;
pub mod grant;
pub mod ids;
pub mod ledger;
pub mod peering;
pub mod policy;
pub mod route;
pub mod scopes;
pub mod vpc;
pub mod waiver;

pub use allowlist::AllowlistKey;
pub use endpoint::{Connection, ConnectionState, Failure, LoadBalancerHealth, TargetGroupHealth};
pub use finding::{DeadReason, Facts, Finding, FindingCode, Requester, Severity, SickTargetGroup};
pub use fingerprint::Identity;
pub use grant::{EndpointGrant, Grant, PeeringGrant, VpcScope};
pub use ledger::{LedgerAction, LedgerKey};
pub use peering::{Peering, PeeringStatus, Side, VpcSide};
pub use policy::UnlistedAction;
pub use route::{Route, RouteTable, RouteTarget, TagFilter};
pub use vpc::Vpc;
pub use waiver::{waiver_for, Waiver};
