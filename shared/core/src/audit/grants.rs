//! The allowlist itself: grants and waivers that end within `EXPIRY_WARNING_DAYS`. Reported by
//! the one scope of a run that holds the allowlist, so each is reported once.
use super::{Desired, Findings};
use crate::domain::{AllowlistKey, Facts};

pub(super) fn audit_grants(desired: &Desired, f: &mut Findings, now: i64) {
    // Already expired is not "expiring": the grant no longer grants, and other findings say so.
    let soon = |expires_at: Option<i64>| expires_at.filter(|t| *t > now && *t <= now + desired.expiry_warning);
    let peering = desired.peering_grants.iter().filter_map(|g| {
        soon(g.expires_at).map(|t| (AllowlistKey::Peering { scope: g.scope.clone(), account: g.account.clone() }, t))
    });
    let endpoint = desired.endpoint_grants.iter().filter_map(|g| {
        let key = || AllowlistKey::Endpoint { service_id: g.service_id.clone(), account: g.account.clone() };
        soon(g.expires_at).map(|t| (key(), t))
    });
    for (grant, t) in peering.chain(endpoint) {
        f.push(Facts::GrantExpiring { grant, expires_in: t - now });
    }
    // An expired waiver no longer waives: its finding is back in the totals, which says so.
    for w in &desired.waivers {
        if let Some(t) = soon(Some(w.expires_at)) {
            f.push(Facts::WaiverExpiring { waiver: w.key(), expires_in: t - now });
        }
    }
}
