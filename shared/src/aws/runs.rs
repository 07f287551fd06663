//! S3 adapter for the data of an organisation run, all of it under the run's own prefix, so two
//! runs never mix (the org-audit state machine's `ItemReader` and `ResultWriter` use the same
//! prefix):
//!
//! ```text
//! <REPORT_PREFIX>/runs/<run_id>/plan.json                    what the plan step decided
//! <REPORT_PREFIX>/runs/<run_id>/scopes.json                  the Distributed Map's items
//! <REPORT_PREFIX>/runs/<run_id>/scopes/<account>/<region>.json  each scope's report (JSON)
//! <REPORT_PREFIX>/runs/<run_id>/report.{json,md,html,ocsf.json} the run's one report
//! <REPORT_PREFIX>/runs/<run_id>/announced.json               the run's metrics and events went out
//! <REPORT_PREFIX>/runs/<run_id>/map/…                        the Map Run's result files
//! ```
//!
//! A scope's `latest.json` points at its file under `scopes/`, which is a report of that scope
//! like any other: history reads it back the next night, whichever mode wrote it.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::s3::{under, Rendering, Reports};
use crate::domain::scopes::RunId;
use crate::error::{Error, Result};

/// What the plan step decided, for the aggregate step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub run_id: RunId,
    pub generated_at: String,
    pub dry_run: bool,
    pub remediate: bool,
    /// Said once per run: accounts left out and why.
    pub notes: Vec<String>,
}

/// The receipt of a run's announcements (EMF metrics, EventBridge events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announced {
    pub at: String,
    /// Events published and events that could not be (logged and counted as `EventsFailed`).
    pub events_published: usize,
    pub events_failed: usize,
}

/// The keys of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunKeys {
    prefix: String,
}

impl RunKeys {
    pub fn new(report_prefix: &str, run: &RunId) -> Self {
        RunKeys { prefix: under(report_prefix, format!("runs/{run}/")) }
    }

    /// `<REPORT_PREFIX>/runs/<run_id>/`, what every key of the run starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn plan(&self) -> String {
        format!("{}plan.json", self.prefix)
    }

    pub fn scopes(&self) -> String {
        format!("{}scopes.json", self.prefix)
    }

    pub fn scope_results(&self) -> String {
        format!("{}scopes/", self.prefix)
    }

    pub fn scope(&self, account: &str, region: &str) -> String {
        format!("{}scopes/{account}/{region}.json", self.prefix)
    }

    pub fn report(&self, extension: &str) -> String {
        format!("{}report.{extension}", self.prefix)
    }

    /// Written once the run's metrics and events are out: a replayed aggregate step (Step
    /// Functions retries it, a person re-drives the execution) finds it and tells no one twice.
    pub fn announced(&self) -> String {
        format!("{}announced.json", self.prefix)
    }
}

impl Reports {
    /// `value` as JSON at `key`.
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let body = serde_json::to_string(value).map_err(|e| Error::Unexpected(format!("{key}: {e}")))?;
        self.put_object(key, "application/json", &body).await
    }

    /// The JSON at `key`; an error names the key when it is missing or does not parse.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let text = self
            .get_text(key)
            .await?
            .ok_or_else(|| Error::Unexpected(format!("s3://{}/{key} does not exist", self.bucket())))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Unexpected(format!("s3://{}/{key} does not parse: {e}", self.bucket())))
    }

    /// Every key under `prefix` (paged: a thousand to a call).
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = self.client().list_objects_v2().bucket(self.bucket()).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListObjectsV2", e))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        }
        Ok(keys)
    }

    /// Writes every rendering of the run's report; their `s3://` addresses, in the order given.
    pub async fn put_run_report(&self, keys: &RunKeys, renderings: &[Rendering<'_>]) -> Result<Vec<String>> {
        let puts = renderings.iter().map(|r| {
            let key = keys.report(r.extension);
            async move {
                self.put_object(&key, r.content_type, r.body).await?;
                Ok::<_, Error>(format!("s3://{}/{key}", self.bucket()))
            }
        });
        futures::future::try_join_all(puts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_s_keys_lie_under_its_own_prefix() {
        let run = RunId::try_from("20261129T030000Z-1a2b3c4d".to_string()).unwrap();
        let keys = RunKeys::new("vpcwarden", &run);
        assert_eq!(keys.prefix(), "vpcwarden/runs/20261129T030000Z-1a2b3c4d/");
        assert_eq!(keys.scopes(), "vpcwarden/runs/20261129T030000Z-1a2b3c4d/scopes.json");
        assert_eq!(
            keys.scope("123456789012", "eu-west-1"),
            "vpcwarden/runs/20261129T030000Z-1a2b3c4d/scopes/123456789012/eu-west-1.json"
        );
        assert_eq!(keys.report("html"), "vpcwarden/runs/20261129T030000Z-1a2b3c4d/report.html");
        assert_eq!(RunKeys::new("", &run).plan(), "runs/20261129T030000Z-1a2b3c4d/plan.json");
    }
}
