from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

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


class RecordProperty(Protocol):
    def __call__(self, name: str, value: Any) -> None: ...


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


@pytest.mark.reliability("F11")
def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path, record_property: RecordProperty) -> None:
    """YAML loaders let the second key win silently: here the second `name:` would read the wrong column."""
    twice = (GOOD.replace("source: test_people\n", "source: test_people\nsource: other_people\n")
             .replace("      name: 姓名\n", "      name: 姓名\n      phone: 电话\n      name: 别名\n")
             .replace("situation_type: {const: dibao}", "situation_type: {const: dibao, const: disability}"))
    path = _write(tmp_path, twice)
    lines = twice.splitlines()
    first_name, second_name = (i + 1 for i, text in enumerate(lines) if text.startswith("      name: "))
    const = next(i + 1 for i, text in enumerate(lines) if "const: disability" in text)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    repeated = [p for p in info.value.problems if "given twice" in p.message]
    record_property("keys given twice, reported", len(repeated))
    assert [(p.where, p.line) for p in repeated] == [
        ("source", 2), ("entities.person.fields.name", second_name), ("entities.help.fields.situation_type.const",
                                                                      const)]
    assert f"first at {path}:1, again at {path}:2" in repeated[0].message
    assert f"first at {path}:{first_name}, again at {path}:{second_name}" in repeated[1].message
    assert f"first at {path}:{const}, again at {path}:{const}" in repeated[2].message
    assert f"{path}:{second_name}: entities.person.fields.name: key 'name' is given twice" in str(info.value)


def test_duplicate_source_ids_fail_both_files_only(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    _write(tmp_path, GOOD, "b.yaml")
    _write(tmp_path, GOOD.replace("source: test_people", "source: other_people"), "c.yaml")
    loaded = load_mappings(tmp_path)
    assert [s.source for s in loaded.ready] == ["other_people"]
    assert [(f.path.name, f.source) for f in loaded.failed] == [("a.yaml", "test_people"), ("b.yaml", "test_people")]
    assert f"source id 'test_people' is also used by {tmp_path / 'b.yaml'}:1" in loaded.failed[0].error
    assert loaded.failed[0].problems[-1].line == 1
    with pytest.raises(MappingError, match="also used by"):
        loaded.require_ready()


def test_a_broken_file_fails_alone_named_by_its_source_or_stem(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "good.yaml")
    _write(tmp_path, GOOD.replace("source: test_people", "source: typo_people").replace("name: 姓名", "nmae: 姓名"),
           "typo.yaml")
    unparsable = GOOD.replace("source: test_people", "source: broken_people").replace("record_id: 编号",
                                                                                      "record_id: [编号")
    _write(tmp_path, unparsable, "unparsable.yaml")   # named by its `source:` line although the YAML fails
    _write(tmp_path, unparsable.replace("source: broken_people", "source: {broken"), "no_id.yaml")   # by its stem
    loaded = load_mappings(tmp_path)
    assert [s.source for s in loaded.ready] == ["test_people"]
    assert {f.source: f.path.name for f in loaded.failed} == {"typo_people": "typo.yaml", "no_id": "no_id.yaml",
                                                              "broken_people": "unparsable.yaml"}
    assert all(f.problems and all(p.line for p in f.problems) for f in loaded.failed)


def test_a_draft_loads_but_is_not_ready(tmp_path: Path) -> None:
    _write(tmp_path, "status: draft\n" + GOOD, "draft.yaml")
    _write(tmp_path, "status: draft\n" + GOOD.replace("source: test_people", "source: half_done")
           .replace("name: 姓名", "nmae: 姓名"), "half.yaml")
    loaded = load_mappings(tmp_path)
    assert loaded.ready == [] and loaded.failed == [] and loaded.require_ready() == []
    assert [(d.source, d.spec is not None) for d in loaded.drafts] == [("test_people", True), ("half_done", False)]
    with pytest.raises(MappingError, match="'draft' or 'ready'"):
        load_mapping(_write(tmp_path, "status: drfat\n" + GOOD, "typo.yaml"))


def test_shipped_mappings_are_valid() -> None:
    specs = load_mappings(Path(__file__).parents[3] / "mappings").require_ready()
    assert len(specs) >= 4
    assert {s.department for s in specs} >= {"public_security", "civil_affairs", "social_insurance", "property"}
    assert all(s.status == "ready" for s in specs)
