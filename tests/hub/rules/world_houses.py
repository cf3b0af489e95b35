"""A toy district for the house- and access-side rules, judged at REFERENCE (2025-06-30 18:00, China time).

- elderly_alone_no_access: 张伟 (85, alone in 101, last door event three days ago) fires; persons without door
  events at all do not (the rules toy of world.py has none); 李娜 (80, alone in 102,
  a door event ten hours ago), 王芳 (65, alone in 104, no door event: not elderly) and 赵强 (85, shares 103 with
  刘洋, no door event) do not;
- seasonal_resident: 陈静 (four door events half a year ago, none since) fires; 杨帆 (the same, and one a month
  ago) and 吴敏 (three door events half a year ago) do not;
- vacant_house_occupied: 201 (空置, 周杰 lives there) fires; 202 (空置, nobody), 203 (自住, 黄磊 lives there) and
  204 (空置, its only resident 孙丽 dead) do not;
- group_renting: 301 (20 m², three tenants: 6.7 m² each) fires; 302 (30 m², three tenants: 10 m² each) does not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hub.pipeline import Hub
from hub.settings import HubSettings
from tests.hub.fuse.world import build_world as build_fuse_world
from tests.hub.rules.world import rid

REFERENCE = datetime(2025, 6, 30, 18, 0)
NAMES = ["张伟", "李娜", "王芳", "赵强", "刘洋", "陈静", "杨帆", "吴敏", "周杰", "黄磊", "孙丽",
         "郑一", "郑二", "郑三", "钱一", "钱二", "钱三"]
BORN = {"张伟": "19400101", "李娜": "19450301", "王芳": "19600101", "赵强": "19400505", "刘洋": "19700101"}
IDS = {name: rid(f"650102{BORN.get(name, '19800101')}{200 + i:03d}") for i, name in enumerate(NAMES)}
HOME = {"张伟": "101", "李娜": "102", "王芳": "104", "赵强": "103", "刘洋": "103", "陈静": "105", "杨帆": "106",
        "吴敏": "107", "周杰": "201", "黄磊": "203", "孙丽": "204", "郑一": "301", "郑二": "301", "郑三": "301",
        "钱一": "302", "钱二": "302", "钱三": "302"}
DEAD = {"孙丽": "20241001"}
TENANTS = {"郑一", "郑二", "郑三", "钱一", "钱二", "钱三"}
AREA = {"301": "20", "302": "30"}
STATUS = {"201": "空置", "202": "空置", "203": "自住", "204": "空置", "301": "出租", "302": "出租"}


def _ago(days: float) -> str:
    return (REFERENCE - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


DOORS = {"张伟": [3, 5, 8], "李娜": [10 / 24, 2], "陈静": [200, 190, 180, 170], "杨帆": [200, 190, 180, 170, 30],
         "吴敏": [200, 190, 180]}

_HOUSE_FIELDS = """
    fields:
      address: {parts: {estate: estate, building: building, unit: unit, room: room}}
      estate: estate
      building: building
      unit: unit
      room: room"""

MAPPINGS = {
    "gongan_population": """
source: gongan_population
department: public_security
connector: {kind: file, settings: {path: register.csv, encoding: utf-8}}
record_id: 编号
entities:
  person:
    type: person
    required: [name]
    fields: {name: 姓名, resident_id: 身份证号, birth_date: 出生日期, death_date: 死亡日期}
  residence:
    type: house
    required: [address]""" + _HOUSE_FIELDS + """
relations:
  - {subject: person, predicate: resides_at, object: residence}
authority: [person.name, person.resident_id, person.birth_date, person.death_date]
""",
    "gongan_access": """
source: gongan_access
department: public_security
connector: {kind: file, settings: {path: doors.csv, encoding: utf-8}}
record_id: 编号
entities:
  event:
    type: event
    required: [occurred_at]
    fields: {event_type: {const: access}, occurred_at: 开门时间, device: 门禁}
  person:
    type: person
    fields: {resident_id: 身份证号}
relations:
  - {subject: event, predicate: concerns, object: person}
authority: [event.event_type, event.occurred_at]
""",
    "wuye_houses": """
source: wuye_houses
department: property
connector: {kind: file, settings: {path: houses.csv, encoding: utf-8}}
record_id: id
entities:
  house:
    type: house
    required: [address]""" + _HOUSE_FIELDS + """
      floor_area: area
      occupancy: {column: status, map: {自住: owner_occupied, 出租: rented, 空置: vacant}}
authority: [house.estate, house.building, house.unit, house.room, house.floor_area, house.occupancy]
""",
    "wuye_tenants": """
source: wuye_tenants
department: property
connector: {kind: file, settings: {path: tenants.csv, encoding: utf-8}}
record_id: id
entities:
  person:
    type: person
    required: [name]
    fields: {name: 姓名, resident_id: 身份证号}
  house:
    type: house
    required: [address]""" + _HOUSE_FIELDS + """
relations:
  - {subject: person, predicate: rents, object: house}
authority: [house.estate, house.building, house.unit, house.room]
""",
}


def _place(room: str) -> list[str]:
    return ["明珠花园", room[0], "1", room]


ROWS: dict[str, list[list[str]]] = {
    "register.csv": [["编号", "姓名", "身份证号", "出生日期", "死亡日期", "estate", "building", "unit", "room"]] + [
        [f"R{i}", name, IDS[name], BORN.get(name, "19800101"), DEAD.get(name, ""), *_place(HOME[name])]
        for i, name in enumerate(NAMES) if name not in TENANTS],
    "doors.csv": [["编号", "身份证号", "开门时间", "门禁"]] + [
        [f"D{name}{k}", IDS[name], _ago(days), "MJ0001-1"]
        for name, ago in DOORS.items() for k, days in enumerate(ago)],
    "houses.csv": [["id", "estate", "building", "unit", "room", "area", "status"]] + [
        [f"H{room}", *_place(room), AREA.get(room, "90"), STATUS.get(room, "自住")]
        for room in sorted({*HOME.values(), "202"})],
    "tenants.csv": [["id", "姓名", "身份证号", "estate", "building", "unit", "room"]] + [
        [f"T{i}", name, IDS[name], *_place(HOME[name])] for i, name in enumerate(sorted(TENANTS))],
}

EXPECTED = {
    "elderly_alone_no_access": {"张伟"},
    "seasonal_resident": {"陈静"},
    "vacant_house_occupied": {"201"},
    "group_renting": {"301"},
}


def build_world(settings: HubSettings, tmp_path: Path) -> Hub:
    """The toy (MAPPINGS, ROWS) under `tmp_path`, ingested once on `settings`' store."""
    return build_fuse_world(settings, tmp_path, MAPPINGS, ROWS, folder="houses")
