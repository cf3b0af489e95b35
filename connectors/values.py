"""Source values turned into what a JSON payload can hold, without losing what they said."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import chain
from typing import Any

__all__ = ["json_safe", "json_safe_rows"]

_JSON_TYPES = frozenset({str, int, float, bool, type(None)})


def json_safe(value: Any) -> Any:
    """Dates and times as ISO text, decimals as their exact text (never a rounded float), bytes as
    UTF-8 text when they are text and as hex otherwise; JSON's own types pass unchanged."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.hex()
    if isinstance(value, dt.timedelta):
        return str(value.total_seconds())
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)


def json_safe_rows(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as dicts of `json_safe` values under `names` (a row's values past the names are left out).

    Most batches hold only JSON's own types (every SQLite source does): one pass over their types
    then spares a call per value.
    """
    rows = list(rows)
    if _JSON_TYPES.issuperset(map(type, chain.from_iterable(rows))):
        return [dict(zip(names, row, strict=False)) for row in rows]
    return [dict(zip(names, map(json_safe, row), strict=False)) for row in rows]
