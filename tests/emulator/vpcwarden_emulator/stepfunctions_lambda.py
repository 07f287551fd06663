"""Lambda tasks in Step Functions fail and answer as they do on AWS.

Both ways of calling a function (``"Resource": "<function ARN>"`` and
``"Resource": "arn:aws:states:::lambda:invoke"``) go through :func:`invoke`:

* a function error becomes the error named by the payload's ``errorType``, with the payload,
  as Lambda returned it, as the cause; a payload without ``errorType`` becomes
  ``Lambda.Unknown`` ("The cause could not be determined because Lambda did not return an
  error type. Returned payload: ...");
* a Lambda service error (throttling, an injected fault, an unknown function) becomes
  ``Lambda.<error code>`` (``Lambda.TooManyRequestsException``, ``Lambda.ServiceException``,
  ``Lambda.ResourceNotFoundException``, ...) with AWS's Java-SDK style cause, for the
  function-ARN form too (moto named it ``Exception``);
* ``lambda:invoke`` answers ``{"ExecutedVersion", "Payload", "SdkHttpMetadata",
  "SdkResponseMetadata", "StatusCode"}``; the function-ARN form answers the payload alone.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

UNKNOWN_CAUSE = "The cause could not be determined because Lambda did not return an error type. Returned payload: "


def _payload(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sdk_metadata(response: dict[str, Any], raw: bytes) -> dict[str, Any]:
    meta = response.get("ResponseMetadata", {})
    headers = meta.get("HTTPHeaders", {})
    request_id = meta.get("RequestId", "")
    http_headers = {
        "Connection": "keep-alive",
        "Content-Length": str(len(raw)),
        "Content-Type": "application/json",
        "Date": headers.get("date", ""),
        "X-Amz-Executed-Version": response.get("ExecutedVersion", "$LATEST"),
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
        "X-Amzn-Trace-Id": headers.get("x-amzn-trace-id", "root=1-00000000-000000000000000000000000;sampled=0"),
    }
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in http_headers.items()},
            "HttpHeaders": http_headers,
            "HttpStatusCode": meta.get("HTTPStatusCode", 200),
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def invoke(env: Any, parameters: dict[str, Any], region: str, state_credentials: Any) -> None:
    """Invokes the function and pushes the ``lambda:invoke`` output, or raises its error."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    client = lambda_eval_utils.boto_client_for(region=region, service="lambda", state_credentials=state_credentials)
    response = client.invoke(**parameters)
    raw = response["Payload"].read()
    if response.get("FunctionError"):
        raise lambda_eval_utils.LambdaFunctionErrorException(response["FunctionError"], raw.decode("utf-8", "replace"))
    output = {"ExecutedVersion": response.get("ExecutedVersion", "$LATEST"), "Payload": _payload(raw)}
    output.update(_sdk_metadata(response, raw))
    output["StatusCode"] = response.get("StatusCode", 200)
    env.stack.append(output)


def function_error(ex: Any) -> tuple[str, str]:
    """(error, cause) of a function error: its ``errorType``, or ``Lambda.Unknown``."""
    try:
        error_type = json.loads(ex.payload).get("errorType")
    except (ValueError, AttributeError):
        error_type = None
    if isinstance(error_type, str) and error_type:
        return error_type, ex.payload
    return "Lambda.Unknown", UNKNOWN_CAUSE + ex.payload


def service_error(ex: ClientError) -> tuple[str, str]:
    code = ex.response["Error"]["Code"]
    meta = ex.response.get("ResponseMetadata", {})
    details = "; ".join(
        [
            "Service: AWSLambda",
            f"Status Code: {meta.get('HTTPStatusCode')}",
            f"Error Code: {code}",
            f"Request ID: {meta.get('RequestId')}",
            "Proxy: null",
        ]
    )
    return f"Lambda.{code}", f"{ex.response['Error'].get('Message', '')} ({details})"


def _failure(env: Any, error: str, cause: str, event_type: Any, details_key: str, extra: dict[str, Any]) -> Any:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error),
        event_type=event_type,
        event_details=EventDetails(**{details_key: dict(error=error, cause=cause, **extra)}),
    )


def _error_cause(ex: Exception) -> tuple[str, str] | None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
        return function_error(ex)
    if isinstance(ex, ClientError):
        return service_error(ex)
    return None


def apply() -> None:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import StateTaskServiceLambda
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    moto_integration = lambda_eval_utils.execute_lambda_function_integration

    def execute_lambda_function_integration(env: Any, parameters: dict, region: str, state_credentials: Any) -> None:
        if env.is_mocked_mode():
            return moto_integration(env=env, parameters=parameters, region=region, state_credentials=state_credentials)
        invoke(env, parameters, region, state_credentials)

    lambda_eval_utils.execute_lambda_function_integration = execute_lambda_function_integration

    moto_task_error = StateTaskLambda._from_error
    moto_service_error = StateTaskServiceLambda._from_error

    def task_from_error(self: Any, env: Any, ex: Exception) -> Any:
        pair = _error_cause(ex)
        if pair is None:
            return moto_task_error(self, env, ex)
        return _failure(env, *pair, HistoryEventType.LambdaFunctionFailed, "lambdaFunctionFailedEventDetails", {})

    def service_from_error(self: Any, env: Any, ex: Exception) -> Any:
        pair = _error_cause(ex)
        if pair is None:
            return moto_service_error(self, env, ex)
        extra = {"resource": self._get_sfn_resource(), "resourceType": self._get_sfn_resource_type()}
        return _failure(env, *pair, HistoryEventType.TaskFailed, "taskFailedEventDetails", extra)

    StateTaskLambda._from_error = task_from_error  # type: ignore[method-assign]
    StateTaskServiceLambda._from_error = service_from_error  # type: ignore[method-assign]
