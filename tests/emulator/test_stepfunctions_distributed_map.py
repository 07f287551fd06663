"""Distributed Map in the emulator: ItemReader, ItemSelector, MaxConcurrency, failure
tolerance, the output for failed items, ResultWriter, Map Runs, and an org-audit shaped run."""

from __future__ import annotations

import json
import re

import pytest
from helpers import client_error, error_code
from lambda_helpers import create_function
from sfn_helpers import distributed_map, history, peak_concurrency, run, s3_items, task

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ENTRY_KEYS_FAILED = ["Cause", "Error", "ExecutionArn", "Input", "InputDetails", "Name", "OutputDetails", "RedriveCount", "RedriveStatus", "StartDate", "StateMachineArn", "Status", "StopDate"]
ENTRY_KEYS_SUCCEEDED = ["ExecutionArn", "Input", "InputDetails", "Name", "Output", "OutputDetails", "RedriveCount", "RedriveStatus", "RedriveStatusReason", "StartDate", "StateMachineArn", "Status", "StopDate"]
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


def _items(failing, total):
    return [{"action": "fail", "error_type": "Scope.Failed", "i": i} if i in failing else {"action": "echo", "i": i} for i in range(total)]


def test_item_reader_item_selector_and_max_concurrency(emu, tmp_path):
    arn = create_function(emu, "scoped")
    s3_items(emu, "audit-bucket", "runs/r1/scopes.json", [{"account": f"{i:012d}", "region": "us-east-1"} for i in range(8)])
    selector = {"action": "sleep", "seconds": 0.4, "dir": str(tmp_path), "scope.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "run_id.$": "$.run_id"}
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key"}}
    state = distributed_map(arn, ItemReader=reader, ItemSelector=selector, MaxConcurrency=3, End=True)
    _, described = run(emu, {"StartAt": "M", "States": {"M": state}}, {"bucket": "audit-bucket", "key": "runs/r1/scopes.json", "run_id": "r1"})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert [o["event"]["index"] for o in output] == list(range(8))
    assert output[5]["event"]["scope"] == {"account": "000000000005", "region": "us-east-1"}
    assert {o["event"]["run_id"] for o in output} == {"r1"}
    assert 2 <= peak_concurrency(str(tmp_path / "stamps")) <= 3


def test_max_concurrency_path_and_tolerated_failure_percentage_path(emu, tmp_path):
    arn = create_function(emu, "pathed")
    selector = {"action.$": "$$.Map.Item.Value.action", "seconds": 0.3, "dir": str(tmp_path)}
    items = [{"action": "sleep"}] * 5 + [{"action": "fail"}]
    state = distributed_map(arn, ItemsPath="$.items", ItemSelector=selector, MaxConcurrencyPath="$.mc", ToleratedFailurePercentagePath="$.pct", End=True)
    _, described = run(emu, {"StartAt": "M", "States": {"M": state}}, {"items": items, "mc": 2, "pct": 20})
    assert described["status"] == "SUCCEEDED", described  # 1 of 6 failed: 16.7% <= 20%
    assert peak_concurrency(str(tmp_path / "stamps")) <= 2


@pytest.mark.parametrize(
    "tolerance, status",
    [
        ({}, "FAILED"),  # no threshold: any failure fails the run
        ({"ToleratedFailurePercentage": 20}, "SUCCEEDED"),  # 2 of 10 is 20%: not exceeded
        ({"ToleratedFailurePercentage": 19.9}, "FAILED"),
        ({"ToleratedFailureCount": 2}, "SUCCEEDED"),
        ({"ToleratedFailureCount": 1}, "FAILED"),
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, "FAILED"),  # either exceeded
        ({"ToleratedFailurePercentage": 100}, "SUCCEEDED"),
    ],
)
def test_failure_tolerance(emu, tolerance, status):
    arn = create_function(emu, "tolerant")
    reader = s3_items(emu, "tolerance-bucket", "items.json", _items({3, 7}, 10))
    execution, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, MaxConcurrency=4, End=True, **tolerance)}})
    assert described["status"] == status, described
    if status == "FAILED":
        assert described["error"] == "States.ExceedToleratedFailureThreshold"
        assert described["cause"] == "The specified tolerated failure threshold was exceeded"
        types = [e["type"] for e in history(emu, execution)]
        assert "MapRunFailed" in types and "MapStateFailed" in types


