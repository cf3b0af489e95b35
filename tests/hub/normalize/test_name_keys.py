"""Matching keys of names: matching-notes §3, §4 and §9 (must match 6-10, 16; must not 7, 9)."""

from __future__ import annotations

import pytest
from rapidfuzz.distance import JaroWinkler

from hub.normalize._resources import load_resource
from hub.normalize.name_keys import (
    loose_pinyin_key,
    name_parts,
    pinyin_key,
    pinyin_keys,
    sorted_key,
    split_surname,
)
from hub.normalize.names import normalize_person_name


@pytest.mark.parametrize(("name", "key"), [
    ("单雄信", "shanxiongxin"), ("曾伟", "zengwei"), ("曾国藩", "zengguofan"),
    ("查良镛", "zhaliangyong"), ("解晓东", "xiexiaodong"), ("区家明", "oujiaming"),
])
def test_surnames_are_read_as_surnames(name: str, key: str) -> None:
    """§9 must-match 16: pypinyin alone gives dan…, ceng…, cha…"""
    assert pinyin_key(name) == key


def test_surname_readings_come_from_the_resource_table() -> None:
    table = load_resource("surnames")
    assert table["surname_readings"]["单"] == ["shan"]
    assert set(table["compound_surnames"]) >= {"欧阳", "司马", "诸葛", "尉迟", "万俟"}


def test_a_surname_with_two_readings_gives_both_keys() -> None:
    assert pinyin_keys("乐嘉") == ["yuejia", "lejia"]
    assert pinyin_keys("王伟") == ["wangwei"]


def test_the_surname_table_applies_to_the_first_character_only() -> None:
    assert pinyin_key("王单") == "wangdan"


def test_homophones_share_the_pinyin_key() -> None:
    """§9 must-match 6 (and 张伟 written in traditional characters)."""
    assert pinyin_key("王伟") == pinyin_key("王玮") == pinyin_key("王偉") == "wangwei"
    assert pinyin_key("刘洋") == pinyin_key("柳杨")


def test_swapped_name_shares_the_sorted_key() -> None:
    """§9 must-match 7."""
    assert sorted_key("伟王") == sorted_key("王伟")
    assert sorted_key("艾力·买买提") == sorted_key("买买提艾力")


def test_transliteration_characters_use_their_transliteration_reading() -> None:
    """§9 must-match 9: 卜 bu, 都 du (pypinyin: bo, dou)."""
    assert pinyin_key("阿不都热合曼") == pinyin_key("阿卜杜热合曼") == "abudureheman"
    assert pinyin_key("阿卜都") == "abudu"


def test_separator_forms_share_the_pinyin_key() -> None:
    """§9 must-match 8, including the unsplit form."""
    forms = ["买买提·艾力", "麦麦提•艾力", "买买提?艾力", "买买提艾力", "买买提.艾力"]
    keys = {pinyin_key(value) for form in forms if (value := normalize_person_name(form).value)}
    assert keys == {"maimaitiaili"}


def test_transliteration_variants_meet_part_by_part_on_the_loose_key() -> None:
    """§9 must-match 10: 古丽·吐尔逊 = 古力·图尔荪 (丽/力 li, 逊 xun / 荪 sun)."""
    left, right = name_parts("古丽·吐尔逊"), name_parts("古力·图尔荪")
    assert [loose_pinyin_key(p) for p in left] == [loose_pinyin_key(p) for p in right]
    assert loose_pinyin_key("艾力") == loose_pinyin_key("阿里")
    assert loose_pinyin_key("肉孜") == loose_pinyin_key("若孜")


def test_father_and_son_differ_in_order_only() -> None:
    assert name_parts("买买提·达吾提") == list(reversed(name_parts("达吾提·买买提")))


def test_compound_surnames_are_not_split() -> None:
    """§9 must-not 7: 欧阳伟 is not 欧伟."""
    assert split_surname("欧阳伟") == ("欧阳", "伟")
    assert split_surname("欧伟") == ("欧", "伟")
    assert pinyin_key("欧阳伟") != pinyin_key("欧伟")
    assert pinyin_key("尉迟恭") == "yuchigong"


def test_transliterated_names_have_no_surname() -> None:
    assert split_surname("买买提·艾力") == ("", "买买提·艾力")


def test_a_lost_character_never_disappears_from_a_key() -> None:
    """§9 must-not 9: pypinyin with errors="ignore" would key 王? as wang."""
    assert pinyin_key("王?") != pinyin_key("王")
    assert loose_pinyin_key("王?") != loose_pinyin_key("王")
    assert sorted_key("王?") != sorted_key("王")


def test_pinyin_keys_separate_what_characters_do_not() -> None:
    """§3: one differing character gives char Jaro-Winkler 0.667 whether homophone or not; pinyin tells them apart."""
    same = JaroWinkler.normalized_similarity(pinyin_key("王伟"), pinyin_key("王玮"))
    different = JaroWinkler.normalized_similarity(pinyin_key("王伟"), pinyin_key("黄伟"))
    assert same == 1.0 > different


@pytest.mark.parametrize("bad", [None, 12, b"x", ["王伟"]])
def test_keys_are_total(bad: object) -> None:
    assert pinyin_key(bad) == loose_pinyin_key(bad) == sorted_key(bad) == ""  # type: ignore[arg-type]
    assert name_parts(bad) == []  # type: ignore[arg-type]
    assert split_surname(bad) == ("", "")  # type: ignore[arg-type]
