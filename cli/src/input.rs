//! Validation of command-line input, as clap value parsers: every error names what is wrong and
//! what was expected.
use ipnet::IpNet;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use vpcwarden::domain::ids::{is_account_id, is_endpoint_id, is_endpoint_service_id, is_pcx_id, is_vpc_id};
use vpcwarden::domain::waiver::resource_problem;
use vpcwarden::domain::FindingCode;

pub fn account(s: &str) -> Result<String, String> {
    if is_account_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not an AWS account id (12 digits)"))
    }
}

pub fn service_id(s: &str) -> Result<String, String> {
    if is_endpoint_service_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not an endpoint service id (vpce-svc- and 8 to 17 lowercase hex digits)"))
    }
}

pub fn vpc_id(s: &str) -> Result<String, String> {
    if is_vpc_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a VPC id (vpc- and 8 to 17 lowercase hex digits)"))
    }
}

/// A CIDR block whose host bits are zero (`10.0.0.5/16` is refused, naming `10.0.0.0/16`).
pub fn cidr(s: &str) -> Result<IpNet, String> {
    let net: IpNet =
        s.trim().parse().map_err(|_| format!("`{s}` is not a CIDR block (e.g. 10.1.0.0/16 or 2600:1f18::/56)"))?;
    if net.trunc() != net {
        return Err(format!("`{s}` has host bits set; did you mean {}?", net.trunc()));
    }
    Ok(net)
}

pub fn note(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.len() {
        0 => Err("the note is empty".into()),
        n if n > 1024 => Err(format!("the note is {n} bytes long; at most 1024")),
        _ => Ok(s.to_string()),
    }
}

/// A finding code, spelled as the reports spell it.
pub fn finding_code(s: &str) -> Result<FindingCode, String> {
    FindingCode::parse(s.trim()).ok_or_else(|| {
        let codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        format!("`{s}` is not a finding code (one of {})", codes.join(", "))
    })
}

/// An approval request's id: a peering connection (`pcx-…`) or an endpoint (`vpce-…`).
pub fn request_id(s: &str) -> Result<String, String> {
    let s = s.trim();
    if is_pcx_id(s) || is_endpoint_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a request id: a peering connection (pcx-…) or an endpoint (vpce-…)"))
    }
}

/// A finding's resource id, as the reports show it.
pub fn resource(s: &str) -> Result<String, String> {
    let s = s.trim();
    match resource_problem(s) {
        Some(why) => Err(format!("`{s}`: {why}")),
        None => Ok(s.to_string()),
    }
}

/// Why a risk is accepted: like a note, but required.
pub fn reason(s: &str) -> Result<String, String> {
    note(s).map_err(|e| e.replace("the note", "the reason"))
}

/// When a grant expires, as given on the command line (resolved against `now`, epoch seconds):
/// a date (`2027-01-31`: the grant ends at 00:00 UTC that day), an RFC 3339 time, or a
/// duration from now (`30d`, `12h`, `90m`, `2w`). It must lie in the future.
pub fn expiry(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    let at = if let Some(secs) = duration(s)? {
        now.checked_add(secs).ok_or_else(|| format!("`{s}` is too far in the future"))?
    } else if let Ok(date) = Date::parse(s, format_description!("[year]-[month]-[day]")) {
        date.midnight().assume_utc().unix_timestamp()
    } else if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        t.unix_timestamp()
    } else {
        return Err(format!(
            "`{s}` is not an expiry: use a date (2027-01-31), an RFC 3339 time \
             (2027-01-31T12:00:00Z) or a duration (30d, 12h, 90m, 2w)"
        ));
    };
    if at <= now {
        return Err(format!("`{s}` ({}) is not in the future", format_time(at)));
    }
    Ok(at)
}

