"""Plain values: free text, numbers, vehicle plates, yes/no."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import cn2an

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize._resources import load_resource
from hub.normalize.base import Normalized
from hub.normalize.codes import lookup_key

_UNITS = re.compile(r"(?:人民币|rmb|cny)|(?:元|块|圆|园)整?$|(?:平方米|平米|m2|m²|㎡)$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[¥￥$]|^(?:人民币|rmb|cny)", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?", re.ASCII)
_CN_NUMBER = re.compile(r"[零〇一二三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟两点负]+")
_WAN = re.compile(r"^(.*\d)万$", re.ASCII)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "A-HJ-NP-Z"   # no I or O: they read as 1 and 0
_PLATE = re.compile(
    rf"[{_PROVINCES}][{_PLATE_LETTERS}]"
    rf"(?:[{_PLATE_LETTERS}0-9]{{4}}[{_PLATE_LETTERS}0-9挂学警港澳领试超]"   # ordinary: 5 characters
    rf"|[DF][{_PLATE_LETTERS}0-9]\d{{4}}"                                  # small new-energy: D/F first
    rf"|\d{{5}}[DF])",                                                      # large new-energy: D/F last
    re.ASCII,
)
_PLATE_NOISE = re.compile(r"[\s\u00b7\u2022\u30fb.\-_]")


@total("text")
def normalize_text(raw: Any) -> Normalized:
    """Text as given, NFKC-folded, invisible characters dropped, whitespace collapsed and trimmed."""
    if isinstance(raw, (datetime, date)):
        return Normalized(raw.isoformat())
    text = as_text(raw)
    if text is None:
        return unsupported("text", raw)
    value = " ".join(clean(text).split())
    return Normalized(value) if value else reject("text", "nothing left after removing invisible characters")


def _decimal_text(field: str, raw: Any) -> Decimal | Normalized:
    """The number a raw value stands for (1,234.50 / ¥1234.5元 / 壹佰 / 1.5万), or a rejection."""
    if isinstance(raw, bool):
        return unsupported(field, raw)
    if isinstance(raw, Decimal):
        return _in_range(field, raw) if raw.is_finite() else reject(field, "not a finite number")
    text = as_text(raw)
    if text is None:
        return unsupported(field, raw) if not isinstance(raw, float) else reject(field, "not a finite number")
    s = "".join(clean(text).split())
    if len(s) > 64:
        return reject(field, "too long for a number")
    s = _UNITS.sub("", _CURRENCY.sub("", s))
    scale = Decimal(1)
    wan = _WAN.match(s)
    if wan:
        s, scale = wan.group(1), Decimal(10000)
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s):
        if not _CN_NUMBER.fullmatch(s):
            return reject(field, "not a number")
        try:
            s = str(cn2an.cn2an(s, "normal"))
        except (ValueError, KeyError, IndexError, TypeError):
            return reject(field, "not a number")
    try:
        return _in_range(field, Decimal(s) * scale)
    except InvalidOperation:
        return reject(field, "not a number")


def _in_range(field: str, number: Decimal) -> Decimal | Normalized:
    """Refuse magnitudes no register holds (and whose plain text would run to thousands of digits)."""
    if number and not -30 <= number.adjusted() <= 30:
        return reject(field, "out of range")
    return number


def _plain(number: Decimal) -> str:
    """Fixed-point text without trailing zeros: 1234.50 → 1234.5, 1E+3 → 1000, -0 → 0."""
    text = f"{number.normalize():f}"
    return "0" if text in ("-0", "0") else text


@total("decimal")
def normalize_decimal(raw: Any) -> Normalized:
    """A number as plain decimal text (no exponent, no grouping, no trailing zeros)."""
    number = _decimal_text("decimal", raw)
    return number if isinstance(number, Normalized) else Normalized(_plain(number))


@total("integer")
def normalize_integer(raw: Any) -> Normalized:
    """A whole number as text; 12.0 is 12, 12.5 is rejected."""
    number = _decimal_text("integer", raw)
    if isinstance(number, Normalized):
        return number
    if number != number.to_integral_value():
        return reject("integer", "has a fractional part")
    return Normalized(_plain(number))


@total("plate")
def normalize_plate(raw: Any) -> Normalized:
    """A vehicle plate as 新A12345 (ordinary), 新AD12345 or 新A12345D (new energy)."""
    text = as_text(raw) if not isinstance(raw, (int, float)) else None
    if text is None:
        return unsupported("plate", raw)
    s = _PLATE_NOISE.sub("", clean(text)).upper()
    if len(s) > 20:
        return reject("plate", "too long for a plate")
    if _PLATE.fullmatch(s):
        return Normalized(s)
    if s and s[0] not in _PROVINCES:
        return reject("plate", "does not start with a province abbreviation")
    return reject("plate", "not the shape of a Chinese vehicle plate")


@functools.cache
def _boolean_index() -> dict[str, str]:
    table = load_resource("value_aliases")["boolean"]
    return {lookup_key(str(spelling)): value for value, spellings in table.items() for spelling in spellings}


@total("boolean")
def normalize_boolean(raw: Any) -> Normalized:
    """"true" or "false" from 是/否, Y/N, 1/0, true/false, √/×."""
    if isinstance(raw, bool):
        return Normalized("true" if raw else "false")
    text = as_text(raw)
    if text is None:
        return unsupported("boolean", raw)
    value = _boolean_index().get(lookup_key(text)) if len(text) <= 100 else None
    return Normalized(value) if value else reject("boolean", "not a yes/no value")
