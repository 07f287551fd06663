//! The identity of a finding and its short stable id: the same drift has the same id in every
//! run, whatever else the estate holds and however the reports word it.
//!
//! The id is FNV-1a (64 bits) over a canonical encoding of the identity, as 16 hex digits.
//! FNV-1a is a dozen lines, well known and stable by definition (its constants are fixed), so
//! the core keeps no hashing dependency; it is not cryptographic, and need not be: ids name
//! findings, they guard nothing. At 64 bits, two distinct drifts among a million findings share
//! an id with odds of about 1 in 37 million.
use serde::Serialize;

use super::finding::FindingCode;

/// What makes a drift *that* drift: its code, its scope, its resource and the detail that tells
/// it from other drifts of the same code on the same resource. Volatile numbers (hours pending,
/// time to expiry, counts) and wording are not part of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Identity {
    pub code: FindingCode,
    pub account: String,
    pub region: String,
    pub resource: String,
    /// Named parts, in a fixed order per code.
    pub detail: Vec<(&'static str, String)>,
}

/// The version of the canonical encoding: changing the encoding changes every id, so it would
/// come with a new version.
const ENCODING: &str = "vpcwarden-finding-v1";

impl Identity {
    /// Every part as `<byte length>:<text>`, one after the other: no two identities encode the
    /// same, whatever characters their parts hold.
    pub fn canonical(&self) -> String {
        let mut parts = vec![ENCODING, self.code.as_str(), &self.account, &self.region, &self.resource];
        for (name, value) in &self.detail {
            parts.push(name);
            parts.push(value);
        }
        let mut out = String::new();
        for part in parts {
            out.push_str(&part.len().to_string());
            out.push(':');
            out.push_str(part);
        }
        out
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// The id of an identity: 16 lowercase hex digits.
pub fn fingerprint(identity: &Identity) -> String {
    format!("{:016x}", fnv1a64(identity.canonical().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    fn identity(resource: &str, detail: Vec<(&'static str, String)>) -> Identity {
        Identity {
            code: FindingCode::PeeringRouteMissing,
            account: "111111111111".into(),
            region: "us-east-1".into(),
            resource: resource.into(),
            detail,
        }
    }

    #[test]
    fn the_encoding_keeps_part_boundaries() {
        let a = identity("rtb-1", vec![("destination", "10.1.0.0/16".into())]);
        let b = identity("rtb-1destination", vec![("", "10.1.0.0/16".into())]);
        assert_ne!(a.canonical(), b.canonical());
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn ids_are_16_hex_digits_and_pinned() {
        let id = fingerprint(&identity("rtb-1", vec![("destination", "10.1.0.0/16".into())]));
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // Pinned (computed independently): an id that changes between releases is a different
        // finding to every report, waiver and Security Hub record that named it.
        let canonical = "20:vpcwarden-finding-v121:PEERING_ROUTE_MISSING12:1111111111119:us-east-15:rtb-1\
                         11:destination11:10.1.0.0/16";
        assert_eq!(identity("rtb-1", vec![("destination", "10.1.0.0/16".into())]).canonical(), canonical);
        assert_eq!(id, "beb4c3ab5ecb945a");
    }
}
