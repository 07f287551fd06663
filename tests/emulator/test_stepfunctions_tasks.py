"""Step Functions executions in the emulator: Lambda tasks, their errors, Retry and Catch,
the payload limit, and definitions refused as AWS refuses them."""

from __future__ import annotations

import json
import re

import pytest
from helpers import client_error, error_code
from lambda_helpers import create_function
from sfn_helpers import create_state_machine, history, run, task, wait

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _timestamps(events, event_type):
    return [e["timestamp"].timestamp() for e in events if e["type"] == event_type]


def test_executions_run_and_are_named_by_uuid(emu):
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.p", "Next": "F"}, "F": {"Type": "Fail", "Error": "Custom.Error", "Cause": "because"}}}
    arn, described = run(emu, definition, {"x": 1})
    assert re.fullmatch(rf"arn:aws:states:us-east-1:123456789012:execution:sm-[0-9a-f]+:{UUID}", arn)
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Custom.Error", "because")
    _, described = run(emu, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.p", "End": True}}}, {"x": 1})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"x": 1, "p": {"ok": True}}


def test_function_arn_task_outputs_the_payload_and_lambda_invoke_the_full_response(emu):
    arn = create_function(emu, "worker")
    definition = {
        "StartAt": "Direct",
        "States": {
            "Direct": task(arn, ResultPath="$.direct", Next="Integration"),
            "Integration": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn, "Payload": {"n.$": "$.n"}},
                "ResultPath": "$.integration",
                "End": True,
            },
        },
    }
    _, described = run(emu, definition, {"n": 7})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["direct"]["event"] == {"n": 7}
    integration = output["integration"]
    assert sorted(integration) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    assert integration["ExecutedVersion"] == "$LATEST"
    assert integration["StatusCode"] == 200
    assert integration["Payload"]["event"] == {"n": 7}
    assert integration["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert integration["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Executed-Version"] == "$LATEST"
    assert integration["SdkResponseMetadata"]["RequestId"]


@pytest.mark.parametrize("integration", [False, True])
def test_function_error_becomes_the_error_named_by_its_error_type(emu, integration):
    arn = create_function(emu, "failing")
    event = {"action": "fail", "error_type": "Scope.Unreadable", "message": "AccessDenied"}
    if integration:
        state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": arn, "Payload": event}, "End": True}
    else:
        state = task(arn, Parameters=event, End=True)
    _, described = run(emu, {"StartAt": "T", "States": {"T": state}})
    assert described["status"] == "FAILED"
    assert described["error"] == "Scope.Unreadable"
    assert json.loads(described["cause"]) == {"errorType": "Scope.Unreadable", "errorMessage": "AccessDenied", "stackTrace": ["bootstrap"]}


def test_an_error_without_type_is_lambda_unknown(emu):
    arn = create_function(emu, "untyped")
    _, described = run(emu, {"StartAt": "T", "States": {"T": task(arn, Parameters={"action": "fail", "untyped": True}, End=True)}})
    assert described["error"] == "Lambda.Unknown"
    assert described["cause"].startswith("The cause could not be determined because Lambda did not return an error type. Returned payload: ")


def test_a_timed_out_function_fails_with_sandbox_timedout(emu):
    arn = create_function(emu, "sleepy", timeout=1)
    _, described = run(emu, {"StartAt": "T", "States": {"T": task(arn, Parameters={"action": "sleep", "seconds": 10}, End=True)}})
    assert described["error"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in json.loads(described["cause"])["errorMessage"]


def test_lambda_service_exception_is_retried_with_backoff(emu):
    arn = create_function(emu, "retried")
    emu.add_fault(service="lambda", action="Invoke", error="ServiceException", status=500, count=2)
    retry = [{"ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "BackoffRate": 1.5, "MaxAttempts": 3}]
    execution, described = run(emu, {"StartAt": "T", "States": {"T": task(arn, Retry=retry, End=True)}})
    assert described["status"] == "SUCCEEDED", described
    events = history(emu, execution)
    failures = [e for e in events if e["type"] == "LambdaFunctionFailed"]
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failures] == ["Lambda.ServiceException"] * 2
    assert "Error Code: ServiceException" in failures[0]["lambdaFunctionFailedEventDetails"]["cause"]
    scheduled = _timestamps(events, "LambdaFunctionScheduled")
    assert len(scheduled) == 3
    first_gap, second_gap = scheduled[1] - scheduled[0], scheduled[2] - scheduled[1]
    assert 0.9 <= first_gap < 1.4 and 1.4 <= second_gap < 1.9


def test_the_functions_own_errors_are_retried_then_caught(emu, tmp_path):
    arn = create_function(emu, "flaky")
    retry = [{"ErrorEquals": ["Retryable.Aws"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2, "MaxDelaySeconds": 1, "JitterStrategy": "NONE"}]
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}]
    event = {"action": "flaky", "fail_times": 5, "key": "k", "dir": str(tmp_path)}
    definition = {"StartAt": "T", "States": {"T": task(arn, Parameters=event, Retry=retry, Catch=catch, Next="Handled"), "Handled": {"Type": "Pass", "End": True}}}
    execution, described = run(emu, definition)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["error"]["Error"] == "Retryable.Aws"
    assert json.loads(output["error"]["Cause"])["errorType"] == "Retryable.Aws"
    assert (tmp_path / "attempts-k").read_text() == "xxx"  # one try and two retries
    scheduled = _timestamps(history(emu, execution), "LambdaFunctionScheduled")
    assert scheduled[2] - scheduled[1] < 1.5  # 2 s of backoff capped at MaxDelaySeconds 1


def test_throttling_is_lambda_too_many_requests(emu):
    arn = create_function(emu, "throttled")
    emu.client("lambda").put_function_concurrency(FunctionName="throttled", ReservedConcurrentExecutions=0)
    _, described = run(emu, {"StartAt": "T", "States": {"T": task(arn, End=True)}})
    assert described["error"] == "Lambda.TooManyRequestsException"


def test_an_output_over_256_kib_is_data_limit_exceeded_and_not_caught_by_states_all(emu):
    arn = create_function(emu, "large")
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]
    definition = {"StartAt": "T", "States": {"T": task(arn, Parameters={"action": "big", "size": 300 * 1024}, Catch=catch, End=True), "Handled": {"Type": "Pass", "End": True}}}
    _, described = run(emu, definition)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    _, described = run(emu, {"StartAt": "T", "States": {"T": task(arn, Parameters={"action": "big", "size": 200 * 1024}, End=True)}})
    assert described["status"] == "SUCCEEDED"


def test_lambda_calls_are_made_as_the_state_machine_role(emu):
    arn = create_function(emu, "audited")
    run(emu, {"StartAt": "T", "States": {"T": task(arn, End=True)}})
    invokes = emu.requests(service="lambda", action="Invoke")
    assert invokes and {e["assumed_role"] for e in invokes} == {"arn:aws:iam::123456789012:role/sfn-role"}
    assert {e["source_key"] for e in invokes} == {"stepfunctions"}


@pytest.mark.parametrize(
    "definition, fragment",
    [
        ('{"StartAt": "A", "States": {', "INVALID_JSON_DESCRIPTION"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": true}}}', "SCHEMA_VALIDATION_FAILED"),
        (
            '{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": "${MaxConcurrency}", "ItemProcessor": '
            '{"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}',
            "SCHEMA_VALIDATION_FAILED",
        ),
        (
            '{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 2}, "ItemProcessor": '
            '{"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}',
            "ItemBatcher is valid on AWS but not supported by this emulator",
        ),
        (
            '{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"}, '
            '"Parameters": {"Bucket": "b", "Key": "k"}}, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, '
            '"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}',
            "InputType JSONL",
        ),
    ],
)
def test_invalid_definitions_are_refused(emu, definition, fragment):
    err = client_error(create_state_machine, emu, definition)
    assert error_code(err) == "InvalidDefinition"
    assert err.response["Error"]["Message"].startswith("Invalid State Machine Definition: '")
    assert fragment in err.response["Error"]["Message"]


def test_an_integer_tolerated_failure_percentage_is_accepted(emu):
    child = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailurePercentage": 10, "ItemProcessor": child, "End": True}}}
    arn = create_state_machine(emu, definition)
    sfn = emu.client("stepfunctions")
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == definition
    execution = sfn.start_execution(stateMachineArn=arn, input="[1, 2]")["executionArn"]
    assert json.loads(wait(emu, execution)["output"]) == [1, 2]
