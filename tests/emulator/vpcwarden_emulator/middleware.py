"""WSGI middleware in front of moto's DomainDispatcherApplication.

* ``/vpcwarden-api/...``: the admin API (faults, throttling, request log, clock, opt-in Regions).
* ``/moto-api/...``: passed to moto unchanged and not logged.
* everything else is an AWS API call: identified, checked against EC2's token
  buckets (when throttling is on), then against the fault rules, passed to moto
  (unless a bucket or a fault answers it; an entry-level PutEvents rule rewrites
  the request and the answer instead) and recorded.

Buckets come before faults because that is the order on AWS: a throttled request
is refused at the door and never processed, so no fault rule sees it (its
``matched`` does not move), while a request that fails for another reason was
admitted first and took its token like any other.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import admin_extensions, clock
from . import entry_faults
from .faults import (
    DEFAULT_ENTRY_ERROR,
    ENTRY_MESSAGES,
    Decision,
    FaultRegistry,
    RuleError,
    protocol_for,
    render_error,
)
from .requestlog import CallInfo, RequestLog, identify
from .throttling import Throttled, Throttling

ADMIN_PREFIX = "/vpcwarden-api"

StartResponse = Callable[..., Any]


class VpcwardenMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.faults = FaultRegistry()
        self.throttling = Throttling()
        self.requests = RequestLog()
        admin_extensions.attach_request_log(self.requests)

    # -- AWS calls ---------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        path = environ.get("PATH_INFO", "") or ""
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self.admin(environ, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self.app(environ, start_response)

        try:
            info = identify(environ)
        except Exception:  # noqa: BLE001 - never break a call because of the log
            return self.app(environ, start_response)
        entry: dict[str, Any] = {
            "service": info.service,
            "action": info.action,
            "account": info.account,
            "region": info.region,
            "status": None,
            "fault": False,
            # When the call arrived (Unix seconds) and how long the emulator took to answer it.
            "at": time.time(),
        }
        if info.params:
            entry["params"] = info.params
        self.requests.attribute(entry, info.access_key)

        if info.service == "ec2":
            refused = self.throttling.admit(info.account, info.region, info.action, info.query)
            if refused is not None:
                return self._throttled(entry, refused, start_response)

        decision = self.faults.decide(info.service, info.action, info.query)
        if decision is None:
            return self._forward(environ, start_response, entry)
        return self._fault(decision, info, environ, entry, start_response)

    def _fault(
        self,
        decision: Decision,
        info: CallInfo,
        environ: dict[str, Any],
        entry: dict[str, Any],
        start_response: StartResponse,
    ) -> Any:
        """A fault rule fired: its delay, then its error, its failed entries, or moto's answer."""
        if decision.delay_ms:
            time.sleep(decision.delay_ms / 1000.0)
            entry["delay_ms"] = decision.delay_ms
        if decision.entries_fraction is not None:
            return self._forward(environ, start_response, entry, self._fail_entries(environ, entry, decision))
        if decision.error is None:
            return self._forward(environ, start_response, entry)
        protocol = protocol_for(info.service, info.content_type)
        status, headers, body = render_error(
            protocol, info.service, decision.error, decision.rule.status, decision.message
        )
        entry.update(fault=True, fault_id=decision.rule.id)
        return self._answer(entry, status, headers, body, start_response)

    def _forward(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        entry: dict[str, Any],
        transform: Callable[[bytes], bytes] | None = None,
    ) -> Any:
        """Passes the call to moto and records it; ``transform`` rewrites a 200 answer's body."""
        held: list[tuple[str, list[tuple[str, str]], Any]] = []

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            try:
                entry["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                pass
            if transform is not None:
                held.append((status, headers, exc_info))  # sent once the body is rewritten
                return lambda data: None
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, recording_start_response)
            if transform is not None:
                result = _rewrite(result, held, transform, start_response)
        except Exception:
            entry["status"] = 500
            self.requests.record(entry)
            raise
        result = self.requests.observe(entry, result)
        entry["ms"] = round((time.time() - entry["at"]) * 1000.0, 3)
        self.requests.record(entry)
        return result

    def _fail_entries(
        self, environ: dict[str, Any], entry: dict[str, Any], decision: Decision
    ) -> Callable[[bytes], bytes] | None:
        """Takes the failing PutEvents entries out of the request; returns how to put them back
        into the answer (None when the request is left whole: see entry_faults.plan)."""
        code = decision.error or DEFAULT_ENTRY_ERROR
        message = decision.message or ENTRY_MESSAGES.get(code, code)
        plan = entry_faults.plan(environ, decision.fails_entry, code, message)
        if plan is None:
            return None
        entry.update(fault_id=decision.rule.id, failed_entries=len(plan.failed))
        self.faults.count_failed_entries(len(plan.failed))
        return plan.merge

    def _throttled(self, entry: dict[str, Any], refused: Throttled, start_response: StartResponse) -> Any:
        """EC2's answer to a call whose bucket is short: RequestLimitExceeded, HTTP 503."""
        status, headers, body = render_error("ec2", "ec2", "RequestLimitExceeded", 503)
        entry.update(fault=True, throttled=True, bucket=refused.bucket)
        return self._answer(entry, status, headers, body, start_response)

    def _answer(
        self,
        entry: dict[str, Any],
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        start_response: StartResponse,
    ) -> Any:
        """Answers a call without moto, and records it."""
        entry["status"] = status
        self.requests.record(entry)
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    # -- admin API ---------------------------------------------------------
    def admin(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")[len(ADMIN_PREFIX) :].rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            status, payload = self._route(method, path, query, environ)
        except (RuleError, ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
        body = json.dumps(payload, default=str).encode("utf-8")
        start_response(
            f"{status} {_reason(status)}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _route(
        self, method: str, path: str, query: dict[str, str], environ: dict[str, Any]
    ) -> tuple[int, Any]:
        if path == "/faults":
            if method == "POST":
                rule = self.faults.add(_json_body(environ))
                return 200, {"id": rule.id, "rule": rule.to_json()}
            if method == "GET":
                return 200, self.faults.snapshot()
            if method == "DELETE":
                self.faults.clear(counters=_truthy(query.get("counters")))
                return 200, self.faults.snapshot()
        elif path.startswith("/faults/"):
            if method == "DELETE":
                found = self.faults.remove(path[len("/faults/") :])
                return (200, {"deleted": True}) if found else (404, {"error": "no such rule"})
        elif path == "/throttling":
            if method == "POST":
                return 200, self.throttling.configure(_json_body(environ))
            if method == "GET":
                return 200, self.throttling.snapshot()
            if method == "DELETE":
                return 200, self.throttling.disable(counters=_truthy(query.get("counters")))
        elif path == "/requests":
            if method == "GET":
                return 200, self.requests.list(**query)
            if method == "DELETE":
                self.requests.clear()
                return 200, []
        elif path == "/usage" and method == "GET":
            return 200, self.requests.usage(**query)
        elif path == "/clock":
            if method == "POST":
                body = _json_body(environ)
                clock.advance(float(body.get("advance_seconds", 0)))
                return 200, {"offset_seconds": clock.offset_seconds()}
            if method == "GET":
                return 200, {"offset_seconds": clock.offset_seconds()}
            if method == "DELETE":
                clock.reset()
                return 200, {"offset_seconds": 0}
        elif path == "/regions":
            return _regions(method, query, environ)
        elif path == "/reset" and method == "POST":
            self.faults.clear(counters=True)
            self.throttling.reset()
            self.requests.reset()
            clock.reset()
            return 200, {"reset": True}
        elif path == "/gc":
            if method == "POST":
                # A full garbage collection now, so that the next caller does not pay for the
                # garbage of the last one (benchmarks call it before each program they time).
                started = time.time()
                collected = gc.collect()
                return 200, {"collected": collected, "ms": round((time.time() - started) * 1000.0, 3)}
        elif path in ("", "/health") and method == "GET":
            return 200, {"status": "ok"}
        else:
            routed = admin_extensions.route(method, path, query, lambda: _json_body(environ))
            if routed is not None:
                return routed
            return 404, {"error": f"unknown admin path {path!r}"}
        return 405, {"error": f"{method} not allowed on {path!r}"}


def _rewrite(
    result: Iterable[bytes],
    held: list[tuple[str, list[tuple[str, str]], Any]],
    transform: Callable[[bytes], bytes],
    start_response: StartResponse,
) -> list[bytes]:
    """Buffers an answer, rewrites its body if it is a 200, and only then starts the response."""
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close:
            close()
    status, headers, exc_info = held[-1]  # the app has started its response by now
    if status.startswith("200"):
        body = transform(body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
    start_response(status, headers, exc_info)
    return [body]


def _regions(method: str, query: dict[str, str], environ: dict[str, Any]) -> tuple[int, Any]:
    """Opt-in Regions per account: POST marks one opted-in or not, GET lists an account's Regions."""
    from .ec2_regions import regions_of, set_opt_in_status

    if method == "POST":
        body = _json_body(environ)
        missing = [k for k in ("account", "region", "opt_in_status") if not body.get(k)]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        set_opt_in_status(str(body["account"]), body["region"], body["opt_in_status"])
        return 200, {"account": str(body["account"]), "region": body["region"], "opt_in_status": body["opt_in_status"]}
    if method == "GET":
        if not query.get("account"):
            raise ValueError("missing ?account=")
        regions = regions_of(query["account"], query.get("partition", "aws"))
        return 200, [{"region": r["RegionName"], "opt_in_status": r["OptInStatus"]} for r in regions]
    return 405, {"error": f"{method} not allowed on '/regions'"}


def _json_body(environ: dict[str, Any]) -> Any:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON body: {exc}") from exc


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
