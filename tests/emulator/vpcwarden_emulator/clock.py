"""A settable offset on moto's clock, for time-based state changes.

Only the emulator's own time-based behaviour reads it (a pending peering
connection expires 7 days after it was requested); it lets a test move time
forward with ``POST /vpcwarden-api/clock`` instead of waiting a week.
"""

from __future__ import annotations

import datetime
import threading

from moto.core.utils import utcnow

_lock = threading.Lock()
_offset = datetime.timedelta(0)


def now() -> datetime.datetime:
    return utcnow() + _offset


def advance(seconds: float) -> float:
    global _offset
    with _lock:
        _offset += datetime.timedelta(seconds=seconds)
        return _offset.total_seconds()


def reset() -> None:
    global _offset
    with _lock:
        _offset = datetime.timedelta(0)


def offset_seconds() -> float:
    return _offset.total_seconds()
