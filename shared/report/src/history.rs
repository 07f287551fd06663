//! Findings over time: what the previous run of a scope reported, and from it what is new,
//! what persists (since when), and what was resolved. The previous run is read back from its
//! own JSON report (the auditor finds it through the scope's `latest` pointer), so history
//! needs no store of its own and says exactly what people were shown.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use vpcwarden_core::domain::{Finding, FindingCode};

/// Whether a finding was in the previous run of its scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Persisting,
}

/// A finding of an earlier run, as its JSON report recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PastFinding {
    pub id: String,
    pub code: String,
    pub resource: String,
    pub account: String,
    pub region: String,
    /// Absent in a report that predates first_seen: then the report's own time.
    #[serde(default)]
    pub first_seen: Option<String>,
    /// Listed apart as waived.
    #[serde(default)]
    pub waived: bool,
}

/// What the previous run of one scope left to compare with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Previous {
    /// No run before this one (no `latest` pointer): every finding is new.
    #[default]
    None,
    /// The previous run's report.
    Report { generated_at: String, findings: Vec<PastFinding> },
    /// There was a run, but its report cannot be read (why): every finding is new.
    Unreadable(String),
    /// The store could not be read now (why): every finding is reported as new, and the scope's
    /// `latest` pointer is left where it is, so the next run compares with that run again.
    Unreachable(String),
}

/// The part of a stored JSON report that history reads: counted findings and waived ones.
#[derive(Deserialize)]
struct Stored {
    generated_at: String,
    #[serde(default)]
    findings: Vec<StoredFinding>,
    #[serde(default)]
    waived: Vec<StoredFinding>,
}

#[derive(Deserialize)]
struct StoredFinding {
    #[serde(default)]
    id: Option<String>,
    code: String,
    resource: String,
    account: String,
    region: String,
    #[serde(default)]
    first_seen: Option<String>,
}

impl Previous {
    /// The previous run, from the text of its JSON report. A report that does not parse, or
    /// that predates finding ids, cannot be compared with: [`Previous::Unreadable`].
    pub fn from_report(json: &str) -> Previous {
        let stored: Stored = match serde_json::from_str(json) {
            Ok(s) => s,
            Err(e) => return Previous::Unreadable(format!("the previous report is not a JSON report: {e}")),
        };
        let mut findings = Vec::new();
        let counted = stored.findings.into_iter().map(|f| (f, false));
        for (f, waived) in counted.chain(stored.waived.into_iter().map(|f| (f, true))) {
            let Some(id) = f.id else {
                return Previous::Unreadable(format!(
                    "the previous report ({}) has no finding ids (an earlier version wrote it)",
                    stored.generated_at
                ));
            };
            findings.push(PastFinding {
                id,
                code: f.code,
                resource: f.resource,
                account: f.account,
                region: f.region,
                first_seen: f.first_seen.or_else(|| Some(stored.generated_at.clone())),
                waived,
            });
        }
        Previous::Report { generated_at: stored.generated_at, findings }
    }

    /// When the compared run was, if there is one.
    pub fn generated_at(&self) -> Option<&str> {
        match self {
            Previous::Report { generated_at, .. } => Some(generated_at),
            _ => None,
        }
    }

    /// Why the run compares with nothing, worded for the scope's notes (none: it compares).
    pub fn note(&self) -> Option<String> {
        match self {
            Previous::None => Some("no earlier report of this scope: every finding is new".into()),
            Previous::Unreadable(why) => Some(format!("{why}; every finding is reported as new")),
            Previous::Unreachable(why) => Some(format!(
                "{why}; every finding is reported as new, and the next run compares with the last readable report"
            )),
            Previous::Report { .. } => None,
        }
    }

    /// The ids of the findings the previous run listed as waived.
    pub fn waived_ids(&self) -> Vec<&str> {
        self.by_id().into_values().filter(|f| f.waived).map(|f| f.id.as_str()).collect()
    }

    fn by_id(&self) -> BTreeMap<&str, &PastFinding> {
        match self {
            Previous::Report { findings, .. } => findings.iter().map(|f| (f.id.as_str(), f)).collect(),
            _ => BTreeMap::new(),
        }
    }
}

/// A finding of the previous run that this run no longer finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    pub id: String,
    /// The code as the previous report spelled it (a code a later version retired stays readable).
    pub code: String,
    pub resource: String,
    pub account: String,
    pub region: String,
    pub first_seen: String,
    pub resolved_at: String,
}

/// How the findings of one scope stand against its previous run: each finding's status and
/// first sighting (by id), and the findings that went away.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub seen: BTreeMap<String, (Status, String)>,
    pub resolved: Vec<Resolved>,
}

/// Compares `findings` (this run, one scope, at `now`) with `previous`: the same id is the
/// same drift, so its first sighting carries over.
pub fn compare(previous: &Previous, findings: &[Finding], now: &str) -> Comparison {
    let before = previous.by_id();
    let mut seen = BTreeMap::new();
    for f in findings {
        let id = f.id();
        let status = match before.get(id.as_str()) {
            Some(p) => (Status::Persisting, p.first_seen.clone().unwrap_or_else(|| now.to_string())),
            None => (Status::New, now.to_string()),
        };
        seen.insert(id, status);
    }
    let resolved = before
        .values()
        .filter(|p| !seen.contains_key(&p.id))
        .map(|p| Resolved {
            id: p.id.clone(),
            code: p.code.clone(),
            resource: p.resource.clone(),
            account: p.account.clone(),
            region: p.region.clone(),
            first_seen: p.first_seen.clone().unwrap_or_default(),
            resolved_at: now.to_string(),
        })
        .collect();
    Comparison { seen, resolved }
}

/// Whether the previous report's code is one this version knows (to sort and badge it).
pub fn known_code(code: &str) -> Option<FindingCode> {
    FindingCode::parse(code)
}

/// Epoch seconds of an RFC 3339 time in UTC (`2027-01-15T03:00:00.123Z`), as the reports write
/// them; `None` for anything else. Enough to tell a finding's age, without a date library.
pub fn epoch_seconds(rfc3339: &str) -> Option<i64> {
    let b = rfc3339.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| rfc3339.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &rfc3339[19..];
    let zone = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    if zone != "Z" && zone != "+00:00" || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// An epoch time as RFC 3339 in UTC, to the second (the inverse of [`epoch_seconds`]).
pub fn rfc3339_of(epoch: i64) -> String {
    let (days, secs) = (epoch.div_euclid(86_400), epoch.rem_euclid(86_400));
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// How long a finding has been open, for people: `under an hour`, `3 hours`, `12 days` (`new`
/// when the times cannot be read).
pub fn age(first_seen: &str, now: &str) -> String {
    match (epoch_seconds(first_seen), epoch_seconds(now)) {
        (Some(first), Some(now)) if now >= first => {
            let secs = now - first;
            match secs {
                s if s < 3600 => "under an hour".into(),
                s if s < 2 * 86_400 => format!("{} hour{}", s / 3600, if s / 3600 == 1 { "" } else { "s" }),
                s => format!("{} days", s / 86_400),
            }
        }
        _ => "new".into(),
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
