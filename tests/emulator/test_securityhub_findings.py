"""Security Hub: enablement, BatchImportFindings, GetFindings filters/paging, BatchUpdateFindings.

Written from the Security Hub API reference (BatchImportFindings, GetFindings,
AwsSecurityFindingFilters, StringFilter, BatchUpdateFindings, Severity,
Workflow) and the User Guide pages "BatchImportFindings for finding
providers", "Required attributes" (ASFF) and "Setting the workflow status".
"""

import pytest
from botocore.config import Config

from helpers import client_error, error_code, http_status

A = "123456789012"
B = "210987654321"
NO_VALIDATION = Config(parameter_validation=False)


def product(account=A, region="us-east-1"):
    return f"arn:aws:securityhub:{region}:{account}:product/{account}/default"


def finding(fid="vpcwarden/f1", account=A, region="us-east-1", updated="2026-01-01T00:00:00Z", **over):
    f = {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": product(account, region),
        "GeneratorId": "vpcwarden/PEERING_UNLISTED",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2026-01-01T00:00:00Z",
        "FirstObservedAt": "2026-01-01T00:00:00Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "HIGH"},
        "Title": "Peering not in the allowlist",
        "Description": "pcx-1 peers with an account that is not allowed",
        "Resources": [
            {"Type": "AwsEc2VpcPeeringConnection", "Id": f"arn:aws:ec2:{region}:{account}:vpc-peering-connection/pcx-1"}
        ],
        "Compliance": {"Status": "FAILED"},
        "RecordState": "ACTIVE",
    }
    f.update(over)
    return f


def ident(fid, account=A, region="us-east-1"):
    return {"Id": fid, "ProductArn": product(account, region)}


@pytest.fixture
def hub(emu):
    sh = emu.client("securityhub", config=NO_VALIDATION)
    sh.enable_security_hub(EnableDefaultStandards=False)
    return sh


def get_all(sh, **kwargs):
    return sh.get_findings(**kwargs)["Findings"]


def ids(sh, filters):
    return sorted(f["Id"] for f in get_all(sh, Filters=filters))


# -- enablement -------------------------------------------------------------------
def test_security_hub_starts_disabled_and_reads_answer_invalid_access(emu):
    sh = emu.client("securityhub")
    for call in (sh.describe_hub, sh.get_findings):
        err = client_error(call)
        assert error_code(err) == "InvalidAccessException"
        assert http_status(err) == 401
        assert "not subscribed to AWS Security Hub" in err.response["Error"]["Message"]


def test_import_while_disabled_fails_every_finding_with_invalid_access(emu):
    sh = emu.client("securityhub")
    out = sh.batch_import_findings(Findings=[finding("a"), finding("b")])
    assert (out["SuccessCount"], out["FailedCount"]) == (0, 2)
    assert {f["ErrorCode"] for f in out["FailedFindings"]} == {"InvalidAccess"}
    assert [f["Id"] for f in out["FailedFindings"]] == ["a", "b"]


def test_enable_is_per_account_and_region(emu):
    emu.client("securityhub").enable_security_hub()
    hub = emu.client("securityhub").describe_hub()
    assert hub["HubArn"] == f"arn:aws:securityhub:us-east-1:{A}:hub/default"
    for other in (emu.client("securityhub", region="us-west-2"), emu.client("securityhub", account=B)):
        assert error_code(client_error(other.describe_hub)) == "InvalidAccessException"


def test_disable_then_enable_forgets_findings(hub):
    hub.batch_import_findings(Findings=[finding()])
    hub.disable_security_hub()
    assert error_code(client_error(hub.get_findings)) == "InvalidAccessException"
    hub.enable_security_hub()
    assert get_all(hub) == []


# -- BatchImportFindings ------------------------------------------------------------
def test_import_then_get_adds_what_security_hub_fills_in(hub):
    out = hub.batch_import_findings(Findings=[finding()])
    assert (out["SuccessCount"], out["FailedCount"], out["FailedFindings"]) == (1, 0, [])
    [f] = get_all(hub)
    assert f["Id"] == "vpcwarden/f1"
    assert f["Region"] == "us-east-1"
    assert f["Workflow"] == {"Status": "NEW"}
    assert f["RecordState"] == "ACTIVE"
    assert f["FindingProviderFields"]["Severity"] == {"Label": "HIGH"}
    assert f["FindingProviderFields"]["Types"] == finding()["Types"]
    assert f["ProcessedAt"]


