"""Execution environments: concurrency and reuse, throttling, the process environment,
reserved keys, the execution role's credentials in the request log, and clean-up."""

from __future__ import annotations

import json
import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor

from conftest import Emulator
from emulator_process import EmulatorProcess
from helpers import client_error, error_code, http_status
from lambda_helpers import create_function, execution_role, invoke, package, pid_gone

RESERVED_MESSAGE = (
    "Lambda was unable to configure your environment variables because the environment variables you have "
    "provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: "
)


def _concurrently(emu, name, events):
    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(lambda event: invoke(emu, name, event), events))


def test_concurrent_invocations_get_one_process_each_then_reuse_them(emu):
    create_function(emu, "wide")
    results = _concurrently(emu, "wide", [{"action": "sleep", "seconds": 0.8}] * 4)
    pids = {payload["pid"] for _, payload in results}
    assert len(pids) == 4
    environments = emu.admin("GET", "/lambda")["functions"][0]["environments"]
    assert sorted(env["pid"] for env in environments) == sorted(pids)
    assert {env["state"] for env in environments} == {"idle"}
    again = _concurrently(emu, "wide", [{"action": "sleep", "seconds": 0.2}] * 3)
    assert {payload["pid"] for _, payload in again} <= pids
    assert len(emu.admin("GET", "/lambda")["functions"][0]["environments"]) == 4


def test_reserved_concurrency_throttles_past_the_limit(emu):
    create_function(emu, "narrow")
    emu.client("lambda").put_function_concurrency(FunctionName="narrow", ReservedConcurrentExecutions=1)
    lam = emu.client("lambda")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(invoke, emu, "narrow", {"action": "sleep", "seconds": 1.5})
        import time

        time.sleep(0.5)
        err = client_error(lam.invoke, FunctionName="narrow", Payload=b"{}")
        assert slow.result()[0]["StatusCode"] == 200
    assert error_code(err) == "TooManyRequestsException"
    assert http_status(err) == 429
    assert err.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert emu.admin("GET", "/lambda")["functions"][0]["throttles"] == 1


def test_reserved_concurrency_zero_throttles_every_invocation(emu):
    create_function(emu, "off")
    emu.client("lambda").put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    err = client_error(emu.client("lambda").invoke, FunctionName="off", Payload=b"{}")
    assert error_code(err) == "TooManyRequestsException"


def test_emulator_cap_evicts_idle_environments_and_throttles_when_all_are_busy(emu):
    emu.admin("POST", "/lambda", {"max_environments": 2})
    try:
        create_function(emu, "a")
        create_function(emu, "b")
        _, first = invoke(emu, "a", {})
        invoke(emu, "b", {})
        invoke(emu, "b", {"action": "sleep", "seconds": 0})
        _concurrently(emu, "b", [{"action": "sleep", "seconds": 0.5}] * 2)  # evicts a's idle one
        assert pid_gone(first["pid"])
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(invoke, emu, "b", {"action": "sleep", "seconds": 1}) for _ in range(2)]
            import time

            time.sleep(0.4)
            err = client_error(emu.client("lambda").invoke, FunctionName="a", Payload=b"{}")
            [f.result() for f in futures]
        assert err.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    finally:
        emu.admin("POST", "/lambda", {"max_environments": 16})


def test_process_environment_is_lambdas(emu):
    arn = create_function(emu, "env", {"ALLOWLIST_TABLE": "allow", "TZ": "Europe/Paris"}, memory=256, timeout=7)
    _, env = invoke(emu, "env", {"action": "env"})
    assert env["ALLOWLIST_TABLE"] == "allow"
    assert env["TZ"] == "Europe/Paris"  # unreserved: the function's value wins
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_provided.al2023"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["_HANDLER"] == "bootstrap"
    assert os.path.isfile(os.path.join(env["LAMBDA_TASK_ROOT"], "bootstrap"))
    assert os.path.isdir(env["LAMBDA_RUNTIME_DIR"])
    assert env["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    assert env["LANG"] == "en_US.UTF-8"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_ENDPOINT_URL"] == emu.url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert "MOTO_EC2_LOAD_DEFAULT_AMIS" not in env  # nothing leaks from the emulator's own environment
    assert arn.endswith(":function:env")