/// `Some(seconds)` for `<n>w|d|h|m`, `None` when `s` does not look like a duration.
fn duration(s: &str) -> Result<Option<i64>, String> {
    let Some(unit) = s.chars().last().filter(|c| "wdhm".contains(*c)) else {
        return Ok(None);
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let n: i64 = digits.parse().map_err(|_| format!("`{s}` is too long a duration"))?;
    if n == 0 {
        return Err(format!("`{s}` is not in the future"));
    }
    let unit_secs = match unit {
        'w' => 7 * 86_400,
        'd' => 86_400,
        'h' => 3_600,
        _ => 60,
    };
    n.checked_mul(unit_secs).map(Some).ok_or_else(|| format!("`{s}` is too long a duration"))
}

pub fn format_time(epoch: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z

    #[test]
    fn ids_are_checked_and_named() {
        assert_eq!(account("222222222222").unwrap(), "222222222222");
        assert!(account("2222").unwrap_err().contains("12 digits"));
        assert!(service_id("vpce-svc-0123456789abcdef0").is_ok());
        assert!(service_id("vpce-0123456789abcdef0").unwrap_err().contains("not an endpoint service id"));
        assert!(vpc_id("vpc-0a1b2c3d").is_ok());
        assert!(vpc_id("vpc-XYZ").unwrap_err().contains("not a VPC id"));
    }

    #[test]
    fn cidrs_must_be_network_addresses() {
        assert_eq!(cidr("10.1.0.0/16").unwrap().to_string(), "10.1.0.0/16");
        assert!(cidr("2600:1f18::/56").is_ok());
        assert_eq!(cidr("10.1.2.3/16").unwrap_err(), "`10.1.2.3/16` has host bits set; did you mean 10.1.0.0/16?");
        assert!(cidr("10.1.0.0").unwrap_err().contains("not a CIDR block"));
        assert!(cidr("10.1.0.0/33").is_err());
    }

    #[test]
    fn expiry_accepts_dates_times_and_durations() {
        assert_eq!(
            expiry("2027-01-31", NOW).unwrap(),
            OffsetDateTime::parse("2027-01-31T00:00:00Z", &Rfc3339).unwrap().unix_timestamp()
        );
        assert_eq!(
            expiry("2027-01-31T12:00:00+01:00", NOW).unwrap(),
            OffsetDateTime::parse("2027-01-31T11:00:00Z", &Rfc3339).unwrap().unix_timestamp()
        );
        assert_eq!(expiry("30d", NOW).unwrap(), NOW + 30 * 86_400);
        assert_eq!(expiry("2w", NOW).unwrap(), NOW + 14 * 86_400);
        assert_eq!(expiry("12h", NOW).unwrap(), NOW + 12 * 3_600);
        assert_eq!(expiry("90m", NOW).unwrap(), NOW + 90 * 60);
    }

    #[test]
    fn bad_or_past_expiries_are_named() {
        assert!(expiry("2020-01-01", NOW).unwrap_err().contains("is not in the future"));
        assert!(expiry("0d", NOW).unwrap_err().contains("not in the future"));
        assert!(expiry("2027-02-30", NOW).unwrap_err().contains("is not an expiry"));
        assert!(expiry("soon", NOW).unwrap_err().contains("30d"));
        assert!(expiry("99999999999999999999d", NOW).unwrap_err().contains("too long"));
    }

    #[test]
    fn waiver_input_is_checked() {
        assert_eq!(finding_code("PEERING_ROUTE_MISSING").unwrap(), FindingCode::PeeringRouteMissing);
        assert!(finding_code("ROUTE_MISSING").unwrap_err().contains("not a finding code"));
        assert_eq!(resource(" rtb-0a1b2c3d ").unwrap(), "rtb-0a1b2c3d");
        assert!(resource("rtb 1").unwrap_err().contains("white space"));
        assert!(resource("").unwrap_err().contains("empty"));
        assert!(reason("  ").unwrap_err().contains("the reason is empty"));
    }

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(note("  payments  ").unwrap(), "payments");
        assert!(note("   ").is_err());
        assert!(note(&"x".repeat(1025)).is_err());
    }
}