@pytest.mark.parametrize(
    "missing",
    ["AwsAccountId", "CreatedAt", "Description", "GeneratorId", "ProductArn", "SchemaVersion", "Title", "UpdatedAt",
     "Resources", "Types", "Severity"],
)
def test_a_finding_without_a_required_attribute_fails_alone(hub, missing):
    bad = finding("bad")
    del bad[missing]
    out = hub.batch_import_findings(Findings=[finding("good"), bad])
    assert (out["SuccessCount"], out["FailedCount"]) == (1, 1)
    [failed] = out["FailedFindings"]
    assert failed["Id"] == "bad"
    assert failed["ErrorCode"] == "InvalidInput"
    assert failed["ErrorMessage"].startswith("Finding does not adhere to Amazon Finding Format.")
    assert missing in failed["ErrorMessage"]
    assert [f["Id"] for f in get_all(hub)] == ["good"]


def test_a_finding_without_an_id_fails_with_an_empty_id(hub):
    bad = finding()
    del bad["Id"]
    out = hub.batch_import_findings(Findings=[bad])
    assert out["FailedFindings"][0]["ErrorCode"] == "InvalidInput"


@pytest.mark.parametrize(
    "override, words",
    [
        ({"Resources": []}, "fewer than 1"),
        ({"Resources": [{"Id": "x"}]}, "Resources[0] should have required property 'Type'"),
        ({"Resources": [{"Type": "Other"}]}, "Resources[0] should have required property 'Id'"),
        ({"SchemaVersion": "2020-01-01"}, "SchemaVersion"),
        ({"Severity": {"Original": "9"}}, "Severity"),
        ({"Severity": {"Label": "URGENT"}}, "Severity.Label"),
        ({"UpdatedAt": "yesterday"}, "UpdatedAt"),
        ({"RecordState": "GONE"}, "RecordState"),
        ({"Compliance": {"Status": "OK"}}, "Compliance.Status"),
    ],
)
def test_asff_values_are_checked(hub, override, words):
    out = hub.batch_import_findings(Findings=[finding(**override)])
    assert out["FailedCount"] == 1
    assert words in out["FailedFindings"][0]["ErrorMessage"]


def test_severity_label_is_derived_from_normalized(hub):
    hub.batch_import_findings(
        Findings=[finding(f"n{n}", Severity={"Normalized": n}) for n in (0, 1, 39, 40, 69, 70, 89, 90, 100)]
    )
    labels = {f["Id"]: f["Severity"]["Label"] for f in get_all(hub)}
    assert labels == {
        "n0": "INFORMATIONAL", "n1": "LOW", "n39": "LOW", "n40": "MEDIUM", "n69": "MEDIUM",
        "n70": "HIGH", "n89": "HIGH", "n90": "CRITICAL", "n100": "CRITICAL",
    }


def test_finding_provider_fields_severity_satisfies_the_severity_requirement(hub):
    f = finding(FindingProviderFields={"Severity": {"Label": "LOW", "Original": "low"}})
    del f["Severity"]
    assert hub.batch_import_findings(Findings=[f])["SuccessCount"] == 1
    assert get_all(hub)[0]["Severity"]["Label"] == "LOW"


def test_at_most_100_findings_per_call(hub):
    err = client_error(hub.batch_import_findings, Findings=[finding(f"f{i}") for i in range(101)])
    assert error_code(err) == "InvalidInputException"
    assert http_status(err) == 400
    assert hub.batch_import_findings(Findings=[finding(f"f{i}") for i in range(100)])["SuccessCount"] == 100


