"""Security Hub findings as a finding provider and its customers see them.

Against moto.securityhub.models.SecurityHubBackend, which stores imported
findings without checking them, ignores GetFindings' filters and has no
BatchUpdateFindings:

* BatchImportFindings upserts by (ProductArn, Id), at most 100 findings a call.
  Each finding is checked for the ASFF required attributes; an invalid one is
  returned in FailedFindings (InvalidInput) and the others are imported.  A
  finding for another account, or with a ProductArn other than the caller's
  default product in this region, fails the whole call (AccessDeniedException),
  as IAM authorises the call on the product ARN.  With Security Hub disabled
  every finding fails with InvalidAccess.
* An update is applied only if its UpdatedAt is later than the stored one.  It
  cannot change Note, UserDefinedFields, VerificationState or Workflow, and it
  changes Confidence, Criticality, RelatedFindings, Severity and Types only if
  BatchUpdateFindings has not changed them.  Workflow NOTIFIED/RESOLVED goes
  back to NEW when the record is reactivated or compliance stops passing.
* GetFindings honours Filters (StringFilter comparisons, see FILTER_FIELDS),
  SortCriteria, MaxResults (1-100) and NextToken, and needs Security Hub enabled.
* BatchUpdateFindings changes the customer's fields (Workflow, Note, Severity,
  VerificationState, Confidence, Criticality, Types, UserDefinedFields,
  RelatedFindings) without touching UpdatedAt.
"""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Callable
from typing import Any

from moto.securityhub.exceptions import SecurityHubClientError
from moto.securityhub.models import SecurityHubBackend

from . import clock

SCHEMA_VERSION = "2018-10-08"
MAX_BATCH = 100
REQUIRED = (
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Title",
    "UpdatedAt",
)
# Attributes a provider may also give in FindingProviderFields (which wins).
PROVIDER_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")
# Attributes only BatchUpdateFindings may change once a finding exists.
CUSTOMER_ONLY = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
TIMESTAMPS = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
WORKFLOW_STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
RECORD_STATES = ("ACTIVE", "ARCHIVED")
COMPLIANCE_STATUSES = ("PASSED", "WARNING", "FAILED", "NOT_AVAILABLE")
VERIFICATION_STATES = ("UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
_PRODUCT_ARN = re.compile(r"^arn:(aws[a-z-]*):securityhub:([a-z0-9-]+):(\d{12})?:product/([^/]+)/([^/]+)$")


class InvalidInputException(SecurityHubClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)


class InvalidAccessException(SecurityHubClientError):
    def __init__(self, account_id: str) -> None:
        super().__init__("InvalidAccessException", f"Account {account_id} is not subscribed to AWS Security Hub")


class AccessDeniedException(SecurityHubClientError):
    def __init__(self, account_id: str, action: str, resource: str) -> None:
        super().__init__(
            "AccessDeniedException",
            f"User: arn:aws:iam::{account_id}:root is not authorized to perform: "
            f"securityhub:{action} on resource: {resource}",
        )


# -- helpers ------------------------------------------------------------------
def now_iso() -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str) -> datetime.datetime:
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def label_for(normalized: int) -> str:
    """Severity.Label from Severity.Normalized, as the Severity reference defines it."""
    if normalized == 0:
        return "INFORMATIONAL"
    if normalized < 40:
        return "LOW"
    if normalized < 70:
        return "MEDIUM"
    if normalized < 90:
        return "HIGH"
    return "CRITICAL"


