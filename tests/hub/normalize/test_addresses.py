"""Addresses: matching-notes §7 and §9 (must match 13)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.normalize import addresses
from hub.normalize.addresses import normalize_address

from .strategies import ADDRESS_LIKE, check_contract


def house(raw: str) -> tuple[str | None, str | None, str | None]:
    derived = normalize_address(raw).derived
    return derived.get("building"), derived.get("unit"), derived.get("room")


@pytest.mark.parametrize("raw", ["3号楼2单元1502室", "3-2-1502", "三栋二单元15楼02", "3栋2单元1502", "3幢2单1502",
                                 "3#楼2单元15层02室", "3#2单元15-02", "３号楼２单元１５０２室", "3 号楼 2 单元 1502 室",
                                 "3座二单元十五楼零二", "3栋2-1502", "3号2单元1502室"])
def test_house_forms(raw: str) -> None:
    """§9 must-match 13 and the equivalent forms of §7."""
    assert house(raw) == ("3", "2", "1502")
    assert normalize_address(raw).value == "3号楼2单元1502室"


@pytest.mark.parametrize(("raw", "expected"), [
    ("幸福公寓 3 1单元 101", ("3", "1", "101")),
    ("阳光小区 3 2 1502", ("3", "2", "1502")),
    ("3栋 2单元 1502", ("3", "2", "1502")),
    ("阳光小区\u30003\u30002\u30001502", ("3", "2", "1502")),
    ("阳光小区3-1单元101", ("3", "1", "101")),
])
def test_a_space_between_two_numbers_separates_them(raw: str, expected: tuple[str, str, str]) -> None:
    assert house(raw) == expected


def test_spaced_numbers_read_as_the_written_out_house() -> None:
    assert normalize_address("幸福公寓 3 1单元 101").value == normalize_address("幸福公寓3号楼1单元101室").value
    assert normalize_address("阳光小区 3 2 1502").derived["estate"] == "阳光"


def test_chinese_numerals_in_the_tail_only() -> None:
    assert house("廿一栋幺单元302") == ("21", "1", "302")
    result = normalize_address("五一路12号三栋")
    assert result.derived["road"] == "五一路"                       # cn2an on the whole string gives 51路
    assert result.value == "五一路12号3号楼"
    assert normalize_address("二道湾路8号").value == "二道湾路8号"


def test_a_number_after_a_road_is_a_street_number() -> None:
    result = normalize_address("友好北路89号2栋1单元302")
    assert result.derived == {"road": "友好北路", "road_no": "89", "building": "2", "unit": "1", "room": "302"}


def test_full_hierarchy() -> None:
    result = normalize_address("新疆维吾尔自治区乌鲁木齐市天山区幸福路街道和平社区居委会阳光小区3号楼2单元1502室")
    assert result.value == "天山区幸福路街道和平社区阳光3号楼2单元1502室"
    assert result.derived == {
        "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区", "district_code": "650102",
        "street": "幸福路街道", "community": "和平社区", "estate": "阳光",
        "building": "3", "unit": "2", "room": "1502",
    }


def test_the_same_house_written_with_and_without_upper_levels() -> None:
    short = normalize_address("天山区和平社区阳光小区3栋2单元1502")
    long = normalize_address("新疆乌鲁木齐市天山区和平社区居委会阳光小区3号楼2单元1502室")
    assert short.value == long.value


def test_estate_keeps_garden_and_home_words() -> None:
    """小区 is dropped; 花园/家园 stay because 阳光花园 and 阳光家园 can be two estates."""
    assert normalize_address("阳光花园5栋").derived["estate"] == "阳光花园"
    assert normalize_address("阳光家园5栋").derived["estate"] == "阳光家园"
    assert normalize_address("阳光小区5栋").derived["estate"] == "阳光"
    assert normalize_address("幸福家园二区3栋").derived["estate"] == "幸福家园二区"


def test_estate_and_community_are_spelled_as_their_own_columns() -> None:
    """Traditional characters and the committee's office fold as estate_name / community_name fold them."""
    result = normalize_address("天山区和平社区居委会陽光小區3栋2单元1502")
    assert result.derived["estate"] == "阳光"
    assert result.derived["community"] == "和平社区"
    assert normalize_address("和平居民委员会阳光小区3栋").derived["community"] == "和平社区"
    assert normalize_address("幸福村委会5栋").derived["community"] == "幸福村"


def test_retired_district_gets_its_successor_code() -> None:
    result = normalize_address("乌鲁木齐市东山区阳光花园5栋1单元201")
    assert result.derived["district"] == "东山区"
    assert result.derived["district_code"] == "650109"
    assert result.flags == ("retired_district",)


