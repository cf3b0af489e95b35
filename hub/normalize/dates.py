"""Dates and timestamps as ISO strings, read year-month-day first.

One explicit parser instead of dateutil, which reads 07/03/1985 as the 3rd of July and fails on
1985年3月7日. Day-first sources get their own normalizer (`date_dmy`), chosen in the mapping: a
value alone cannot tell 07/03 from 03/07. Timestamps with an offset are turned into China time
(UTC+8, no daylight saving since 1991), the clock every department's records are kept in.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal

from openpyxl.utils.datetime import from_excel

from hub.normalize._common import as_text, clean, reject, today, total, unsupported
from hub.normalize._hanzi import cn_number
from hub.normalize.base import Normalized

FIELD = "date"
DATETIME_FIELD = "datetime"
MIN_YEAR, MAX_YEAR = 1880, 2100
CHINA = timezone(timedelta(hours=8))
Order = Literal["ymd", "dmy"]

_TIME = r"(?:[ T]*(\d{1,2})[:时点](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?分?)?\s*(Z|[+-]\d{2}:?\d{2})?"
_YMD = re.compile(rf"(\d{{4}})[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})[日号]?{_TIME}", re.ASCII)
_DMY = re.compile(rf"(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}){_TIME}", re.ASCII)
_SHORT_YMD = re.compile(r"(\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?", re.ASCII)
_SHORT_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2})", re.ASCII)
_YEAR_MONTH = re.compile(r"(\d{4})[-/.年](\d{1,2})月?", re.ASCII)
_YEAR = re.compile(r"(\d{4})年", re.ASCII)
_COMPACT_TIME = re.compile(r"\d{8}(\d\d)(\d\d)(\d\d)()", re.ASCII)   # YYYYMMDDhhmmss, empty offset group
_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,9})?", re.ASCII)
_CN_NUMERAL = re.compile(r"[〇○零一二三四五六七八九十廿卅]+")
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d))?", re.ASCII)
"""The shape most systems export (2025-05-31 18:00:18): read directly, not through the general parser."""


@dataclass(frozen=True)
class _Moment:
    """A checked calendar date, maybe with a time of day and the offset it was written in."""

    day: date
    time: tuple[int, int, int] | None = None
    offset: timezone | None = None
    flags: tuple[str, ...] = ()

    def local(self) -> datetime:
        h, m, s = self.time or (0, 0, 0)
        moment = datetime(self.day.year, self.day.month, self.day.day, h, m, s, tzinfo=self.offset)
        return moment.astimezone(CHINA).replace(tzinfo=None) if self.offset else moment


_Outcome = _Moment | Normalized   # a Normalized here is always a rejection


def _checked(field: str, year: int, month: int, day: int, flags: tuple[str, ...] = ()) -> _Outcome:
    if not 1 <= month <= 12:
        return reject(field, f"month {month} out of range")
    if year < MIN_YEAR:
        return reject(field, f"year before {MIN_YEAR}")
    if year > MAX_YEAR:
        return reject(field, f"year after {MAX_YEAR}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return reject(field, f"day {day} out of range for month {month}")
    return _Moment(date(year, month, day), flags=flags)


def _with_time(field: str, moment: _Outcome, match: re.Match[str], first: int) -> _Outcome:
    """Attach the optional time groups (hour, minute, second, offset) starting at group `first`."""
    if isinstance(moment, Normalized) or (match.group(first) is None and match.group(first + 3) is None):
        return moment
    h, m, s = (int(match.group(first + i) or 0) for i in range(3))
    if h > 23 or m > 59 or s > 59:
        return reject(field, "time of day out of range")
    zone = match.group(first + 3)
    offset = None
    if zone:
        minutes = 0 if zone == "Z" else int(zone[0] + "1") * (int(zone[1:3]) * 60 + int(zone[-2:]))
        offset = timezone(timedelta(minutes=minutes)) if abs(minutes) < 24 * 60 else None
    return _Moment(moment.day, (h, m, s), offset, moment.flags)


def _two_digit_year(field: str, yy: int, month: int, day: int) -> _Outcome:
    """85.3.7 → 1985: the later century unless that puts the date in the future."""
    recent = _checked(field, 2000 + yy, month, day, ("two_digit_year",))
    if isinstance(recent, _Moment) and recent.day <= today():
        return recent
    return _checked(field, 1900 + yy, month, day, ("two_digit_year",))


def _from_serial(field: str, serial: float) -> _Outcome:
    """Excel's day count (1900 system, its phantom 29 Feb 1900 included), via openpyxl."""
    if not 1 <= serial < 80000:
        return reject(field, "a number that is neither a date nor a spreadsheet date")
    moment = from_excel(serial) + timedelta(milliseconds=500)
    checked = _checked(field, moment.year, moment.month, moment.day, ("excel_serial",))
    if isinstance(checked, Normalized) or not serial % 1:
        return checked
    return _Moment(checked.day, (moment.hour, moment.minute, moment.second), None, checked.flags)


