"""Security Hub REST API for findings: GetFindings, BatchImportFindings, BatchUpdateFindings.

moto routes ``POST /findings`` and ``POST /findings/import`` but not
``PATCH /findings/batchupdate``; ``apply`` adds that route and this response
mixin, and replaces moto's two handlers, which ignore Filters and SortCriteria.
"""

from __future__ import annotations

import json
from typing import Any

from moto.securityhub import urls as securityhub_urls
from moto.securityhub.responses import SecurityHubResponse

UPDATE_FIELDS = (
    "Note",
    "Severity",
    "VerificationState",
    "Confidence",
    "Criticality",
    "Types",
    "UserDefinedFields",
    "Workflow",
    "RelatedFindings",
)


class SecurityHubFindingsResponse:
    """Mixin for moto's SecurityHubResponse (``apply`` installs it)."""

    body: Any
    securityhub_backend: Any

    def _json_body(self) -> dict[str, Any]:
        raw = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
        return json.loads(raw) if raw else {}

    def get_findings(self) -> str:
        params = self._json_body()
        findings, next_token = self.securityhub_backend.get_findings(
            filters=params.get("Filters"),
            sort_criteria=params.get("SortCriteria"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        result: dict[str, Any] = {"Findings": findings}
        if next_token:
            result["NextToken"] = next_token
        return json.dumps(result)

    def batch_import_findings(self) -> str:
        findings = self._json_body().get("Findings", [])
        failed_count, success_count, failed = self.securityhub_backend.batch_import_findings(findings)
        return json.dumps({"FailedCount": failed_count, "SuccessCount": success_count, "FailedFindings": failed})

    def batch_update_findings(self) -> str:
        params = self._json_body()
        changes = {name: params.get(name) for name in UPDATE_FIELDS if name in params}
        processed, unprocessed = self.securityhub_backend.batch_update_findings(
            params.get("FindingIdentifiers", []), changes
        )
        return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


REPLACED = ("get_findings", "batch_import_findings")


def apply() -> None:
    securityhub_urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch
    if SecurityHubFindingsResponse not in SecurityHubResponse.__mro__:
        SecurityHubResponse.__bases__ = SecurityHubResponse.__bases__ + (SecurityHubFindingsResponse,)
    # Defined on SecurityHubResponse itself, so the mixin alone would not override them.
    for name in REPLACED:
        setattr(SecurityHubResponse, name, SecurityHubFindingsResponse.__dict__[name])
