//! Waivers: accepted risks. A waiver names one finding code on one resource (optionally in one
//! account), with an owner, a reason and an end date; while it lasts, the finding it covers is
//! still reported, but apart, and counts in no total, metric or alarm.
use serde::{Deserialize, Serialize};

use super::allowlist::AllowlistKey;
use super::finding::{Finding, FindingCode};
use super::ids::is_account_id;

/// The longest a waiver may last from when it was added: a risk is accepted for a year at
/// most, then looked at again.
pub const MAX_WAIVER_DAYS: i64 = 366;

/// The longest resource id a waiver may name (finding resources are AWS ids, or
/// `<service>/<account>`, or an allowlist key).
const MAX_RESOURCE_LEN: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub code: FindingCode,
    /// The finding's resource, as the reports show it.
    pub resource: String,
    /// Only findings in this account (none: in any account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub reason: String,
    /// Epoch seconds; required: no risk is accepted for ever.
    pub expires_at: i64,
    pub added_by: String,
    pub added_at: i64,
}

impl Waiver {
    /// Where the waiver lies in the allowlist.
    pub fn key(&self) -> AllowlistKey {
        AllowlistKey::Waiver { code: self.code, resource: self.resource.clone() }
    }

    /// Until its `expires_at`; an expired waiver stops applying at once.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now
    }

    /// Whether the waiver covers `finding` at `now`.
    pub fn covers(&self, finding: &Finding, now: i64) -> bool {
        self.is_live(now)
            && self.code == finding.code()
            && self.resource == finding.resource()
            && self.account.as_ref().is_none_or(|a| *a == finding.account)
    }

    /// What is wrong with the waiver, if anything: the rules every waiver keeps, however it
    /// was written (the CLI, Terraform, a console).
    pub fn problem(&self) -> Option<String> {
        if let Some(why) = resource_problem(&self.resource) {
            return Some(why);
        }
        if self.reason.trim().is_empty() {
            return Some("reason (S) is required and must not be blank".into());
        }
        if self.account.as_ref().is_some_and(|a| !is_account_id(a)) {
            return Some("account must be 12 digits".into());
        }
        if self.added_by.trim().is_empty() {
            return Some("added_by (S) is required".into());
        }
        if self.expires_at <= self.added_at {
            return Some("expires_at must be later than added_at".into());
        }
        if self.expires_at - self.added_at > MAX_WAIVER_DAYS * 86_400 {
            return Some(format!("expires_at is more than {MAX_WAIVER_DAYS} days after added_at"));
        }
        None
    }
}

/// Why `resource` cannot be a waiver's resource id, if it cannot.
pub fn resource_problem(resource: &str) -> Option<String> {
    if resource.is_empty() {
        return Some("the resource id is empty".into());
    }
    if resource.len() > MAX_RESOURCE_LEN {
        return Some(format!("the resource id is longer than {MAX_RESOURCE_LEN} characters"));
    }
    if resource.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the resource id holds white space or control characters".into());
    }
    None
}

/// The waiver that covers `finding` at `now`, if any: the account-specific one before one for
/// any account, then the one that lasts longest, so the choice never depends on read order.
pub fn waiver_for<'w>(waivers: &'w [Waiver], finding: &Finding, now: i64) -> Option<&'w Waiver> {
    waivers
        .iter()
        .filter(|w| w.covers(finding, now))
        .min_by_key(|w| (w.account.is_none(), std::cmp::Reverse(w.expires_at)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::Facts;

    fn waiver(code: FindingCode, resource: &str, account: Option<&str>, expires_at: i64) -> Waiver {
        Waiver {
            code,
            resource: resource.into(),
            account: account.map(Into::into),
            reason: "accepted by the network team".into(),
            expires_at,
            added_by: "alice".into(),
            added_at: 1_000,
        }
    }

    fn wildcard(account: &str) -> Finding {
        Finding::new(
            account,
            "us-east-1",
            Facts::EndpointServiceWildcardPrincipal { service: "vpce-svc-01234567".into() },
        )
    }

    #[test]
    fn a_waiver_covers_its_code_resource_and_account_until_it_ends() {
        let f = wildcard("111111111111");
        let w = waiver(FindingCode::EndpointServiceWildcardPrincipal, "vpce-svc-01234567", None, 2_000);
        assert!(w.covers(&f, 1_999));
        assert!(!w.covers(&f, 2_000), "expired: no longer applies");
        let other_code = waiver(FindingCode::EndpointServiceAutoAccept, "vpce-svc-01234567", None, 2_000);
        assert!(!other_code.covers(&f, 1_500));
        let other_resource = waiver(FindingCode::EndpointServiceWildcardPrincipal, "vpce-svc-99999999", None, 2_000);
        assert!(!other_resource.covers(&f, 1_500));
        let theirs =
            waiver(FindingCode::EndpointServiceWildcardPrincipal, "vpce-svc-01234567", Some("222222222222"), 2_000);
        assert!(!theirs.covers(&f, 1_500));
        assert!(theirs.covers(&wildcard("222222222222"), 1_500));
    }

    #[test]
    fn the_account_specific_waiver_wins_whatever_the_order() {
        let f = wildcard("111111111111");
        let any = waiver(FindingCode::EndpointServiceWildcardPrincipal, "vpce-svc-01234567", None, 9_000);
        let mine =
            waiver(FindingCode::EndpointServiceWildcardPrincipal, "vpce-svc-01234567", Some("111111111111"), 3_000);
        for list in [vec![any.clone(), mine.clone()], vec![mine.clone(), any.clone()]] {
            assert_eq!(waiver_for(&list, &f, 1_500), Some(&mine));
        }
        assert_eq!(waiver_for(&[any.clone(), mine], &f, 3_500), Some(&any), "mine has ended");
    }

    #[test]
    fn problems_are_named() {
        let ok = waiver(FindingCode::GrantExpiring, "peering#*/account#222222222222", None, 2_000);
        assert_eq!(ok.problem(), None);
        let cases = [
            (Waiver { reason: " ".into(), ..ok.clone() }, "reason"),
            (Waiver { resource: String::new(), ..ok.clone() }, "empty"),
            (Waiver { resource: "rtb 1".into(), ..ok.clone() }, "white space"),
            (Waiver { account: Some("12".into()), ..ok.clone() }, "12 digits"),
            (Waiver { expires_at: 1_000, ..ok.clone() }, "later than added_at"),
            (Waiver { expires_at: 1_000 + 367 * 86_400, ..ok.clone() }, "366 days"),
            (Waiver { added_by: String::new(), ..ok.clone() }, "added_by"),
        ];
        for (w, expected) in cases {
            let why = w.problem().unwrap_or_default();
            assert!(why.contains(expected), "{why:?} should name {expected:?}");
        }
        assert_eq!(Waiver { expires_at: 1_000 + 366 * 86_400, ..ok }.problem(), None, "366 days is the limit");
    }
}
