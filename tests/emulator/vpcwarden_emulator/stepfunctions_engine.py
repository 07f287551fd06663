"""Step Functions executions are interpreted, with AWS's names, definitions and identities.

moto stores state machines and executions without running them unless its config says
``{"stepfunctions": {"execute_state_machine": true}}``; then ``StartExecution`` runs the
definition in moto's ASL interpreter (``moto.stepfunctions.parser``, derived from
LocalStack's).  :func:`apply` turns that on at start-up through moto's config API (the
in-process equivalent of ``POST /moto-api/config``) and corrects what differs from AWS:

* ``CreateStateMachine``/``UpdateStateMachine`` answer ``InvalidDefinition`` (moto's parser
  raised an error without a code), for JSON syntax errors and schema errors alike, and name
  the fields AWS accepts that this emulator does not run (``ItemBatcher``, ``WriterConfig``,
  ``ReaderConfig.InputType`` other than JSON or CSV) instead of a grammar error;
* an integer ``ToleratedFailurePercentage`` is accepted (moto's grammar wanted a decimal);
* an execution started without a name gets a UUID, not ``None``;
* DescribeMapRun/UpdateMapRun of an unknown Map Run answer ``ResourceNotFound``;
* ``States.ALL`` in Retry or Catch does not match ``States.DataLimitExceeded`` or
  ``States.Runtime``, as AWS documents;
* the interpreter's own AWS calls (Lambda, S3 for ItemReader/ResultWriter, ...) are signed
  with credentials of the state machine's role (moto STS), registered with the request log as
  ``source_key`` ``stepfunctions`` / ``assumed_role`` = the role, and land in the role's account.
"""

from __future__ import annotations

import importlib
import json
import threading
import uuid
from typing import Any

from moto.core.exceptions import AWSError

from . import admin_extensions

# Fields AWS accepts that the interpreter does not run: refused by name, never ignored.
UNSUPPORTED_FIELDS = ("ItemBatcher", "WriterConfig")
SUPPORTED_INPUT_TYPES = ("JSON", "CSV")
# Errors States.ALL does not match (AWS: "terminal errors").
TERMINAL_ERRORS = ("States.DataLimitExceeded", "States.Runtime")
_BOTO_CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.utils.boto_client",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
)


class InvalidDefinition(AWSError):
    TYPE = "InvalidDefinition"
    STATUS = 400


class ResourceNotFound(AWSError):
    TYPE = "ResourceNotFound"
    STATUS = 400


def enable_execution() -> None:
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.set_config({"stepfunctions": {"execute_state_machine": True}})


# -- definitions ------------------------------------------------------------------
def _walk(node: Any, path: str = ""):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def check_definition(definition: str) -> None:
    """Raises ``InvalidDefinition`` as AWS would, before moto's parser sees the text."""
    try:
        document = json.loads(definition)
    except ValueError as exc:
        raise InvalidDefinition(f"Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: {exc}'") from None
    for path, key, value in _walk(document):
        if key in UNSUPPORTED_FIELDS:
            raise InvalidDefinition(
                f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {key} at {path}' "
                f"({key} is valid on AWS but not supported by this emulator: see tests/emulator/README.md)"
            )
        if key == "InputType" and value not in SUPPORTED_INPUT_TYPES:
            raise InvalidDefinition(
                f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: InputType {value} at {path}' "
                f"(only {', '.join(SUPPORTED_INPUT_TYPES)} are supported by this emulator: see tests/emulator/README.md)"
            )


