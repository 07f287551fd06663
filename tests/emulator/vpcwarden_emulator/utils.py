"""Filtering and pagination with EC2's documented semantics."""

from __future__ import annotations

import base64
import datetime
import fnmatch
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from moto.ec2.exceptions import EC2ClientError, InvalidNextToken
from moto.ec2.utils import format_timestamp

T = TypeVar("T")


def _as_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, datetime.datetime):
        return [format_timestamp(value)]
    if isinstance(value, (str, int)):
        return [str(value)]
    return [s for v in value for s in _as_strings(v)]


def filter_objects(
    objects: Iterable[T],
    filters: dict[str, list[str]] | None,
    value_of: Callable[[T, str], Any],
) -> list[T]:
    """Filters AND together; a filter's values OR together; ``*``/``?`` wildcards.

    ``value_of(obj, name)`` returns the value(s) for a filter name, and raises
    for names the action does not support.
    """
    result = list(objects)
    for name, patterns in (filters or {}).items():
        result = [
            obj
            for obj in result
            if any(
                fnmatch.fnmatchcase(value, pattern)
                for value in _as_strings(value_of(obj, name))
                for pattern in patterns
            )
        ]
    return result


def invalid_filter(name: str) -> EC2ClientError:
    return EC2ClientError("InvalidParameterValue", f"The filter '{name}' is invalid")


def paginate(
    items: list[T],
    max_results: Any,
    next_token: str | None,
    minimum: int = 5,
    maximum: int = 1000,
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token for the next page (None at the end)."""
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidNextToken(next_token)
        if start < 0 or start > len(items):
            raise InvalidNextToken(next_token)
    if max_results is None:
        return items[start:], None
    size = int(max_results)
    if size < minimum or size > maximum:
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ( {size} ) for parameter maxResults is invalid. "
            f"Expecting a value between {minimum} and {maximum}.",
        )
    page = items[start : start + size]
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return page, token
