"""Code lists: GB/T 2261.1 gender, GB 3304 ethnicity, GB/T 2260 divisions, vocabulary enumerations."""

from __future__ import annotations

from typing import Any

import pytest

from hub.normalize._resources import load_resource
from hub.normalize.codes import (
    current_division_code,
    division_code,
    division_name,
    lookup_key,
    normalize_ethnicity,
    normalize_gender,
    normalize_population_type,
    normalize_relation_to_head,
)

GROUPS = load_resource("gb_3304_ethnicity")["groups"]


@pytest.mark.parametrize(("raw", "code"), [
    ("男", "1"), ("男性", "1"), ("M", "1"), ("male", "1"), (1, "1"), (1.0, "1"), ("1.0", "1"),
    ("女", "2"), ("女性", "2"), ("f", "2"), ("Female", "2"), (2, "2"), ("２", "2"),
    ("未知", "0"), (0, "0"), ("未说明", "9"), (9, "9"),
])
def test_gender(raw: Any, code: str) -> None:
    assert normalize_gender(raw).value == code


def test_gender_rejects_the_unknown() -> None:
    assert normalize_gender("x").reason == "gender: not a recognised value"
    assert normalize_gender(3).reason == "gender: not a recognised value"


def test_ethnicity_table_is_complete() -> None:
    codes = [g["code"] for g in GROUPS]
    assert codes == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
    assert all(g["name"].endswith("族") for g in GROUPS if int(g["code"]) <= 56)


def test_no_spelling_points_at_two_groups() -> None:
    seen: dict[str, str] = {}
    for group in GROUPS:
        spellings = [group["code"], group["name"], group["short"], group.get("letters"), group.get("roman"),
                     *group.get("aliases", [])]
        for spelling in filter(None, spellings):
            key = lookup_key(str(spelling))
            assert seen.setdefault(key, group["code"]) == group["code"], spelling


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g["code"])
def test_every_group_by_code_full_and_short_name(group: dict[str, Any]) -> None:
    code = group["code"]
    for raw in (code, int(code), group["name"], group["short"]):
        assert normalize_ethnicity(raw).value == code


@pytest.mark.parametrize(("raw", "code"), [
    ("维吾尔", "05"), ("维吾尔族", "05"), ("维族", "05"), ("UG", "05"), ("Uyghur", "05"),
    ("汉", "01"), ("汉族", "01"), ("漢族", "01"), ("1", "01"), (" 汉族 ", "01"),
    ("哈萨克族", "17"), ("哈族", "17"), ("Kazakh", "17"), ("外国血统", "98"), (97, "97"),
])
def test_ethnicity_variants(raw: Any, code: str) -> None:
    assert normalize_ethnicity(raw).value == code


@pytest.mark.parametrize("raw", [57, "99", "火星族", 0])
def test_ethnicity_rejects_codes_outside_the_standard(raw: Any) -> None:
    assert normalize_ethnicity(raw).reason == "ethnicity: not a recognised value"


@pytest.mark.parametrize(("raw", "value"), [
    ("户籍", "registered"), ("常住户籍", "registered"), ("registered", "registered"), (1, "registered"),
    ("流动", "floating"), ("流动人口", "floating"), ("暂住", "floating"), ("floating", "floating"), (2, "floating"),
])
def test_population_type(raw: Any, value: str) -> None:
    assert normalize_population_type(raw).value == value


@pytest.mark.parametrize(("raw", "value"), [
    ("户主", "head"), ("本人", "head"), ("02", "head"),
    ("配偶", "spouse"), ("妻", "spouse"), ("夫", "spouse"), ("丈夫", "spouse"),
    ("子", "child"), ("女", "child"), ("儿子", "child"), ("女儿", "child"), ("长女", "child"), (22, "child"),
    ("父亲", "parent"), ("母亲", "parent"), ("父母", "parent"),
    ("孙子", "grandchild"), ("孙女", "grandchild"), ("外孙女", "grandchild"),
    ("其他", "other"), ("女婿", "other"), ("岳母", "other"), ("兄", "other"),
])
def test_relation_to_head(raw: Any, value: str) -> None:
    assert normalize_relation_to_head(raw).value == value


def test_relation_rejects_the_unknown() -> None:
    assert normalize_relation_to_head("宠物").reason == "relation_to_head: not a recognised value"


def test_divisions_include_retired_codes_with_successors() -> None:
    assert division_name("650108") == "东山区"
    assert division_code("东山区") == "650108"
    assert current_division_code("650108") == "650109"
    assert division_name("650109") == "米东区"
    assert current_division_code("652201") == "650502"      # 哈密市 (county) → 伊州区
    assert current_division_code("650102") == "650102"


def test_division_lookups() -> None:
    assert division_name(650102) == "天山区"
    assert division_code("天山区") == "650102"
    assert division_code("新疆") == "650000"
    assert division_code("吐鲁番市") == "650400"              # the current division wins over the retired one
    assert division_code("吐鲁番市", "county") == "652101"
    assert [division_code(n) for n in ("东城区", "延庆区")] == ["110101", "110119"]
    assert division_name("999999") is None
    assert division_code("火星区") is None