def test_failed_items_appear_in_the_output_as_child_execution_results(emu):
    arn = create_function(emu, "partial")
    reader = s3_items(emu, "partial-bucket", "items.json", _items({1}, 3))
    execution, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, ToleratedFailureCount=1, End=True)}})
    assert described["status"] == "SUCCEEDED", described
    ok, failed, ok2 = json.loads(described["output"])
    assert ok["event"] == {"action": "echo", "i": 0} and ok2["event"]["i"] == 2
    assert sorted(failed) == ENTRY_KEYS_FAILED
    assert failed["Status"] == "FAILED" and failed["Error"] == "Scope.Failed"
    assert json.loads(failed["Cause"])["errorType"] == "Scope.Failed"
    assert json.loads(failed["Input"]) == {"action": "fail", "error_type": "Scope.Failed", "i": 1}
    assert failed["RedriveStatus"] == "REDRIVABLE_BY_MAP_RUN" and failed["RedriveCount"] == 0
    state_machine = execution.split(":execution:")[1].split(":")[0]
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:stateMachine:{state_machine}/{UUID}", failed["StateMachineArn"])
    assert failed["ExecutionArn"] == failed["StateMachineArn"].replace(":stateMachine:", ":execution:") + ":" + failed["Name"]
    assert re.fullmatch(ISO, failed["StartDate"]) and re.fullmatch(ISO, failed["StopDate"])


def test_a_threshold_failure_can_be_caught(emu):
    arn = create_function(emu, "caught")
    reader = s3_items(emu, "caught-bucket", "items.json", _items({0}, 2))
    catch = [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "ResultPath": "$.error", "Next": "Report"}]
    definition = {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, Catch=catch, End=True), "Report": {"Type": "Pass", "End": True}}}
    _, described = run(emu, definition, {"run_id": "r"})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.ExceedToleratedFailureThreshold"