def normalise(definition: str) -> str:
    """The definition as moto's grammar accepts it (a decimal ToleratedFailurePercentage)."""
    try:
        document = json.loads(definition)
    except ValueError:
        return definition
    changed = False
    for _, key, _value in list(_walk(document)):
        changed = changed or key == "ToleratedFailurePercentage"
    if not changed:
        return definition

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: float(v) if k == "ToleratedFailurePercentage" and isinstance(v, int) and not isinstance(v, bool) else fix(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return json.dumps(fix(document))


def _validate_definition(definition: str) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    check_definition(definition)
    try:
        AmazonStateLanguageParser.parse(definition)
    except ASLParserException as exc:
        detail = "; ".join(exc.errors) or "invalid definition"
        raise InvalidDefinition(f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {detail}'") from None
    except Exception as exc:  # noqa: BLE001 - the preprocessor raises plain errors for bad values
        raise InvalidDefinition(f"Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {exc}'") from None


def _patch_parser() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    moto_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> Any:
        return moto_parse(normalise(definition))

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]
    StepFunctionsParserBackend._validate_definition = staticmethod(_validate_definition)  # type: ignore[method-assign]


def _patch_states_all() -> None:
    """``States.ALL`` matches every error but the terminal ones: ``States.DataLimitExceeded``
    and ``States.Runtime`` (moto's matched them too)."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl

    moto_eval_body = ErrorEqualsDecl._eval_body

    def eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        terminal = getattr(error_name, "error_name", None) in TERMINAL_ERRORS
        moto_eval_body(self, env)
        if terminal and ErrorEqualsDecl._STATE_ALL_ERROR in self.error_names:
            env.stack[-1] = False

    ErrorEqualsDecl._eval_body = eval_body  # type: ignore[method-assign]


def _patch_map_run_lookups() -> None:
    """DescribeMapRun/UpdateMapRun of an unknown ARN: ``ResourceNotFound`` (moto's had no code)."""
    from moto.stepfunctions.parser.api import ResourceNotFound as ParserResourceNotFound
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    for name in ("describe_map_run", "update_map_run"):
        moto_method = getattr(StepFunctionsParserBackend, name)

        def method(self: Any, *args: Any, _moto: Any = moto_method, **kwargs: Any) -> Any:
            try:
                return _moto(self, *args, **kwargs)
            except (ParserResourceNotFound, TypeError):  # moto builds its error without the message it needs
                raise ResourceNotFound("Map Run does not exist") from None

        setattr(StepFunctionsParserBackend, name, method)


def _patch_execution_names() -> None:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    moto_start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, trace_header: Any = None) -> Any:
        return moto_start(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]


# -- the interpreter's own AWS calls ------------------------------------------------
_credentials: dict[str, tuple[str, str, str]] = {}
_credentials_lock = threading.Lock()


def _role_credentials(role_arn: str, region: str) -> tuple[str, str, str] | None:
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else None
    if not account:
        return None
    backend = sts_backends[account][get_partition(region)]
    with _credentials_lock:
        cached = _credentials.get(role_arn)
        if cached and backend.get_assumed_role_from_access_key(cached[0]) is not None:
            return cached
        role = backend.assume_role(region_name=region, role_session_name="states", role_arn=role_arn, policy=None, duration=3600, external_id=None)  # type: ignore[arg-type]
        _credentials[role_arn] = (role.access_key_id, role.secret_access_key, role.session_token)
        admin_extensions.register_assumed_key(role.access_key_id, "stepfunctions", role_arn)
        return _credentials[role_arn]


_clients: dict[tuple[str, str, str], Any] = {}


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's ``boto_client_for`` with the role's credentials, and one client per role and
    service (clients are thread-safe; building one costs more than most calls it makes)."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber

    from .lambda_functions import endpoint_url

    role_arn = getattr(state_credentials, "role_arn", None)
    key, secret, token = (_role_credentials(role_arn, region) if role_arn else None) or ("ak", "sk", None)
    cache_key = (region, service, key)
    with _credentials_lock:
        client = _clients.get(cache_key)
    if client is None:
        kwargs = {} if botocore_stubber.enabled else {"endpoint_url": endpoint_url()}
        client = boto3.client(
            service_name=service,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(parameter_validation=False, retries={"total_max_attempts": 1}, connect_timeout=60, read_timeout=1000),
            **kwargs,
        )
        with _credentials_lock:
            _clients[cache_key] = client
    return client


def _patch_boto_clients() -> None:
    for name in _BOTO_CLIENT_USERS:
        setattr(importlib.import_module(name), "boto_client_for", boto_client_for)


def apply() -> None:
    enable_execution()
    _patch_parser()
    _patch_execution_names()
    _patch_map_run_lookups()
    _patch_states_all()
    _patch_boto_clients()
