"""Distributed Map runs with AWS's failure tolerance, outputs and counts.

moto runs a Distributed Map's items but ignores ``ToleratedFailurePercentage`` and
``ToleratedFailureCount`` (a failed item becomes ``null`` and the Map always succeeds), and
recurses once per item in each worker.  This patch replaces the run (``_map_run``):

* at most ``MaxConcurrency`` items run at once (one worker thread each, looping);
* the run fails with ``States.ExceedToleratedFailureThreshold`` ("The specified tolerated
  failure threshold was exceeded") once the failed (or timed out, or aborted) items exceed
  ``ToleratedFailureCount``, or their share of all items exceeds
  ``ToleratedFailurePercentage``; with both, either; with neither, any failure.  Once
  exceeded no further item starts (they stay PENDING) and the run fails when the running
  ones end;
* within the threshold the Map succeeds; its output lists, in item order, each succeeded
  item's output and, for each failed item, its child execution result unchanged (as with
  ``Transformation: NONE``: ``Error``, ``Cause``, ``ExecutionArn``, ``Input``, ``Status``...);
* DescribeMapRun counts items and child executions by status;
* an ItemReader that cannot read or parse its object fails with ``States.ItemReaderFailed``.

Each item's record (input after ``ItemSelector``, status, output or error, dates) is kept on
the Map Run so that ``stepfunctions_result_writer`` can export it.
"""

from __future__ import annotations

import datetime
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"
FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
# Worker threads of one Map Run when MaxConcurrency is 0 (AWS allows 10,000 child executions).
MAX_WORKERS = 1000

_current = threading.local()


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z" if moment else None


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.timezone.utc)


@dataclass
class Tolerance:
    count: int | None = None
    percentage: float | None = None

    def exceeded(self, failed: int, total: int) -> bool:
        if self.count is None and self.percentage is None:
            return failed > 0
        if self.count is not None and failed > self.count:
            return True
        return self.percentage is not None and total > 0 and failed * 100.0 / total > self.percentage


@dataclass
class ItemRecord:
    index: int
    value: Any
    name: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "PENDING"
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start: datetime.datetime | None = None
    stop: datetime.datetime | None = None


class MapRun:
    """The items of one Map Run and what became of each."""

    def __init__(self, record: Any, items: list[Any], tolerance: Tolerance) -> None:
        self.record = record
        self.items = [ItemRecord(i, v) for i, v in enumerate(items)]
        self.tolerance = tolerance
        self.failed = 0
        self.exceeded = False
        self.crash: BaseException | None = None
        self._next = 0
        self._lock = threading.Lock()
        for counter in (record.item_counter, record.execution_counter):
            counter.pending.count(len(items))
            counter.total.count(len(items))

    def take(self) -> ItemRecord | None:
        with self._lock:
            if self.exceeded or self.crash is not None or self._next >= len(self.items):
                return None
            item = self.items[self._next]
            self._next += 1
            for counter in (self.record.item_counter, self.record.execution_counter):
                counter.pending.offset(-1)
                counter.running.count()
            return item

    def finish(self, item: ItemRecord) -> None:
        with self._lock:
            for counter in (self.record.item_counter, self.record.execution_counter):
                counter.running.offset(-1)
                {"SUCCEEDED": counter.succeeded, "TIMED_OUT": counter.timed_out, "ABORTED": counter.aborted}.get(
                    item.status, counter.failed
                ).count()
            if item.status in FAILED_STATUSES:
                self.failed += 1
                self.exceeded = self.exceeded or self.tolerance.exceeded(self.failed, len(self.items))

    def child_arn(self, item: ItemRecord) -> str:
        return f"{self.record.map_state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{item.name}"

    def entry(self, item: ItemRecord) -> dict[str, Any]:
        """The child execution's result as AWS exports it (Transformation NONE)."""
        entry: dict[str, Any] = {}
        if item.status in FAILED_STATUSES:
            entry.update(Cause=item.cause or "", Error=item.error or "")
        entry.update(ExecutionArn=self.child_arn(item), Input=json.dumps(item.input if item.status != "PENDING" else item.value, separators=(",", ":")))
        entry.update(InputDetails={"Included": True}, Name=item.name)
        if item.status == "SUCCEEDED":
            entry["Output"] = json.dumps(item.output, separators=(",", ":"))
        entry["OutputDetails"] = {"Included": True}
        entry["RedriveCount"] = 0
        if item.status == "SUCCEEDED":
            entry.update(RedriveStatus="NOT_REDRIVABLE", RedriveStatusReason="Execution is SUCCEEDED and cannot be redriven")
        else:
            entry["RedriveStatus"] = "REDRIVABLE_BY_MAP_RUN"
        entry.update(StartDate=_iso(item.start), StateMachineArn=self.record.map_state_machine_arn, Status=item.status, StopDate=_iso(item.stop))
        return {k: v for k, v in entry.items() if v is not None}

    def outputs(self) -> list[Any]:
        """The Map's output without a ResultWriter (COMPACT, failed children unchanged)."""
        return [item.output if item.status == "SUCCEEDED" else self.entry(item) for item in self.items]


