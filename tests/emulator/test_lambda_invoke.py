"""Invoke of provided.al2023 functions: each outcome answered as Lambda answers it."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from helpers import client_error, error_code, http_status
from lambda_helpers import create_function, invoke, package, pid_gone

REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_success_returns_the_runtime_response(emu):
    arn = create_function(emu, "ok")
    resp, payload = invoke(emu, "ok", {"a": 1, "headers": True}, LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert payload["event"] == {"a": 1, "headers": True}
    headers = payload["headers"]
    assert re.fullmatch(REQUEST_ID, headers["Lambda-Runtime-Aws-Request-Id"])
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == arn
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert time.time() * 1000 < deadline <= time.time() * 1000 + 10_000
    log = base64.b64decode(resp["LogResult"]).decode()
    request_id = headers["Lambda-Runtime-Aws-Request-Id"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert 'event {"a": 1, "headers": true}' in log
    assert f"END RequestId: {request_id}" in log
    assert re.search(rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB", log)


def test_function_error_is_unhandled_with_the_posted_document(emu):
    create_function(emu, "fails")
    resp, payload = invoke(emu, "fails", {"action": "fail", "error_type": "Retryable.Aws", "message": "throttled"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert payload == {"errorType": "Retryable.Aws", "errorMessage": "throttled", "stackTrace": ["bootstrap"]}
    # The environment survives a function error.
    _, first = invoke(emu, "fails", {})
    _, second = invoke(emu, "fails", {})
    assert first["pid"] == second["pid"]


def test_init_error_answers_the_posted_document_and_the_next_invoke_starts_again(emu):
    create_function(emu, "init-fails", {"INIT_ERROR": "missing ALLOWLIST_TABLE"})
    resp, payload = invoke(emu, "init-fails")
    assert resp["FunctionError"] == "Unhandled"
    assert payload == {"errorType": "Runtime.ConfigError", "errorMessage": "missing ALLOWLIST_TABLE"}
    before = emu.admin("GET", "/lambda")["functions"][0]
    resp, payload = invoke(emu, "init-fails")
    assert payload["errorType"] == "Runtime.ConfigError"
    after = emu.admin("GET", "/lambda")["functions"][0]
    assert after["invocations"] == before["invocations"] + 1
    assert all(env["state"] == "dead" or env["returncode"] is not None for env in after["environments"])


def test_exit_during_init_is_runtime_exit_error(emu):
    create_function(emu, "init-exits", {"INIT_EXIT": "3"})
    resp, payload = invoke(emu, "init-exits")
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert re.fullmatch(rf"RequestId: {REQUEST_ID} Error: Runtime exited with error: exit status 3", payload["errorMessage"])


@pytest.mark.parametrize(
    "event, reason",
    [
        ({"action": "exit", "code": 1}, "Runtime exited with error: exit status 1"),
        ({"action": "exit", "code": 0}, "Runtime exited without providing a reason"),
        ({"action": "kill"}, "Runtime exited with error: signal: killed"),
    ],
)
def test_crash_mid_invocation_is_runtime_exit_error_and_the_environment_is_replaced(emu, event, reason):
    create_function(emu, "crashes")
    _, first = invoke(emu, "crashes", {})
    resp, payload = invoke(emu, "crashes", event)
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert re.fullmatch(rf"RequestId: {REQUEST_ID} Error: {reason}", payload["errorMessage"])
    assert pid_gone(first["pid"])
    _, after = invoke(emu, "crashes", {})
    assert after["pid"] != first["pid"]


def test_timeout_kills_the_process_and_answers_sandbox_timedout(emu):
    create_function(emu, "slow", timeout=1)
    _, warm = invoke(emu, "slow", {})
    started = time.monotonic()
    resp, payload = invoke(emu, "slow", {"action": "sleep", "seconds": 30})
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 5
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(rf"RequestId: {REQUEST_ID} Error: Task timed out after 1\.00 seconds", payload["errorMessage"])
    assert pid_gone(warm["pid"])
    _, after = invoke(emu, "slow", {})
    assert after["pid"] != warm["pid"]


def test_missing_bootstrap_is_invalid_entrypoint(emu):
    create_function(emu, "no-bootstrap", code=package(name="handler.py"))
    resp, payload = invoke(emu, "no-bootstrap")
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.InvalidEntrypoint"
    assert payload["errorMessage"].endswith("Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")


def test_response_over_6_mb_is_function_response_size_too_large(emu):
    create_function(emu, "big")
    resp, payload = invoke(emu, "big", {"action": "big", "size": 7 * 1024 * 1024})
    assert resp["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"


def test_event_invocation_answers_202_and_runs_in_the_background(emu, tmp_path):
    create_function(emu, "async")
    lam = emu.client("lambda")
    resp = lam.invoke(FunctionName="async", InvocationType="Event", Payload=json.dumps({"action": "sleep", "seconds": 0, "dir": str(tmp_path)}))
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    deadline = time.monotonic() + 10
    while not (tmp_path / "stamps").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "stamps").read_text().startswith("start ")


def test_dry_run_answers_204_without_running(emu):
    create_function(emu, "dry")
    resp = emu.client("lambda").invoke(FunctionName="dry", InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert emu.admin("GET", "/lambda")["functions"] == []


def test_invalid_json_payload_is_refused(emu):
    create_function(emu, "json")
    err = client_error(emu.client("lambda").invoke, FunctionName="json", Payload=b"{not json")
    assert error_code(err) == "InvalidRequestContentException"
    assert http_status(err) == 400


def test_unknown_function_is_resource_not_found(emu):
    err = client_error(emu.client("lambda").invoke, FunctionName="nope", Payload=b"{}")
    assert error_code(err) == "ResourceNotFoundException"
