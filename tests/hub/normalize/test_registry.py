"""The registry mappings resolve normalizer names in, and the package surface."""

from __future__ import annotations

import pandas as pd
import pytest

import hub.normalize as package
from hub.normalize import EMPTY, NORMALIZERS, Normalized, get_normalizer, normalize_column

NAMES = {"resident_id", "credit_code", "person_name", "org_name", "phone", "date", "date_dmy", "datetime", "gender",
         "ethnicity", "population_type", "relation_to_head", "address", "text", "decimal", "integer", "plate",
         "boolean", "building_no", "unit_no", "room_no", "estate_name", "community_name"}


def test_registry_holds_every_normalizer_named_in_the_vocabulary() -> None:
    assert set(NORMALIZERS) == NAMES


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        NORMALIZERS["x"] = NORMALIZERS["text"]  # type: ignore[index]


def test_get_normalizer_returns_the_registered_function() -> None:
    assert get_normalizer("phone")("13800138000") == Normalized("13800138000")


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(KeyError, match="did you mean phone"):
        get_normalizer("phon")
    with pytest.raises(KeyError, match="resident_id"):
        get_normalizer("residentid")


def test_exports() -> None:
    assert set(package.__all__) == {"EMPTY", "NORMALIZERS", "Normalized", "Normalizer", "get_normalizer",
                                    "normalize_column"}


def test_normalize_column_over_a_department_column() -> None:
    column = pd.Series(["男", "女", None, "男", "x", float("nan")])
    results = normalize_column(NORMALIZERS["gender"], column)
    assert [r.value for r in results] == ["1", "2", None, "1", None, None]
    assert results[2] == EMPTY and results[5] == EMPTY
    assert results[4].reason == "gender: not a recognised value"
