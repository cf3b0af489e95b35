"""Free text, numbers, plates and yes/no values."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.normalize._common import _CONTROL, _INVISIBLE, clean
from hub.normalize.misc import (
    normalize_boolean,
    normalize_decimal,
    normalize_integer,
    normalize_plate,
    normalize_text,
)


@pytest.mark.parametrize(("raw", "value"), [
    ("  a  b\u3000c ", "a b c"), ("ＡＢＣ１２３", "ABC123"), ("x\u200by", "xy"), ("張偉", "張偉"),
    (12345.0, "12345"), (7, "7"), ("line\x00break", "line break"),
])
def test_text(raw: Any, value: str) -> None:
    assert normalize_text(raw).value == value


def test_text_that_is_only_invisible_characters_is_named() -> None:
    assert normalize_text("\u200b").reason == "text: nothing left after removing invisible characters"


@pytest.mark.parametrize(("raw", "value"), [
    ("1,234.50", "1234.5"), ("1234.5元", "1234.5"), ("１２３４.５", "1234.5"), ("¥1,234", "1234"),
    ("￥1234.50", "1234.5"),
    ("壹佰", "100"), ("壹佰元", "100"), ("十五", "15"), ("三点五", "3.5"), ("1.5万", "15000"), ("1.5万元", "15000"),
    ("85.5平方米", "85.5"), ("89.50㎡", "89.5"), ("-3", "-3"), ("0.00", "0"), (".5", "0.5"), ("1.5E+05", "150000"),
    (1234.5, "1234.5"), (0.1, "0.1"), (Decimal("1E+3"), "1000"), (100, "100"),
])
def test_decimal(raw: Any, value: str) -> None:
    assert normalize_decimal(raw).value == value


@pytest.mark.parametrize(("raw", "reason"), [
    ("abc", "decimal: not a number"), ("1,23", "decimal: not a number"), ("12 apples", "decimal: not a number"),
    (float("inf"), "decimal: not a finite number"), (Decimal("NaN"), "decimal: not a finite number"),
    ("1e999", "decimal: out of range"), (True, "decimal: unsupported type bool"),
])
def test_decimal_rejections(raw: Any, reason: str) -> None:
    assert normalize_decimal(raw).reason == reason


@pytest.mark.parametrize(("raw", "value"), [
    ("12", "12"), ("12.0", "12"), (12.0, "12"), ("十五", "15"), ("1,000", "1000"),
])
def test_integer(raw: Any, value: str) -> None:
    assert normalize_integer(raw).value == value


def test_integer_rejects_fractions() -> None:
    assert normalize_integer("12.5").reason == "integer: has a fractional part"


@pytest.mark.parametrize(("raw", "value"), [
    ("新A12345", "新A12345"), ("新a·12345", "新A12345"), ("新A-12345", "新A12345"), ("新 A 12345", "新A12345"),
    ("新AD12345", "新AD12345"), ("新A12345D", "新A12345D"), ("京A1234学", "京A1234学"), ("粤B1234挂", "粤B1234挂"),
    ("新ＡＦ１２３４５", "新AF12345"),
])
def test_plates(raw: str, value: str) -> None:
    assert normalize_plate(raw).value == value


@pytest.mark.parametrize(("raw", "reason"), [
    ("A12345", "plate: does not start with a province abbreviation"),
    ("新A1234", "plate: not the shape of a Chinese vehicle plate"),
    ("新AI2345", "plate: not the shape of a Chinese vehicle plate"),      # I and O are never used
    ("新A123456", "plate: not the shape of a Chinese vehicle plate"),
    (12345, "plate: unsupported type int"),
])
def test_plate_rejections(raw: Any, reason: str) -> None:
    assert normalize_plate(raw).reason == reason


@pytest.mark.parametrize(("raw", "value"), [
    ("是", "true"), ("否", "false"), ("Y", "true"), ("n", "false"), (1, "true"), (0, "false"), ("true", "true"),
    ("FALSE", "false"), (True, "true"), (False, "false"), ("√", "true"), ("×", "false"), (1.0, "true"),
])
def test_boolean(raw: Any, value: str) -> None:
    assert normalize_boolean(raw).value == value


def test_boolean_rejects_the_unknown() -> None:
    assert normalize_boolean("maybe").reason == "boolean: not a yes/no value"
    assert normalize_boolean(2).reason == "boolean: not a yes/no value"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_clean_reads_ascii_as_the_full_path_does(text: str) -> None:
    full = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    assert clean(text) == _CONTROL.sub(" ", full)