def test_result_writer_exports_results_and_a_manifest(emu):
    arn = create_function(emu, "exported")
    reader = s3_items(emu, "results-bucket", "items.json", _items({2}, 4))
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results-bucket", "Prefix": "runs/r1/results"}}
    execution, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, ResultWriter=writer, ToleratedFailurePercentage=25, End=True)}})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    sfn = emu.client("stepfunctions")
    map_run_arn = sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
    run_id = map_run_arn.split(":")[-1]
    key = f"runs/r1/results/{run_id}/manifest.json"
    assert output == {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": "results-bucket", "Key": key}}
    s3 = emu.client("s3")
    manifest = json.loads(s3.get_object(Bucket="results-bucket", Key=key)["Body"].read())
    assert manifest["DestinationBucket"] == "results-bucket" and manifest["MapRunArn"] == map_run_arn
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [f"runs/r1/results/{run_id}/SUCCEEDED_0.json"]
    assert [f["Key"] for f in manifest["ResultFiles"]["FAILED"]] == [f"runs/r1/results/{run_id}/FAILED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    succeeded_file = manifest["ResultFiles"]["SUCCEEDED"][0]
    body = s3.get_object(Bucket="results-bucket", Key=succeeded_file["Key"])["Body"].read()
    assert succeeded_file["Size"] == len(body)
    succeeded = json.loads(body)
    assert [json.loads(e["Input"])["i"] for e in succeeded] == [0, 1, 3]
    assert sorted(succeeded[0]) == ENTRY_KEYS_SUCCEEDED
    assert json.loads(succeeded[0]["Output"])["event"]["i"] == 0
    assert succeeded[0]["RedriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    failed = json.loads(s3.get_object(Bucket="results-bucket", Key=manifest["ResultFiles"]["FAILED"][0]["Key"])["Body"].read())
    assert [(e["Status"], e["Error"]) for e in failed] == [("FAILED", "Scope.Failed")]


def test_result_writer_paths_read_the_state_input(emu):
    """``Prefix.$`` (a path or an intrinsic function) is evaluated against the Map state's input,
    as on AWS, not against the children's results."""
    arn = create_function(emu, "prefixed")
    reader = s3_items(emu, "prefix-bucket", "items.json", _items(set(), 2))
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket.$": "$.bucket", "Prefix.$": "States.Format('{}map', $.run.prefix)"}}
    state = distributed_map(arn, ItemReader=reader, ResultWriter=writer, ResultPath="$.map", End=True)
    execution, described = run(emu, {"StartAt": "M", "States": {"M": state}}, {"bucket": "prefix-bucket", "run": {"prefix": "reports/runs/r7/"}})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    map_run_id = output["map"]["MapRunArn"].split(":")[-1]
    assert output["map"]["ResultWriterDetails"] == {"Bucket": "prefix-bucket", "Key": f"reports/runs/r7/map/{map_run_id}/manifest.json"}
    assert output["run"] == {"prefix": "reports/runs/r7/"}, "ResultPath keeps the input"
    manifest = json.loads(emu.client("s3").get_object(Bucket="prefix-bucket", Key=f"reports/runs/r7/map/{map_run_id}/manifest.json")["Body"].read())
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [f"reports/runs/r7/map/{map_run_id}/SUCCEEDED_0.json"]


def test_a_failed_run_exports_pending_items_and_fails(emu):
    arn = create_function(emu, "stopped")
    reader = s3_items(emu, "pending-bucket", "items.json", _items({0}, 5))
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "pending-bucket", "Prefix": "out"}}
    execution, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, ResultWriter=writer, MaxConcurrency=1, End=True)}})
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    sfn = emu.client("stepfunctions")
    map_run_arn = sfn.list_map_runs(executionArn=execution)["mapRuns"][0]["mapRunArn"]
    s3 = emu.client("s3")
    manifest = json.loads(s3.get_object(Bucket="pending-bucket", Key=f"out/{map_run_arn.split(':')[-1]}/manifest.json")["Body"].read())
    pending = json.loads(s3.get_object(Bucket="pending-bucket", Key=manifest["ResultFiles"]["PENDING"][0]["Key"])["Body"].read())
    assert [json.loads(e["Input"])["i"] for e in pending] == [1, 2, 3, 4]
    assert manifest["ResultFiles"]["SUCCEEDED"] == []
    described_run = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert described_run["status"] == "FAILED"
    assert described_run["itemCounts"]["failed"] == 1 and described_run["itemCounts"]["pending"] == 4
    assert described_run["itemCounts"]["total"] == 5


def test_a_csv_item_source_with_a_header_row(emu):
    arn = create_function(emu, "csv")
    reader = s3_items(emu, "csv-bucket", "unused.json", [])
    emu.client("s3").put_object(Bucket="csv-bucket", Key="scopes.csv", Body=b"account,region\n000000000001,us-east-1\n000000000002,eu-west-1\n")
    reader.update(ReaderConfig={"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}, Parameters={"Bucket": "csv-bucket", "Key": "scopes.csv"})
    _, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, End=True)}})
    assert [o["event"] for o in json.loads(described["output"])] == [
        {"account": "000000000001", "region": "us-east-1"},
        {"account": "000000000002", "region": "eu-west-1"},
    ]


