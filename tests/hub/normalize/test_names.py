"""Person and organization names: matching-notes §3, §4 and §9 (must match 5, 8; must not 9)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from hub.normalize.names import MIDDLE_DOT, normalize_org_name, normalize_person_name

from .strategies import NAME_LIKE, check_contract


def test_traditional_characters_are_simplified_and_flagged() -> None:
    """§9 must-match 5."""
    result = normalize_person_name("張偉")
    assert result.value == "张伟"
    assert result.flags == ("converted_traditional",)
    assert normalize_person_name("张伟").flags == ()


def test_simplification_goes_character_by_character() -> None:
    """opencc's phrase rules would turn 沈靜 into 沉静 (stack-notes §4)."""
    assert normalize_person_name("沈靜芳").value == "沈静芳"


@pytest.mark.parametrize("raw", [
    "买买提·艾力", "买买提•艾力", "买买提?艾力", "买买提？艾力", "买买提.艾力", "买买提．艾力", "买买提・艾力",
    "买买提･艾力", "买买提-艾力", "买买提 艾力", "买买提\u3000艾力", "买买提\u2027艾力", "买买提\u22c5艾力",
    "买买提\ufffd艾力", " 买买提·艾力 ",
])
def test_transliterated_name_separators_become_the_middle_dot(raw: str) -> None:
    """§9 must-match 8 (all separator forms; the unsplit 买买提艾力 is left to the name keys)."""
    assert normalize_person_name(raw).value == f"买买提{MIDDLE_DOT}艾力"


def test_unsplit_transliterated_name_is_kept_as_written() -> None:
    assert normalize_person_name("买买提艾力").value == "买买提艾力"


@pytest.mark.parametrize("raw", ["王?", "王?明", "?伟", "王？", "王\ufffd", "欧阳?明"])
def test_a_question_mark_in_a_short_han_name_is_a_lost_character(raw: str) -> None:
    """§9 must-not 9: 王? must never be keyed (or matched) as 王."""
    result = normalize_person_name(raw)
    assert result.value is None
    assert result.reason == "person_name: contains an unreadable character"


@pytest.mark.parametrize(("raw", "value"), [
    (" 张　伟 ", "张伟"),                     # U+3000 between single characters is padding
    ("张\u00a0伟", "张伟"),
    ("\u200b张伟\ufeff", "张伟"),
    ("欧阳 娜娜", "欧阳娜娜"),                # whitespace after a compound surname is not a separator
    ("歐陽 娜娜", "欧阳娜娜"),
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("·张伟·", "张伟"),
    ("⼭本", "山本"),                         # a Kangxi radical (NFKC)
])
def test_han_name_cleanup(raw: str, value: str) -> None:
    assert normalize_person_name(raw).value == value


@pytest.mark.parametrize(("raw", "value"), [
    ("john smith", "JOHN SMITH"),
    ("Marie-Claire  O'Brien", "MARIE-CLAIRE O'BRIEN"),
    ("ＪＯＨＮ·ＳＭＩＴＨ", "JOHN SMITH"),
])
def test_latin_names_of_foreigners_are_kept_in_capitals(raw: str, value: str) -> None:
    assert normalize_person_name(raw).value == value


@pytest.mark.parametrize(("raw", "reason"), [
    ("张3", "person_name: contains digits"),
    ("张John", "person_name: mixes Chinese characters with other letters"),
    ("张三、李四", "person_name: contains characters that are not part of a name"),
    ("张*", "person_name: masked"),
    ("王某", "person_name: a placeholder (王某), not a name"),
    ("王某某", "person_name: a placeholder (王某), not a name"),
    ("张\ue000", "person_name: contains an unreadable character"),      # private-use: a rare character lost
    ("...", "person_name: no letters"),
    ("买" * 101, "person_name: too long for a name"),
    (12345, "person_name: unsupported type int"),
])
def test_unusable_names_are_named(raw: object, reason: str) -> None:
    assert normalize_person_name(raw).reason == reason


def test_single_character_name_is_kept_with_a_flag() -> None:
    assert normalize_person_name("王").flags == ("single_character",)


@pytest.mark.reliability("G5")
@settings(max_examples=200, deadline=None)
@given(NAME_LIKE)
def test_name_shaped_input_is_total_and_stable(raw: str) -> None:
    result = check_contract(normalize_person_name, raw)
    if result.ok:
        assert normalize_person_name(result.value).value == result.value


@pytest.mark.parametrize(("raw", "value"), [
    (" 乌鲁木齐市 天山区 (测试) 有限公司 ", "乌鲁木齐市天山区（测试）有限公司"),
    ("新疆【测试】科技有限公司", "新疆（测试）科技有限公司"),
    ("ABC  科技  Co. Ltd", "ABC科技Co. Ltd"),
    ("烏魯木齊市天山區社區服務中心", "乌鲁木齐市天山区社区服务中心"),
])
def test_org_names(raw: str, value: str) -> None:
    assert normalize_org_name(raw).value == value


def test_org_name_flags_conversion_and_rejects_noise() -> None:
    assert normalize_org_name("漢族文化協會").flags == ("converted_traditional",)
    assert normalize_org_name(123).reason == "org_name: unsupported type int"
    assert normalize_org_name("123").reason == "org_name: no letters"
    assert normalize_org_name("（）").reason == "org_name: no letters"
