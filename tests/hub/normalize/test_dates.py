"""Dates and timestamps: matching-notes §5 and §9 (must match 11)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.normalize.dates import normalize_date, normalize_date_dmy, normalize_datetime

from .strategies import DATE_LIKE, check_contract


@pytest.mark.parametrize("raw", [
    "1985-03-07", "1985/3/7", "19850307", "1985年3月7日", 31113,                        # §9 must-match 11
    "1985-03-07 00:00:00", "1985.03.07", 19850307, 19850307.0, "1985年03月07号", "１９８５－０３－０７",
    "一九八五年三月七日", "1985年三月七日", 31113.0, "31113", np.int64(19850307),
    date(1985, 3, 7), datetime(1985, 3, 7), pd.Timestamp("1985-03-07"), np.datetime64("1985-03-07"),
    "85.3.7", "85年3月7日",
])
def test_forms_of_one_date(raw: Any) -> None:
    assert normalize_date(raw).value == "1985-03-07"


def test_chinese_numeral_date_with_tens() -> None:
    assert normalize_date("二〇〇八年十二月二十七日").value == "2008-12-27"


@pytest.mark.parametrize(("serial", "value"), [(1, "1900-01-01"), (59, "1900-02-28"), (60, "1900-02-28"),
                                                (61, "1900-03-01"), (31113.75, "1985-03-07")])
def test_excel_serials_follow_openpyxl(serial: float, value: str) -> None:
    """Serials below 61 are skewed by Excel's phantom 29 February 1900 (openpyxl handles it)."""
    result = normalize_date(serial)
    assert result.value == value
    assert "excel_serial" in result.flags


def test_two_digit_year_takes_the_century_that_is_not_in_the_future() -> None:
    assert normalize_date("85.3.7").flags == ("two_digit_year",)
    assert normalize_date("05.3.7").value == "2005-03-07"
    future_yy = (date.today().year + 1) % 100
    assert normalize_date(f"{future_yy:02d}.1.1").value == f"19{future_yy:02d}-01-01"


def test_year_and_month_only_is_not_a_date_but_keeps_what_it_has() -> None:
    result = normalize_date("1985年03月")
    assert result.value is None
    assert result.reason == "date: day missing"
    assert result.derived == {"year_month": "1985-03"}
    assert normalize_date("1985-3").derived == {"year_month": "1985-03"}
    assert normalize_date("1985年").derived == {"year": "1985"}


@pytest.mark.parametrize(("raw", "reason"), [
    ("1985-02-30", "date: day 30 out of range for month 2"),
    ("2023-02-29", "date: day 29 out of range for month 2"),
    ("1985-13-01", "date: month 13 out of range"),
    ("19851301", "date: month 13 out of range"),
    ("2101-01-01", "date: year after 2100"),
    ("1879-12-31", "date: year before 1880"),
    (99999, "date: a number that is neither a date nor a spreadsheet date"),
    (0, "date: a number that is neither a date nor a spreadsheet date"),
    (-5, "date: a number out of the range of dates"),
    (float("inf"), "date: not a finite number"),
    ("07/03/1985", "date: year comes last, so the order of day and month is unknown"),
    ("1985-03-07 25:00", "date: time of day out of range"),
    ("三月七日", "date: not a recognisable date"),
    ("yesterday", "date: not a recognisable date"),
    (True, "date: unsupported type bool"),
    (np.datetime64("12000-01-01"), "date: year after 2100"),
])
def test_impossible_or_unreadable_dates_are_named(raw: Any, reason: str) -> None:
    assert normalize_date(raw).reason == reason


def test_leap_day_exists_in_leap_years() -> None:
    assert normalize_date("2024-02-29").value == "2024-02-29"


def test_a_time_of_day_is_dropped_with_a_flag() -> None:
    assert normalize_date(datetime(1985, 3, 7, 13, 0)).flags == ("time_dropped",)
    assert normalize_date("1985-03-07 00:00:00").flags == ()