@pytest.mark.parametrize("content", [None, b"not json", b'{"not": "an array"}'])
def test_an_unreadable_item_source_is_item_reader_failed(emu, content):
    arn = create_function(emu, "reader")
    reader = s3_items(emu, "reader-bucket", "other.json", [])
    reader["Parameters"]["Key"] = "items.json"
    if content is not None:
        emu.client("s3").put_object(Bucket="reader-bucket", Key="items.json", Body=content)
    _, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, End=True)}})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ItemReaderFailed"


def test_map_runs_are_listed_and_described(emu):
    arn = create_function(emu, "counted")
    reader = s3_items(emu, "runs-bucket", "items.json", _items({1}, 3))
    execution, _ = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemReader=reader, MaxConcurrency=2, ToleratedFailureCount=1, Label="Audit", End=True)}})
    sfn = emu.client("stepfunctions")
    runs = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert len(runs) == 1 and runs[0]["executionArn"] == execution
    assert re.search(rf":mapRun:sm-[0-9a-f]+/Audit:{UUID}$", runs[0]["mapRunArn"])
    described = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
    assert described["status"] == "SUCCEEDED"
    assert (described["maxConcurrency"], described["toleratedFailureCount"]) == (2, 1)
    counts = described["itemCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"], counts["running"], counts["pending"]) == (3, 2, 1, 0, 0)
    err = client_error(sfn.describe_map_run, mapRunArn=runs[0]["mapRunArn"] + "0")
    assert error_code(err) == "ResourceNotFound"


def test_a_map_output_over_256_kib_is_data_limit_exceeded(emu):
    arn = create_function(emu, "wide-output")
    items = [{"action": "big", "size": 40 * 1024}] * 8
    _, described = run(emu, {"StartAt": "M", "States": {"M": distributed_map(arn, ItemsPath="$.items", End=True)}}, {"items": items})
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"


def test_org_audit_shaped_run(emu):
    """Plan -> Distributed Map over the planned scopes (retrying Retryable.*) -> Aggregate:
    the execution's output is the aggregate's answer."""
    arn = create_function(emu, "drift-auditor")
    s3_items(emu, "report-bucket", "placeholder.json", [])
    retry = [
        {"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3},
        {"ErrorEquals": ["Retryable.Aws"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2},
    ]
    child = {"StartAt": "Scope", "States": {"Scope": task(arn, Retry=retry, End=True)}}
    definition = {
        "StartAt": "Plan",
        "States": {
            "Plan": task(arn, Parameters={"action": "plan", "run_id": "r42", "bucket": "report-bucket", "scopes.$": "$.scopes"}, ResultPath="$.plan", Next="AuditScopes"),
            "AuditScopes": {
                "Type": "Map",
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "report-bucket", "Key.$": "$.plan.scopes_key"}},
                "ItemSelector": {"action": "echo", "mode": "scope", "run_id.$": "$.plan.run_id", "account.$": "$$.Map.Item.Value.account"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **child},
                "MaxConcurrency": 2,
                "ToleratedFailurePercentage": 10,
                "ResultPath": "$.scopes_result",
                "Next": "Aggregate",
            },
            "Aggregate": task(arn, Parameters={"action": "aggregate", "run_id.$": "$.plan.run_id", "bucket": "report-bucket", "audited.$": "States.ArrayLength($.scopes_result)"}, End=True),
        },
    }
    scopes = [{"account": f"{i:012d}", "region": "us-east-1"} for i in range(5)]
    execution, described = run(emu, definition, {"scopes": scopes})
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    assert json.loads(described["output"]) == {"run_id": "r42", "scopes_audited": 5, "reports": {"json": "s3://report-bucket/report.json"}}
    planned = json.loads(emu.client("s3").get_object(Bucket="report-bucket", Key="runs/r42/scopes.json")["Body"].read())
    assert planned == scopes
    types = [e["type"] for e in history(emu, execution)]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert {"MapRunStarted", "MapRunSucceeded", "MapStateSucceeded"} <= set(types)
