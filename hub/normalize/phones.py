"""Chinese phone numbers: an 11-digit mobile, or a fixed line written 0AREA-NUMBER.

Area codes have three digits for Beijing (010) and the 02X cities and four elsewhere (0991
Urumqi), which settles where the area code ends even when the export dropped the dash.
A bare local number is kept out: without its area code it could be any city's.
"""

from __future__ import annotations

import re
from typing import Any

from hub.normalize._common import as_text, clean, reject, total, unsupported
from hub.normalize.base import Normalized

FIELD = "phone"
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_FIXED = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))([1-9]\d{6,7})", re.ASCII)
_NOISE = re.compile(r"[\s\-()（）\[\].\u2010-\u2015/]")
_COUNTRY = re.compile(r"(?:\+|00)?86(?=\d{9,})", re.ASCII)
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x)\d{1,6}$", re.IGNORECASE | re.ASCII)
_SEVERAL = re.compile(r"[,，;；、|]|/(?=\s*\+?[01][\d\s-]{9,})", re.ASCII)


def _digits_problem(s: str) -> str:
    if not s.isdigit():
        return "contains characters other than digits"
    if len(s) < 7:
        return f"{len(s)} digits, too short for a phone number"
    if s.startswith("1"):
        return f"{len(s)} digits, expected 11 for a mobile" if len(s) != 11 else "not a mobile prefix"
    if s.startswith(("400", "800")):
        return "a 400/800 service number, not a line of a person or an office"
    if s.startswith("0"):
        return "not an area code followed by a 7-8 digit number"
    if len(s) in (7, 8):
        return "local number without area code"
    return f"{len(s)} digits, not a phone number" if len(s) <= 20 else "too long for a phone number"


def _one_number(text: str) -> Normalized:
    s = _EXTENSION.sub("", _NOISE.sub("", text))
    flags: tuple[str, ...] = ("extension_dropped",) if s != _NOISE.sub("", text) else ()
    country = _COUNTRY.match(s)
    if country:
        s = s[country.end():]
        if not s.startswith(("0", "1")):  # +86 991 4567890: the trunk 0 is not dialled from abroad
            s = "0" + s
    if s.startswith("0") and _MOBILE.fullmatch(s[1:]):  # a mobile dialled from a fixed line
        s = s[1:]
    if _MOBILE.fullmatch(s):
        return Normalized(s, flags=flags)
    fixed = _FIXED.fullmatch(s)
    if fixed:
        return Normalized(f"{fixed.group(1)}-{fixed.group(2)}", flags=flags)
    return reject(FIELD, _digits_problem(s))


@total(FIELD)
def normalize_phone(raw: Any) -> Normalized:
    """A mobile as 11 digits or a fixed line as 0991-4567890; of several numbers, the first usable."""
    if type(raw) is str and _MOBILE.fullmatch(raw):   # the common case: nothing below would change it
        return Normalized(raw)
    text = as_text(raw)
    if text is None:
        return unsupported(FIELD, raw)
    text = clean(text).strip()
    if len(text) > 100:
        return reject(FIELD, "too long for a phone number")
    candidates = [c for c in _SEVERAL.split(text) if c.strip()]
    results = [_one_number(c) for c in candidates]
    usable = [r for r in results if r.ok]
    if not usable:
        return results[0] if results else reject(FIELD, "no digits")
    first = usable[0]
    if len(candidates) > 1:
        return Normalized(first.value, flags=(*first.flags, "several_numbers"))
    return first
