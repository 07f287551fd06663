"""WSGI middleware in front of moto's DomainDispatcherApplication.

* ``/vpcwarden-api/...``: the admin API (faults, request log, clock).
* ``/moto-api/...``: passed to moto unchanged and not logged.
* everything else is an AWS API call: identified, checked against the fault
  rules, passed to moto (unless a fault answers it) and recorded.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import admin_extensions, clock
from .faults import FaultRegistry, RuleError, protocol_for, render_error
from .requestlog import RequestLog, identify

ADMIN_PREFIX = "/vpcwarden-api"

StartResponse = Callable[..., Any]


class VpcwardenMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.faults = FaultRegistry()
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

        decision = self.faults.decide(info.service, info.action)
        if decision is not None:
            if decision.delay_ms:
                time.sleep(decision.delay_ms / 1000.0)
                entry["delay_ms"] = decision.delay_ms
            if decision.error is not None:
                protocol = protocol_for(info.service, info.content_type)
                status, headers, body = render_error(
                    protocol,
                    info.service,
                    decision.error,
                    decision.rule.status,
                    decision.message,
                )
                entry.update(status=status, fault=True, fault_id=decision.rule.id)
                self.requests.record(entry)
                headers.append(("Content-Length", str(len(body))))
                start_response(f"{status} {_reason(status)}", headers)
                return [body]

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            try:
                entry["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                pass
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, recording_start_response)
        except Exception:
            entry["status"] = 500
            self.requests.record(entry)
            raise
        result = self.requests.observe(entry, result)
        entry["ms"] = round((time.time() - entry["at"]) * 1000.0, 3)
        self.requests.record(entry)
        return result

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
        elif path == "/reset" and method == "POST":
            self.faults.clear(counters=True)
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
