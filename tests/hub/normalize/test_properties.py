"""Contract of every registered normalizer, checked on arbitrary input (reliability figure G5)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from hub.normalize import EMPTY, NORMALIZERS

from .strategies import ADDRESS_LIKE, ANYTHING, DATE_LIKE, ID_LIKE, NAME_LIKE, PHONE_LIKE, check_contract

pytestmark = pytest.mark.reliability("G5")

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(NORMALIZERS))
@SETTINGS
@given(raw=ANYTHING)
def test_total_on_any_input(name: str, raw: Any) -> None:
    check_contract(NORMALIZERS[name], raw)


@pytest.mark.parametrize("name", sorted(NORMALIZERS))
@pytest.mark.parametrize("blank", [None, "", "   ", "\u3000", float("nan"), "NULL", "-"])
def test_blank_is_empty_not_an_error(name: str, blank: Any) -> None:
    assert NORMALIZERS[name](blank) == EMPTY


IDEMPOTENT = {
    "resident_id": ID_LIKE,
    "phone": PHONE_LIKE,
    "date": DATE_LIKE,
    "person_name": NAME_LIKE,
    "address": ADDRESS_LIKE,
    "credit_code": ANYTHING,
    "building_no": ANYTHING,
    "unit_no": ANYTHING,
    "room_no": ANYTHING,
    "estate_name": ANYTHING,
    "community_name": ANYTHING,
}


@pytest.mark.parametrize("name", sorted(IDEMPOTENT))
@SETTINGS
@given(data=ANYTHING)
def test_idempotent_on_any_input(name: str, data: Any) -> None:
    _assert_idempotent(name, data)


@pytest.mark.parametrize("name", sorted(IDEMPOTENT))
@SETTINGS
@given(data=ANYTHING.flatmap(lambda _: ANYTHING) | ID_LIKE | PHONE_LIKE | DATE_LIKE | NAME_LIKE | ADDRESS_LIKE)
def test_idempotent_on_field_shaped_input(name: str, data: Any) -> None:
    _assert_idempotent(name, data)


def _assert_idempotent(name: str, raw: Any) -> None:
    normalizer = NORMALIZERS[name]
    first = check_contract(normalizer, raw)
    if first.value is not None:
        again = normalizer(first.value)
        assert again.value == first.value, (raw, first, again)
        assert again.derived == first.derived or name == "address"