@pytest.mark.parametrize(
    "override",
    [
        {"AwsAccountId": B},
        {"ProductArn": product(B)},
        {"ProductArn": product(A, "eu-west-1")},
        {"ProductArn": f"arn:aws:securityhub:us-east-1::product/aws/guardduty"},
    ],
)
def test_another_accounts_finding_or_product_denies_the_whole_call(hub, override):
    err = client_error(hub.batch_import_findings, Findings=[finding("ok"), finding("other", **override)])
    assert error_code(err) == "AccessDeniedException"
    assert http_status(err) == 403
    assert "securityhub:BatchImportFindings" in err.response["Error"]["Message"]
    assert get_all(hub) == []


def test_a_malformed_product_arn_is_invalid_input(hub):
    err = client_error(hub.batch_import_findings, Findings=[finding(ProductArn="arn:aws:securityhub:::product/x/y")])
    assert error_code(err) == "InvalidInputException"


def test_member_account_imports_into_its_own_hub(emu):
    sh_b = emu.client("securityhub", account=B, region="eu-west-1")
    sh_b.enable_security_hub()
    assert sh_b.batch_import_findings(Findings=[finding(account=B, region="eu-west-1")])["SuccessCount"] == 1
    assert get_all(sh_b)[0]["Region"] == "eu-west-1"


# -- updates by import ------------------------------------------------------------------
def test_reimport_with_later_updated_at_replaces_the_finding(hub):
    hub.batch_import_findings(Findings=[finding(Remediation={"Recommendation": {"Text": "delete it"}})])
    later = finding(
        updated="2026-01-02T00:00:00Z",
        CreatedAt="2026-01-02T00:00:00Z",
        RecordState="ARCHIVED",
        Compliance={"Status": "PASSED"},
        Title="Resolved",
    )
    out = hub.batch_import_findings(Findings=[later])
    assert out["SuccessCount"] == 1
    [f] = get_all(hub)
    assert (f["RecordState"], f["Compliance"]["Status"], f["Title"]) == ("ARCHIVED", "PASSED", "Resolved")
    assert f["UpdatedAt"] == "2026-01-02T00:00:00Z"
    # The provider's attributes are its own: what it sends replaces what was there.
    assert f["CreatedAt"] == "2026-01-02T00:00:00Z"
    assert f["FirstObservedAt"] == "2026-01-01T00:00:00Z"
    assert "Remediation" not in f


def test_reimport_that_is_not_newer_is_ignored_but_not_failed(hub):
    hub.batch_import_findings(Findings=[finding(updated="2026-01-02T00:00:00Z")])
    for stale in ("2026-01-02T00:00:00Z", "2026-01-01T12:00:00.000Z"):
        out = hub.batch_import_findings(Findings=[finding(updated=stale, Title="stale")])
        assert (out["SuccessCount"], out["FailedCount"]) == (1, 0)
    assert get_all(hub)[0]["Title"] == "Peering not in the allowlist"


def test_workflow_is_set_by_the_first_import_only(hub):
    hub.batch_import_findings(Findings=[finding(Workflow={"Status": "NOTIFIED"})])
    assert get_all(hub)[0]["Workflow"]["Status"] == "NOTIFIED"
    hub.batch_import_findings(
        Findings=[finding(updated="2026-01-02T00:00:00Z", Workflow={"Status": "SUPPRESSED"}, Note={"Text": "x", "UpdatedBy": "y"})]
    )
    f = get_all(hub)[0]
    assert f["Workflow"]["Status"] == "NOTIFIED"
    assert "Note" not in f


def test_resolved_workflow_reopens_when_compliance_fails_again(hub):
    hub.batch_import_findings(Findings=[finding()])
    hub.batch_update_findings(FindingIdentifiers=[ident("vpcwarden/f1")], Workflow={"Status": "RESOLVED"})
    hub.batch_import_findings(Findings=[finding(updated="2026-01-02T00:00:00Z", Compliance={"Status": "PASSED"})])
    assert get_all(hub)[0]["Workflow"]["Status"] == "RESOLVED"
    hub.batch_import_findings(Findings=[finding(updated="2026-01-03T00:00:00Z", Compliance={"Status": "FAILED"})])
    assert get_all(hub)[0]["Workflow"]["Status"] == "NEW"


