"""A house's own columns (building, unit, room, estate, community) and their agreement with its address."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.normalize import NORMALIZERS, Normalizer
from hub.normalize.addresses import normalize_address
from hub.normalize.houses import (
    UNRECOGNISED,
    normalize_building_no,
    normalize_community_name,
    normalize_estate_name,
    normalize_room_no,
    normalize_unit_no,
)

from .strategies import check_contract


@pytest.mark.parametrize("raw", ["3栋", "三栋", "3号楼", "3#", "3幢", "3座", "3", "03", "第3栋", "３号楼", " 3 栋",
                                 "3棟", 3, 3.0])
def test_building_forms(raw: object) -> None:
    assert normalize_building_no(raw) == normalize_building_no("3") and normalize_building_no(raw).value == "3"


def test_lettered_and_long_buildings() -> None:
    assert normalize_building_no("A座").value == "A"
    assert normalize_building_no("a座").value == "A"
    assert normalize_building_no("十二栋").value == "12"


@pytest.mark.parametrize("raw", ["2单元", "二单元", "2单", "2", "第二单元", "02", 2])
def test_unit_forms(raw: object) -> None:
    assert normalize_unit_no(raw).value == "2"


@pytest.mark.parametrize("raw", ["1502室", "15楼02", "15层02", "1502", "1502号", "十五楼零二", "15-02", "一五零二",
                                 1502])
def test_room_forms(raw: object) -> None:
    assert normalize_room_no(raw).value == "1502"


def test_a_room_on_a_low_floor() -> None:
    assert normalize_room_no("5楼3").value == "503"
    assert normalize_room_no("502室").value == "502"


@pytest.mark.parametrize(("normalizer", "raw"), [
    (normalize_building_no, "综合楼"), (normalize_building_no, "A1"), (normalize_room_no, "1-502"),
    (normalize_unit_no, "东单元"),
])
def test_unknown_forms_are_kept_as_written_and_flagged(normalizer: Normalizer, raw: str) -> None:
    """The property company's column is the authority: a form no pattern reads is kept, not lost."""
    result = normalizer(raw)
    assert result.value == raw and result.flags == (UNRECOGNISED,)
    assert normalizer(result.value) == result


@pytest.mark.parametrize(("raw", "reason"), [
    ("???", "building_no: no number or name"),
    ("3" * 30, "building_no: too long for a house number"),
    ([3], "building_no: unsupported type list"),
])
def test_building_garbage_is_named(raw: object, reason: str) -> None:
    assert normalize_building_no(raw).reason == reason


@pytest.mark.parametrize(("raw", "expected"), [
    ("阳光小区", "阳光"), ("陽光小區", "阳光"), ("阳光 小区", "阳光"), ("阳光花园", "阳光花园"),
    ("阳光家园", "阳光家园"), ("城建佳苑小区", "城建佳苑"), ("小区", "小区"),
])
def test_estate_names(raw: str, expected: str) -> None:
    assert normalize_estate_name(raw).value == expected


def test_an_estate_name_needs_letters() -> None:
    assert normalize_estate_name("123").reason == "estate_name: no letters"


@pytest.mark.parametrize(("raw", "expected"), [
    ("和平社区居委会", "和平社区"), ("和平社区居民委员会", "和平社区"), ("和平居民委员会", "和平社区"),
    ("和平居委会", "和平社区"), ("和平社区", "和平社区"), ("和平社區居委會", "和平社区"), ("幸福村委会", "幸福村"),
    ("幸福村民委员会", "幸福村"), ("幸福村", "幸福村"), ("和平", "和平"), ("幸福新村", "幸福新村"),
])
def test_community_names(raw: str, expected: str) -> None:
    assert normalize_community_name(raw).value == expected


@pytest.mark.parametrize(("address", "columns"), [
    ("乌鲁木齐市天山区解放南路282号天润小区3号楼1单元601室",
     {"estate": "天润小区", "building": "3栋", "unit": "1单元", "room": "601"}),
    ("乌鲁木齐市天山区五星南路15号3幢二单元6楼01", {"building": "3", "unit": "2单元", "room": "601"}),
    ("新疆乌鲁木齐市天山区民主路140号天瑞雅居9栋一单元5层02室",
     {"estate": "天瑞雅居", "building": "9栋", "unit": "1单元", "room": "502室"}),
    ("乌鲁木齐市天山区明德路217号城建佳苑2号楼1单元1302室",
     {"estate": "城建佳苑小区", "building": "2号楼", "unit": "一单元", "room": "1302"}),
    ("天山区和平社区居委会阳光小区三栋二单元15楼02",
     {"community": "和平社区居委会", "estate": "阳光小区", "building": "3#", "unit": "2单", "room": "15层02"}),
    ("幸福公寓 3 1单元 101", {"estate": "幸福公寓", "building": "三栋", "unit": "1", "room": "101室"}),
])
def test_a_house_row_agrees_with_its_own_address(address: str, columns: dict[str, str]) -> None:
    """The point of these normalizers: the columns and the parts derived from the address compare equal
    (the statement builder flags a derived value that differs from the row's own)."""
    derived = normalize_address(address).derived
    normalizers = {"estate": normalize_estate_name, "community": normalize_community_name,
                   "building": normalize_building_no, "unit": normalize_unit_no, "room": normalize_room_no}
    for column, raw in columns.items():
        assert normalizers[column](raw).value == derived[column], column


HOUSE_NORMALIZERS = ["building_no", "unit_no", "room_no", "estate_name", "community_name"]
HOUSE_LIKE = st.from_regex(
    r"\A\s*第?([0-9]{1,4}|[一二三四五六七八九十零两]{1,3}|[A-Za-z])(号楼|栋|幢|座|#|单元|单|室|号|楼|层)?([0-9]{1,2})?\s*\Z"
) | st.from_regex(r"\A[阳光幸福和平陽區小区社居委会村民员新 ]{1,10}\Z")
"""House numbers and estate or community names as property systems type them."""


@pytest.mark.parametrize("name", HOUSE_NORMALIZERS)
@settings(max_examples=200, deadline=None)
@given(raw=HOUSE_LIKE)
def test_house_column_normalizers_are_total_and_idempotent(name: str, raw: str) -> None:
    normalizer = NORMALIZERS[name]
    result = check_contract(normalizer, raw)
    if result.value is not None:
        assert normalizer(result.value).value == result.value
