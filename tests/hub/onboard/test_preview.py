"""`preview`: raw beside normalized, the statements a row becomes, quarantine with reasons; IDs masked."""

from __future__ import annotations

from typing import Any

import pytest

from hub.mapping import MappingSpec
from hub.onboard import preview_rows

SPEC = MappingSpec.model_validate({
    "source": "t", "department": "civil_affairs", "connector": {"kind": "file", "settings": {"path": "x.csv"}},
    "record_id": ["编号"],
    "entities": {
        "person": {"type": "person", "required": ["name"],
                   "fields": {"name": "姓名", "resident_id": "身份证号", "phone": "电话", "birth_date": "出生日期"}},
        "home": {"type": "house",
                 "fields": {"address": {"parts": {"estate": "小区", "building": "楼栋", "room": "房号"}}}},
        "help": {"type": "situation", "fields": {"situation_type": {"const": "dibao"},
                                                 "status": {"column": "状态", "map": {"正常": "active"}}}},
    },
    "relations": [{"subject": "person", "predicate": "resides_at", "object": "home"},
                  {"subject": "help", "predicate": "applies_to", "object": "person"}],
})
ROWS = [
    {"编号": "1", "姓名": "張偉", "身份证号": "650102198503071237", "电话": "+86 138-0013-8000", "出生日期": "",
     "小区": "幸福小区", "楼栋": "3", "房号": "1502", "状态": "正常"},
    {"编号": "2", "姓名": "", "身份证号": "650102198503071273", "电话": "", "出生日期": "1985-02-30",
     "小区": "", "楼栋": "", "房号": "", "状态": "冻结"},
    {"编号": "", "姓名": "李娜", "身份证号": "", "电话": "", "出生日期": "", "小区": "", "楼栋": "", "房号": "",
     "状态": ""},
]


def test_each_row_shows_raw_normalized_statements_and_quarantine() -> None:
    first, second, third = preview_rows(SPEC, ROWS, ["line 2", "line 3", "line 4"])
    cells = {(c.entity, c.attribute): c for c in first.cells}
    assert (cells["person", "name"].raw, cells["person", "name"].value) == ("張偉", "张伟")
    assert cells["home", "address"].raw == "幸福小区3号楼1502室" and cells["home", "address"].source == "小区+楼栋+房号"
    assert ("person", "resides_at", "home", "relation") in first.statements
    assert ("person", "birth_date", "1985-03-07", "derived") in first.statements   # from the ID number
    assert first.loaded and not first.quarantine and first.position == "line 2"
    reasons = {(entity, field): reason for entity, field, reason in second.quarantine}
    assert reasons["person", "name"].startswith("person rejected: required name is missing")
    assert "check character" in reasons["person", "身份证号"] and "day 30 out of range" in reasons["person", "出生日期"]
    assert "not in the value map" in reasons["help", "状态"]
    assert second.loaded      # the situation still loads (its type is a constant)
    assert third.record_id is None and not third.loaded and third.quarantine[0][2] == "record id blank"


def test_identifiers_and_phones_are_masked_unless_revealed() -> None:
    masked = preview_rows(SPEC, ROWS[:1])[0]
    shown = {(c.entity, c.attribute): c for c in masked.cells}
    assert shown["person", "resident_id"].value == "650102********1237"
    assert shown["person", "phone"].value == "138****8000" and shown["person", "phone"].raw.endswith("8000")
    assert "650102198503071237" not in str(masked)
    revealed = preview_rows(SPEC, ROWS[:1], reveal=True)[0]
    assert ("person", "resident_id", "650102198503071237", "mapped") in revealed.statements


@pytest.mark.reliability("F14")
def test_codes_show_their_label_and_sensitive_values_stay_hidden(record_property: Any) -> None:
    """F14g: preview showed gender as its code (2); people read 女."""
    spec = MappingSpec.model_validate({
        **SPEC.model_dump(include={"source", "department", "connector", "record_id"}),
        "entities": {"person": {"type": "person", "fields": {"name": "姓名", "gender": "性别", "ethnicity": "民族"}}},
    })
    [row] = preview_rows(spec, [{"编号": "1", "姓名": "李娜", "性别": "女", "民族": "汉族"}])
    shown = {c.attribute: c.value for c in row.cells}
    record_property("codes shown without their label", int(shown["gender"] == "2"))
    assert shown["gender"] == "女 (2)"
    assert shown["ethnicity"] == "***" and "汉族" not in str(row)       # sensitive: hidden unless revealed
    [revealed] = preview_rows(spec, [{"编号": "1", "姓名": "李娜", "性别": "女", "民族": "汉族"}], reveal=True)
    assert {c.attribute: c.value for c in revealed.cells}["ethnicity"] == "汉族 (01)"
