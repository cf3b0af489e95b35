"""Resident IDs and credit codes are built by their standards (checked against python-stdnum)."""

from __future__ import annotations

import numpy as np
from stdnum.cn import ric, uscc

from hub.demo.idnumbers import make_rics, make_uscc, org_code_check, ric_is_valid, to_first_generation


def test_resident_ids_follow_gb11643() -> None:
    ids = make_rics(
        np.array(["650102", "650102", "110105"]),
        np.array(["1985-03-07", "1970-01-01", "1949-12-31"], dtype="datetime64[D]"),
        np.array([123, 123, 2]),
    )
    assert list(ids) == ["650102198503071237", "65010219700101123X", "11010519491231002X"]
    assert all(ric.calc_check_digit(i) == i[-1] for i in ids)
    assert all(ric_is_valid(i) for i in ids)


def test_validity_rejects_one_digit_off_and_masks() -> None:
    assert not ric_is_valid("650102198503071273")
    assert not ric_is_valid("650102********1237")
    assert not ric_is_valid("６５０１０２１９８５０３０７１２３７")


def test_first_generation_form_drops_century_and_check() -> None:
    assert to_first_generation("650102198503071237") == "650102850307123"


def test_credit_codes_embed_a_valid_organization_code() -> None:
    code = make_uscc("91", "110000", "60003734")
    assert code == "91110000600037341L"
    assert uscc.is_valid(code)
    social = make_uscc("51", "650102", "MJ012345")
    assert uscc.is_valid(social)
    assert social[16] == org_code_check("MJ012345")
