"""Resident ID numbers (公民身份号码, GB 11643-1999): 18 characters, or 15 digits upgraded.

The check character uses ISO 7064 MOD 11-2 from python-stdnum; `stdnum.cn.ric.is_valid` is not
used because it rejects division codes retired before the person's birth year (65010219700101123X
is a real, valid number). A number that fails its check character or its date still goes to
resolution through `derived["resident_id_unchecked"]`: one typo must not hide a person from
typo-tolerant blocking. A number printed with the birth date hidden (650102********1237) is no
error: the source masks it on purpose, so it has no value and no reason, only
`derived["resident_id_masked"]` for matching.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from stdnum.iso7064 import mod_11_2

from hub.normalize._common import as_text, clean, reject, today, total, unsupported
from hub.normalize.base import Normalized

FIELD = "resident_id"
MIN_BIRTH_YEAR = 1890
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015]")
_ID18 = re.compile(r"\d{17}[\dX]", re.ASCII)
_ID15 = re.compile(r"\d{15}", re.ASCII)
_MASKED = re.compile(r"\d{6}\*{8}\d{3}[\dX]", re.ASCII)
_SCIENTIFIC = re.compile(r"(\d)(?:\.(\d*))?E\+?(\d{1,2})", re.ASCII)
_FLOAT_EXACT = 2**53   # above this a float no longer holds every digit


def check_char(first17: str) -> str:
    """The 18th character for 17 digits (MOD 11-2, `X` standing for 10)."""
    return str(mod_11_2.calc_check_digit(first17))


def birth_place_code(id18: str) -> str:
    """The GB/T 2260 code of the county where the number was assigned (not the birthplace proper)."""
    return id18[:6] if re.match(r"\d{6}", id18, re.ASCII) else ""


def is_valid_resident_id(raw: Any) -> bool:
    """True if the value normalizes to an ID (15-digit numbers count: they upgrade to a valid 18)."""
    return normalize_resident_id(raw).ok


def _birth_date_problem(yyyymmdd: str) -> str | None:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    try:
        born = date(year, month, day)
    except ValueError:
        return "birth date is not a real date"
    if year < MIN_BIRTH_YEAR:
        return f"birth year before {MIN_BIRTH_YEAR}"
    if born > today():
        return "birth date is in the future"
    return None


def _spreadsheet_number(leading: str) -> Normalized:
    """An 18-digit number cut to 15-16 significant digits by Excel: its first 14 digits can still link."""
    if len(leading) >= 14:
        return reject(FIELD, "truncated by a spreadsheet", resident_id_prefix14=leading[:14])
    return reject(FIELD, "truncated by a spreadsheet")


def _from_scientific(match: re.Match[str]) -> Normalized:
    """`6.50102E+17` and friends: exact only when the mantissa holds every digit (15-digit IDs can)."""
    mantissa = match.group(1) + (match.group(2) or "")
    width = int(match.group(3)) + 1
    if len(mantissa) > width:
        return reject(FIELD, "not a whole number")
    if len(mantissa) == width:
        return _from_text(mantissa)
    return _spreadsheet_number(mantissa) if width == 18 else reject(FIELD, "truncated by a spreadsheet")


def _accept(id18: str, flags: tuple[str, ...] = ()) -> Normalized:
    problem = _birth_date_problem(id18[6:14])
    if problem is not None:   # a mistyped date digit: still worth a typo-tolerant match
        return reject(FIELD, problem, resident_id_unchecked=id18)
    born = f"{id18[6:10]}-{id18[10:12]}-{id18[12:14]}"
    gender = "1" if int(id18[16]) % 2 else "2"
    return Normalized(id18, derived={"birth_date": born, "gender": gender}, flags=flags)


def _tidied(text: str) -> str | Normalized:
    """The 18 characters a written number stands for, or what it is instead (a result already)."""
    s = "".join(clean(text).split()).upper()
    if len(s) > 40:
        return reject(FIELD, "too long for an ID number")
    scientific = _SCIENTIFIC.fullmatch(s)
    if scientific:
        return _from_scientific(scientific)
    s = _SEPARATORS.sub("", s)
    if "*" in s:
        if _MASKED.fullmatch(s):   # the source hides the birth date on purpose: not an error
            return Normalized(None, derived={"resident_id_masked": s})
        return reject(FIELD, "masked")
    if _ID15.fullmatch(s):
        first17 = s[:6] + "19" + s[6:]
        return _accept(first17 + check_char(first17), ("upgraded_from_15",))
    if not _ID18.fullmatch(s):
        if not re.fullmatch(r"[\dX]*", s, re.ASCII):
            return reject(FIELD, "contains characters other than digits and a final X")
        if "X" in s[:-1]:
            return reject(FIELD, "X is allowed only as the last character")
        return reject(FIELD, f"{len(s)} characters, expected 18 (or 15)")
    return s


def _from_text(text: str) -> Normalized:
    # Most numbers arrive as 18 clean characters, which the tidying would leave as they are.
    s = text if _ID18.fullmatch(text) else _tidied(text)
    if isinstance(s, Normalized):
        return s
    if check_char(s[:17]) != s[17]:
        if s.endswith("00"):
            return _spreadsheet_number(s)
        return reject(FIELD, "check character does not match", resident_id_unchecked=s)
    return _accept(s)


@total(FIELD)
def normalize_resident_id(raw: Any) -> Normalized:
    """An 18-character ID with birth date and GB/T 2261.1 gender derived, or the reason it is not one."""
    if isinstance(raw, float) and math.isfinite(raw) and abs(raw) >= _FLOAT_EXACT:
        digits = f"{raw:.0f}"
        if len(digits) == 18:
            return _spreadsheet_number(digits)
        return reject(FIELD, "a number too large to hold an ID exactly")
    text = as_text(raw)
    if text is None:
        return unsupported(FIELD, raw)
    return _from_text(text)