def test_notified_workflow_reopens_when_the_record_is_reactivated_but_suppressed_stays(hub):
    hub.batch_import_findings(Findings=[finding("n"), finding("s")])
    hub.batch_update_findings(FindingIdentifiers=[ident("n")], Workflow={"Status": "NOTIFIED"})
    hub.batch_update_findings(FindingIdentifiers=[ident("s")], Workflow={"Status": "SUPPRESSED"})
    hub.batch_import_findings(Findings=[finding(i, updated="2026-01-02T00:00:00Z", RecordState="ARCHIVED") for i in "ns"])
    hub.batch_import_findings(Findings=[finding(i, updated="2026-01-03T00:00:00Z", RecordState="ACTIVE") for i in "ns"])
    assert {f["Id"]: f["Workflow"]["Status"] for f in get_all(hub)} == {"n": "NEW", "s": "SUPPRESSED"}


# -- BatchUpdateFindings ----------------------------------------------------------------------
def test_batch_update_findings_sets_workflow_and_note_without_touching_updated_at(hub):
    hub.batch_import_findings(Findings=[finding("a"), finding("b")])
    out = hub.batch_update_findings(
        FindingIdentifiers=[ident("a"), ident("b")],
        Workflow={"Status": "SUPPRESSED"},
        Note={"Text": "waived until June", "UpdatedBy": "vpcwarden"},
    )
    assert sorted(p["Id"] for p in out["ProcessedFindings"]) == ["a", "b"]
    assert out["ProcessedFindings"][0]["ProductArn"] == product()
    assert out["UnprocessedFindings"] == []
    for f in get_all(hub):
        assert f["Workflow"]["Status"] == "SUPPRESSED"
        assert f["Note"]["Text"] == "waived until June"
        assert f["Note"]["UpdatedBy"] == "vpcwarden"
        assert f["Note"]["UpdatedAt"]
        assert f["UpdatedAt"] == "2026-01-01T00:00:00Z"


def test_the_request_log_names_the_three_actions(emu, hub):
    hub.batch_import_findings(Findings=[finding("a")])
    hub.get_findings()
    hub.batch_update_findings(FindingIdentifiers=[ident("a")], Workflow={"Status": "NOTIFIED"})
    actions = [r["action"] for r in emu.requests(service="securityhub")]
    assert actions[-3:] == ["BatchImportFindings", "GetFindings", "BatchUpdateFindings"]


def test_batch_update_findings_reports_unknown_and_duplicate_identifiers(hub):
    hub.batch_import_findings(Findings=[finding("a")])
    out = hub.batch_update_findings(
        FindingIdentifiers=[ident("a"), ident("a"), ident("nope"), ident("a", account=B)],
        Workflow={"Status": "NOTIFIED"},
    )
    assert [p["Id"] for p in out["ProcessedFindings"]] == ["a"]
    codes = [(u["FindingIdentifier"]["Id"], u["ErrorCode"]) for u in out["UnprocessedFindings"]]
    assert codes == [("a", "DuplicatedFindingIdentifier"), ("nope", "FindingNotFound"), ("a", "FindingNotFound")]


def test_batch_update_findings_rejects_invalid_values_and_needs_the_hub(emu, hub):
    hub.batch_import_findings(Findings=[finding("a")])
    err = client_error(hub.batch_update_findings, FindingIdentifiers=[ident("a")], Workflow={"Status": "DONE"})
    assert error_code(err) == "InvalidInputException"
    other = emu.client("securityhub", region="us-west-2")
    err = client_error(other.batch_update_findings, FindingIdentifiers=[ident("a")], Workflow={"Status": "NEW"})
    assert error_code(err) == "InvalidAccessException"


def test_severity_changed_by_a_customer_survives_later_imports(hub):
    hub.batch_import_findings(Findings=[finding()])
    hub.batch_update_findings(FindingIdentifiers=[ident("vpcwarden/f1")], Severity={"Normalized": 10})
    hub.batch_import_findings(Findings=[finding(updated="2026-01-02T00:00:00Z", Severity={"Label": "CRITICAL"})])
    f = get_all(hub)[0]
    assert f["Severity"]["Label"] == "LOW"
    assert f["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL"}


