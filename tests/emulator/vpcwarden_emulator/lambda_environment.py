"""One Lambda execution environment: a ``bootstrap`` process, its own Runtime API endpoint,
and the invocation it is serving.

An environment serves one invocation at a time.  :meth:`ExecutionEnvironment.invoke` hands
the event to the runtime (through ``/runtime/invocation/next``) and waits for the runtime's
answer, or for the process to exit, or for the function's ``Timeout`` to pass; each outcome
is answered with the payload Lambda answers it with:

* success: the bytes the runtime posted;
* a function error: the error document the runtime posted (``X-Amz-Function-Error: Unhandled``);
* an init error (``/runtime/init/error``): the document the runtime posted;
* the process exits: ``Runtime.ExitError`` with ``RequestId: <id> Error: Runtime exited with
  error: exit status N`` (or ``signal: killed`` ...), or ``... Runtime exited without providing
  a reason`` for exit status 0;
* the timeout passes: the process group is killed and the answer is ``Sandbox.Timedout`` with
  ``RequestId: <id> Error: Task timed out after N.NN seconds``.

An environment whose process ended (or was killed) is dead; the pool replaces it.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .lambda_process import LogFile, LogPump, Spawner, kill_group
from .lambda_runtime_api import RuntimeApiServer

# Lambda gives the Init phase 10 seconds before it times it out.
INIT_TIMEOUT_SECONDS = 10.0
# Go's names for signals, which is how Lambda reports a runtime killed by one.
_SIGNAL_NAMES = {
    1: "hangup", 2: "interrupt", 3: "quit", 4: "illegal instruction", 5: "trace/breakpoint trap",
    6: "aborted", 7: "bus error", 8: "floating point exception", 9: "killed", 11: "segmentation fault",
    13: "broken pipe", 15: "terminated",
}


def error_document(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()


def exit_reason(returncode: int) -> str:
    if returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        return "Runtime exited with error: signal: " + _SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
    return f"Runtime exited with error: exit status {returncode}"


def _trace_id() -> str:
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass
class InvocationResult:
    payload: bytes
    function_error: str | None = None  # "Unhandled" for any error, as Lambda reports today
    log: list[str] = field(default_factory=list)
    # True when the event never reached the runtime (the caller may retry on a fresh environment).
    undelivered: bool = False
    log_stream: str | None = None


class Invocation:
    def __init__(self, payload: bytes, function_arn: str, timeout: float) -> None:
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.function_arn = function_arn
        self.timeout = timeout
        self.trace_id = _trace_id()
        self.delivered_at: float | None = None  # monotonic
        self.deadline_ms = 0
        self.result: InvocationResult | None = None
        self.log: list[str] = []

    def runtime_headers(self) -> dict[str, str]:
        return {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }


@dataclass
class EnvironmentSpec:
    """Everything needed to start an environment of one function version."""

    function_name: str
    function_arn: str
    version: str
    memory_size: int
    timeout: float
    bootstrap: str
    task_root: str
    variables: dict[str, str]
    log_stream: str


class ExecutionEnvironment:
    """A bootstrap process with its own Runtime API server; serves one invocation at a time."""

    def __init__(self, env_id: str, spec: EnvironmentSpec, spawner: Spawner, log: LogFile) -> None:
        self.id = env_id
        self.spec = spec
        self._spawner = spawner
        self._log = log
        self._cond = threading.Condition()
        self._server: RuntimeApiServer | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pump: LogPump | None = None
        self._pending: Invocation | None = None
        self._current: Invocation | None = None
        self._init_error: tuple[bytes, str | None] | None = None
        self._stopping = False
        self.retired = False
        self.start_error: OSError | None = None
        self.initialized = False
        self.returncode: int | None = None
        self.started_at = time.time()
        self.last_used = time.monotonic()
        self.init_ms: float | None = None
        self.invocations = 0
        self.errors = 0

    # -- lifecycle ---------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def dead(self) -> bool:
        return self.returncode is not None or self._stopping or self.retired

    def retire(self) -> None:
        """Its function changed: stop it once the current invocation ends."""
        self.retired = True

    def start(self) -> None:
        self._server = RuntimeApiServer(self)
        self._server.start()
        env = dict(self.spec.variables, AWS_LAMBDA_RUNTIME_API=self._server.address)
        self._started_monotonic = time.monotonic()
        try:
            self._proc = self._spawner.spawn(args=[self.spec.bootstrap], cwd=self.spec.task_root, env=env)
        except OSError as exc:  # missing, not executable, wrong architecture...
            self.start_error = exc
            self._stopping = True
            self._server.stop()
            return
        assert self._proc.stdout is not None
        self._pump = LogPump(self._proc.stdout, self._log.write, self._on_output)
        threading.Thread(target=self._watch, name=f"lambda-env-{self.id}", daemon=True).start()

    def _watch(self) -> None:
        assert self._proc is not None
        code = self._proc.wait()
        with self._cond:
            self.returncode = code
            self._stopping = True  # also releases a /next long-poll still waiting
            self._cond.notify_all()
        if self._server is not None:
            self._server.stop()

    def stop(self) -> None:
        """Kills the process group and closes the Runtime API endpoint."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._proc is not None:
            kill_group(self._proc)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if self._pump is not None:
                self._pump.join(1.0)
        elif self._server is not None:
            self._server.stop()

    def _on_output(self, line: bytes) -> None:
        current = self._current
        if current is not None:
            current.log.append(line.decode("utf-8", "replace").rstrip("\n"))

    def _platform_log(self, invocation: Invocation | None, line: str) -> None:
        self._log.write(line.encode())
        if invocation is not None:
            invocation.log.append(line)

    # -- Runtime API backend ------------------------------------------------
    def next_invocation(self) -> Invocation | None:
        with self._cond:
            if not self.initialized:
                self.initialized = True
                self.init_ms = (time.monotonic() - self._started_monotonic) * 1000.0
            while self._pending is None and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            invocation, self._pending = self._pending, None
            invocation.delivered_at = time.monotonic()
            invocation.deadline_ms = int((time.time() + invocation.timeout) * 1000)
            self._current = invocation
            self._platform_log(invocation, f"START RequestId: {invocation.request_id} Version: {self.spec.version}")
            return invocation

    def _finish(self, request_id: str, result: InvocationResult) -> bool:
        with self._cond:
            current = self._current
            if current is None or current.request_id != request_id or current.result is not None:
                return False
            if self._pump is not None:
                # What the function printed before answering belongs to this invocation.
                self._pump.drain()
            current.result = result
            self._current = None
            self._cond.notify_all()
            return True

    def post_response(self, request_id: str, body: bytes) -> bool:
        return self._finish(request_id, InvocationResult(body))

    def post_error(self, request_id: str, body: bytes, error_type: str | None) -> bool:
        return self._finish(request_id, InvocationResult(body or error_document(error_type or "Unhandled", ""), "Unhandled"))

    def post_init_error(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            self._init_error = (body, error_type)
            self._cond.notify_all()

    # -- invocation ---------------------------------------------------------
    def invoke(self, invocation: Invocation) -> InvocationResult:
        """Runs one invocation to its end (the caller reserved this environment for it)."""
        self.last_used = time.monotonic()
        if self.start_error is not None:
            self.invocations += 1
            self.errors += 1
            return self._invalid_entrypoint(invocation, self.start_error)
        with self._cond:
            self._pending = invocation
            self._cond.notify_all()
            init_deadline = time.monotonic() + INIT_TIMEOUT_SECONDS
            result = self._await(invocation, init_deadline)
        if result.function_error and result.undelivered is False:
            self.errors += 1
        self.invocations += 1
        self.last_used = time.monotonic()
        self._report(invocation, result)
        return result

    def _await(self, invocation: Invocation, init_deadline: float) -> InvocationResult:
        """Waits (holding the condition) for the first of: answer, exit, init error, timeout."""
        while True:
            if invocation.result is not None:
                return invocation.result
            now = time.monotonic()
            if self._init_error is not None and invocation.delivered_at is None:
                self._pending = None
                return self._init_failed(invocation)
            if self.returncode is not None or self._stopping:
                return self._exited(invocation)
            if invocation.delivered_at is not None:
                remaining = invocation.delivered_at + invocation.timeout - now
            elif self.initialized:
                remaining = 1.0  # handed out on the runtime's next poll
            else:
                remaining = init_deadline - now
            if remaining <= 0:
                return self._timed_out(invocation)
            self._cond.wait(min(remaining, 0.5))

    def _invalid_entrypoint(self, invocation: Invocation, exc: OSError) -> InvocationResult:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            reason = "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
        else:
            reason = f"fork/exec /var/task/bootstrap: {(exc.strerror or str(exc)).lower()}"
        message = f"RequestId: {invocation.request_id} Error: {reason}"
        self._platform_log(invocation, message)
        self._platform_log(invocation, "Runtime.InvalidEntrypoint")
        return InvocationResult(error_document("Runtime.InvalidEntrypoint", message), "Unhandled", log=list(invocation.log))

    def _init_failed(self, invocation: Invocation) -> InvocationResult:
        body, error_type = self._init_error or (b"", None)
        self._stopping = True
        self._kill_later()
        return InvocationResult(body or error_document(error_type or "Runtime.Unknown", ""), "Unhandled")

    def _exited(self, invocation: Invocation) -> InvocationResult:
        undelivered = invocation.delivered_at is None
        self._pending = None
        self._current = None
        code = self.returncode if self.returncode is not None else -9
        message = f"RequestId: {invocation.request_id} Error: {exit_reason(code)}"
        self._platform_log(invocation, message)
        self._platform_log(invocation, "Runtime.ExitError")
        # A warm environment that died between invocations never saw this event.
        return InvocationResult(error_document("Runtime.ExitError", message), "Unhandled", undelivered=undelivered and self.invocations > 0)

    def _timed_out(self, invocation: Invocation) -> InvocationResult:
        self._pending = None
        self._current = None
        self._stopping = True
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
        seconds = f"{invocation.timeout:.2f}"
        self._platform_log(invocation, f"{stamp} {invocation.request_id} Task timed out after {seconds} seconds")
        self._kill_later()
        message = f"RequestId: {invocation.request_id} Error: Task timed out after {seconds} seconds"
        return InvocationResult(error_document("Sandbox.Timedout", message), "Unhandled")

    def _kill_later(self) -> None:
        # Called with the condition held; killing waits for the process, so not here.
        threading.Thread(target=self.stop, daemon=True).start()

    def _report(self, invocation: Invocation, result: InvocationResult) -> None:
        if invocation.delivered_at is None:
            return
        duration = (time.monotonic() - invocation.delivered_at) * 1000.0
        self._platform_log(invocation, f"END RequestId: {invocation.request_id}")
        report = (
            f"REPORT RequestId: {invocation.request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration)} ms\tMemory Size: {self.spec.memory_size} MB\t"
            f"Max Memory Used: {self._max_memory_mb()} MB"
        )
        if self.invocations == 1 and self.init_ms is not None:
            report += f"\tInit Duration: {self.init_ms:.2f} ms"
        self._platform_log(invocation, report)
        result.log = list(invocation.log)
        result.log_stream = self.spec.log_stream

    def _max_memory_mb(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def describe(self) -> dict[str, Any]:
        state = "dead" if self.dead else ("busy" if self._current or self._pending else ("idle" if self.initialized else "initializing"))
        return {
            "id": self.id,
            "pid": self.pid,
            "state": state,
            "runtime_api": self._server.address if self._server else None,
            "invocations": self.invocations,
            "errors": self.errors,
            "returncode": self.returncode,
            "started_at": self.started_at,
            "log_stream": self.spec.log_stream,
        }
