"""Sections of the admin API (``/vpcwarden-api/<section>``) that other modules add, and a
handle on the running middleware's request log.

The middleware routes its own paths (faults, requests, clock, ...) and hands any other path
to :func:`route`, so a feature module (Lambda environments, for instance) can serve its own
admin section without the middleware knowing about it.  Modules that act on behalf of a
principal inside the emulator (a Lambda function's execution role) register the temporary
keys they hand out through :func:`register_assumed_key`, so the request log attributes the
calls made with them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

# handler(method, subpath, query, body) -> (status, payload); body is the parsed JSON body or {}.
Handler = Callable[[str, str, dict[str, str], Any], tuple[int, Any]]

_lock = threading.Lock()
_sections: dict[str, Handler] = {}
_request_log: Any = None


def register(section: str, handler: Handler) -> None:
    """Serve ``/vpcwarden-api/<section>`` and everything below it with ``handler``."""
    with _lock:
        _sections[section.strip("/")] = handler


def route(method: str, path: str, query: dict[str, str], body: Callable[[], Any]) -> tuple[int, Any] | None:
    """Answer ``path`` (relative to ``/vpcwarden-api``) if a section claims it, else None."""
    parts = path.strip("/").split("/", 1)
    with _lock:
        handler = _sections.get(parts[0])
    if handler is None:
        return None
    subpath = "/" + parts[1] if len(parts) > 1 else ""
    return handler(method, subpath, query, body() if method in ("POST", "PUT") else {})


def attach_request_log(log: Any) -> None:
    """Called by the middleware with its :class:`~.requestlog.RequestLog`."""
    global _request_log
    _request_log = log


def register_assumed_key(access_key: str, source_key: str, role_arn: str | None) -> None:
    """Attribute calls signed with ``access_key`` to ``source_key`` acting as ``role_arn``."""
    log = _request_log
    if log is not None:
        log.register_assumed(access_key, source_key, role_arn)
