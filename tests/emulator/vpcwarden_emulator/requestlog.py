"""Identify AWS API calls (service, action, account, region) and record them."""

from __future__ import annotations

import gzip
import io
import os
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_ASSUMED_KEY = re.compile(rb"<AccessKeyId>\s*([^<\s]+)\s*</AccessKeyId>")
_ASSUMED_ARN = re.compile(rb"<AssumedRoleUser>.*?<Arn>\s*([^<\s]+)\s*</Arn>", re.S)
# Unsigned calls moto itself routes by action (moto_server/werkzeug_app.py).
_UNSIGNED_ACTIONS = {
    "AssumeRoleWithSAML": "sts",
    "AssumeRoleWithWebIdentity": "sts",
}
MAX_ENTRIES = 200_000


@dataclass
class CallInfo:
    service: str | None
    action: str | None
    region: str
    access_key: str | None
    account: str
    content_type: str
    # For sts:AssumeRole only: the session it asks for (RoleArn, RoleSessionName, DurationSeconds),
    # so tests can check sessions are named and as short as STS allows.
    params: dict[str, str] | None = None
    # Every query-protocol parameter of the call (form body, else query string); not logged.
    # EC2's throttling reads it: filters and pagination choose a bucket, instance ids count.
    query: dict[str, list[str]] = field(default_factory=dict)


_SESSION_PARAMS = ("RoleArn", "RoleSessionName", "DurationSeconds")


def _form_body(environ: dict[str, Any]) -> bytes:
    """Read a form-encoded body and put it back so moto can read it again."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        return b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if environ.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
        try:
            return gzip.decompress(body)
        except OSError:
            return b""
    return body


def _credential_scope(environ: dict[str, Any]) -> list[str] | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    if match:
        scope = match.group(1)
    else:  # presigned URL
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        values = qs.get("X-Amz-Credential")
        if not values:
            return None
        scope = values[0]
    parts = scope.split("/")
    return parts if len(parts) == 5 else None


# SigV4 signing name -> the botocore service models whose operations are signed with it, where
# the names differ (several APIs share "ses" and "es"). Any other signing name is its own model.
_BOTOCORE_NAMES = {
    "elasticloadbalancing": ("elbv2",),
    "ses": ("ses", "sesv2"),
    "es": ("es", "opensearch"),
    "elasticfilesystem": ("efs",),
    "mobiletargeting": ("pinpoint",),
}


def _rest_action(service: str | None, environ: dict[str, Any]) -> str:
    """Operation name for REST protocols via moto's router, else METHOD /path."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    for botocore_name in _BOTOCORE_NAMES.get(service or "", (service,) if service else ()):
        try:
            from moto.core.request import Request
            from moto.core.routing import get_service_router

            router = get_service_router(botocore_name)
            operation, _ = router.match(Request(dict(environ)))
            return str(operation.name)
        except Exception:  # noqa: BLE001 - unknown service or no route: try the next model
            continue
    return f"{method} {path}"


def _account_for(environ: dict[str, Any], access_key: str | None) -> str:
    # Same precedence as moto.core.responses.BaseResponse.get_current_account.
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key or "AKIAEXAMPLE")


def identify(environ: dict[str, Any]) -> CallInfo:
    content_type = environ.get("CONTENT_TYPE", "") or ""
    scope = _credential_scope(environ)
    access_key = service = None
    region = "us-east-1"
    if scope:
        access_key, _date, region, service, _ = scope
        service = service.lower()

    action = None
    params = None
    query: dict[str, list[str]] = {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = _form_body(environ)
        query = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in query:
            action = query["Action"][0]
        if action == "AssumeRole":
            params = {k: query[k][0] for k in _SESSION_PARAMS if k in query}
    if action is None:
        values = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in values:
            action = values["Action"][0]
            query = values
    if action is None and environ.get("HTTP_X_AMZ_TARGET"):
        # DynamoDB_20120810.PutItem -> PutItem
        action = environ["HTTP_X_AMZ_TARGET"].split(".")[-1]
    if service is None and action in _UNSIGNED_ACTIONS:
        service = _UNSIGNED_ACTIONS[action]
    if action is None:
        action = _rest_action(service, environ)

    return CallInfo(
        service=service,
        action=action,
        region=region,
        access_key=access_key,
        account=_account_for(environ, access_key),
        content_type=content_type,
        params=params,
        query=query,
    )


class RequestLog:
    """The log of AWS calls, and who made them.

    Each entry carries ``access_key`` (from the SigV4 credential scope) and ``source_key``: the
    key that started the chain, so a call made with temporary credentials from ``AssumeRole``
    is attributed to whoever assumed the role (``assumed_role`` names that role's ARN). The
    per-key usage (``usage()``: source key, assumed role, service, action, count) survives
    ``clear()`` (DELETE /requests) and is emptied only by ``reset()``, like the key mapping.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        # temporary access key id -> (source key, role ARN)
        self._assumed: dict[str, tuple[str, str | None]] = {}
        self._usage: dict[tuple[str, str | None, str | None, str | None], int] = {}

    def attribute(self, entry: dict[str, Any], access_key: str | None) -> None:
        """Adds ``access_key``, ``source_key`` and ``assumed_role`` to an entry."""
        with self._lock:
            source, role = self._assumed.get(access_key or "", (access_key, None))
        entry["access_key"] = access_key
        entry["source_key"] = source
        entry["assumed_role"] = role

    def register_assumed(self, access_key: str, source_key: str, role_arn: str | None) -> None:
        """Maps temporary keys handed out inside the emulator (a Lambda function's execution
        role) to who uses them, as a logged ``AssumeRole`` answer would."""
        with self._lock:
            self._assumed[access_key] = (source_key, role_arn)

    def observe(self, entry: dict[str, Any], result: Any) -> Any:
        """Called with the answer of every call; for a successful ``AssumeRole`` it reads the
        new temporary key id from the answer (buffering it) and maps it to the caller's source
        key. Returns the answer to send."""
        if entry.get("service") != "sts" or entry.get("action") != "AssumeRole" or entry.get("status") != 200:
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        key = _ASSUMED_KEY.search(body)
        if key and entry.get("source_key"):
            arn = _ASSUMED_ARN.search(body)
            role = _role_arn(arn.group(1).decode()) if arn else None
            with self._lock:
                self._assumed[key.group(1).decode()] = (entry["source_key"], role)
        return [body]

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            if entry.get("source_key"):
                k = (entry["source_key"], entry.get("assumed_role"), entry.get("service"), entry.get("action"))
                self._usage[k] = self._usage.get(k, 0) + 1

    def list(self, **filters: str) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries)
        for key, value in filters.items():
            entries = [e for e in entries if str(e.get(key)) == value]
        return entries

    def usage(self, **filters: str) -> list[dict[str, Any]]:
        with self._lock:
            items = sorted(self._usage.items(), key=lambda kv: tuple(x or "" for x in kv[0]))
        out = [
            {"source_key": s, "assumed_role": r, "service": svc, "action": a, "count": n}
            for (s, r, svc, a), n in items
        ]
        for key, value in filters.items():
            out = [u for u in out if str(u.get(key)) == value]
        return out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
            self._assumed.clear()
            self._usage.clear()


def _role_arn(assumed_arn: str) -> str:
    """arn:aws:sts::111:assumed-role/name/session -> arn:aws:iam::111:role/name"""
    m = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", assumed_arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else assumed_arn
