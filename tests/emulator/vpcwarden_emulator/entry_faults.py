"""Entry-level failures of EventBridge PutEvents, the way AWS reports them.

PutEvents can succeed as a call while some of its entries fail: the answer has HTTP 200,
``FailedEntryCount`` > 0, and each failed entry an ``ErrorCode`` and ``ErrorMessage`` instead
of an ``EventId``. Such an event is never delivered, so a client that does not resend the
failed entries loses them. An ``entries_fraction`` fault rule makes that happen: the entries it
picks (one seeded draw per entry) are taken out of the request before moto sees it, so no rule
or target receives them, and are put back, failed, at their places in moto's answer.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable

# moto's own limit (and AWS's): a longer request is refused whole, so it is left alone.
MAX_ENTRIES = 10


@dataclass
class EntryPlan:
    """Which entries of one PutEvents call fail, and how."""

    total: int
    failed: list[int] = field(default_factory=list)
    code: str = "InternalFailure"
    message: str = ""

    def merge(self, answer: bytes) -> bytes:
        """moto's answer for the entries it saw -> the answer for every entry, in order."""
        doc = json.loads(answer)
        passed = iter(doc.get("Entries", []))
        failed = set(self.failed)
        entries = [
            {"ErrorCode": self.code, "ErrorMessage": self.message} if i in failed else next(passed)
            for i in range(self.total)
        ]
        doc["Entries"] = entries
        doc["FailedEntryCount"] = sum(1 for e in entries if "ErrorCode" in e)
        return json.dumps(doc).encode("utf-8")


def plan(environ: dict[str, Any], fails: Callable[[], bool], code: str, message: str) -> EntryPlan | None:
    """Picks the failing entries and removes them from the request body (in ``environ``).

    None when the body is not a PutEvents request moto would accept as a whole (not JSON, no
    list of entries, more than MAX_ENTRIES): the call then goes to moto untouched.
    """
    raw = _read_body(environ)
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    entries = doc.get("Entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_ENTRIES:
        return None
    result = EntryPlan(total=len(entries), code=code, message=message)
    result.failed = [i for i in range(len(entries)) if fails()]
    failed = set(result.failed)
    doc["Entries"] = [e for i, e in enumerate(entries) if i not in failed]
    _replace_body(environ, json.dumps(doc).encode("utf-8"))
    return result


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = environ["wsgi.input"].read(length)
    elif environ.get("wsgi.input_terminated"):
        body = environ["wsgi.input"].read()
    else:
        body = b""
    _replace_body(environ, body)
    return body


def _replace_body(environ: dict[str, Any], body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
