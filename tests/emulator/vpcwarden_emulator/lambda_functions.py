"""Lambda functions with an OS-only runtime run their ``bootstrap`` here, without Docker.

moto runs every function in Docker.  For ``Runtime`` ``provided``, ``provided.al2`` and
``provided.al2023`` (package type Zip) this patch runs the function as Lambda does instead:
the deployment package is unpacked once per code digest, and each execution environment is
one ``bootstrap`` process with its own Runtime API endpoint (see ``lambda_runtime``).  Other
runtimes keep moto's Docker path untouched.

The process gets the function's ``Environment.Variables`` and Lambda's defined variables,
with credentials of the execution role: the emulator assumes the role (moto STS, session
name = function name) and registers the temporary key with the request log, so calls the
function makes are logged with ``assumed_role`` = the role and ``source_key`` =
``lambda:<function-name>``.  One deliberate difference: ``AWS_ENDPOINT_URL`` is set to the
emulator's URL unless the function's environment sets it, so the function reaches the
emulator and not AWS.

``Invoke`` answers as Lambda does (``X-Amz-Executed-Version``, ``X-Amz-Function-Error``,
``X-Amz-Log-Result`` with ``LogType=Tail``; 202 for ``Event``, 204 for ``DryRun``; 429
``TooManyRequestsException`` when throttled).  ``CreateFunction`` and
``UpdateFunctionConfiguration`` refuse reserved environment variable keys as Lambda does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction

from . import admin_extensions
from .lambda_environment import EnvironmentSpec, InvocationResult
from .lambda_process import unpack_code
from .lambda_runtime import PROVIDED_RUNTIMES, RUNTIME, FunctionRef, Throttled

# Keys Lambda sets itself and refuses in Environment.Variables (TZ is no longer reserved).
RESERVED_KEYS = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)
# Lambda's values for variables a function may extend.
UNRESERVED_DEFAULTS = {"PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC"}
TAIL_BYTES = 4096


class TooManyRequestsException(LambdaClientError):
    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps({"Reason": reason, "Type": "User", "message": "Rate Exceeded."})


class InvalidRequestContentException(LambdaClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


def check_reserved_variables(environment: Any) -> None:
    variables = (environment or {}).get("Variables") or {}
    used = [key for key in variables if key in RESERVED_KEYS]
    if used:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            "Reserved keys used in this request: " + ", ".join(used)
        )


def runs_here(fn: LambdaFunction) -> bool:
    return fn.run_time in PROVIDED_RUNTIMES and fn.package_type == "Zip"


def _revision(fn: LambdaFunction) -> str:
    config = [fn.code_sha_256, fn.run_time, fn.handler, fn.role, fn.timeout, fn.memory_size, sorted(fn.environment_vars.items())]
    return hashlib.sha256(json.dumps(config, default=str).encode()).hexdigest()


def _assume_execution_role(fn: LambdaFunction) -> tuple[str, str, str]:
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    backend = sts_backends[fn.account_id][get_partition(fn.region)]
    role = backend.assume_role(
        region_name=fn.region,
        role_session_name=fn.function_name[:64],
        role_arn=fn.role,
        policy=None,  # type: ignore[arg-type]
        duration=3600,
        external_id=None,  # type: ignore[arg-type]
    )
    return role.access_key_id, role.secret_access_key, role.session_token


def _log_stream(fn: LambdaFunction) -> str:
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{fn.version}]{uuid.uuid4().hex}"


def _environment(fn: LambdaFunction, task_root: str, credentials: tuple[str, str, str], log_stream: str) -> dict[str, str]:
    runtime_dir = RUNTIME.directory("runtime")
    variables = dict(UNRESERVED_DEFAULTS)
    variables["LD_LIBRARY_PATH"] = f"/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{task_root}:{task_root}/lib:/opt/lib"
    variables["AWS_ENDPOINT_URL"] = endpoint_url()
    variables.update({k: str(v) for k, v in fn.environment_vars.items()})
    key, secret, token = credentials
    variables.update(
        {
            "_HANDLER": fn.handler or "",
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_SESSION_TOKEN": token,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": runtime_dir,
        }
    )
    return variables


def endpoint_url() -> str:
    """The emulator's own URL, as given to functions and to the Step Functions interpreter."""
    if RUNTIME.endpoint_url:
        return RUNTIME.endpoint_url
    from moto import settings

    return f"http://127.0.0.1:{settings.moto_server_port()}"


