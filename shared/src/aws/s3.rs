//! S3 adapter: the report objects, at `REPORT_PREFIX/<account>/<region>/<date>/report.<ext>`.
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::error::{Error, Result};

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

/// `<prefix>/<account>/<region>/<date>/report.<extension>` (no leading `/` when the prefix is
/// empty).
pub(crate) fn report_key(prefix: &str, account: &str, region: &str, date: &str, extension: &str) -> String {
    let key = format!("{account}/{region}/{date}/report.{extension}");
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}/{key}")
    }
}

impl Reports {
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        Reports { client, bucket: bucket.into(), prefix: prefix.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Writes every rendering of one scope's report; their `s3://` addresses.
    pub async fn put(
        &self,
        account: &str,
        region: &str,
        date: &str,
        renderings: &[Rendering<'_>],
    ) -> Result<Vec<String>> {
        // The renderings are independent objects: written concurrently, one round trip in all.
        let puts = renderings.iter().map(|r| {
            let key = report_key(&self.prefix, account, region, date, r.extension);
            let put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type(r.content_type)
                .body(ByteStream::from(r.body.as_bytes().to_vec()))
                .send();
            async move {
                put.await.map_err(|e| Error::aws("PutObject", e))?;
                Ok::<_, Error>(format!("s3://{}/{key}", self.bucket))
            }
        });
        futures::future::try_join_all(puts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_contract() {
        assert_eq!(
            report_key("nightly", "111111111111", "us-east-1", "2027-01-15", "html"),
            "nightly/111111111111/us-east-1/2027-01-15/report.html"
        );
        assert_eq!(
            report_key("", "111111111111", "eu-west-1", "2027-01-15", "md"),
            "111111111111/eu-west-1/2027-01-15/report.md"
        );
    }
}
