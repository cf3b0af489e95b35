"""`check`: a mapping against a sample of its source, nothing loaded; every finding has its file line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.mapping.loader import parse_mapping
from hub.onboard import Finding, check_mapping, mapping_sample
from hub.settings import HubSettings

CSV = """\
编号,姓名,证件类型,证件号码,人员状态,出生日期,备注
1,张伟,居民身份证,650102198503071237,正常,07/03/1985,
2,李娜,居民身份证,65010219850307100X,暂停,13/12/1990,
3,JOHN SMITH,护照,E12345678,注销,01/01/1970,
4,王芳,居民身份证,650102198503071237,死亡,25/05/1962,复查
"""
MAPPING = """\
source: t
department: disabled_persons_federation
connector: {kind: file, settings: {path: roster.csv}}
record_id: [编号]
entities:
  person:
    type: person
    fields:
      name: 姓名
      resident_id: {column: 证件号码, when: "证件类型 in (居民身份证)"}
      birth_date: 出生日期
  disability:
    type: situation
    fields:
      situation_type: {const: disability}
      status: {column: 人员状态, map: {正常: active, 暂停: suspended, 注销: ended}}
"""


@pytest.fixture
def settings(tmp_path: Path) -> HubSettings:
    (tmp_path / "roster.csv").write_text(CSV, encoding="utf-8")
    return HubSettings(home=tmp_path / "home", sources_dir=tmp_path, mappings_dir=tmp_path)


def _check(settings: HubSettings, text: str) -> list[Finding]:
    assert settings.sources_dir is not None
    path = settings.sources_dir / "m.yaml"
    path.write_text(text, encoding="utf-8")
    spec, lines = parse_mapping(path)
    return check_mapping(spec, lines, mapping_sample(spec, settings), file=str(path))


def test_findings_name_the_line_and_what_to_do(settings: HubSettings) -> None:
    findings = _check(settings, MAPPING)
    by_line = {f.line: f for f in findings}
    status = by_line[16]
    assert status.level == "error" and "'死亡' ×1" in status.message and "quarantined" in status.message
    dates = by_line[11]
    assert dates.level == "warning" and "set `dates: {order: dmy}`" in dates.message
    assert "every" not in str(findings) and all(f.file.endswith("m.yaml") for f in findings)


def test_a_fixed_mapping_is_clean(settings: HubSettings) -> None:
    fixed = MAPPING.replace("注销: ended}", "注销: ended, 死亡: ended}").replace(
        "record_id: [编号]", "record_id: [编号]\ndates: {order: dmy}")
    assert _check(settings, fixed) == []


def test_missing_columns_are_errors_with_the_nearest_column(settings: HubSettings) -> None:
    findings = _check(settings, MAPPING.replace("name: 姓名", "name: 名字").replace("证件类型 in", "证件种类 in"))
    messages = {f.line: f.message for f in findings if f.level == "error"}
    assert "column '名字' is not in the source (did you mean '姓名'?)" in messages[9]
    assert "column '证件种类' is not in the source (did you mean '证件类型'?)" in messages[10]


def test_conditions_that_never_hold_and_ids_that_repeat_are_warned(settings: HubSettings) -> None:
    text = MAPPING.replace("证件类型 in (居民身份证)", "证件类型 == 身份证").replace("record_id: [编号]",
                                                                                 "record_id: [证件号码]")
    findings = {f.line: f.message for f in _check(settings, text)}
    assert "holds for no sampled row" in findings[10]
    assert "repeats in 1 sampled row" in findings[4]


def test_identifiers_never_appear_in_findings(settings: HubSettings) -> None:
    text = MAPPING.replace("name: 姓名", "name: {column: 证件号码, map: {x: y}}")
    findings = _check(settings, text)
    assert findings and not any("650102" in str(f) for f in findings)


def test_a_record_id_carrying_id_numbers_is_an_error(settings: HubSettings) -> None:
    findings = _check(settings, MAPPING.replace("record_id: [编号]", "record_id: [编号, 证件号码]"))
    errors = [f for f in findings if f.level == "error" and f.where == "record_id.1"]
    assert errors and errors[0].line == 4 and "stored and logged in clear" in errors[0].message


def test_an_entity_nothing_identifies_and_a_const_only_entity_are_warned(settings: HubSettings) -> None:
    text = MAPPING + """\
  employer:
    type: organization
    fields: {phone: 备注}
  house:
    type: house
    fields: {district_code: {const: "650102"}}
"""
    findings = {f.where: f for f in _check(settings, text)}
    nameless = findings["entities.employer.fields"]
    assert nameless.level == "warning" and "no identifying attribute (none of name, credit_code" in nameless.message
    assert nameless.line == 19
    const_only = findings["entities.house.fields"]
    assert "only constants" in const_only.message and const_only.line == 22
    fixed = text.replace("fields: {phone: 备注}", "fields: {phone: 备注}\n    local_ids: {employer_no: 编号}")
    assert "entities.employer.fields" not in {f.where for f in _check(settings, fixed)}


def test_a_relation_whose_end_can_be_absent_is_warned_until_said(settings: HubSettings) -> None:
    text = MAPPING + """\
  remark:
    type: event
    required: [description]
    fields: {description: 备注, event_type: {const: complaint}}
relations:
  - {subject: remark, predicate: concerns, object: person}
  - {subject: disability, predicate: applies_to, object: person, when: 人员状态 == 迁出}
"""
    findings = [f for f in _check(settings, text) if f.where.startswith("relations")]
    absent = next(f for f in findings if f.where == "relations.0")
    assert absent.level == "warning"
    assert "remark can be absent: on 3 of 4 sampled rows person is there" in absent.message
    never = next(f for f in findings if f.where == "relations.1.when.0")
    assert "holds for no sampled row: the relation is never written" in never.message
    said = text.replace("fields: {description: 备注, event_type",
                        "when: 备注 is not blank\n    fields: {description: 备注, event_type")
    assert "relations.0" not in {f.where for f in _check(settings, said)}


def test_a_local_id_carrying_id_numbers_is_an_error(settings: HubSettings) -> None:
    text = MAPPING.replace("      birth_date: 出生日期\n",
                           "      birth_date: 出生日期\n    local_ids: {card: 证件号码}\n")
    errors = [f for f in _check(settings, text) if f.level == "error" and "local_ids" in f.where]
    assert errors and "stored in clear" in errors[0].message
