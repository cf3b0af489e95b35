"""Search keys: the same key from a stored value and from what a person types."""

from __future__ import annotations

from hub.publish.keys import address_keys, keys_of_values, latin_keys, org_name_keys, person_name_keys


def test_a_typed_name_meets_the_stored_one() -> None:
    stored = dict(person_name_keys("张伟", normalized=True))
    assert stored == {"name": "张伟", "pinyin": "zhangwei", "initials": "zw", "translit": "zanwe"}
    assert dict(person_name_keys(" 張 偉 ")) == stored                     # traditional, spaces: the same keys
    assert dict(person_name_keys("张玮"))["pinyin"] == stored["pinyin"]    # a homophone
    assert {k for kind, k in person_name_keys("单雄信") if kind == "pinyin"} == {"shanxiongxin"}  # 单 as a surname
    assert {k for kind, k in person_name_keys("乐嘉") if kind == "pinyin"} == {"yuejia", "lejia"}
    assert dict(person_name_keys("艾力·买买提"))["name"] == "艾力买买提"
    assert dict(person_name_keys("艾力·买买提"))["translit"] == dict(person_name_keys("阿里·买买提"))["translit"]
    assert person_name_keys("") == [] and person_name_keys("·") == []


def test_latin_queries_are_pinyin_or_initials() -> None:
    assert ("pinyin", "zhangwei") in latin_keys("Zhang Wei") and ("initials", "zw") in latin_keys("ZW")
    assert latin_keys("张伟") == []


def test_addresses_are_keyed_whole_and_from_the_street_number_on() -> None:
    assert address_keys("天山区和平北路325号医学院佳苑4号楼2单元502室") == [
        "天山区和平北路325号医学院佳苑4号楼2单元502室", "医学院佳苑4号楼2单元502室"]
    assert address_keys("医学院佳苑4号楼2单元502室") == ["医学院佳苑4号楼2单元502室"]


def test_organizations_are_keyed_from_each_of_their_first_characters() -> None:
    keys = org_name_keys("乌鲁木齐明珠物业有限公司")
    assert keys[0] == "乌鲁木齐明珠物业有限公司" and any(k.startswith("明珠物业") for k in keys) and len(keys) == 8
    assert [kind for _, kind, _ in keys_of_values("organization", "name", ["明珠物业有限公司"])] == ["org_name"] * 7
    assert keys_of_values("person", "gender", ["1"]) == []