def _from_epoch(field: str, seconds: float) -> _Outcome:
    moment = datetime.fromtimestamp(seconds, CHINA)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return reject(field, "timestamp out of range")
    return _Moment(moment.date(), (moment.hour, moment.minute, moment.second), None, ("epoch",))


def _from_digits(field: str, digits: str, order: Order, with_time: bool) -> _Outcome:
    """A number written without separators: 19850307, an Excel serial, a year, an epoch timestamp."""
    if "." in digits:
        return _from_serial(field, float(digits))
    n = len(digits)
    if n == 8:
        ymd = _checked(field, int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        if order == "dmy" and isinstance(ymd, Normalized):
            return _checked(field, int(digits[4:]), int(digits[2:4]), int(digits[:2]))
        return ymd
    if with_time and n == 14:
        day = _checked(field, int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
        match = _COMPACT_TIME.fullmatch(digits)
        return _with_time(field, day, match, 1) if match else day
    if with_time and n in (10, 13):
        return _from_epoch(field, int(digits) / (1000 if n == 13 else 1))
    if n == 4 and MIN_YEAR <= int(digits) <= MAX_YEAR:
        return reject(field, "month and day missing", year=digits)
    return _from_serial(field, float(digits))


def _arabic(numeral: re.Match[str]) -> str:
    """一九八五 → 1985, 十二 → 12; "?" (matching no pattern) when it is not a number."""
    value = cn_number(numeral.group())
    return "?" if value is None else str(value)


def _from_text(field: str, text: str, order: Order, with_time: bool) -> _Outcome:
    s = " ".join(clean(text).split())
    if len(s) > 64:
        return reject(field, "too long for a date")
    if _CN_NUMERAL.search(s):
        s = _CN_NUMERAL.sub(_arabic, s)
    if _NUMBER.fullmatch(s):
        return _from_digits(field, s, order, with_time)
    if match := _YMD.fullmatch(s):
        year, month, day = map(int, match.group(1, 2, 3))
        return _with_time(field, _checked(field, year, month, day), match, 4)
    if match := _DMY.fullmatch(s):
        if order == "ymd":
            return reject(field, "year comes last, so the order of day and month is unknown")
        year, month, day = map(int, match.group(3, 2, 1))
        return _with_time(field, _checked(field, year, month, day), match, 4)
    short = (_SHORT_YMD if order == "ymd" else _SHORT_DMY).fullmatch(s)
    if short:
        yy, month, day = map(int, short.group(1, 2, 3) if order == "ymd" else short.group(3, 2, 1))
        return _two_digit_year(field, yy, month, day)
    if match := _YEAR_MONTH.fullmatch(s):
        year, month = map(int, match.group(1, 2))
        checked = _checked(field, year, month, 1)
        if isinstance(checked, Normalized):
            return checked
        return reject(field, "day missing", year_month=f"{year:04d}-{month:02d}")
    if match := _YEAR.fullmatch(s):
        return _from_digits(field, match.group(1), order, with_time=False)
    return reject(field, "not a recognisable date")


def _iso(raw: Any, with_time: bool) -> Normalized | None:
    """A value already in the ISO shape, read directly; None for anything else, which the general parser
    then reads (the result is the same either way: tests/hub/normalize/test_dates.py checks it).

    Database exports write their timestamps like this, and the general parser spent three times as long
    on them (7.3 µs a value against 2.5, bench/results/ingest.md), in clean-up, patterns and intermediate
    objects they do not need.
    """
    match = _ISO.fullmatch(raw) if type(raw) is str else None
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    hour = match[4]
    if hour is None:
        return Normalized(f"{match[0]}T00:00:00") if with_time else Normalized(match[0])
    if int(hour) > 23 or int(match[5]) > 59 or int(match[6]) > 59:
        return None
    if with_time:
        return Normalized(f"{match[0][:10]}T{hour}:{match[5]}:{match[6]}")
    midnight = hour == "00" and match[5] == "00" and match[6] == "00"
    return Normalized(match[0][:10], flags=() if midnight else ("time_dropped",))


def _outcome(field: str, raw: Any, order: Order, with_time: bool) -> _Outcome:
    if isinstance(raw, datetime):
        if not MIN_YEAR <= raw.year <= MAX_YEAR:  # before converting: year 9999 + 8 hours overflows
            return _checked(field, raw.year, raw.month, raw.day)
        offset = raw.utcoffset()
        moment = raw.astimezone(CHINA).replace(tzinfo=None) if offset is not None else raw
        checked = _checked(field, moment.year, moment.month, moment.day)
        if isinstance(checked, Normalized):
            return checked
        return _Moment(checked.day, (moment.hour, moment.minute, moment.second))
    if isinstance(raw, date):
        return _checked(field, raw.year, raw.month, raw.day)
    if isinstance(raw, float) and not math.isfinite(raw):
        return reject(field, "not a finite number")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if raw < 0 or raw > 1e15:
            return reject(field, "a number out of the range of dates")
        if isinstance(raw, float) and not raw.is_integer():
            return _from_serial(field, raw)
        return _from_digits(field, str(int(raw)), order, with_time)
    text = as_text(raw)
    if text is None:
        return unsupported(field, raw)
    return _from_text(field, text, order, with_time)


def _as_date(field: str, raw: Any, order: Order) -> Normalized:
    if (direct := _iso(raw, with_time=False)) is not None:
        return direct
    outcome = _outcome(field, raw, order, with_time=False)
    if isinstance(outcome, Normalized):
        return outcome
    local = outcome.local()
    dropped = ("time_dropped",) if local.time() != datetime.min.time() else ()
    return Normalized(local.date().isoformat(), flags=outcome.flags + dropped)


@total(FIELD)
def normalize_date(raw: Any) -> Normalized:
    """A calendar date as YYYY-MM-DD from the forms Chinese exports use, year first."""
    return _as_date(FIELD, raw, "ymd")


@total(FIELD)
def normalize_date_dmy(raw: Any) -> Normalized:
    """As `normalize_date`, for sources that write day/month/year (07/03/1985)."""
    return _as_date(FIELD, raw, "dmy")


@total(DATETIME_FIELD)
def normalize_datetime(raw: Any) -> Normalized:
    """A moment as YYYY-MM-DDTHH:MM:SS in China time; a bare date is midnight, integers may be epochs."""
    if (direct := _iso(raw, with_time=True)) is not None:
        return direct
    outcome = _outcome(DATETIME_FIELD, raw, "ymd", with_time=True)
    if isinstance(outcome, Normalized):
        return outcome
    return Normalized(outcome.local().isoformat(timespec="seconds"), flags=outcome.flags)
