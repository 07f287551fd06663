"""Helpers for the Step Functions tests: state machines, executions, their histories."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

SFN_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def state_machine_role(emu: Any) -> str:
    iam = emu.client("iam")
    try:
        return str(iam.create_role(RoleName="sfn-role", AssumeRolePolicyDocument=SFN_TRUST)["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName="sfn-role")["Role"]["Arn"])


def create_state_machine(emu: Any, definition: dict[str, Any] | str, name: str | None = None) -> str:
    sfn = emu.client("stepfunctions")
    text = definition if isinstance(definition, str) else json.dumps(definition)
    arn = sfn.create_state_machine(name=name or f"sm-{uuid.uuid4().hex[:8]}", definition=text, roleArn=state_machine_role(emu))
    return str(arn["stateMachineArn"])


def run(emu: Any, definition: dict[str, Any], execution_input: Any = None, timeout: float = 60) -> tuple[str, dict[str, Any]]:
    """Starts an execution of a new state machine and waits for it: (ARN, DescribeExecution)."""
    sfn = emu.client("stepfunctions")
    arn = create_state_machine(emu, definition)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input if execution_input is not None else {}))
    return started["executionArn"], wait(emu, started["executionArn"], timeout)


def wait(emu: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    sfn = emu.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described  # type: ignore[no-any-return]
        time.sleep(0.1)


def history(emu: Any, execution_arn: str) -> list[dict[str, Any]]:
    sfn = emu.client("stepfunctions")
    return list(sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"])


def task(function_arn: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": function_arn, **fields}


def distributed_map(function_arn: str, **fields: Any) -> dict[str, Any]:
    """A Distributed Map whose child invokes the function with the item (or ItemSelector result)."""
    child = {"StartAt": "Invoke", "States": {"Invoke": task(function_arn, End=True)}}
    return {
        "Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **child},
        **fields,
    }


def s3_items(emu: Any, bucket: str, key: str, items: list[Any]) -> dict[str, Any]:
    """Writes the items as a JSON array and returns an ItemReader reading them."""
    s3 = emu.client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(items).encode())
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": bucket, "Key": key},
    }


def peak_concurrency(stamps_file: str) -> int:
    """The most invocations that were running at once, from the bootstrap's start/end stamps."""
    events = []
    with open(stamps_file) as f:
        for line in f:
            what, at, _pid = line.split()
            events.append((float(at), 1 if what == "start" else -1))
    peak = running = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        running += delta
        peak = max(peak, running)
    return peak
