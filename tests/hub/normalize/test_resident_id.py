"""Resident ID numbers: matching-notes §1 and §9 (must match 1-4, 15)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from hub.normalize import Normalized
from hub.normalize.resident_id import (
    birth_place_code,
    check_char,
    is_valid_resident_id,
    normalize_resident_id,
)

from .strategies import ID_LIKE, check_contract, digit_runs

VALID = "650102198503071237"


def make_id(first17: str) -> str:
    return first17 + check_char(first17)


@pytest.mark.parametrize(("first17", "expected"), [
    ("65010219850307123", "7"),    # matching-notes §1, worked example
    ("65010219700101123", "X"),    # §9 must-match 15
    ("11010519491231002", "X"),    # stack-notes §5
])
def test_check_char_matches_published_examples(first17: str, expected: str) -> None:
    assert check_char(first17) == expected


@pytest.mark.parametrize("raw", ["65010219850307100x", "６５０１０２１９８５０３０７１００Ｘ", "650102 19850307 100X",
                                 "650102-19850307-100x", "\u3000650102.19850307.100X "])
def test_case_width_and_separators_fold_to_one_number(raw: str) -> None:
    """§9 must-match 1."""
    result = normalize_resident_id(raw)
    assert result.value == "65010219850307100X"
    assert result.derived == {"birth_date": "1985-03-07", "gender": "2"}   # digit 17 even: female


def test_first_generation_number_is_upgraded() -> None:
    """§9 must-match 2: insert 19, append the check character."""
    result = normalize_resident_id("650102850307123")
    assert result.value == VALID
    assert result.flags == ("upgraded_from_15",)
    assert result.derived == {"birth_date": "1985-03-07", "gender": "1"}


def test_swapped_digits_fail_the_check_but_stay_usable_for_blocking() -> None:
    """§9 must-match 3: the swap is caught; resolution still gets the digits for typo-tolerant keys."""
    result = normalize_resident_id("650102198503071273")
    assert result.value is None
    assert result.reason == "resident_id: check character does not match"
    assert result.derived == {"resident_id_unchecked": "650102198503071273"}


def test_masked_number_keeps_its_pattern_for_resolution() -> None:
    """§9 must-match 4: with the DOB from another field the masked number rebuilds and checks."""
    result = normalize_resident_id("650102********1237")
    masked = result.derived["resident_id_masked"]
    rebuilt = masked[:6] + "19850307" + masked[14:]
    assert check_char(rebuilt[:17]) == rebuilt[17]
    assert normalize_resident_id(rebuilt).value == VALID


@pytest.mark.parametrize(("raw", "masked"), [
    ("650102********1237", "650102********1237"),
    ("650102 ******** 123x", "650102********123X"),
    ("６５０１０２＊＊＊＊＊＊＊＊１２３７", "650102********1237"),
])
def test_a_number_masked_on_purpose_is_no_error(raw: str, masked: str) -> None:
    """The source hides the birth date deliberately: no value, no reason (nothing to quarantine)."""
    assert normalize_resident_id(raw) == Normalized(None, None, derived={"resident_id_masked": masked})


def test_other_masks_stay_an_error() -> None:
    result = normalize_resident_id("6501**********1237")
    assert result.reason == "resident_id: masked"
    assert result.derived == {}


def test_retired_county_code_is_valid_here_though_stdnum_rejects_it() -> None:
    """§9 must-match 15: 650102 did not exist in 1970, but numbers keep the code they were assigned under."""
    assert not ric.is_valid("65010219700101123X")
    result = normalize_resident_id("65010219700101123X")
    assert result.value == "65010219700101123X"
    assert result.derived == {"birth_date": "1970-01-01", "gender": "1"}
    assert normalize_resident_id(make_id("65010819900101001")).ok   # 东山区, retired 2007


@pytest.mark.parametrize("raw", [6.501021985030712e17, 650102198503071000, "650102198503071000",
                                 "6.50102198503071E+17", "6.501021985030712e+17"])
def test_spreadsheet_numbers_keep_the_first_14_digits(raw: object) -> None:
    result = normalize_resident_id(raw)
    assert result.reason == "resident_id: truncated by a spreadsheet"
    assert result.derived == {"resident_id_prefix14": "65010219850307"}


def test_spreadsheet_number_with_too_few_digits_has_no_prefix() -> None:
    result = normalize_resident_id("6.50102E+17")
    assert result.reason == "resident_id: truncated by a spreadsheet"
    assert result.derived == {}


def test_numbers_that_survive_a_spreadsheet_are_read() -> None:
    assert normalize_resident_id(650102198503071237).value == VALID          # an exact BIGINT
    assert normalize_resident_id(650102850307123.0).value == VALID           # 15 digits fit a float
    assert normalize_resident_id("6.50102850307123E+14").value == VALID


@pytest.mark.parametrize(("birth", "reason"), [
    ("19850230", "resident_id: birth date is not a real date"),
    ("18891231", "resident_id: birth year before 1890"),
    ((date.today() + timedelta(days=2)).strftime("%Y%m%d"), "resident_id: birth date is in the future"),
])
def test_birth_date_must_be_a_plausible_real_date(birth: str, reason: str) -> None:
    number = make_id("650102" + birth + "123")
    result = normalize_resident_id(number)
    assert result.reason == reason
    assert result.derived == {"resident_id_unchecked": number}   # a mistyped date digit can still match


@pytest.mark.parametrize(("raw", "reason"), [
    ("65010219850307123", "resident_id: 17 characters, expected 18 (or 15)"),
    ("65010219850307X237", "resident_id: X is allowed only as the last character"),
    ("650102********123", "resident_id: masked"),
    ("65010219850307123４5", "resident_id: 19 characters, expected 18 (or 15)"),
    ("٦٥٠١٠٢١٩٨٥٠٣٠٧١٢٣٧", "resident_id: contains characters other than digits and a final X"),
    ([VALID], "resident_id: unsupported type list"),
])
def test_bad_formats_are_named(raw: object, reason: str) -> None:
    assert normalize_resident_id(raw).reason == reason


@pytest.mark.parametrize("raw", ["650102198503071273", "65010219850230123X", "6501021985030712", "650102198503071000",
                                 "650102 19850307 12", make_id("650102" + "18891231" + "123")])
def test_reasons_never_quote_the_number(raw: str) -> None:
    reason = normalize_resident_id(raw).reason
    assert reason is not None
    assert not any(run in reason for run in digit_runs(raw))


def test_helpers() -> None:
    assert birth_place_code(VALID) == "650102"
    assert birth_place_code("abc") == ""
    assert is_valid_resident_id("650102850307123")
    assert not is_valid_resident_id("650102198503071273")


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(ID_LIKE)
def test_id_shaped_input_is_total_and_valid_output_is_stable(raw: str) -> None:
    result = check_contract(normalize_resident_id, raw)
    if result.ok:
        assert result.value is not None and ric.compact(result.value) == result.value
        assert ric.calc_check_digit(result.value) == result.value[-1]   # stdnum agrees on the check
        assert normalize_resident_id(result.value) == result


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
def test_the_clean_eighteen_character_shortcut_reads_as_the_general_path_does(raw: str) -> None:
    assert normalize_resident_id(raw) == normalize_resident_id(f" {raw}")   # the space keeps it off the shortcut