def _function_ref(fn: LambdaFunction) -> FunctionRef:
    source_key = f"lambda:{fn.function_name}"

    def make_spec(env_id: str) -> EnvironmentSpec:
        task_root = unpack_code(fn.code_bytes, fn.code_sha_256, RUNTIME.directory("code"))
        stream = _log_stream(fn)
        variables = _environment(fn, task_root, _assume_execution_role(fn), stream)
        return EnvironmentSpec(
            function_name=fn.function_name,
            function_arn=fn.function_arn,
            version=str(fn.version),
            memory_size=int(fn.memory_size),
            timeout=float(fn.timeout),
            bootstrap=os.path.join(task_root, "bootstrap"),
            task_root=task_root,
            variables=variables,
            log_stream=stream,
        )

    def on_environment(spec: EnvironmentSpec) -> None:
        # Registered for every invocation, so the mapping survives POST /vpcwarden-api/reset.
        admin_extensions.register_assumed_key(spec.variables["AWS_ACCESS_KEY_ID"], source_key, fn.role)

    reserved = fn.reserved_concurrency
    return FunctionRef(
        key=(fn.account_id, fn.region, fn.function_name, str(fn.version)),
        arn=fn.function_arn,
        revision=_revision(fn),
        timeout=float(fn.timeout),
        reserved_concurrency=None if reserved is None else int(reserved),
        make_spec=make_spec,
        on_environment=on_environment,
    )


def _payload(body: Any) -> bytes:
    raw = body.encode() if isinstance(body, str) else (body or b"")
    if not raw.strip():
        return b"{}"
    try:
        json.loads(raw)
    except ValueError as exc:
        raise InvalidRequestContentException(f"Could not parse request body into json: Could not parse payload into json: {exc}") from exc
    return raw


def _to_cloudwatch(fn: LambdaFunction, result: InvocationResult) -> None:
    if not result.log or not result.log_stream:
        return
    try:
        backend = fn.logs_backend
        backend.ensure_log_group(fn.logs_group_name)
        group = backend.groups[fn.logs_group_name]
        if result.log_stream not in group.streams:
            backend.create_log_stream(fn.logs_group_name, result.log_stream)
        now = int(time.time() * 1000)
        backend.put_log_events(fn.logs_group_name, result.log_stream, [{"timestamp": now, "message": line} for line in result.log])
    except Exception:  # noqa: BLE001 - logs are a convenience, never fail an invocation for them
        pass


def invoke(self: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
    """``LambdaFunction.invoke`` for OS-only runtimes; moto's own for everything else."""
    if not runs_here(self):
        return _moto_invoke(self, body, request_headers, response_headers)
    payload = _payload(body)
    response_headers["x-amz-executed-version"] = str(self.version)
    invocation_type = request_headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "DryRun":
        return b""
    ref = _function_ref(self)
    if invocation_type == "Event":
        RUNTIME.invoke_async(ref, payload)
        return b""
    try:
        result = RUNTIME.invoke(ref, payload)
    except Throttled as throttled:
        raise TooManyRequestsException(throttled.reason) from None
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if request_headers.get("X-Amz-Log-Type") == "Tail":
        tail = "\n".join(result.log).encode()[-TAIL_BYTES:] + b"\n"
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    _to_cloudwatch(self, result)
    return result.payload


_moto_invoke = LambdaFunction.invoke
_moto_create_function = LambdaBackend.create_function
_moto_update_configuration = LambdaFunction.update_configuration
_moto_delete_function = LambdaBackend.delete_function
_moto_reset = LambdaBackend.reset


def create_function(self: LambdaBackend, spec: dict[str, Any]) -> LambdaFunction:
    check_reserved_variables(spec.get("Environment"))
    return _moto_create_function(self, spec)


def update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
    if "Environment" in config_updates:
        check_reserved_variables(config_updates["Environment"])
    return _moto_update_configuration(self, config_updates)  # type: ignore[no-any-return]


def delete_function(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
    fn = self.get_function(function_name, qualifier)
    _moto_delete_function(self, function_name, qualifier)
    RUNTIME.stop_function(self.account_id, self.region_name, fn.function_name)


def reset(self: LambdaBackend) -> None:
    RUNTIME.stop_region(self.account_id, self.region_name)
    _moto_reset(self)


def admin(method: str, subpath: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
    """``GET /vpcwarden-api/lambda``: environments per function; ``POST`` sets
    ``max_environments``; ``DELETE`` stops every environment."""
    if subpath:
        return 404, {"error": f"unknown admin path /lambda{subpath}"}
    if method == "POST":
        RUNTIME.configure(max_environments=body.get("max_environments"))
    elif method == "DELETE":
        RUNTIME.stop_all()
    elif method != "GET":
        return 405, {"error": f"{method} not allowed on /lambda"}
    return 200, RUNTIME.snapshot()


def apply() -> None:
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaBackend.create_function = create_function  # type: ignore[method-assign]
    LambdaBackend.delete_function = delete_function  # type: ignore[method-assign]
    LambdaBackend.reset = reset  # type: ignore[method-assign]
    admin_extensions.register("lambda", admin)
