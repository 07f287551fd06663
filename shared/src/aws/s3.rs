//! S3 adapter: the report objects of each run, named by the run's time, and one `latest` pointer
//! per scope naming the newest run's report, which history reads back the next night:
//!
//! ```text
//! <REPORT_PREFIX>/<account>/<region>/<run time>/report.{json,md,html,ocsf.json}
//! <REPORT_PREFIX>/<account>/<region>/latest.json
//! ```
//!
//! The run time is the run's RFC 3339 time without colons (`2027-01-15T030000.123456789Z`): date
//! first, so a listing is in run order, and two runs of one day never share a key.
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report::history::Previous;

#[derive(Clone, Debug)]
pub struct Reports {
    client: Client,
    bucket: String,
    prefix: String,
}

/// One rendering of a report: its extension, content type and body.
pub struct Rendering<'a> {
    pub extension: &'static str,
    pub content_type: &'static str,
    pub body: &'a str,
}

/// What a scope's `latest.json` says: the newest run whose history is complete, and where its
/// JSON report lies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latest {
    pub generated_at: String,
    /// The key of the run's `report.json` in the same bucket.
    pub report: String,
}

/// `<prefix>/<path>`, or `<path>` when the prefix is empty.
pub(crate) fn under(prefix: &str, path: String) -> String {
    if prefix.is_empty() {
        path
    } else {
        format!("{prefix}/{path}")
    }
}

/// `<prefix>/<account>/<region>/<run time>/report.<extension>`.
pub(crate) fn report_key(prefix: &str, account: &str, region: &str, generated_at: &str, extension: &str) -> String {
    under(prefix, format!("{account}/{region}/{}/report.{extension}", generated_at.replace(':', "")))
}

/// `<prefix>/<account>/<region>/latest.json`.
pub(crate) fn latest_key(prefix: &str, account: &str, region: &str) -> String {
    under(prefix, format!("{account}/{region}/latest.json"))
}

impl Reports {
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        Reports { client, bucket: bucket.into(), prefix: prefix.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Writes every rendering of one scope's report for the run of `generated_at`; their
    /// `s3://` addresses, in the order given.
    pub async fn put(
        &self,
        account: &str,
        region: &str,
        generated_at: &str,
        renderings: &[Rendering<'_>],
    ) -> Result<Vec<String>> {
        // The renderings are independent objects: written concurrently, one round trip in all.
        let puts = renderings.iter().map(|r| {
            let key = report_key(&self.prefix, account, region, generated_at, r.extension);
            async move {
                self.put_object(&key, r.content_type, r.body).await?;
                Ok::<_, Error>(format!("s3://{}/{key}", self.bucket))
            }
        });
        futures::future::try_join_all(puts).await
    }

    /// Points the scope's `latest.json` at the run of `generated_at` (whose report is written).
    pub async fn set_latest(&self, account: &str, region: &str, generated_at: &str) -> Result<()> {
        let report = report_key(&self.prefix, account, region, generated_at, "json");
        self.point_latest(account, region, &Latest { generated_at: generated_at.to_string(), report }).await
    }

    /// Points the scope's `latest.json` at a report of that scope (written).
    pub async fn point_latest(&self, account: &str, region: &str, latest: &Latest) -> Result<()> {
        let body = serde_json::to_string(latest).map_err(|e| Error::Unexpected(format!("latest pointer: {e}")))?;
        self.put_object(&latest_key(&self.prefix, account, region), "application/json", &body).await
    }

    /// The scope's previous run, read through its `latest.json`. Never an error: no pointer is
    /// a first run; a pointer or report that does not parse (or is gone) cannot be compared
    /// with; a read that fails (throttled, access denied) is [`Previous::Unreachable`], and the
    /// caller keeps the pointer where it is so the next run compares with that run again.
    pub async fn previous(&self, account: &str, region: &str) -> Previous {
        let pointer = latest_key(&self.prefix, account, region);
        let latest = match self.get_text(&pointer).await {
            Ok(Some(text)) => text,
            Ok(None) => return Previous::None,
            Err(e) => return Previous::Unreachable(format!("s3://{}/{pointer} cannot be read: {e}", self.bucket)),
        };
        let latest: Latest = match serde_json::from_str(&latest) {
            Ok(l) => l,
            Err(e) => {
                return Previous::Unreadable(format!("s3://{}/{pointer} is not a latest pointer: {e}", self.bucket))
            }
        };
        match self.get_text(&latest.report).await {
            Ok(Some(json)) => Previous::from_report(&json),
            Ok(None) => Previous::Unreadable(format!(
                "the previous report s3://{}/{} (named by {pointer}) is gone",
                self.bucket, latest.report
            )),
            Err(e) => Previous::Unreachable(format!("s3://{}/{} cannot be read: {e}", self.bucket, latest.report)),
        }
    }

    pub(crate) async fn put_object(&self, key: &str, content_type: &str, body: &str) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| Error::aws("PutObject", e))?;
        Ok(())
    }

    /// An object as text; `None` when there is no such key.
    pub(crate) async fn get_text(&self, key: &str) -> Result<Option<String>> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(GetObjectError::is_no_such_key) => return Ok(None),
            Err(e) => return Err(Error::aws("GetObject", e)),
        };
        let bytes = out.body.collect().await.map_err(|e| Error::Unexpected(format!("reading s3 {key}: {e}")))?;
        String::from_utf8(bytes.into_bytes().to_vec())
            .map(Some)
            .map_err(|_| Error::Unexpected(format!("s3 {key} is not UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract() {
        assert_eq!(
            report_key("nightly", "111111111111", "us-east-1", "2027-01-15T03:00:00.123Z", "html"),
            "nightly/111111111111/us-east-1/2027-01-15T030000.123Z/report.html"
        );
        assert_eq!(
            report_key("", "111111111111", "eu-west-1", "2027-01-15T03:00:00Z", "ocsf.json"),
            "111111111111/eu-west-1/2027-01-15T030000Z/report.ocsf.json"
        );
        assert_eq!(latest_key("nightly", "111111111111", "us-east-1"), "nightly/111111111111/us-east-1/latest.json");
        assert_eq!(latest_key("", "111111111111", "us-east-1"), "111111111111/us-east-1/latest.json");
        // Two runs of one day never share a key, and keys sort in run order.
        let morning = report_key("p", "1", "r", "2027-01-15T03:00:00Z", "json");
        let evening = report_key("p", "1", "r", "2027-01-15T21:00:00Z", "json");
        assert!(morning < evening);
    }
}