def _run_item(worker: Any, env: Any, program: Any, item: ItemRecord) -> None:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped, ProgramTimedOut
    from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData

    frame = env.open_inner_frame()
    item.start = _now()
    try:
        frame.states.context_object.context_object_data["Map"] = MapData(Item=ItemData(Index=item.index, Value=item.value))
        frame.states.reset(item.value)
        frame.stack.append(frame.states.get_input())
        worker._eval_input(env_frame=frame)  # ItemSelector / Parameters
        item.input = frame.states.get_input()
        program.eval(frame)
        state = frame.program_state()
        if isinstance(state, ProgramError):
            item.status, item.error, item.cause = "FAILED", state.error.get("error"), state.error.get("cause")
        elif isinstance(state, ProgramTimedOut):
            item.status, item.error = "TIMED_OUT", "States.Timeout"
        elif isinstance(state, ProgramStopped):
            item.status = "ABORTED"
        else:
            item.status, item.output = "SUCCEEDED", frame.states.get_input()
    except Exception as exc:  # noqa: BLE001 - an item's crash is that item's failure
        item.status, item.error, item.cause = "FAILED", "States.Runtime", str(exc)
    finally:
        item.stop = _now()
        env.delete_frame(frame)


def _work(worker: Any, env: Any, program: Any, run: MapRun) -> None:
    try:
        while (item := run.take()) is not None:
            _run_item(worker, env, program, item)
            run.finish(item)
    except BaseException as exc:  # noqa: BLE001 - reported by the run
        run.crash = exc


def map_run_failure(env: Any, error_type: str, cause: str) -> Exception:
    """The exception that fails a Map Run with ``States.<error_type>``."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error = getattr(StatesErrorNameType, error_type)
    details = MapRunFailedEventDetails(error=error.to_name(), cause=cause)
    event = FailureEvent(env, StatesErrorName(typ=error), HistoryEventType.MapRunFailed, EventDetails(mapRunFailedEventDetails=details))
    return FailureEventException(failure_event=event)


def _threshold_failure(env: Any) -> Exception:
    return map_run_failure(env, "StatesExceedToleratedFailureThreshold", THRESHOLD_CAUSE)


def map_run(self: Any, env: Any, eval_input: Any) -> None:
    """``DistributedIterationComponent._map_run``: runs the items, applies the tolerance."""
    items: list[Any] = env.stack.pop()
    record = eval_input.map_run_record
    count_set, percentage_set = getattr(_current, "tolerance_specified", (False, False))
    tolerance = Tolerance(
        eval_input.tolerated_failure_count if count_set else None,
        eval_input.tolerated_failure_percentage if percentage_set else None,
    )
    run = MapRun(record, items, tolerance)
    record.vpcwarden_run = run
    worker = self._create_worker(env=env, eval_input=eval_input, job_pool=None)
    program = self._get_iteration_program()
    workers = min(len(items), record.max_concurrency or MAX_WORKERS, MAX_WORKERS)
    threads = [threading.Thread(target=_work, args=(worker, env, program, run), daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if run.crash is not None:
        raise run.crash
    if run.exceeded:
        raise _threshold_failure(env)
    env.stack.append(run.outputs())


def _patch_item_reader() -> None:
    """An ItemReader that cannot read its items fails with ``States.ItemReaderFailed``
    (moto reported ``States.Runtime``): missing object or bucket, content that is not JSON."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.item_reader_decl import ItemReader

    moto_eval_body = ItemReader._eval_body

    def eval_body(self: Any, env: Any) -> None:
        try:
            moto_eval_body(self, env)
        except FailureEventException:
            raise
        except Exception as exc:  # noqa: BLE001 - any read or parse error
            raise map_run_failure(env, "StatesItemReaderFailed", f"Unable to read items from {self.resource.resource_arn}: {exc}") from None

    ItemReader._eval_body = eval_body  # type: ignore[method-assign]


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )

    DistributedIterationComponent._map_run = map_run  # type: ignore[method-assign]
    _patch_item_reader()
    moto_from_state_props = StateMap.from_state_props

    def from_state_props(self: Any, state_props: Any) -> None:
        moto_from_state_props(self, state_props)
        # The evaluated values cannot tell "0" from "not given"; the definition can.
        self.tolerance_specified = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )

    StateMap.from_state_props = from_state_props  # type: ignore[method-assign]
