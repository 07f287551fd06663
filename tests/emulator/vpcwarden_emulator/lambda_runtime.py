"""Execution environments of every function, their concurrency, and throttling.

Environments are kept per function version (account, region, name, version).  An invocation
takes the most recently used idle environment of its function, or starts a new one (one
``bootstrap`` process per concurrent execution), as Lambda scales:

* a function with reserved concurrency never runs more than that many at once; past it the
  invocation is throttled (``TooManyRequestsException``, Reason
  ``ReservedFunctionConcurrentInvocationLimitExceeded``);
* the emulator as a whole runs at most ``max_environments`` processes (the stand-in for the
  account's concurrency limit; default 16, ``VPCWARDEN_LAMBDA_MAX_ENVIRONMENTS``): at the cap
  the least recently used idle environment of any function is stopped to make room, and if
  none is idle the invocation is throttled (Reason ``ConcurrentInvocationLimitExceeded``).

Idle environments stay warm until their function changes (code or configuration: a new
revision), is deleted, or moto is reset; dead ones are replaced on the next invocation.
This module knows nothing of moto: ``lambda_functions`` describes each function to it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .lambda_environment import EnvironmentSpec, ExecutionEnvironment, Invocation, InvocationResult
from .lambda_process import LogFile, Spawner

DEFAULT_MAX_ENVIRONMENTS = 16
PROVIDED_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
# How long an asynchronous (Event) invocation waits for capacity before it is dropped.
ASYNC_THROTTLE_WAIT_SECONDS = 60.0

PoolKey = tuple[str, str, str, str]  # account, region, function name, version


class Throttled(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FunctionRef:
    """What the runtime needs to know about one invocation's function version."""

    key: PoolKey
    arn: str
    revision: str  # changes with the code or the configuration
    timeout: float
    reserved_concurrency: int | None
    make_spec: Callable[[str], EnvironmentSpec]  # environment id -> spec (assumes the role)
    # Called with the spec of the environment chosen for each invocation.
    on_environment: Callable[[EnvironmentSpec], None] | None = None


@dataclass
class FunctionPool:
    key: PoolKey
    log: LogFile
    revision: str = ""
    envs: list[ExecutionEnvironment] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)
    invocations: int = 0
    errors: int = 0
    throttles: int = 0


class LambdaRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[PoolKey, FunctionPool] = {}
        self._logs: dict[tuple[str, str, str], LogFile] = {}
        self._ids = itertools.count(1)
        self._spawner: Spawner | None = None
        self._own_dir: str | None = None
        self.work_dir: str | None = None
        self.endpoint_url: str | None = None
        self.max_environments = int(os.environ.get("VPCWARDEN_LAMBDA_MAX_ENVIRONMENTS", DEFAULT_MAX_ENVIRONMENTS))

    # -- configuration ------------------------------------------------------
    def configure(self, work_dir: str | None = None, endpoint_url: str | None = None, max_environments: int | None = None) -> None:
        if work_dir:
            os.makedirs(work_dir, exist_ok=True)
            self.work_dir = work_dir
        if endpoint_url:
            self.endpoint_url = endpoint_url
        if max_environments is not None:
            if int(max_environments) < 1:
                raise ValueError("max_environments must be at least 1")
            self.max_environments = int(max_environments)

    def directory(self, *parts: str) -> str:
        """A directory under the work dir (a temporary one unless configured)."""
        if self.work_dir is None:
            self._own_dir = tempfile.mkdtemp(prefix="vpcwarden-emulator-lambda-")
            self.work_dir = self._own_dir
        path = os.path.join(self.work_dir, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def _log_for(self, key: PoolKey) -> LogFile:
        account, region, name, _ = key
        if (account, region, name) not in self._logs:
            path = os.path.join(self.directory("logs", account, region), f"{name}.log")
            self._logs[(account, region, name)] = LogFile(path)
        return self._logs[(account, region, name)]

    # -- invocation ---------------------------------------------------------
    def invoke(self, fn: FunctionRef, payload: bytes) -> InvocationResult:
        """Runs one synchronous invocation; raises :class:`Throttled` past the concurrency limits."""
        for _attempt in range(2):
            pool, env = self._acquire(fn)
            try:
                result = env.invoke(Invocation(payload, fn.arn, fn.timeout))
            finally:
                self._release(pool, env)
            if not result.undelivered:  # else the warm environment died idle: use a fresh one
                break
        with self._lock:
            pool.invocations += 1
            pool.errors += 1 if result.function_error else 0
        return result

    def invoke_async(self, fn: FunctionRef, payload: bytes) -> None:
        """An Event invocation: queued, run in the background, waiting out throttling a while."""

        def run() -> None:
            give_up = time.monotonic() + ASYNC_THROTTLE_WAIT_SECONDS
            while True:
                try:
                    self.invoke(fn, payload)
                    return
                except Throttled:
                    if time.monotonic() > give_up:
                        return
                    time.sleep(0.2)

        threading.Thread(target=run, name="lambda-async", daemon=True).start()

    def _acquire(self, fn: FunctionRef) -> tuple[FunctionPool, ExecutionEnvironment]:
        victims: list[ExecutionEnvironment] = []
        with self._lock:
            pool = self._pools.get(fn.key)
            if pool is None:
                pool = self._pools[fn.key] = FunctionPool(fn.key, self._log_for(fn.key))
            if pool.revision != fn.revision:
                victims += self._retire(pool)
                pool.revision = fn.revision
            victims += [e for e in pool.envs if e.dead and e.id not in pool.busy]
            pool.envs = [e for e in pool.envs if not (e.dead and e.id not in pool.busy)]
            idle = [e for e in pool.envs if e.id not in pool.busy]
            if idle:
                env = max(idle, key=lambda e: e.last_used)
                pool.busy.add(env.id)
                fresh = False
            else:
                victims += self._make_room(pool, fn)
                env = ExecutionEnvironment(f"env-{next(self._ids)}", None, self._spawner_(), pool.log)  # type: ignore[arg-type]
                pool.envs.append(env)
                pool.busy.add(env.id)
                fresh = True
        for victim in victims:
            victim.stop()
        if fresh:
            try:
                env.spec = fn.make_spec(env.id)
            except Exception:
                env.retire()  # never started: drop it
                self._release(pool, env)
                raise
            env.start()
        if fn.on_environment is not None:
            fn.on_environment(env.spec)
        return pool, env

    def _make_room(self, pool: FunctionPool, fn: FunctionRef) -> list[ExecutionEnvironment]:
        """Checks the limits for one more environment of ``pool`` (lock held)."""
        if fn.reserved_concurrency is not None and len(pool.busy) >= fn.reserved_concurrency:
            pool.throttles += 1
            raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        live = sum(len(p.envs) for p in self._pools.values())
        if live < self.max_environments:
            return []
        idle = [(e.last_used, e, p) for p in self._pools.values() for e in p.envs if e.id not in p.busy]
        if not idle:
            pool.throttles += 1
            raise Throttled("ConcurrentInvocationLimitExceeded")
        _, victim, owner = min(idle, key=lambda item: item[0])
        owner.envs.remove(victim)
        return [victim]

    def _release(self, pool: FunctionPool, env: ExecutionEnvironment) -> None:
        stop = False
        with self._lock:
            pool.busy.discard(env.id)
            if env.dead and env in pool.envs:
                pool.envs.remove(env)
                stop = True
        if stop:
            env.stop()

    def _retire(self, pool: FunctionPool) -> list[ExecutionEnvironment]:
        """Drops a pool's idle environments; busy ones finish, then die with the old revision."""
        idle = [e for e in pool.envs if e.id not in pool.busy]
        for env in pool.envs:
            if env.id in pool.busy:
                env.retire()
        pool.envs = [e for e in pool.envs if e.id in pool.busy]
        return idle

    def _spawner_(self) -> Spawner:
        if self._spawner is None:
            self._spawner = Spawner()
        return self._spawner

    # -- administration -----------------------------------------------------
    def stop_function(self, account: str, region: str, name: str) -> None:
        with self._lock:
            keys = [k for k in self._pools if k[:3] == (account, region, name)]
            pools = [self._pools.pop(k) for k in keys]
        for pool in pools:
            for env in pool.envs:
                env.stop()

    def stop_region(self, account: str, region: str) -> None:
        """Stops the environments of every function of one account and region (moto reset)."""
        with self._lock:
            keys = [k for k in self._pools if k[:2] == (account, region)]
            pools = [self._pools.pop(k) for k in keys]
        for pool in pools:
            for env in pool.envs:
                env.stop()

    def stop_all(self) -> None:
        """Stops every environment (moto reset, emulator exit)."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            for env in pool.envs:
                env.stop()

    def shutdown(self) -> None:
        self.stop_all()
        with self._lock:
            for log in self._logs.values():
                log.close()
            self._logs.clear()
        if self._own_dir:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            pools = list(self._pools.values())
        functions = []
        for pool in pools:
            account, region, name, version = pool.key
            functions.append(
                {
                    "function_name": name,
                    "account": account,
                    "region": region,
                    "version": version,
                    "log_file": pool.log.path,
                    "invocations": pool.invocations,
                    "errors": pool.errors,
                    "throttles": pool.throttles,
                    "environments": [env.describe() for env in list(pool.envs)],
                }
            )
        return {"max_environments": self.max_environments, "work_dir": self.work_dir, "functions": functions}


RUNTIME = LambdaRuntime()
