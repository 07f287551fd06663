"""A test ``bootstrap`` (a Python script implementing the Lambda Runtime API loop with
urllib) and helpers to deploy it as a ``provided.al2023`` function in the emulator.

The bootstrap's behaviour is chosen by the event (``{"action": ...}``) and, for the Init
phase, by environment variables, so one deployment package serves every test:

* ``echo`` (default): answers ``{"event", "pid", "function"}``;
* ``fail``: posts a function error of type ``error_type`` (default ``Retryable.Aws``);
* ``flaky``: fails with ``error_type`` until it has been called ``fail_times`` times for
  ``key`` (attempts are counted in files under ``dir``), then echoes;
* ``exit`` / ``kill``: the process exits with ``code`` / SIGKILLs itself mid-invocation;
* ``sleep``: sleeps ``seconds`` (recording start and end in ``dir`` if given), then echoes;
* ``env``: answers the process environment;
* ``call``: calls STS GetCallerIdentity and EC2 DescribeVpcs on ``AWS_ENDPOINT_URL`` with
  the process's own credentials and answers the STS reply;
* ``big``: answers a string of ``size`` bytes;
* ``plan``: writes ``scopes`` to ``s3://<bucket>/runs/<run_id>/scopes.json`` (with the
  function's credentials) and answers ``{"run_id", "scopes_key", "scope_count"}``;
* ``aggregate``: answers ``{"run_id", "scopes_audited": <audited>, "reports"}``;
* ``untyped`` (with ``fail``/``flaky``): the error document has no ``errorType``;
* ``INIT_ERROR`` set: posts ``/runtime/init/error`` and exits 1; ``INIT_EXIT`` set: exits
  with that code before polling.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from typing import Any

BOOTSTRAP = r'''
import json, os, signal, sys, time, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(API + path, data=data, method="POST", headers=headers or {})
    with urllib.request.urlopen(req) as resp:
        return resp.status


def sign(req, service):
    key = os.environ["AWS_ACCESS_KEY_ID"]
    region = os.environ["AWS_REGION"]
    req.add_header("X-Amz-Security-Token", os.environ["AWS_SESSION_TOKEN"])
    req.add_header("Authorization", f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0")
    return req


def put_object(bucket, key, document):
    url = os.environ["AWS_ENDPOINT_URL"] + f"/{bucket}/{key}"
    req = urllib.request.Request(url, data=json.dumps(document).encode(), method="PUT")
    req.add_header("Content-Type", "application/json")  # urllib's default (a form) would be parsed away
    sign(req, "s3")
    with urllib.request.urlopen(req) as resp:
        return resp.status


def call(service, body):
    req = urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/", data=body.encode(), method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    with urllib.request.urlopen(sign(req, service)) as resp:
        return resp.read().decode()


def count_attempt(event):
    path = os.path.join(event["dir"], "attempts-" + str(event["key"]))
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        return len(f.read())


def handle(event):
    action = event.get("action", "echo") if isinstance(event, dict) else "echo"
    if action == "fail":
        raise Failure(event.get("error_type", "Retryable.Aws"), event.get("message", "it failed"))
    if action == "flaky" and count_attempt(event) <= event["fail_times"]:
        raise Failure(event.get("error_type", "Retryable.Aws"), "attempt failed")
    if action == "exit":
        sys.stdout.flush()
        os._exit(event.get("code", 1))
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "sleep":
        stamp(event, "start")
        time.sleep(event["seconds"])
        stamp(event, "end")
    if action == "env":
        return dict(os.environ)
    if action == "call":
        ident = call("sts", "Action=GetCallerIdentity&Version=2011-06-15")
        call("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        return {"identity": ident}
    if action == "big":
        return "x" * event["size"]
    if action == "plan":
        key = f"runs/{event['run_id']}/scopes.json"
        put_object(event["bucket"], key, event["scopes"])
        return {"run_id": event["run_id"], "scopes_key": key, "scope_count": len(event["scopes"])}
    if action == "aggregate":
        return {"run_id": event["run_id"], "scopes_audited": event["audited"], "reports": {"json": "s3://" + event["bucket"] + "/report.json"}}
    return {"event": event, "pid": os.getpid(), "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}


def stamp(event, what):
    if event.get("dir"):
        with open(os.path.join(event["dir"], "stamps"), "a") as f:
            f.write(f"{what} {time.time()} {os.getpid()}\n")


class Failure(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


if os.environ.get("INIT_ERROR"):
    post("/init/error", {"errorType": "Runtime.ConfigError", "errorMessage": os.environ["INIT_ERROR"]},
         {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"})
    sys.exit(1)
if os.environ.get("INIT_EXIT"):
    sys.exit(int(os.environ["INIT_EXIT"]))
print("init", os.getpid(), flush=True)
while True:
    with urllib.request.urlopen(API + "/invocation/next") as resp:
        request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        HEADERS = dict(resp.headers)
        event = json.loads(resp.read() or b"null")
    print("event", json.dumps(event), flush=True)
    try:
        result = handle(event)
    except Failure as exc:
        doc = {"errorType": exc.error_type, "errorMessage": str(exc), "stackTrace": ["bootstrap"]}
        if event.get("untyped"):
            doc = {"errorMessage": str(exc)}
        post(f"/invocation/{request_id}/error", doc, {"Lambda-Runtime-Function-Error-Type": exc.error_type})
        continue
    if isinstance(result, dict) and event.get("headers"):
        result["headers"] = HEADERS
    post(f"/invocation/{request_id}/response", result)
'''

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def package(script: str | None = None, name: str = "bootstrap") -> bytes:
    """A zip holding an executable ``bootstrap`` run by this interpreter (the venv's)."""
    source = f"#!{sys.executable}\n" + (script if script is not None else BOOTSTRAP)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = 0o755 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


def execution_role(emu: Any, name: str = "fn-role") -> str:
    iam = emu.client("iam")
    try:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def create_function(
    emu: Any,
    name: str,
    variables: dict[str, str] | None = None,
    timeout: int = 10,
    memory: int = 128,
    code: bytes | None = None,
    runtime: str = "provided.al2023",
) -> str:
    lam = emu.client("lambda")
    config = lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Handler="bootstrap",
        Role=execution_role(emu),
        Code={"ZipFile": code if code is not None else package()},
        Timeout=timeout,
        MemorySize=memory,
        Environment={"Variables": variables or {}},
    )
    return str(config["FunctionArn"])


def invoke(emu: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    """Invoke and decode: (response without the stream, decoded JSON payload or raw bytes)."""
    lam = emu.client("lambda", config=_long_read())
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}).encode(), **kwargs)
    raw = resp.pop("Payload").read()
    try:
        return resp, json.loads(raw) if raw else None
    except ValueError:
        return resp, raw


def _long_read() -> Any:
    from botocore.config import Config

    return Config(read_timeout=120)


def pid_gone(pid: int, within: float = 5.0) -> bool:
    """True once ``pid`` no longer exists (the emulator reaps what it kills)."""
    import os

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
