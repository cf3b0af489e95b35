"""Bad mapping files: every problem names the file, the line and the cause, with the nearest valid name."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import MappingError
from hub.mapping import load_mapping

GOOD = """\
source: t
department: disabled_persons_federation
connector:
  kind: file
  settings: {path: t.xlsx, header_row: 3}
record_id: [残疾人证号]
dates: {order: dmy}
entities:
  person:
    type: person
    fields:
      name: 姓名
      resident_id: {column: 证件号码, when: "证件类型 in (居民身份证, 户口簿)"}
      ethnicity: {column: 民族, map: gb_3304}
  house:
    type: house
    fields:
      address: {parts: {estate: 小区名称, building: 楼栋, unit: 单元, room: 房号}}
  disability:
    type: situation
    fields:
      situation_type: {const: disability}
      status: {column: 人员状态, map: {正常: active, 注销: ended}}
"""


def _problems(tmp_path: Path, old: str, new: str) -> list[tuple[int | None, str, str]]:
    assert old in GOOD, old
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert all(p.file == str(path) for p in info.value.problems)
    assert str(path) in str(info.value)
    return [(p.line, p.where, p.message) for p in info.value.problems]


def test_the_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_mapping(path).dates.order == "dmy"


@pytest.mark.parametrize(("old", "new", "line", "cause"), [
    ("map: gb_3304}", "map: gb3304}", 14, "unknown code table 'gb3304' (did you mean 'gb_3304'?)"),
    ('when: "证件类型 in (居民身份证, 户口簿)"', 'when: "证件类型 like 身份证"', 13, "cannot read condition"),
    ("building: 楼栋", "bulding: 楼栋", 18, "unknown part 'bulding' (did you mean 'building'?)"),
    ("{estate: 小区名称,", "{surname: 小区名称,", 18, "mixes name roles and address roles"),
    ("注销: ended}", "注销: endd}", 23, "situation.status cannot be 'endd' (did you mean 'ended'?)"),
    ("{const: disability}", "{const: disabled}", 22, "cannot be 'disabled' (did you mean 'disability'?)"),
    ("header_row: 3}", "header_row: 0}", 5, "header_row counts from 1"),
    ("header_row: 3}", "header_rows: 3}", 5, "unknown file setting 'header_rows' (did you mean 'header_row'?)"),
    ("{order: dmy}", "{order: mdy}", 7, "Input should be 'ymd' or 'dmy'"),
    ("{order: dmy}", "{ordre: dmy}", 7, "unknown key 'ordre' (did you mean 'order'?)"),
    ("      ethnicity:", "      ethnicty:", 14, "person has no attribute 'ethnicty' (did you mean 'ethnicity'?)"),
    ("map: gb_3304}", "map: gb_3304, normalize: ethnicty}", 14, "(did you mean 'ethnicity'?)"),
    ("{column: 证件号码, when:", "{column: 证件号码, wen:", 13, "unknown key 'wen' (did you mean 'when'?)"),
])
def test_each_error_names_file_line_and_cause(tmp_path: Path, old: str, new: str, line: int, cause: str) -> None:
    problems = _problems(tmp_path, old, new)
    assert any(found_line == line and cause in message for found_line, _, message in problems), problems


def test_a_condition_in_mapping_form_is_checked_too(tmp_path: Path) -> None:
    problems = _problems(tmp_path, 'when: "证件类型 in (居民身份证, 户口簿)"',
                         "when: {column: 证件类型, in: [居民身份证], blank: true}")
    assert problems[0][0] == 13 and "exactly one of" in problems[0][2]
    assert problems[0][1].startswith("entities.person.fields.resident_id.when")


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("gb_3304}", "gb3304}").replace("building: 楼栋", "bulding: 楼栋"), encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert {p.line for p in info.value.problems} == {14, 18}
    # the shape errors stop binding (unknown references are checked once the shape is right)
    assert len(info.value.problems) == 2
