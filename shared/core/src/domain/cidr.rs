//! CIDR helpers over `ipnet`: the only CIDR math the core needs.
use ipnet::IpNet;

/// Two prefixes overlap when either contains the other's network address
/// (prefixes nest or are disjoint; there is no partial overlap).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    same_family(a, b) && (a.contains(&b.network()) || b.contains(&a.network()))
}

/// `inner` equals `outer` or is more specific inside it.
pub fn within(inner: &IpNet, outer: &IpNet) -> bool {
    same_family(inner, outer) && outer.contains(inner)
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!((a, b), (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_)))
}

/// Parses a CIDR and normalises it to its network address (`10.0.0.5/16` is `10.0.0.0/16`),
/// naming the offending text on error.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    text.trim().parse::<IpNet>().map(|n| n.trunc()).map_err(|_| format!("`{text}` is not a CIDR block"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn overlap_is_symmetric_and_covers_nesting() {
        assert!(overlaps(&n("10.0.0.0/16"), &n("10.0.1.0/24")));
        assert!(overlaps(&n("10.0.1.0/24"), &n("10.0.0.0/16")));
        assert!(overlaps(&n("10.0.0.0/16"), &n("10.0.0.0/16")));
        assert!(!overlaps(&n("10.0.0.0/16"), &n("10.1.0.0/16")));
        assert!(!overlaps(&n("10.0.0.0/8"), &n("2600:1f18::/56")));
        assert!(overlaps(&n("2600:1f18::/56"), &n("2600:1f18:0:1::/64")));
    }

    #[test]
    fn within_is_directional() {
        assert!(within(&n("10.0.1.0/24"), &n("10.0.0.0/16")));
        assert!(within(&n("10.0.0.0/16"), &n("10.0.0.0/16")));
        assert!(!within(&n("10.0.0.0/8"), &n("10.0.0.0/16")));
        assert!(!within(&n("0.0.0.0/0"), &n("10.0.0.0/16")));
        assert!(!within(&n("::/0"), &n("10.0.0.0/16")));
    }

    #[test]
    fn parse_normalises_and_names_bad_input() {
        assert_eq!(parse_cidr("10.0.0.5/16").unwrap(), n("10.0.0.0/16"));
        assert_eq!(parse_cidr(" 2600:1f18::1/56 ").unwrap(), n("2600:1f18::/56"));
        assert_eq!(parse_cidr("10.0.0.0/33").unwrap_err(), "`10.0.0.0/33` is not a CIDR block");
        assert!(parse_cidr("vpc-1").is_err());
    }
}
