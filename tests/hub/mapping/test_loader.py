from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import MappingError
from hub.mapping import load_mapping, load_mappings

GOOD = """\
source: test_people
department: civil_affairs
title: test
connector:
  kind: file
  settings: {path: people.csv}
record_id: 编号
entities:
  person:
    type: person
    required: [name]
    fields:
      name: 姓名
      resident_id: 身份证号
      birth_date: {column: 出生日期, normalize: date}
      population_type: {column: 类别, map: {"1": registered, "2": floating}}
  home:
    type: house
    fields:
      address: {columns: [小区, 楼栋, 单元, 房号], join: ""}
  help:
    type: situation
    fields:
      situation_type: {const: dibao}
relations:
  - {subject: person, predicate: resides_at, object: home}
  - {subject: help, predicate: applies_to, object: person}
authority: [person.name, situation.*]
"""


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_mapping_loads(tmp_path: Path) -> None:
    spec = load_mapping(_write(tmp_path, GOOD))
    assert spec.record_id == ["编号"]
    assert spec.entities["person"].fields["name"].column == "姓名"
    assert spec.columns_read == {"编号", "姓名", "身份证号", "出生日期", "类别", "小区", "楼栋", "单元", "房号"}
    assert spec.is_authoritative("situation", "amount")
    assert not spec.is_authoritative("person", "phone")


def test_every_problem_reported_with_line_and_suggestion(tmp_path: Path) -> None:
    bad = (GOOD.replace("name: 姓名", "nmae: 姓名")
           .replace("normalize: date}", "normalize: dat}")
           .replace("predicate: resides_at", "predicate: resides_in")
           .replace("type: house", "type: houses"))
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, bad))
    text = str(info.value)
    lines = {p.line for p in info.value.problems}
    assert "m.yaml:15" in text and "'nmae'" in text and "did you mean 'name'" in text
    assert "did you mean 'date'" in text
    assert "did you mean 'resides_at'" in text
    assert "did you mean 'house'" in text
    assert "required attribute 'name' is not among the fields" in text
    assert None not in lines


def test_shape_errors_point_at_the_key(tmp_path: Path) -> None:
    bad = GOOD.replace("  kind: file\n", "  kind: file\n  pasword: x\n").replace(
        "      resident_id: 身份证号\n", "      resident_id: {column: 身份证号, const: x}\n")
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, bad))
    by_where = {p.where: p for p in info.value.problems}
    assert by_where["connector.pasword"].line == 6
    assert "unknown key 'pasword'" in by_where["connector.pasword"].message
    field = next(p for w, p in by_where.items() if w.startswith("entities.person.fields.resident_id"))
    assert field.line == 15 and "exactly one of column, columns, parts or const" in field.message


def test_secrets_refused_in_settings(tmp_path: Path) -> None:
    bad = GOOD.replace("settings: {path: people.csv}", "settings: {path: people.csv, token: abc}")
    with pytest.raises(MappingError, match="looks like a secret"):
        load_mapping(_write(tmp_path, bad))


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, GOOD.replace("record_id: 编号", "record_id: [编号")))
    assert info.value.problems[0].line is not None
    assert "not valid YAML" in str(info.value)


def test_duplicate_source_ids_across_files(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(MappingError, match="used by two files"):
        load_mappings(tmp_path)


def test_shipped_mappings_are_valid() -> None:
    specs = load_mappings(Path(__file__).parents[3] / "mappings")
    assert len(specs) >= 4
    assert {s.department for s in specs} >= {"public_security", "civil_affairs", "social_insurance", "property"}
