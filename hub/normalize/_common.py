"""First steps every normalizer shares: unwrap library scalars, read text, and the safety net.

Department exports hand us numpy scalars, pandas NA, bytes in GBK, strings with zero-width
characters or lone surrogates. Doing this once here keeps each normalizer about its own field.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from hub.normalize.base import EMPTY, Normalized, Normalizer, is_blank

UNEXPECTED = "could not be read (internal error)"
"""Suffix of the safety net's reason; tests assert no input reaches it."""

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_INT_BITS = 256   # str() of a huge int raises (and no field needs more than ~80 digits)


def unwrap(raw: Any) -> Any:
    """Plain Python values for numpy scalars, pandas missing markers and bytes (decoded to text)."""
    if raw is pd.NA:
        return None
    if isinstance(raw, (bytes, bytearray)):
        return decode(raw)
    if isinstance(raw, np.datetime64):
        if np.isnat(raw):
            return None
        try:
            return pd.Timestamp(raw)
        except (ValueError, OverflowError):  # beyond pandas' range (years 1677-2262): no date we keep
            return raw
    if isinstance(raw, np.generic):
        return raw.item()
    return raw


def decode(data: bytes | bytearray) -> str:
    """Bytes from a legacy export: UTF-8 if it is that, else GB18030 (a superset of GBK/GB2312)."""
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(data).decode("gb18030", errors="replace")


def as_text(raw: Any) -> str | None:
    """The text a scalar stands for, or None for types that carry no text (lists, dicts, dates).

    Integral floats lose their `.0` because spreadsheets store codes and numbers as floats.
    """
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw) if raw.bit_length() <= _MAX_INT_BITS else None
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return str(int(raw)) if raw.is_integer() and abs(raw) < 1e30 else repr(raw)
    if isinstance(raw, Decimal):
        return str(raw) if raw.is_finite() else None
    return None


_TODAY: list[tuple[float, date]] = [(float("-inf"), date.min)]


def today() -> date:
    """`date.today()` read from the clock at most once a second: the ID and date normalizers ask for
    it with every value, and the clock read costs ten times the monotonic check."""
    checked, day = _TODAY[0]
    now = time.monotonic()
    if now - checked > 1.0:
        day = date.today()
        _TODAY[0] = (now, day)
    return day


def clean(text: str) -> str:
    """NFKC, invisible characters dropped, control characters as spaces, lone surrogates as U+FFFD."""
    if text.isascii():   # NFKC leaves ASCII as it is, and the invisible characters and surrogates are not ASCII
        return _CONTROL.sub(" ", text)
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _CONTROL.sub(" ", text)


def total(field: str) -> Callable[[Callable[[Any], Normalized]], Normalizer]:
    """Make a normalizer total: blanks give EMPTY, and an unforeseen exception becomes a reason.

    The reason names the exception type only; its message could quote the value.
    """

    def wrap(parse: Callable[[Any], Normalized]) -> Normalizer:
        @functools.wraps(parse)
        def normalizer(raw: Any) -> Normalized:
            try:
                raw = unwrap(raw)
                if is_blank(raw):
                    return EMPTY
                return parse(raw)
            except Exception as exc:  # the contract: a normalizer never raises
                return Normalized(None, f"{field}: {UNEXPECTED}: {type(exc).__name__}")

        return normalizer

    return wrap


def reject(field: str, problem: str, **derived: str) -> Normalized:
    return Normalized(None, f"{field}: {problem}", derived=derived)


def unsupported(field: str, raw: Any) -> Normalized:
    return reject(field, f"unsupported type {type(raw).__name__}")