def default_product_arn(region: str, account_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default"


# -- ASFF validation ------------------------------------------------------------
def asff_error(finding: Any) -> str | None:
    """Why a finding is not valid ASFF (first reason), or None."""
    reason = _asff_reason(finding)
    return None if reason is None else f"Finding does not adhere to Amazon Finding Format. {reason}."


def _asff_reason(finding: Any) -> str | None:
    if not isinstance(finding, dict):
        return "data should be object"
    for name in REQUIRED:
        if finding.get(name) in (None, ""):
            return f"data should have required property '{name}'"
    provider = finding.get("FindingProviderFields") or {}
    if not finding.get("Types") and not provider.get("Types"):
        return "data should have required property 'Types'"
    if finding["SchemaVersion"] != SCHEMA_VERSION:
        return "data.SchemaVersion should be equal to one of the allowed values"
    return (
        _timestamps_reason(finding)
        or _resources_reason(finding["Resources"])
        or _severity_reason(provider.get("Severity") or finding.get("Severity"))
        or _enum_reason(finding)
    )


def _timestamps_reason(finding: dict[str, Any]) -> str | None:
    for name in TIMESTAMPS:
        value = finding.get(name)
        if value is not None and not (isinstance(value, str) and _TIMESTAMP.match(value)):
            return f'data.{name} should match format "date-time"'
    return None


def _resources_reason(resources: Any) -> str | None:
    if not isinstance(resources, list):
        return "data.Resources should be array"
    if not resources:
        return "data.Resources should NOT have fewer than 1 items"
    for i, resource in enumerate(resources):
        for name in ("Id", "Type"):
            if not isinstance(resource, dict) or not resource.get(name):
                return f"data.Resources[{i}] should have required property '{name}'"
    return None


def _severity_reason(severity: Any) -> str | None:
    if not isinstance(severity, dict) or (severity.get("Label") is None and severity.get("Normalized") is None):
        return "data should have required property 'Severity', data should match some schema in anyOf"
    if severity.get("Label") is not None and severity["Label"] not in SEVERITY_LABELS:
        return "data.Severity.Label should be equal to one of the allowed values"
    normalized = severity.get("Normalized")
    if normalized is not None and not (isinstance(normalized, int) and 0 <= normalized <= 100):
        return "data.Severity.Normalized should be <= 100"
    return None


def _enum_reason(finding: dict[str, Any]) -> str | None:
    checks = (
        ("RecordState", finding.get("RecordState"), RECORD_STATES),
        ("Compliance.Status", (finding.get("Compliance") or {}).get("Status"), COMPLIANCE_STATUSES),
        ("Workflow.Status", (finding.get("Workflow") or {}).get("Status"), WORKFLOW_STATUSES),
        ("VerificationState", finding.get("VerificationState"), VERIFICATION_STATES),
    )
    for name, value, allowed in checks:
        if value is not None and value not in allowed:
            return f"data.{name} should be equal to one of the allowed values"
    return None


# -- stored findings --------------------------------------------------------------
class StoredFinding:
    """One finding as Security Hub keeps it, and which fields a customer changed."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        # Provider fields changed with BatchUpdateFindings: imports no longer change
        # their top-level value (only FindingProviderFields).
        self.customer_fields: set[str] = set()

    @property
    def key(self) -> tuple[str, str]:
        return self.data["ProductArn"], self.data["Id"]


def _provider_values(finding: dict[str, Any]) -> dict[str, Any]:
    values = {name: finding[name] for name in PROVIDER_FIELDS if name in finding}
    values.update({k: v for k, v in (finding.get("FindingProviderFields") or {}).items() if k in PROVIDER_FIELDS})
    return values


def _with_label(severity: dict[str, Any]) -> dict[str, Any]:
    if severity.get("Label") is None and severity.get("Normalized") is not None:
        return {**severity, "Label": label_for(severity["Normalized"])}
    return severity


def _system_fields(backend: SecurityHubBackend, finding: dict[str, Any]) -> dict[str, Any]:
    """What Security Hub adds to every finding it stores (same values on every import)."""
    product_fields = dict(finding.get("ProductFields") or {})
    product_fields.update(
        {
            "aws/securityhub/FindingId": f"{finding['ProductArn']}/{finding['Id']}",
            "aws/securityhub/ProductName": "Default",
            "aws/securityhub/CompanyName": "Personal",
        }
    )
    return {
        "Region": backend.region_name,
        "ProductName": "Default",
        "CompanyName": "Personal",
        "ProductFields": product_fields,
        "ProcessedAt": now_iso(),
    }


def new_finding(backend: SecurityHubBackend, finding: dict[str, Any]) -> StoredFinding:
    data = dict(finding)
    provided = _provider_values(finding)
    data.update(provided)
    data["FindingProviderFields"] = dict(provided)
    if "Severity" in data:
        data["Severity"] = _with_label(data["Severity"])
    data.setdefault("RecordState", "ACTIVE")
    data.setdefault("Workflow", {"Status": "NEW"})
    data.setdefault("WorkflowState", "NEW")
    data.update(_system_fields(backend, finding))
    return StoredFinding(data)


def update_finding(backend: SecurityHubBackend, stored: StoredFinding, finding: dict[str, Any]) -> None:
    """Apply a later import of the same finding (the provider's new version of it)."""
    old = stored.data
    data = {k: v for k, v in finding.items() if k not in CUSTOMER_ONLY and k not in PROVIDER_FIELDS}
    for name in CUSTOMER_ONLY + ("WorkflowState",):
        if name in old:
            data[name] = old[name]
    provided = _provider_values(finding)
    data["FindingProviderFields"] = {**(old.get("FindingProviderFields") or {}), **provided}
    for name in PROVIDER_FIELDS:
        if name in stored.customer_fields or name not in provided:
            if name in old:
                data[name] = old[name]
        else:
            data[name] = provided[name]
    if "Severity" in data:
        data["Severity"] = _with_label(data["Severity"])
    data.setdefault("RecordState", "ACTIVE")
    _reopen_workflow(old, data)
    data.update(_system_fields(backend, finding))
    stored.data = data


def _reopen_workflow(old: dict[str, Any], new: dict[str, Any]) -> None:
    """NOTIFIED and RESOLVED go back to NEW when the issue is back (User Guide, workflow status)."""
    status = (new.get("Workflow") or {}).get("Status")
    if status not in ("NOTIFIED", "RESOLVED"):
        return
    reactivated = old.get("RecordState") == "ARCHIVED" and new.get("RecordState") == "ACTIVE"
    old_compliance = (old.get("Compliance") or {}).get("Status")
    new_compliance = (new.get("Compliance") or {}).get("Status")
    failing_again = old_compliance == "PASSED" and new_compliance not in (None, "PASSED")
    if reactivated or failing_again:
        new["Workflow"] = {**new["Workflow"], "Status": "NEW"}


# -- filters and sorting -------------------------------------------------------------
def _top(name: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda f: [f.get(name)]


def _nested(outer: str, inner: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda f: [(f.get(outer) or {}).get(inner)]


def _resources(attr: str) -> Callable[[dict[str, Any]], list[Any]]:
    return lambda f: [r.get(attr) for r in f.get("Resources") or []]


FILTER_FIELDS: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "Id": _top("Id"),
    "ProductArn": _top("ProductArn"),
    "GeneratorId": _top("GeneratorId"),
    "AwsAccountId": _top("AwsAccountId"),
    "Region": _top("Region"),
    "Title": _top("Title"),
    "Description": _top("Description"),
    "ProductName": _top("ProductName"),
    "CompanyName": _top("CompanyName"),
    "RecordState": _top("RecordState"),
    "VerificationState": _top("VerificationState"),
    "ComplianceStatus": _nested("Compliance", "Status"),
    "WorkflowStatus": _nested("Workflow", "Status"),
    "SeverityLabel": _nested("Severity", "Label"),
    "ResourceId": _resources("Id"),
    "ResourceType": _resources("Type"),
    "ResourceRegion": _resources("Region"),
    "ResourcePartition": _resources("Partition"),
    "Type": lambda f: list(f.get("Types") or []),
}
POSITIVE = ("EQUALS", "PREFIX", "CONTAINS")
NEGATIVE = ("NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS")
MAX_FILTER_FIELDS = 10
MAX_FILTER_VALUES = 20


def _hit(value: str, comparison: str, wanted: str) -> bool:
    if comparison in ("EQUALS", "NOT_EQUALS"):
        return value == wanted
    if comparison in ("PREFIX", "PREFIX_NOT_EQUALS"):
        return value.startswith(wanted)
    return wanted in value


def check_filters(filters: dict[str, Any]) -> None:
    """Reject what the StringFilter reference says is an error, and what is not emulated."""
    if len(filters) > MAX_FILTER_FIELDS:
        raise InvalidInputException(f"You can filter by up to {MAX_FILTER_FIELDS} finding attributes.")
    for name, conditions in filters.items():
        if name not in FILTER_FIELDS:
            raise InvalidInputException(f"The filter {name} is not supported by this emulator.")
        if len(conditions) > MAX_FILTER_VALUES:
            raise InvalidInputException(f"You can provide up to {MAX_FILTER_VALUES} values for the filter {name}.")
        if not all(isinstance(c, dict) and isinstance(c.get("Value"), str) for c in conditions):
            raise InvalidInputException(f"Every condition of the filter {name} needs a Comparison and a Value.")
        comparisons = {c.get("Comparison") for c in conditions}
        unknown = comparisons - set(POSITIVE) - set(NEGATIVE)
        if unknown:
            raise InvalidInputException(f"Invalid comparison {sorted(map(str, unknown))[0]} for the filter {name}.")
        if _conflicting(comparisons):
            raise InvalidInputException(f"Invalid combination of comparisons for the filter {name}.")


def _conflicting(comparisons: set[str]) -> bool:
    if "CONTAINS" in comparisons and comparisons != {"CONTAINS"}:
        return True
    if "NOT_CONTAINS" in comparisons and comparisons != {"NOT_CONTAINS"}:
        return True
    return "EQUALS" in comparisons and bool(comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"})


def matches(finding: dict[str, Any], filters: dict[str, Any]) -> bool:
    """Keys AND; a key's positive comparisons OR, its negative ones AND (after the positive ones)."""
    for name, conditions in filters.items():
        values = [v for v in FILTER_FIELDS[name](finding) if isinstance(v, str)]
        positive = [c for c in conditions if c["Comparison"] in POSITIVE]
        negative = [c for c in conditions if c["Comparison"] in NEGATIVE]
        if positive and not any(_hit(v, c["Comparison"], c["Value"]) for v in values for c in positive):
            return False
        if any(_hit(v, c["Comparison"], c["Value"]) for v in values for c in negative):
            return False
    return True


def _sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field == "SeverityLabel":
        # By importance, not alphabetically.
        return lambda f: SEVERITY_LABELS.index((f.get("Severity") or {}).get("Label", "INFORMATIONAL"))
    getter = FILTER_FIELDS.get(field, _top(field))
    return lambda f: str(next((v for v in getter(f) if v is not None), ""))


def sort_findings(findings: list[dict[str, Any]], criteria: list[dict[str, str]]) -> list[dict[str, Any]]:
    result = list(findings)
    for criterion in reversed(criteria or []):
        order = criterion.get("SortOrder", "asc")
        if order not in ("asc", "desc"):
            raise InvalidInputException(f"Invalid SortOrder {order}.")
        result.sort(key=_sort_key(criterion.get("Field", "")), reverse=order == "desc")
    return result


def page(items: list[Any], max_results: Any, next_token: str | None) -> tuple[list[Any], str | None]:
    size = MAX_BATCH if max_results is None else int(max_results)
    if not 1 <= size <= MAX_BATCH:
        raise InvalidInputException("MaxResults must be a number between 1 and 100")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidInputException("The NextToken value is not valid.")
        if not 0 <= start <= len(items):
            raise InvalidInputException("The NextToken value is not valid.")
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


# -- backend mixin ----------------------------------------------------------------------
class SecurityHubFindingsBackend:
    """Mixin for moto's SecurityHubBackend (``apply`` installs it)."""

    region_name: str
    account_id: str
    partition: str
    enabled: bool

    @property
    def stored_findings(self) -> dict[tuple[str, str], StoredFinding]:
        if "_vpcwarden_findings" not in self.__dict__:
            self.__dict__["_vpcwarden_findings"] = {}
        return self.__dict__["_vpcwarden_findings"]

    def require_enabled(self) -> None:
        if not self.enabled:
            raise InvalidAccessException(self.account_id)

    # BatchImportFindings
    def batch_import_findings(self, findings: list[Any]) -> tuple[int, int, list[dict[str, str]]]:
        if not isinstance(findings, list) or not 1 <= len(findings) <= MAX_BATCH:
            raise InvalidInputException(
                f"Findings: the list must contain between 1 and {MAX_BATCH} findings."
            )
        self._authorize_import(findings)
        failed: list[dict[str, str]] = []
        for finding in findings:
            error = self._import_one(finding)
            if error is not None:
                code, message = error
                failed.append({"Id": _id_of(finding), "ErrorCode": code, "ErrorMessage": message})
        return len(failed), len(findings) - len(failed), failed

    def _authorize_import(self, findings: list[Any]) -> None:
        """The caller may import only its own findings, under its default product here."""
        allowed = default_product_arn(self.region_name, self.account_id, self.partition)
        for finding in findings:
            if not isinstance(finding, dict):
                continue
            product_arn = finding.get("ProductArn")
            if isinstance(product_arn, str) and product_arn and not _PRODUCT_ARN.match(product_arn):
                raise InvalidInputException(f'productArn: "{product_arn}"')
            account = finding.get("AwsAccountId")
            if (isinstance(product_arn, str) and product_arn and product_arn != allowed) or (
                isinstance(account, str) and account and account != self.account_id
            ):
                raise AccessDeniedException(self.account_id, "BatchImportFindings", product_arn or allowed)

    def _import_one(self, finding: Any) -> tuple[str, str] | None:
        if not self.enabled:
            return "InvalidAccess", f"Account {self.account_id} is not subscribed to AWS Security Hub"
        reason = asff_error(finding)
        if reason is not None:
            return "InvalidInput", reason
        key = (finding["ProductArn"], finding["Id"])
        stored = self.stored_findings.get(key)
        if stored is None:
            self.stored_findings[key] = new_finding(self, finding)  # type: ignore[arg-type]
        elif parse_time(finding["UpdatedAt"]) > parse_time(stored.data["UpdatedAt"]):
            update_finding(self, stored, finding)  # type: ignore[arg-type]
        # else: an update that is not newer than the stored finding is ignored (not an error).
        return None

    # GetFindings
    def get_findings(
        self,
        filters: dict[str, Any] | None = None,
        sort_criteria: list[dict[str, str]] | None = None,
        max_results: Any = None,
        next_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        self.require_enabled()
        filters = filters or {}
        check_filters(filters)
        found = [s.data for s in self.stored_findings.values() if matches(s.data, filters)]
        return page(sort_findings(found, sort_criteria or []), max_results, next_token)

    # BatchUpdateFindings
    def batch_update_findings(
        self, identifiers: list[dict[str, str]], changes: dict[str, Any]
    ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        self.require_enabled()
        if not isinstance(identifiers, list) or not 1 <= len(identifiers) <= MAX_BATCH:
            raise InvalidInputException(
                f"FindingIdentifiers: the list must contain between 1 and {MAX_BATCH} findings."
            )
        _check_changes(changes)
        processed: list[dict[str, str]] = []
        unprocessed: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for ident in identifiers:
            key = (ident.get("ProductArn", ""), ident.get("Id", ""))
            stored = self.stored_findings.get(key)
            if key in seen:
                unprocessed.append(_unprocessed(ident, "DuplicatedFindingIdentifier", "Duplicated finding identifier"))
            elif stored is None:
                unprocessed.append(_unprocessed(ident, "FindingNotFound", "Finding Not Found"))
            else:
                _apply_changes(stored, changes)
                processed.append({"Id": key[1], "ProductArn": key[0]})
            seen.add(key)
        return processed, unprocessed

    # DisableSecurityHub: moto forgets its findings, so do we.
    def disable_security_hub(self) -> dict[str, Any]:
        result = _original_disable(self)  # type: ignore[arg-type]
        self.stored_findings.clear()
        return result


def _id_of(finding: Any) -> str:
    return str(finding.get("Id") or "") if isinstance(finding, dict) else ""


def _unprocessed(ident: dict[str, str], code: str, message: str) -> dict[str, Any]:
    return {
        "FindingIdentifier": {"Id": ident.get("Id"), "ProductArn": ident.get("ProductArn")},
        "ErrorCode": code,
        "ErrorMessage": message,
    }


def _check_changes(changes: dict[str, Any]) -> None:
    workflow = changes.get("Workflow") or {}
    if "Status" in workflow and workflow["Status"] not in WORKFLOW_STATUSES:
        raise InvalidInputException(f"Invalid Workflow.Status {workflow['Status']}.")
    severity = changes.get("Severity") or {}
    if severity.get("Label") is not None and severity["Label"] not in SEVERITY_LABELS:
        raise InvalidInputException(f"Invalid Severity.Label {severity['Label']}.")
    normalized = severity.get("Normalized")
    if normalized is not None and not 0 <= int(normalized) <= 100:
        raise InvalidInputException("Severity.Normalized must be between 0 and 100.")
    state = changes.get("VerificationState")
    if state is not None and state not in VERIFICATION_STATES:
        raise InvalidInputException(f"Invalid VerificationState {state}.")
    if not any(v is not None for v in changes.values()):
        raise InvalidInputException("At least one finding attribute to update is required.")


def _apply_changes(stored: StoredFinding, changes: dict[str, Any]) -> None:
    data = stored.data
    for name, value in changes.items():
        if value is None:
            continue
        if name == "Note":
            data["Note"] = {"Text": value["Text"], "UpdatedBy": value["UpdatedBy"], "UpdatedAt": now_iso()}
        elif name == "Severity":
            merged = {**(data.get("Severity") or {}), **value}
            if "Normalized" in value and "Label" not in value:
                merged["Label"] = label_for(int(value["Normalized"]))
            data["Severity"] = merged
        elif name == "Workflow":
            data["Workflow"] = {**(data.get("Workflow") or {}), **value}
        else:
            data[name] = value
        if name in PROVIDER_FIELDS:
            stored.customer_fields.add(name)


_original_disable = SecurityHubBackend.disable_security_hub
REPLACED = ("batch_import_findings", "get_findings", "disable_security_hub")


def apply() -> None:
    if SecurityHubFindingsBackend not in SecurityHubBackend.__mro__:
        SecurityHubBackend.__bases__ = SecurityHubBackend.__bases__ + (SecurityHubFindingsBackend,)
    # These are defined on SecurityHubBackend itself, so a base class cannot override them.
    for name in REPLACED:
        setattr(SecurityHubBackend, name, SecurityHubFindingsBackend.__dict__[name])
