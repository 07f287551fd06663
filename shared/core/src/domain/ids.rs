//! AWS identifier shapes, validated at the edges (events, allowlist items, CLI input).

fn prefixed_hex(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        (8..=17).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-4`…
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_vpc_id(s: &str) -> bool {
    prefixed_hex(s, "vpc-")
}

pub fn is_pcx_id(s: &str) -> bool {
    prefixed_hex(s, "pcx-")
}

pub fn is_endpoint_service_id(s: &str) -> bool {
    prefixed_hex(s, "vpce-svc-")
}

pub fn is_endpoint_id(s: &str) -> bool {
    prefixed_hex(s, "vpce-")
}

/// The account an allowed principal of an endpoint service belongs to:
/// `arn:<partition>:iam::<account>:…` or a bare account id.
pub fn principal_account(principal: &str) -> Option<&str> {
    let principal = principal.trim();
    if is_account_id(principal) {
        return Some(principal);
    }
    let mut parts = principal.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("arn"), Some(_), Some("iam"), Some(""), Some(account)) if is_account_id(account) => Some(account),
        _ => None,
    }
}

/// An organisational unit: `ou-` then 4–32 lowercase letters or digits (the root's), `-`, then
/// 8–32 more (AWS Organizations' documented pattern).
pub fn is_ou_id(s: &str) -> bool {
    let part = |p: &str, min: usize| {
        (min..=32).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    s.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| part(root, 4) && part(unit, 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901") && !is_account_id("12345678901a"));
        assert!(is_vpc_id("vpc-0a1b2c3d") && is_vpc_id("vpc-0123456789abcdef0"));
        assert!(!is_vpc_id("vpc-XYZ12345") && !is_vpc_id("vpc-12") && !is_vpc_id("pcx-0a1b2c3d"));
        assert!(is_pcx_id("pcx-0123456789abcdef0"));
        assert!(
            is_endpoint_service_id("vpce-svc-0123456789abcdef0") && !is_endpoint_service_id("vpce-0123456789abcdef0")
        );
        assert!(is_endpoint_id("vpce-0123456789abcdef0"));
        assert!(is_ou_id("ou-ab12-cdefgh34") && !is_ou_id("ou-ab12-cdef") && !is_ou_id("ou-AB12-cdefgh34"));
        assert!(!is_ou_id("r-ab12") && !is_ou_id("ou-ab12cdefgh34"));
    }
}
