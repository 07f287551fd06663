//! Domain types shared by the pure core, the adapters and the reports. No SDK types here.
pub mod cidr;
pub mod finding;
pub mod grant;
pub mod ids;
pub mod peering;
pub mod route;
pub mod vpc;

pub use finding::{Finding, FindingCode, Severity};
pub use grant::{EndpointGrant, Grant, PeeringGrant, VpcScope};
pub use peering::{Peering, PeeringStatus, Side, VpcSide};
pub use route::{Route, RouteTable, RouteTarget, TagFilter};
pub use vpc::Vpc;