def test_a_district_of_the_table_is_not_forced_on_another_city() -> None:
    """朝阳区 in the table is Beijing's; 长春市朝阳区 gets no code and keeps its city in the value."""
    beijing = normalize_address("北京朝阳区建国路88号")
    assert beijing.derived["district_code"] == "110105"
    changchun = normalize_address("吉林省长春市朝阳区建国路88号")
    assert "district_code" not in changchun.derived
    assert changchun.value != beijing.value


def test_a_province_short_name_inside_an_estate_name_is_not_a_province() -> None:
    result = normalize_address("北京花园3栋")
    assert result.derived == {"estate": "北京花园", "building": "3"}


def test_free_text_is_still_an_address() -> None:
    result = normalize_address("火车站对面")
    assert result.value == "火车站对面"
    assert result.derived == {"estate": "火车站对面"}


def test_unparsed_tail_is_kept_and_flagged() -> None:
    result = normalize_address("阳光小区3号楼2单元1502室(东户)")
    assert result.value == "阳光3号楼2单元1502室(东户)"
    assert result.flags == ("unparsed_tail",)


@pytest.mark.parametrize(("raw", "reason"), [
    ("???", "address: no place name or house number"),
    ("12345", "address: no place name or house number"),
    ("路" * 400, "address: too long for an address"),
    (12.5, "address: no place name or house number"),
    ({"street": "x"}, "address: unsupported type dict"),
])
def test_garbage_is_named(raw: object, reason: str) -> None:
    assert normalize_address(raw).reason == reason


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(ADDRESS_LIKE)
def test_address_shaped_input_is_total_and_stable(raw: str) -> None:
    result = check_contract(normalize_address, raw)
    assert result.ok
    again = normalize_address(result.value)
    assert again.value == result.value
    assert {k: again.derived.get(k) for k in ("building", "unit", "room")} == {
        k: result.derived.get(k) for k in ("building", "unit", "room")}


DEMO_LIKE = [
    "新疆维吾尔自治区乌鲁木齐市天山区幸福路街道和平社区阳光小区3号楼2单元{room}室",
    "阳光小区三栋二单元{room}",
    "幸福公寓 3 1单元 {room}",
    "友好北路89号2栋1单元{room}",
    "乌鲁木齐市天山区新民路216号红山新村11号楼2单元{room}室",
    "新疆乌鲁木齐市天山区天瑞雅居12-1-{room}",
    "乌鲁木齐市天山区五星南路15号3幢二单元{room}",
    "城建佳苑6#楼一单元{room}",
]
"""The shapes of the demo district's addresses (gongan JZDZ, property houses), one per room."""


def demo_like(rooms: range) -> list[str]:
    return [template.format(room=room) for room in rooms for template in DEMO_LIKE]


ADDRESS_PIECES = st.lists(st.sampled_from([
    *"新疆乌鲁木齐市天山区幸福路街道和平社区居委会村镇乡阳光小区花园公寓",
    *"号楼栋幢座单元室户层#-0123456789一二三四五十廿两幺零AB 里道新期",
    "小区", "社区", "居委会", "号楼", "单元", "街道", "乌鲁木齐市", "天山区", "东山区", "北京", "朝阳区",
    "吉林省长春市",
]), max_size=25).map("".join)
"""Text built from the words and numbers addresses are made of, seams included."""


def _settled_reads_back(raw: str) -> None:
    """When `_settled` skips the second reading, the second reading would have found nothing to change:
    then the old double parse returned these very parts, so the fast path changes no result."""
    parts = addresses._parse(addresses._prepared(raw))
    if addresses._settled(parts):
        assert addresses._parse(parts.canonical()).canonical() == parts.canonical()
    result = normalize_address(raw)
    assert result.value is None or normalize_address(result.value).value == result.value


@pytest.mark.parametrize("raw", [
    *demo_like(range(1502, 1503)), "02三号楼", "幸福村小区3栋", "阳光小区5号", "北京朝阳区建国路88号", "火车站对面",
    "阳光小区3号楼2单元1502室(东户)", "幸福里3号楼2单元", "1二栋", "陽光3號樓2单元1502室", "阳光5-3号楼"])
def test_the_fast_path_reads_as_reading_twice_does(raw: str) -> None:
    _settled_reads_back(raw)


@settings(max_examples=300, deadline=None)
@given(ADDRESS_PIECES)
def test_the_fast_path_reads_as_reading_twice_does_on_any_pieces(raw: str) -> None:
    _settled_reads_back(raw)


def test_demo_like_addresses_take_the_fast_path_and_the_head_is_read_once() -> None:
    addresses._read_head.cache_clear()
    for raw in demo_like(range(1502, 1503)):
        assert addresses._settled(addresses._parse(addresses._prepared(raw))), raw
    misses = addresses._read_head.cache_info().misses
    for room in range(101, 131):
        normalize_address(f"乌鲁木齐市天山区新民路216号红山新村11号楼2单元{room}室")
    assert addresses._read_head.cache_info().misses <= misses + 1
    assert addresses._read_head.cache_info().maxsize is not None   # bounded
