"""Each feature of the mapping language on a small case, through the real statement builder."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hub.mapping import MappingSpec, load_mapping
from hub.protect import Vault
from hub.statements import STATEMENT_COLUMNS, RecordRefs, build_statements, long_frame

HEAD = """\
source: t
department: disabled_persons_federation
connector: {kind: file, settings: {path: t.csv}}
record_id: [编号]
"""


def _spec(tmp_path: Path, body: str) -> MappingSpec:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return load_mapping(path)


def _run(spec: MappingSpec, rows: list[dict[str, Any]]) -> tuple[dict[tuple[str, str, str], str], list[str]]:
    """{(record id, entity, attribute): value} and the quarantine reasons, values decrypted."""
    vault = Vault(os.urandom(32))
    frame = pd.DataFrame.from_records(rows)
    ids = [str(r["编号"]) for r in rows]
    built = build_statements(spec, frame, RecordRefs(ids, ids, ids), run_id="r", now=datetime.now(UTC), vault=vault)
    values = {}
    statements = long_frame(built.rows, STATEMENT_COLUMNS)
    for row in statements.itertuples(index=False):
        value = row.value if row.value_enc is None else vault.decrypt_text(row.value_enc)
        if row.method != "derived":
            values[(row.source_record_id, row.entity_ref, row.attribute)] = value
    return values, [f"{q[1]}:{q[6]}:{q[8]}" for q in built.quarantine]


def test_value_maps_inline_and_national_code_tables(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  p:
    type: person
    fields:
      name: 姓名
      gender: {column: 性别, map: gb_t_2261_1}
      ethnicity: {column: 民族, map: gb_3304}
  h:
    type: house
    fields:
      district_code: {column: 区县, map: gb_t_2260}
  s:
    type: situation
    fields:
      situation_type: {const: disability}
      status: {column: 状态, map: {1: active, 2: suspended, 9: ended}}
      level: {column: 等级, map: gb_t_26341_grade}
""")
    rows = [
        {"编号": 1, "姓名": "张三", "性别": "男", "民族": "05", "区县": "天山区", "状态": "1", "等级": "2"},
        {"编号": 2, "姓名": "李四", "性别": "2", "民族": "维吾尔", "区县": "650102", "状态": 9, "等级": "三级"},
        {"编号": 3, "姓名": "王五", "性别": "女性", "民族": "哈萨克族", "区县": "东山区", "状态": "7", "等级": "4"},
    ]
    values, quarantine = _run(spec, rows)
    assert [values[(i, "p", "gender")] for i in "123"] == ["1", "2", "2"]
    assert [values[(i, "p", "ethnicity")] for i in "123"] == ["05", "05", "17"]   # by code, short name, name
    assert [values[(i, "h", "district_code")] for i in "123"] == ["650102", "650102", "650109"]  # retired → current
    assert values[("1", "s", "status")] == "active" and values[("2", "s", "status")] == "ended"
    assert [values[(i, "s", "level")] for i in "123"] == ["二级", "三级", "四级"]
    # "7" is in no map and not a situation status: quarantined, and the reason says why without the value
    assert any(q.startswith("3:状态:status: not in the value map") for q in quarantine)
    assert ("3", "s", "status") not in values


def test_composite_address_and_name(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  p:
    type: person
    fields:
      name: {parts: {surname: 姓, given: 名}}
  u:
    type: person
    fields:
      name: {parts: {given: 本人名, father: 父名}}
  h:
    type: house
    fields:
      address: {parts: {estate: 小区名称, building: 楼栋, unit: 单元, room: 房号}}
""")
    rows = [
        {"编号": 1, "姓": "欧阳", "名": "娜娜", "本人名": "艾力", "父名": "买买提", "小区名称": "幸福小区", "楼栋": "3",
         "单元": "2", "房号": "1502"},
        {"编号": 2, "姓": "王", "名": "", "本人名": "", "父名": "", "小区名称": "幸福小区", "楼栋": "三栋",
         "单元": "二单元", "房号": "15楼02"},
    ]
    values, _ = _run(spec, rows)
    assert values[("1", "p", "name")] == "欧阳娜娜" and values[("1", "u", "name")] == "艾力·买买提"
    assert values[("2", "p", "name")] == "王" and ("2", "u", "name") not in values
    assert values[("1", "h", "address")] == values[("2", "h", "address")] == "幸福3号楼2单元1502室"


def test_several_entities_from_one_row_with_their_relations(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  person: {type: person, required: [name], fields: {name: 姓名, resident_id: 身份证号}}
  home: {type: house, required: [address], fields: {address: 住址}}
  employer: {type: organization, required: [name], fields: {name: 工作单位}}
relations:
  - {subject: person, predicate: resides_at, object: home}
  - {subject: person, predicate: employed_by, object: employer}
""")
    rows = [{"编号": 1, "姓名": "张三", "身份证号": "650102198503071237", "住址": "幸福小区3栋2单元1502",
             "工作单位": "乌鲁木齐市天山区某某有限公司"},
            {"编号": 2, "姓名": "李四", "身份证号": "", "住址": "幸福小区1栋1单元101", "工作单位": ""}]
    values, _ = _run(spec, rows)
    assert values[("1", "person", "resides_at")] == "home" and values[("1", "person", "employed_by")] == "employer"
    assert values[("2", "person", "resides_at")] == "home"
    assert ("2", "person", "employed_by") not in values          # no employer in that row: no relation