def test_an_offset_is_read_as_china_time() -> None:
    assert normalize_date("1985-03-06T16:30:00Z").value == "1985-03-07"
    assert normalize_date(datetime(1985, 3, 6, 16, 30, tzinfo=UTC)).value == "1985-03-07"


@pytest.mark.parametrize("raw", ["07/03/1985", "7.3.1985", "07-03-1985", "07031985", "07/03/85",
                                 "1985-03-07", "19850307", "1985年3月7日", 31113])
def test_day_first_sources(raw: Any) -> None:
    assert normalize_date_dmy(raw).value == "1985-03-07"


@pytest.mark.parametrize(("raw", "value"), [
    ("1985-03-07 13:45:00", "1985-03-07T13:45:00"),
    ("1985-03-07T13:45", "1985-03-07T13:45:00"),
    ("1985/3/7 13:45:00.123", "1985-03-07T13:45:00"),
    ("1985-03-07", "1985-03-07T00:00:00"),
    (date(1985, 3, 7), "1985-03-07T00:00:00"),
    ("2024-03-07T05:45:00Z", "2024-03-07T13:45:00"),
    ("2024-03-07T13:45:00+08:00", "2024-03-07T13:45:00"),
    (datetime(2024, 3, 7, 5, 45, tzinfo=UTC), "2024-03-07T13:45:00"),
    (1709790300, "2024-03-07T13:45:00"),           # epoch seconds
    (1709790300000, "2024-03-07T13:45:00"),        # epoch milliseconds
    ("1709790300", "2024-03-07T13:45:00"),
    ("19850307134500", "1985-03-07T13:45:00"),
    (31113.75, "1985-03-07T18:00:00"),
    ("2024年3月7日 13时45分", "2024-03-07T13:45:00"),
    (pd.Timestamp("2024-03-07 13:45:00"), "2024-03-07T13:45:00"),
])
def test_datetimes(raw: Any, value: str) -> None:
    assert normalize_datetime(raw).value == value


def test_datetime_rejections_name_the_field() -> None:
    assert normalize_datetime("2024-03-07 24:00").reason == "datetime: time of day out of range"
    assert normalize_datetime(9999999999999).reason == "datetime: timestamp out of range"


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(DATE_LIKE)
def test_date_shaped_input_is_total_and_stable(raw: str) -> None:
    result = check_contract(normalize_date, raw)
    if result.ok:
        assert normalize_date(result.value).value == result.value
        assert normalize_datetime(result.value).value == f"{result.value}T00:00:00"


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1880, 1, 2), max_value=datetime(2100, 12, 30)))
def test_every_datetime_in_range_round_trips(moment: datetime) -> None:
    iso = normalize_datetime(moment).value
    assert iso == moment.replace(microsecond=0).isoformat()
    assert normalize_datetime(iso).value == iso
    assert normalize_date(moment).value == moment.date().isoformat()
    assert normalize_date(moment.date()).value == moment.date().isoformat()
    assert timedelta(0) <= moment - datetime.fromisoformat(iso) < timedelta(seconds=1)


_ISO_SHAPED = st.builds(
    lambda y, m, d, t, sep: f"{y:04d}-{m:02d}-{d:02d}" + ("" if t is None else sep + "{:02d}:{:02d}:{:02d}".format(*t)),
    st.integers(1870, 2110), st.integers(0, 13), st.integers(0, 32),
    st.none() | st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)), st.sampled_from([" ", "T"]))


@settings(max_examples=500, deadline=None)
@given(_ISO_SHAPED)
def test_the_iso_shortcut_reads_as_the_general_parser_does(raw: str) -> None:
    # A trailing space keeps a value off the shortcut (it matches the exact shape only); the general
    # parser drops the space, so the two results must agree, rejections and flags included.
    for normalizer in (normalize_date, normalize_datetime, normalize_date_dmy):
        assert normalizer(raw) == normalizer(raw + " "), raw
