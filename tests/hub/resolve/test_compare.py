"""Comparison levels on the test cases of matching-notes §9 (values normalized as statements hold them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hub.normalize.dates import normalize_date
from hub.normalize.names import normalize_person_name
from hub.normalize.phones import normalize_phone
from hub.normalize.resident_id import normalize_resident_id
from hub.resolve.compare import Prepared
from hub.resolve.features import person_features
from hub.resolve.persons import COMPARISONS
from tests.hub.resolve.conftest import frame, person


def _normalized(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    if "name" in raw:
        out["name"] = normalize_person_name(raw["name"]).value
    if "resident_id" in raw:
        result = normalize_resident_id(raw["resident_id"])
        out["resident_id"] = result.value
        for key in ("resident_id_unchecked", "resident_id_masked", "resident_id_prefix14"):
            if key in result.derived:
                out[key] = result.derived[key]
    if "birth_date" in raw:
        out["birth_date"] = normalize_date(raw["birth_date"]).value
    if "phone" in raw:
        out["phone"] = normalize_phone(raw["phone"]).value
    return out


def levels(a: dict[str, Any], b: dict[str, Any]) -> dict[str, str]:
    data = Prepared(person_features(frame(person("a", **_normalized(a)), person("b", **_normalized(b)))))
    i, j = np.array([0]), np.array([1])
    return {c.name: c.level_names[int(c.compute(data, i, j)[0])] for c in COMPARISONS}


@pytest.mark.parametrize("raw", ["６５０１０２１９８５０３０７１００Ｘ", "650102 19850307 100X", "65010219850307100x"])
def test_id_spellings_are_exact(raw: str) -> None:
    assert levels({"resident_id": "65010219850307100X"}, {"resident_id": raw})["resident_id"] == "exact"


def test_fifteen_digit_id_is_exact() -> None:
    assert levels({"resident_id": "650102850307123"}, {"resident_id": "650102198503071237"})["resident_id"] == "exact"


def test_adjacent_swap_is_one_edit() -> None:
    got = levels({"resident_id": "650102198503071273", "name": "张伟", "birth_date": "1985-03-07"},
                 {"resident_id": "650102198503071237", "name": "张伟", "birth_date": "1985-03-07"})
    assert got["resident_id"] == "one_edit" and got["name"] == "exact" and got["birth_date"] == "exact"


def test_masked_id_with_birth_date_is_compatible() -> None:
    got = levels({"resident_id": "650102********1237", "birth_date": "1985-03-07"},
                 {"resident_id": "650102198503071237"})
    assert got["resident_id"] == "compatible"


def test_old_district_code_counts_as_valid() -> None:
    got = levels({"resident_id": "65010219700101123X"}, {"resident_id": "65010219700101123X"})
    assert got["resident_id"] == "exact"


@pytest.mark.parametrize(("a", "b", "level"), [
    ("張偉", "张伟", "exact"),
    ("王伟", "王玮", "pinyin"),
    ("伟王", "王伟", "swapped"),
    ("买买提·艾力", "麦麦提•艾力", "pinyin"),
    ("买买提·艾力", "买买提?艾力", "exact"),
    ("买买提·艾力", "买买提艾力", "pinyin"),
    ("买买提·艾力", "买买提.艾力", "exact"),
    ("阿不都热合曼", "阿卜杜热合曼", "pinyin"),
    ("古丽·吐尔逊", "古力·图尔荪", "loose"),
    ("买买提·艾力", "买买提", "part_missing"),
    ("买买提·艾力", "艾力·买买提", "reordered"),
])
def test_name_variants_reach_their_level(a: str, b: str, level: str) -> None:
    assert levels({"name": a}, {"name": b})["name"] == level


@pytest.mark.parametrize(("a", "b"), [("欧阳伟", "欧伟"), ("阿依古丽·买买提", "古丽娜·买买提"), ("李思雨", "李思雪")])
def test_different_names_do_not_agree(a: str, b: str) -> None:
    assert levels({"name": a}, {"name": b})["name"] in ("similar", "else")


def test_unreadable_name_is_null_not_a_surname() -> None:
    assert levels({"name": "王?"}, {"name": "王"})["name"] == "null"


@pytest.mark.parametrize("raw", ["1985/3/7", "19850307", "1985年3月7日", 31113])
def test_date_spellings_are_exact(raw: object) -> None:
    assert levels({"birth_date": "1985-03-07"}, {"birth_date": raw})["birth_date"] == "exact"


def test_date_levels() -> None:
    assert levels({"birth_date": "1985-03-07"}, {"birth_date": "1985-07-03"})["birth_date"] == "swapped"
    assert levels({"birth_date": "1985-03-07"}, {"birth_date": "1985-03-08"})["birth_date"] == "typo"
    assert levels({"birth_date": "1985-03-07"}, {"birth_date": "1985-11-20"})["birth_date"] == "year"
    assert levels({"birth_date": "1960-03-07"}, {"birth_date": "1988-11-20"})["birth_date"] == "else"


@pytest.mark.parametrize("raw", ["+86 138-0013-8000", "008613800138000"])
def test_phone_spellings_are_exact(raw: str) -> None:
    assert levels({"phone": "13800138000"}, {"phone": raw})["phone"] == "exact"


def test_twins_ids_are_different_valid() -> None:
    got = levels({"resident_id": "650102198503071237", "name": "李思雨"},
                 {"resident_id": "650102198503071253", "name": "李思雪"})
    assert got["resident_id"] == "different_valid"


def test_same_id_different_sex_reads_as_sex_else() -> None:
    got = levels({"resident_id": "650102198503071237", "gender": "1"}, {"resident_id": "650102198503071237",
                                                                       "gender": "2"})
    assert got["sex"] == "else" and got["resident_id"] == "exact"


def test_house_spellings_are_the_same_house() -> None:
    a = {"house_estate": "盛世花苑", "house_building": "3", "house_unit": "2", "house_room": "1502"}
    b = {"house_estate": "盛世花苑小区", "house_building": "三栋", "house_unit": "2单元", "house_room": "15楼02"}
    assert levels(a, b)["house"] == "same_house"
    c = {"house_estate": "盛世花苑", "house_building": "9", "house_unit": "2", "house_room": "1502"}
    assert levels(a, c)["house"] == "same_estate"
