//! Event shapes as AWS delivers them (EventBridge schedule, CloudTrail via EventBridge): the
//! product's own fixtures, so the harness and the robustness corpus deliver the same events.
pub use vpcwarden::event_shapes::{cloudtrail_peering, schedule};