def test_when_on_the_identity_document_type(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  p:
    type: person
    fields:
      name: 姓名
      resident_id: {column: 证件号码, when: "证件类型 in (居民身份证, 户口簿, 111)"}
  guardian:
    type: person
    when: 监护人 is not blank
    fields:
      name: 监护人
      phone: {column: 联系电话, default: "0991-4600000"}
""")
    rows = [
        {"编号": 1, "姓名": "张三", "证件类型": "居民身份证", "证件号码": "650102198503071237", "监护人": "",
         "联系电话": ""},
        {"编号": 2, "姓名": "JOHN", "证件类型": "护照", "证件号码": "E12345678", "监护人": "李四", "联系电话": ""},
        {"编号": 3, "姓名": "王五", "证件类型": "111", "证件号码": "650102198503071273", "监护人": "", "联系电话": ""},
    ]
    values, quarantine = _run(spec, rows)
    assert values[("1", "p", "resident_id")] == "650102198503071237"
    assert ("2", "p", "resident_id") not in values and not any(q.startswith("2:") for q in quarantine)  # passport
    assert any(q.startswith("3:证件号码:resident_id:") for q in quarantine)                       # bad check digit
    assert values[("2", "guardian", "name")] == "李四" and values[("2", "guardian", "phone")] == "0991-4600000"
    assert ("1", "guardian", "phone") not in values       # outside the entity's `when`, not even the default


def test_date_order_and_spreadsheet_serials_are_source_hints(tmp_path: Path) -> None:
    body = """\
entities:
  p: {type: person, fields: {name: 姓名, birth_date: 出生日期}}
"""
    rows = [{"编号": 1, "姓名": "张三", "出生日期": "07/03/1985"}, {"编号": 2, "姓名": "李四", "出生日期": "31113"}]
    ymd, quarantine = _run(_spec(tmp_path, body), rows)
    assert ("1", "p", "birth_date") not in ymd and any("year comes last" in q for q in quarantine)
    assert ymd[("2", "p", "birth_date")] == "1985-03-07"
    dmy, _ = _run(_spec(tmp_path, "dates: {order: dmy}\n" + body), rows)
    assert dmy[("1", "p", "birth_date")] == "1985-03-07"
    strict, quarantine = _run(_spec(tmp_path, "dates: {order: dmy, excel_serials: false}\n" + body), rows)
    assert ("2", "p", "birth_date") not in strict and any("no spreadsheet serial dates" in q for q in quarantine)
    explicit, _ = _run(_spec(tmp_path, "dates: {order: dmy}\n" + body.replace("出生日期}", "{column: 出生日期, "
                                                                                  "normalize: date}}")), rows)
    assert ("1", "p", "birth_date") not in explicit         # an explicit normalizer wins over the hint


def test_constants_defaults_and_record_id_from_several_columns(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  s:
    type: situation
    fields:
      situation_type: {const: disability}
      status: {column: 状态, default: active}
      amount: 金额
""")
    values, _ = _run(spec, [{"编号": 1, "状态": "", "金额": "100"}, {"编号": 2, "状态": "ended", "金额": ""},
                            {"编号": 3, "状态": "", "金额": ""}])
    assert values[("1", "s", "situation_type")] == values[("2", "s", "situation_type")] == "disability"
    assert values[("1", "s", "status")] == "active" and values[("2", "s", "status")] == "ended"
    # a constant and a default alone make no entity: row 3 fills none of the situation's own columns
    assert not any(key[0] == "3" for key in values)
    several = load_mapping(_write(tmp_path, (HEAD + "entities: {p: {type: person, fields: {name: 姓名}}}\n")
                                  .replace("record_id: [编号]", "record_id: [_sheet, 序号]")))
    assert several.record_id == ["_sheet", "序号"] and {"_sheet", "序号"} <= several.columns_read


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("settings", ["{path: t.xlsx, sheet: 名册, header_row: 3}", "{path: t.csv, encoding: gbk}",
                                      "{path: t.xlsx, sheet: '*', header_row: auto}"])
