"""``ResultWriter`` exports a Distributed Map's child results to S3 as AWS does.

moto wrote only an empty ``manifest.json``.  With ``"Resource":
"arn:aws:states:::s3:putObject"`` and ``Parameters {"Bucket", "Prefix"}`` (or ``Bucket.$`` /
``Prefix.$``), this writes under ``<Prefix>/<map run id>/``:

* ``SUCCEEDED_0.json``: the succeeded child executions, ``FAILED_0.json``: the failed, timed
  out and aborted ones, ``PENDING_0.json``: the items never started because the run failed;
  each a JSON array of child execution results (``ExecutionArn``, ``Input``, ``Output`` or
  ``Error``/``Cause``, ``Status``, dates...) and only written when not empty;
* ``manifest.json``: ``{"DestinationBucket", "MapRunArn", "ResultFiles": {"FAILED": [...],
  "PENDING": [...], "SUCCEEDED": [...]}}`` with ``{"Key", "Size"}`` per file;

and the Map's result becomes ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``
(the manifest's key).  Results are written when the run fails too (then the Map still fails
with the run's error).  A write that fails fails the Map with ``States.ResultWriterFailed``.

Paths and intrinsic functions in ``Parameters`` (``"Prefix.$": "States.Format('runs/{}/map',
$.run_id)"``) are evaluated against the Map state's input, as on AWS: moto evaluated them
against the children's results, where such a path finds nothing (``States.Runtime``).
"""

from __future__ import annotations

import json
from typing import Any

from . import stepfunctions_map_run

STATUS_FILES = (("SUCCEEDED", ("SUCCEEDED",)), ("FAILED", ("FAILED", "TIMED_OUT", "ABORTED")), ("PENDING", ("PENDING",)))


def _writer_failure(env: Any, cause: str) -> Exception:
    return stepfunctions_map_run.map_run_failure(env, "StatesResultWriterFailed", cause)


def write_results(s3: Any, bucket: str, prefix: str, run: stepfunctions_map_run.MapRun) -> str:
    """Writes the result files and the manifest; returns the manifest's key."""
    map_run_arn = run.record.map_run_arn
    folder = f"{prefix}{map_run_arn.split(':')[-1]}/"
    files: dict[str, list[dict[str, Any]]] = {}
    for name, statuses in STATUS_FILES:
        entries = [run.entry(item) for item in run.items if item.status in statuses]
        files[name] = []
        if entries:
            key = f"{folder}{name}_0.json"
            body = json.dumps(entries).encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[name].append({"Key": key, "Size": len(body)})
    manifest = {
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": {"FAILED": files["FAILED"], "PENDING": files["PENDING"], "SUCCEEDED": files["SUCCEEDED"]},
    }
    manifest_key = folder + "manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())
    written = sum(1 for item in run.items if item.status != "PENDING")
    run.record.item_counter.results_written.count(written)
    run.record.execution_counter.results_written.count(written)
    return manifest_key


def handle_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """``ResourceEvalS3._handle_put_object`` of the ResultWriter."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
        ResourceEvalS3,
    )

    parameters = env.stack.pop()
    env.stack.pop()  # the Map's results: they are exported, not returned
    record = env.map_run_record_pool_manager.get_all()[-1]
    run = getattr(record, "vpcwarden_run", None)
    if run is None:
        run = stepfunctions_map_run.MapRun(record, [], stepfunctions_map_run.Tolerance())
    bucket = parameters["Bucket"]
    prefix = parameters.get("Prefix", "") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
    try:
        key = write_results(s3, bucket, prefix, run)
    except ClientError as exc:
        raise _writer_failure(env, f"An error occurred while writing results to bucket {bucket}: {exc}") from None
    env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})


def eval_result_writer(self: Any, env: Any) -> None:
    """``ResultWriter._eval_body``: ``Parameters`` read the state's input, not the results."""
    results = env.stack.pop()
    env.stack.append(env.states.get_input())
    try:
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
    finally:
        env.stack.pop()  # the state input
    env.stack.append(results)
    env.stack.append(parameters)
    self.resource_eval.eval_resource(env=env)


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import ResultWriter
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
        ResourceEvalS3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

    ResourceEvalS3._handle_put_object = staticmethod(handle_put_object)  # type: ignore[method-assign]
    ResultWriter._eval_body = eval_result_writer  # type: ignore[method-assign]
    moto_eval_execution = StateMap._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        stepfunctions_map_run._current.tolerance_specified = getattr(self, "tolerance_specified", (False, False))
        before = {r.map_run_arn for r in env.map_run_record_pool_manager.get_all()}
        try:
            moto_eval_execution(self, env)
        except FailureEventException:
            if self.result_writer is not None:
                _export_failed_run(self, env, before)
            raise

    StateMap._eval_execution = eval_execution  # type: ignore[method-assign]


def _export_failed_run(state: Any, env: Any, before: set[str]) -> None:
    """A failed run's results are exported too; the Map then fails with the run's error."""
    records = [r for r in env.map_run_record_pool_manager.get_all() if r.map_run_arn not in before]
    if not records or getattr(records[-1], "vpcwarden_run", None) is None:
        return
    env.stack.append(None)
    try:
        state.result_writer.eval(env)
        env.stack.pop()
    except Exception:  # noqa: BLE001 - the run's own error is the one to report
        pass
