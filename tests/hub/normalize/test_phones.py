"""Phone numbers: matching-notes §6 and §9 (must match 12)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.normalize.phones import normalize_phone

from .strategies import PHONE_LIKE, check_contract, digit_runs


@pytest.mark.parametrize("raw", ["+86 138-0013-8000", "008613800138000", "13800138000", "86-13800138000",
                                 "8613800138000", "(+86)138 0013 8000", "１３８００１３８０００", 13800138000,
                                 13800138000.0, "013800138000"])
def test_mobile_forms_fold_to_eleven_digits(raw: object) -> None:
    """§9 must-match 12."""
    assert normalize_phone(raw).value == "13800138000"


@pytest.mark.parametrize("raw", ["16612345678", "19912345678"])
def test_newer_mobile_prefixes(raw: str) -> None:
    assert normalize_phone(raw).value == raw


@pytest.mark.parametrize(("raw", "value"), [
    ("0991-4567890", "0991-4567890"),
    ("(0991)4567890", "0991-4567890"),
    ("（0991）456 7890", "0991-4567890"),
    ("09914567890", "0991-4567890"),
    ("+86 991 4567890", "0991-4567890"),
    ("010-62345678", "010-62345678"),
    ("02162345678", "021-62345678"),
    ("0755-86123456", "0755-86123456"),
])
def test_fixed_lines_get_area_code_and_dash(raw: str, value: str) -> None:
    assert normalize_phone(raw).value == value


def test_extension_is_dropped_with_a_flag() -> None:
    result = normalize_phone("0991-4567890转123")
    assert result.value == "0991-4567890"
    assert result.flags == ("extension_dropped",)


@pytest.mark.parametrize("raw", ["13800138000/13900139000", "13800138000，0991-4567890", "abc;13800138000"])
def test_several_numbers_keep_the_first_usable_one(raw: str) -> None:
    result = normalize_phone(raw)
    assert result.value == "13800138000"
    assert "several_numbers" in result.flags


@pytest.mark.parametrize(("raw", "reason"), [
    ("4567890", "phone: local number without area code"),
    ("45678901", "phone: local number without area code"),
    ("138001380", "phone: 9 digits, expected 11 for a mobile"),
    ("138001380001", "phone: 12 digits, expected 11 for a mobile"),
    ("12345678901", "phone: not a mobile prefix"),
    ("400-123-4567", "phone: a 400/800 service number, not a line of a person or an office"),
    ("0991-456", "phone: not an area code followed by a 7-8 digit number"),
    ("110", "phone: 3 digits, too short for a phone number"),
    ("无此号码x", "phone: contains characters other than digits"),
    ("1" * 200, "phone: too long for a phone number"),
    (True, "phone: unsupported type bool"),
])
def test_unusable_numbers_are_named(raw: object, reason: str) -> None:
    assert normalize_phone(raw).reason == reason


@pytest.mark.parametrize("raw", ["138001380", "4567890", "12345678901", "0991-45678", "1380013800012"])
def test_reasons_never_quote_the_number(raw: str) -> None:
    reason = normalize_phone(raw).reason
    assert reason is not None
    assert not any(run in reason for run in digit_runs(raw))


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(PHONE_LIKE)
def test_phone_shaped_input_is_total_and_stable(raw: str) -> None:
    result = check_contract(normalize_phone, raw)
    if result.ok:
        assert normalize_phone(result.value) == result


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A1[0-9]{10}\Z"))
def test_the_clean_mobile_shortcut_reads_as_the_general_path_does(raw: str) -> None:
    assert normalize_phone(raw) == normalize_phone(f" {raw}")   # the space keeps it off the shortcut