# -- GetFindings: filters, sorting, paging, scope ---------------------------------------------------
@pytest.fixture
def estate(hub):
    hub.batch_import_findings(
        Findings=[
            finding("vpcwarden/a1", GeneratorId="vpcwarden/PEERING_UNLISTED", Severity={"Label": "HIGH"}),
            finding("vpcwarden/a2", GeneratorId="vpcwarden/ROUTE_BLACKHOLE", Severity={"Label": "LOW"},
                    Resources=[{"Type": "AwsEc2RouteTable", "Id": "rtb-1"}]),
            finding("vpcwarden/b1", GeneratorId="vpcwarden/ENDPOINT_UNLISTED", Severity={"Label": "CRITICAL"},
                    Resources=[{"Type": "AwsEc2VpcEndpointService", "Id": "vpce-svc-1"}, {"Type": "AwsEc2Vpc", "Id": "vpc-1"}]),
            finding("vpcwarden/c1", GeneratorId="vpcwarden/PEERING_UNLISTED", Severity={"Label": "MEDIUM"},
                    RecordState="ARCHIVED", Compliance={"Status": "PASSED"}),
            finding("other/x", GeneratorId="other/THING", Severity={"Label": "INFORMATIONAL"},
                    Resources=[{"Type": "Other", "Id": "thing"}]),
        ]
    )
    hub.batch_update_findings(FindingIdentifiers=[ident("vpcwarden/a2")], Workflow={"Status": "SUPPRESSED"})
    return hub


def sf(comparison, value):
    return {"Comparison": comparison, "Value": value}


def test_string_filter_comparisons(estate):
    assert ids(estate, {"Id": [sf("EQUALS", "vpcwarden/a1")]}) == ["vpcwarden/a1"]
    assert ids(estate, {"Id": [sf("PREFIX", "vpcwarden/a")]}) == ["vpcwarden/a1", "vpcwarden/a2"]
    assert ids(estate, {"Id": [sf("NOT_EQUALS", "other/x")]}) == ["vpcwarden/a1", "vpcwarden/a2", "vpcwarden/b1", "vpcwarden/c1"]
    assert ids(estate, {"Id": [sf("PREFIX_NOT_EQUALS", "vpcwarden/")]}) == ["other/x"]
    assert ids(estate, {"GeneratorId": [sf("CONTAINS", "UNLISTED")]}) == ["vpcwarden/a1", "vpcwarden/b1", "vpcwarden/c1"]
    assert ids(estate, {"GeneratorId": [sf("NOT_CONTAINS", "UNLISTED")]}) == ["other/x", "vpcwarden/a2"]


def test_values_of_one_key_or_for_positive_and_for_negative_comparisons_and(estate):
    assert ids(estate, {"SeverityLabel": [sf("EQUALS", "HIGH"), sf("EQUALS", "CRITICAL")]}) == ["vpcwarden/a1", "vpcwarden/b1"]
    assert ids(estate, {"Id": [sf("NOT_EQUALS", "vpcwarden/a1"), sf("NOT_EQUALS", "other/x")]}) == [
        "vpcwarden/a2", "vpcwarden/b1", "vpcwarden/c1"]
    # PREFIX first, then NOT_EQUALS removes from what it found.
    assert ids(estate, {"Id": [sf("PREFIX", "vpcwarden/a"), sf("PREFIX", "vpcwarden/b"), sf("NOT_EQUALS", "vpcwarden/a2")]}) == [
        "vpcwarden/a1", "vpcwarden/b1"]


def test_keys_and_together(estate):
    filters = {
        "GeneratorId": [sf("EQUALS", "vpcwarden/PEERING_UNLISTED")],
        "RecordState": [sf("EQUALS", "ACTIVE")],
        "ComplianceStatus": [sf("EQUALS", "FAILED")],
        "AwsAccountId": [sf("EQUALS", A)],
        "ProductArn": [sf("EQUALS", product())],
        "Region": [sf("EQUALS", "us-east-1")],
    }
    assert ids(estate, filters) == ["vpcwarden/a1"]
    assert ids(estate, {**filters, "Region": [sf("EQUALS", "us-west-2")]}) == []