def test_the_functions_own_endpoint_url_is_kept(emu):
    create_function(emu, "elsewhere", {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    _, env = invoke(emu, "elsewhere", {"action": "env"})
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


def test_reserved_keys_are_refused_at_create_and_update(emu):
    lam = emu.client("lambda")
    role = execution_role(emu)
    err = client_error(
        lam.create_function,
        FunctionName="bad",
        Runtime="provided.al2023",
        Handler="bootstrap",
        Role=role,
        Code={"ZipFile": package()},
        Environment={"Variables": {"OK": "1", "AWS_REGION": "eu-west-1"}},
    )
    assert error_code(err) == "InvalidParameterValueException"
    assert http_status(err) == 400
    assert err.response["Error"]["Message"] == RESERVED_MESSAGE + "AWS_REGION"
    create_function(emu, "good")
    err = client_error(
        lam.update_function_configuration,
        FunctionName="good",
        Environment={"Variables": {"AWS_ACCESS_KEY_ID": "x", "LAMBDA_TASK_ROOT": "/tmp"}},
    )
    assert err.response["Error"]["Message"] == RESERVED_MESSAGE + "AWS_ACCESS_KEY_ID, LAMBDA_TASK_ROOT"


def test_calls_made_by_the_function_are_attributed_to_its_execution_role(emu):
    create_function(emu, "caller")
    emu.call("DELETE", "/vpcwarden-api/requests")
    _, payload = invoke(emu, "caller", {"action": "call"})
    assert "<Arn>arn:aws:sts::123456789012:assumed-role/fn-role/caller</Arn>" in payload["identity"]
    calls = [e for e in emu.requests() if e["source_key"] == "lambda:caller"]
    assert {(e["service"], e["action"]) for e in calls} == {("sts", "GetCallerIdentity"), ("ec2", "DescribeVpcs")}
    assert {e["assumed_role"] for e in calls} == {"arn:aws:iam::123456789012:role/fn-role"}
    usage = emu.admin("GET", "/usage?source_key=lambda:caller")
    assert {u["action"] for u in usage} == {"GetCallerIdentity", "DescribeVpcs"}


def test_a_configuration_change_replaces_the_environments(emu):
    create_function(emu, "changing", {"V": "1"})
    _, before = invoke(emu, "changing", {"action": "env"})
    _, echo = invoke(emu, "changing", {})
    emu.client("lambda").update_function_configuration(FunctionName="changing", Environment={"Variables": {"V": "2"}})
    _, after = invoke(emu, "changing", {"action": "env"})
    assert (before["V"], after["V"]) == ("1", "2")
    assert pid_gone(echo["pid"])


def test_reset_and_delete_stop_the_processes(emu):
    create_function(emu, "doomed")
    create_function(emu, "deleted")
    _, doomed = invoke(emu, "doomed", {})
    _, deleted = invoke(emu, "deleted", {})
    emu.client("lambda").delete_function(FunctionName="deleted")
    assert pid_gone(deleted["pid"])
    emu.reset()
    assert pid_gone(doomed["pid"])
    assert emu.admin("GET", "/lambda")["functions"] == []


def test_other_runtimes_keep_motos_docker_path(emu):
    create_function(emu, "python", runtime="python3.12")
    resp, payload = invoke(emu, "python", {})
    assert emu.admin("GET", "/lambda")["functions"] == []
    assert resp.get("FunctionError") == "Handled"  # moto's answer when Docker cannot run it


def test_function_logs_go_to_a_file_and_to_cloudwatch(emu):
    create_function(emu, "logged")
    invoke(emu, "logged", {"marker": "m-1"})
    function = emu.admin("GET", "/lambda")["functions"][0]
    with open(function["log_file"]) as f:
        text = f.read()
    assert 'event {"marker": "m-1"}' in text and "REPORT RequestId:" in text
    logs = emu.client("logs")
    stream = function["environments"][0]["log_stream"]
    events = logs.get_log_events(logGroupName="/aws/lambda/logged", logStreamName=stream)["events"]
    assert any('"marker": "m-1"' in e["message"] for e in events)


def test_killing_the_emulator_kills_its_environments(tmp_path):
    """Even SIGKILL (no clean-up) leaves no bootstrap behind: they die with their parent."""
    process = EmulatorProcess(str(tmp_path / "emulator.log"), state_dir=tmp_path)
    try:
        emu = Emulator(process)
        create_function(emu, "orphan")
        _, payload = invoke(emu, "orphan", {})
        assert json.loads(json.dumps(payload))["pid"] > 0
        assert (tmp_path / "lambda" / "logs" / "123456789012" / "us-east-1" / "orphan.log").exists()
    finally:
        process.proc.send_signal(signal.SIGKILL)
        process.proc.wait(timeout=10)
        process.stop()
    assert pid_gone(payload["pid"])