def test_per_source_reading_hints_are_connector_settings(tmp_path: Path, settings: str) -> None:
    text = HEAD.replace("{path: t.csv}", settings) + "entities: {p: {type: person, fields: {name: 姓名}}}\n"
    assert load_mapping(_write(tmp_path, text)).connector.settings


def test_a_relation_holds_only_where_its_condition_does(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  person: {type: person, required: [name], fields: {name: 姓名}}
  house: {type: house, required: [address], fields: {address: 房屋地址, district_code: {const: "650102"}}}
relations:
  - {subject: person, predicate: owns, object: house, when: 身份 == 业主}
  - {subject: person, predicate: rents, object: house, when: "身份 in (租户, 承租人)"}
  - {subject: person, predicate: resides_at, object: house, when: 身份 is blank}
""")
    rows = [{"编号": 1, "姓名": "张三", "房屋地址": "明珠花园3号楼2单元1502室", "身份": "业主"},
            {"编号": 2, "姓名": "李四", "房屋地址": "明珠花园3号楼2单元1501室", "身份": "租户"},
            {"编号": 3, "姓名": "王五", "房屋地址": "明珠花园3号楼2单元1503室", "身份": ""}]
    values, quarantine = _run(spec, rows)
    relations = {(k[0], k[2]) for k in values if k[2] in ("owns", "rents", "resides_at")}
    assert relations == {("1", "owns"), ("2", "rents"), ("3", "resides_at")} and not quarantine
    assert "身份" in spec.columns_read


def test_a_constant_alone_never_makes_an_entity(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  person: {type: person, required: [name], fields: {name: 姓名}}
  house: {type: house, required: [address], fields: {address: 地址, district_code: {const: "650102"}}}
relations:
  - {subject: person, predicate: resides_at, object: house}
""")
    values, quarantine = _run(spec, [{"编号": 1, "姓名": "张三", "地址": ""},
                                     {"编号": 2, "姓名": "李四", "地址": "明珠花园3号楼2单元1502室"}])
    assert not any(k[0] == "1" and k[1] == "house" for k in values) and not quarantine   # absent, not rejected
    assert values[("2", "house", "district_code")] == "650102" and values[("2", "person", "resides_at")] == "house"


def test_local_identifiers_are_stored_per_entity_and_make_it_present(tmp_path: Path) -> None:
    spec = _spec(tmp_path, """\
entities:
  house:
    type: house
    required: [address]
    fields: {address: 地址}
    local_ids: {flat_no: 房屋编号}
  company:
    type: organization
    local_ids: {company_no: {column: 企业编号, normalize: text}}
    fields: {name: 物业公司}
""")
    values, quarantine = _run(spec, [{"编号": 1, "地址": "明珠花园3号楼2单元1502室", "房屋编号": " F-0031 ",
                                      "物业公司": "", "企业编号": "WY07"},
                                     {"编号": 2, "地址": "", "房屋编号": "F-0032", "物业公司": "", "企业编号": ""}])
    assert values[("1", "house", "local_id:flat_no")] == "F-0031"
    assert values[("1", "company", "local_id:company_no")] == "WY07"      # an id alone: the entity is there
    assert ("2", "house", "local_id:flat_no") not in values                # rejected: its address is missing
    assert quarantine[0] == "2:address:house rejected: required address is missing"
    assert {"房屋编号", "企业编号"} <= spec.columns_read


def test_local_identifiers_cannot_be_constants_or_badly_named(tmp_path: Path) -> None:
    from hub.errors import MappingError

    for bad, message in (("{flat_no: {const: x}}", "is a constant"), ("{房号: 房屋编号}", "lower case letters")):
        with pytest.raises(MappingError, match=message):
            _spec(tmp_path, f"entities:\n  house: {{type: house, fields: {{address: 地址}}, local_ids: {bad}}}\n")


@pytest.mark.parametrize("predicate", ["cared_for_by", "served_by", "member_of"])
def test_person_organization_predicates_beyond_employment(tmp_path: Path, predicate: str) -> None:
    spec = _spec(tmp_path, f"""\
entities:
  person: {{type: person, fields: {{name: 姓名}}}}
  org: {{type: organization, fields: {{name: 机构}}}}
relations:
  - {{subject: person, predicate: {predicate}, object: org}}
""")
    values, _ = _run(spec, [{"编号": 1, "姓名": "张三", "机构": "天山区社会福利院"}])
    assert values[("1", "person", predicate)] == "org"
