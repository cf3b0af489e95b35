"""A toy district of five CSV sources, small enough to reason about row by row, ingested for real.

- t_register (公安, authoritative for identity): 张伟, 李娜, 王芳, 赵强 with their residences;
- t_welfare (民政): 张伟 written 张玮 with another phone, and 李娜, each with a 低保 situation;
- t_property (物业, authoritative for phones and houses): 张伟 owns 明珠花园 3-2-1502;
- t_employer (人社): 李娜 and 王芳 employed by one company;
- t_vehicles (物业): a car owned by 张伟 (name and phone only, no ID).
Every person record but the car owner's carries a checksum-valid ID, so which records belong
together is beyond doubt; tests change rows and re-ingest to see ids, links and golden values follow.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from hub.demo.idnumbers import ric_check, uscc_check
from hub.pipeline import Hub, ingest
from hub.settings import HubSettings


def rid(area_birth_seq: str) -> str:
    """A checksum-valid resident ID from its first 17 characters."""
    return area_birth_seq + ric_check(area_birth_seq)


ZHANG, LI, WANG, ZHAO = rid("65010219850307101"), rid("65010219900501102"), rid("65010219721111104"), rid(
    "65010219600229105")
CREDIT = "91650102" + "MA7ABCDE" + "X"
CREDIT = CREDIT[:17] + uscc_check(CREDIT[:17])

MAPPINGS = {
    "t_register": """
source: t_register
department: public_security
connector: {kind: file, settings: {path: register.csv, encoding: utf-8}}
record_id: 编号
entities:
  person:
    type: person
    required: [name]
    fields: {name: 姓名, resident_id: 身份证号, gender: 性别, birth_date: {column: 出生日期, normalize: date},
             phone: 电话, residence_address: 住址}
  home:
    type: house
    required: [address]
    fields: {address: 住址}
relations:
  - {subject: person, predicate: resides_at, object: home}
authority: [person.name, person.resident_id, person.gender, person.birth_date]
""",
    "t_welfare": """
source: t_welfare
department: civil_affairs
connector: {kind: file, settings: {path: welfare.csv, encoding: utf-8}}
record_id: 序号
entities:
  person:
    type: person
    required: [name]
    fields: {name: 姓名, resident_id: 身份证号, phone: 联系电话, residence_address: 居住地址}
  help:
    type: situation
    required: [situation_type]
    fields: {situation_type: {const: dibao}, amount: 金额}
  home:
    type: house
    required: [address]
    fields: {address: 居住地址}
relations:
  - {subject: help, predicate: applies_to, object: person}
  - {subject: person, predicate: resides_at, object: home}
""",
    "t_property": """
source: t_property
department: property
connector: {kind: file, settings: {path: owners.csv, encoding: utf-8}}
record_id: id
entities:
  person:
    type: person
    required: [name]
    fields: {name: name, phone: phone, resident_id: id_no}
  house:
    type: house
    required: [address]
    fields:
      address: {parts: {estate: estate, building: building, unit: unit, room: room}}
      estate: estate
      building: building
      unit: unit
      room: room
      district_code: {const: "650102"}
relations:
  - {subject: person, predicate: owns, object: house}
authority: [person.phone, house.estate, house.building, house.unit, house.room]
""",
    "t_employer": """
source: t_employer
department: social_insurance
connector: {kind: file, settings: {path: insured.csv, encoding: utf-8}}
record_id: 个人编号
entities:
  person:
    type: person
    required: [name]
    fields: {name: 姓名, resident_id: 身份证号}
  employer:
    type: organization
    required: [name]
    fields: {name: 单位名称, credit_code: 统一社会信用代码}
relations:
  - {subject: person, predicate: employed_by, object: employer}
""",
    "t_vehicles": """
source: t_vehicles
department: property
connector: {kind: file, settings: {path: vehicles.csv, encoding: utf-8}}
record_id: id
entities:
  vehicle:
    type: thing
    required: [plate_no]
    fields: {plate_no: plate, thing_type: {const: vehicle}}
  owner:
    type: person
    required: [name]
    fields: {name: owner, phone: phone}
relations:
  - {subject: vehicle, predicate: owned_by, object: owner}
""",
}

HOME = "明珠花园3号楼2单元1502室"
ROWS: dict[str, list[list[str]]] = {
    "register.csv": [
        ["编号", "姓名", "身份证号", "性别", "出生日期", "电话", "住址"],
        ["R1", "张伟", ZHANG, "1", "1985-03-07", "13800138000", HOME],
        ["R2", "李娜", LI, "2", "1990-05-01", "13900139000", "明珠花园3号楼2单元1501室"],
        ["R3", "王芳", WANG, "2", "1972-11-11", "13600136000", "幸福小区1号楼1单元101室"],
        ["R4", "赵强", ZHAO, "1", "1960-02-29", "", "幸福小区1号楼1单元102室"],
    ],
    "welfare.csv": [
        ["序号", "姓名", "身份证号", "联系电话", "居住地址", "金额"],
        ["1", "张玮", ZHANG, "13700137000", "天山区和平北路1号" + HOME, "800"],
        ["2", "李娜", LI, "13900139000", "明珠花园3号楼2单元1501室", "650"],
    ],
    "owners.csv": [
        ["id", "name", "phone", "id_no", "estate", "building", "unit", "room"],
        ["O1", "张伟", "13700137000", ZHANG, "明珠花园", "3", "2", "1502"],
    ],
    "insured.csv": [
        ["个人编号", "姓名", "身份证号", "单位名称", "统一社会信用代码"],
        ["E1", "李娜", LI, "乌鲁木齐明珠物业有限公司", CREDIT],
        ["E2", "王芳", WANG, "乌鲁木齐明珠物业有限公司", CREDIT],
    ],
    "vehicles.csv": [
        ["id", "plate", "owner", "phone"],
        ["V1", "新A12345", "张伟", "13800138000"],
    ],
}


def write_rows(sources: Path, name: str, rows: list[list[str]]) -> None:
    with (sources / name).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def build_world(settings: HubSettings, tmp_path: Path, world_mappings: Mapping[str, str] | None = None,
                world_rows: Mapping[str, list[list[str]]] | None = None, folder: str = "world") -> Hub:
    """Mappings and CSVs under `tmp_path` (this toy world's, or those given), a Hub on `settings`' store,
    everything ingested once."""
    mappings, sources = tmp_path / f"{folder}_mappings", tmp_path / f"{folder}_sources"
    mappings.mkdir()
    sources.mkdir()
    for source, text in (MAPPINGS if world_mappings is None else world_mappings).items():
        (mappings / f"{source}.yaml").write_text(text.lstrip(), encoding="utf-8")
    for name, rows in (ROWS if world_rows is None else world_rows).items():
        write_rows(sources, name, rows)
    hub = Hub.open(settings.model_copy(update={"mappings_dir": mappings, "sources_dir": sources}))
    assert all(r.status == "succeeded" for r in ingest(hub)), "the toy world must ingest cleanly"
    return hub


def change_rows(hub: Hub, name: str, rows: list[list[str]]) -> None:
    """Rewrite one source file and ingest again (the way a department's next export arrives)."""
    assert hub.settings.sources_dir is not None
    write_rows(hub.settings.sources_dir, name, rows)
    assert all(r.status == "succeeded" for r in ingest(hub))
