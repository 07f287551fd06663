//! AWS Security Hub adapter: imports ASFF findings (`BatchImportFindings`, at most 100 a call)
//! and sets their workflow status (`BatchUpdateFindings`), in the account and region of the
//! client's configuration. Security Hub not enabled there is an answer, not an error.
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingIdentifier, Compliance, ComplianceStatus, Partition, Recommendation,
    RecordState, Remediation, Resource, Severity, SeverityLabel, Workflow, WorkflowStatus, WorkflowUpdate,
};
use aws_sdk_securityhub::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{is_retryable_code, Error, Result};
use crate::report::asff::AsffFinding;

/// Security Hub's limit on findings per `BatchImportFindings` and `BatchUpdateFindings` call.
pub const BATCH: usize = 100;
/// Times a finding Security Hub failed with a retryable code is sent again.
const ENTRY_RETRIES: usize = 3;

#[derive(Clone, Debug)]
pub struct SecurityHub {
    client: Client,
}

/// One finding Security Hub did not take: its `Id`, the error code and message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Refused {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What became of a batch of findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub accepted: usize,
    pub refused: Vec<Refused>,
    /// Security Hub is not enabled in this account and region: nothing was taken.
    pub not_enabled: bool,
}

fn sdk_finding(f: &AsffFinding) -> AwsSecurityFinding {
    let resources = f.resources.iter().map(|r| {
        Resource::builder()
            .r#type(r.kind)
            .id(&r.id)
            .partition(Partition::from(r.partition.as_str()))
            .region(&r.region)
            .build()
    });
    AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.iter().map(ToString::to_string).collect()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .first_observed_at(&f.first_observed_at)
        .last_observed_at(&f.last_observed_at)
        .severity(Severity::builder().label(SeverityLabel::from(f.severity_label)).build())
        .title(&f.title)
        .description(&f.description)
        .remediation(
            Remediation::builder().recommendation(Recommendation::builder().text(&f.recommendation).build()).build(),
        )
        .set_resources(Some(resources.collect()))
        .compliance(Compliance::builder().status(ComplianceStatus::from(f.compliance_status)).build())
        .record_state(RecordState::from(f.record_state))
        .set_workflow(f.workflow_status.map(|s| Workflow::builder().status(WorkflowStatus::from(s)).build()))
        .build()
}

/// `InvalidAccess(Exception)`: the account has not enabled Security Hub in this region.
fn is_not_enabled(code: Option<&str>) -> bool {
    matches!(code, Some("InvalidAccessException" | "InvalidAccess"))
}

impl SecurityHub {
    pub fn new(client: Client) -> Self {
        SecurityHub { client }
    }

    /// Imports `findings` (upserted by `ProductArn` and `Id`), [`BATCH`] at a time; findings
    /// failed with a retryable code are sent again, the others reported.
    pub async fn import(&self, findings: &[AsffFinding]) -> Result<Sent> {
        let mut sent = Sent::default();
        for chunk in findings.chunks(BATCH) {
            let mut pending: Vec<&AsffFinding> = chunk.iter().collect();
            for attempt in 0..=ENTRY_RETRIES {
                let batch = pending.iter().map(|f| sdk_finding(f)).collect();
                let out = match self.client.batch_import_findings().set_findings(Some(batch)).send().await {
                    Ok(out) => out,
                    Err(e) if is_not_enabled(e.code()) => return Ok(Sent { not_enabled: true, ..sent }),
                    Err(e) => return Err(Error::aws("BatchImportFindings", e)),
                };
                let failed = out.failed_findings();
                if !failed.is_empty() && failed.iter().all(|f| is_not_enabled(f.error_code())) {
                    return Ok(Sent { not_enabled: true, ..sent });
                }
                sent.accepted += pending.len() - failed.len();
                let (again, refused): (Vec<_>, Vec<_>) = failed
                    .iter()
                    .partition(|f| attempt < ENTRY_RETRIES && f.error_code().is_some_and(is_retryable_code));
                sent.refused.extend(refused.into_iter().map(|f| Refused {
                    id: f.id().unwrap_or_default().to_string(),
                    code: f.error_code().unwrap_or("Unknown").to_string(),
                    message: f.error_message().unwrap_or_default().to_string(),
                }));
                let ids: Vec<&str> = again.iter().filter_map(|f| f.id()).collect();
                pending.retain(|f| ids.contains(&f.id.as_str()));
                if pending.is_empty() {
                    break;
                }
            }
        }
        Ok(sent)
    }

    /// Sets the workflow status of existing findings (`(ProductArn, Id)`), [`BATCH`] at a time:
    /// an import cannot change the workflow of a finding Security Hub already has.
    pub async fn set_workflow(&self, findings: &[(String, String)], status: &str) -> Result<Sent> {
        let mut sent = Sent::default();
        for chunk in findings.chunks(BATCH) {
            let identifiers = chunk
                .iter()
                .map(|(product_arn, id)| {
                    AwsSecurityFindingIdentifier::builder().product_arn(product_arn).id(id).build()
                })
                .collect();
            let update = self
                .client
                .batch_update_findings()
                .set_finding_identifiers(Some(identifiers))
                .workflow(WorkflowUpdate::builder().status(WorkflowStatus::from(status)).build())
                .send()
                .await;
            let out = match update {
                Ok(out) => out,
                Err(e) if is_not_enabled(e.code()) => return Ok(Sent { not_enabled: true, ..sent }),
                Err(e) => return Err(Error::aws("BatchUpdateFindings", e)),
            };
            sent.accepted += out.processed_findings().len();
            sent.refused.extend(out.unprocessed_findings().iter().map(|u| Refused {
                id: u.finding_identifier().and_then(|i| i.id()).unwrap_or_default().to_string(),
                code: u.error_code().unwrap_or("Unknown").to_string(),
                message: u.error_message().unwrap_or_default().to_string(),
            }));
        }
        Ok(sent)
    }
}