def test_workflow_record_and_compliance_filters(estate):
    assert ids(estate, {"WorkflowStatus": [sf("EQUALS", "SUPPRESSED")]}) == ["vpcwarden/a2"]
    assert ids(estate, {"WorkflowStatus": [sf("NOT_EQUALS", "SUPPRESSED")], "RecordState": [sf("EQUALS", "ACTIVE")]}) == [
        "other/x", "vpcwarden/a1", "vpcwarden/b1"]
    assert ids(estate, {"ComplianceStatus": [sf("EQUALS", "PASSED")]}) == ["vpcwarden/c1"]


def test_resource_filters_match_any_resource_of_a_finding(estate):
    assert ids(estate, {"ResourceType": [sf("EQUALS", "AwsEc2Vpc")]}) == ["vpcwarden/b1"]
    assert ids(estate, {"ResourceId": [sf("EQUALS", "rtb-1")]}) == ["vpcwarden/a2"]
    assert ids(estate, {"ResourceType": [sf("PREFIX", "AwsEc2Vpc")]}) == [
        "vpcwarden/a1", "vpcwarden/b1", "vpcwarden/c1"]


@pytest.mark.parametrize(
    "conditions",
    [
        [sf("CONTAINS", "a"), sf("NOT_CONTAINS", "b")],
        [sf("EQUALS", "a"), sf("NOT_EQUALS", "b")],
        [sf("EQUALS", "a"), sf("PREFIX_NOT_EQUALS", "b")],
        [sf("CONTAINS", "a"), sf("EQUALS", "b")],
        [sf("CONTAINS_WORD", "a")],
    ],
)
def test_combinations_the_reference_forbids_are_errors(estate, conditions):
    err = client_error(estate.get_findings, Filters={"Title": conditions})
    assert error_code(err) == "InvalidInputException"


def test_a_condition_without_a_value_is_invalid_input(estate):
    err = client_error(estate.get_findings, Filters={"Id": [{"Comparison": "EQUALS"}]})
    assert error_code(err) == "InvalidInputException"


def test_filters_not_emulated_are_refused_rather_than_ignored(estate):
    err = client_error(estate.get_findings, Filters={"UpdatedAt": [{"DateRange": {"Value": 1, "Unit": "DAYS"}}]})
    assert error_code(err) == "InvalidInputException"
    assert "UpdatedAt" in err.response["Error"]["Message"]


def test_sort_criteria(estate):
    by_sev = get_all(estate, SortCriteria=[{"Field": "SeverityLabel", "SortOrder": "desc"}])
    assert [f["Severity"]["Label"] for f in by_sev] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
    by_id = get_all(estate, SortCriteria=[{"Field": "Id", "SortOrder": "asc"}])
    assert [f["Id"] for f in by_id] == sorted(f["Id"] for f in by_id)


def test_pagination(estate):
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"MaxResults": 2, "SortCriteria": [{"Field": "Id", "SortOrder": "asc"}]}
        if token:
            kwargs["NextToken"] = token
        out = estate.get_findings(**kwargs)
        seen += [f["Id"] for f in out["Findings"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == sorted(seen) and len(set(seen)) == 5
    assert error_code(client_error(estate.get_findings, MaxResults=101)) == "InvalidInputException"
    assert error_code(client_error(estate.get_findings, NextToken="garbage!")) == "InvalidInputException"


def test_paginator_reads_every_finding(hub):
    hub.batch_import_findings(Findings=[finding(f"f{i:03}") for i in range(100)])
    hub.batch_import_findings(Findings=[finding(f"f{i:03}") for i in range(100, 150)])
    pages = hub.get_paginator("get_findings").paginate(PaginationConfig={"PageSize": 40})
    assert sum(len(p["Findings"]) for p in pages) == 150


def test_findings_are_scoped_to_the_calling_account_and_region(emu, hub):
    hub.batch_import_findings(Findings=[finding("mine")])
    west = emu.client("securityhub", region="us-west-2")
    west.enable_security_hub()
    west.batch_import_findings(Findings=[finding("west", region="us-west-2")])
    sh_b = emu.client("securityhub", account=B)
    sh_b.enable_security_hub()
    assert [f["Id"] for f in get_all(hub)] == ["mine"]
    assert [f["Id"] for f in get_all(west)] == ["west"]
    assert get_all(sh_b) == []
