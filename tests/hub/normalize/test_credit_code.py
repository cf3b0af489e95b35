"""Credit codes and organization codes: matching-notes §2 and §9 (must match 14)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc
from stdnum.exceptions import InvalidFormat

from hub.normalize.credit_code import ALPHABET, credit_check_char, normalize_credit_code, org_check_char

from .strategies import check_contract

CODE = "91110000600037341L"


def make_code(first17: str) -> str:
    return first17 + credit_check_char(first17)


@pytest.mark.parametrize("raw", [CODE, "91110000600037341l", "９１１１００００６０００３７３４１Ｌ",
                                 "9111 0000 6000 3734 1L", "91110000-600037341-L"])
def test_credit_code_forms_fold_to_one_value(raw: str) -> None:
    result = normalize_credit_code(raw)
    assert result.value == CODE
    assert result.derived == {"org_code": "600037341"}
    assert result.flags == ()


def test_old_organization_code_links_to_the_credit_code() -> None:
    """§9 must-match 14: 60003734-1 is positions 9-17 of 91110000600037341L."""
    old = normalize_credit_code("60003734-1")
    assert old.value == "600037341"
    assert old.flags == ("organization_code",)
    assert old.derived["org_code"] == normalize_credit_code(CODE).derived["org_code"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=2, max_size=2), st.text(alphabet="0123456789", min_size=6, max_size=6),
       st.text(alphabet=ALPHABET, min_size=9, max_size=9))
def test_check_agrees_with_stdnum_where_stdnum_applies(head: str, division: str, body: str) -> None:
    code = make_code(head + division + body)
    assert uscc.calc_check_digit(code[:17]) == code[17]
    assert normalize_credit_code(code).value == code


def test_letter_authorities_that_stdnum_rejects_are_accepted() -> None:
    """Village collectives (N2…), the military (A1…), others (Y1…): valid codes stdnum calls InvalidFormat."""
    for head in ("N2", "A1", "Y1"):
        code = make_code(f"{head}650102MA1234567")
        with pytest.raises(InvalidFormat):
            uscc.validate(code)
        assert normalize_credit_code(code).value == code


def test_embedded_organization_code_check_is_a_flag_not_a_rejection() -> None:
    body = "60003734"
    wrong = "2" if org_check_char(body) != "2" else "3"
    code = make_code(f"91110000{body}{wrong}")
    result = normalize_credit_code(code)
    assert result.value == code
    assert result.flags == ("org_code_check_mismatch",)


@pytest.mark.parametrize(("raw", "reason"), [
    ("91110000600037341M", "credit_code: check character does not match"),
    ("91110000600037341I", "credit_code: contains characters outside the credit-code alphabet"),
    ("9111000A600037341L", "credit_code: positions 3-8 are not a division code"),
    ("60003734-2", "credit_code: organization code check character does not match"),
    ("6000373!1", "credit_code: not a valid organization code"),
    ("110105000123456", "credit_code: a 15-digit business registration number, not a credit code"),
    ("9111000060003734", "credit_code: 16 characters, expected 18 (or 9 for an organization code)"),
    ("9" * 1000, "credit_code: too long for a credit code"),
    (3.5, "credit_code: 2 characters, expected 18 (or 9 for an organization code)"),
])
def test_bad_codes_are_named(raw: object, reason: str) -> None:
    assert normalize_credit_code(raw).reason == reason


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET + "IOZSV-· abc", max_size=22))
def test_code_shaped_input_is_total_and_stable(raw: str) -> None:
    result = check_contract(normalize_credit_code, raw)
    if result.ok:
        assert normalize_credit_code(result.value) == result
