"""A toy district for the rules: six CSV sources named like the demo's, so the real rule files (rules/) run on it.

Each rule has persons for whom it fires and near misses for whom it must not:

- welfare_after_death: 张伟 (dead, 低保 active) and 赵强 (dead, pension active) fire; 李娜 (dead, 低保 ended) and
  王芳 (alive, pension active) do not;
- welfare_with_assets: 刘洋 (低保 active, owns two houses) and 黄磊 (特困 active, owns a car) fire; 陈静 (低保
  active, owns one house) and 杨帆 (低保 suspended, owns a car) do not;
- unregistered_tenant: 周杰 (rents, not in the register) fires; 吴敏 (rents, registered) does not;
- certificate_after_death: 赵强 (dead, certificate 正常) fires; 李娜 (dead, 死亡注销) and 王芳 (alive, 正常) do not;
- welfare_with_income: 孙丽 (低保 active, insured and paying on a base of 12,000) fires; 马超 (低保 active, base 5,000)
  and 陈静 (低保 active, base 15,000 but insurance suspended) do not;
- welfare_staff_relative: 孙丽 (低保 active, in the household 户号 of 孙强, on the staff roster) and 马超 (低保 active,
  registered at the house 高峰 of the roster is registered at) fire; 陈静 (低保 active, her household's 林涛 is not
  on the roster), 黄磊 (特困 active, 郭敏 of the roster elsewhere) and 何军 (低保 active, on the roster himself,
  alone in his household) do not;
- insured_employer_unregistered: 鑫源建材有限公司 (insures 马超, valid code, in no register) and 恒达物流有限公司
  (insures 陈静, a code whose check character fails) fire; 明珠商贸有限公司 (insures 孙丽, in the market register)
  and 天山区灵活就业人员 (insures 何军, no code: 人社's virtual unit) do not.

Every record carries a checksum-valid ID, so which records belong together is beyond doubt.
"""

from __future__ import annotations

from pathlib import Path

from hub.demo.idnumbers import ric_check
from hub.pipeline import Hub
from hub.settings import HubSettings
from tests.hub.fuse.world import build_world as build_fuse_world


def rid(first17: str) -> str:
    return first17 + ric_check(first17)


IDS = {name: rid(f"650102{1950 + i:04d}0101{100 + i:03d}") for i, name in enumerate(
    ["张伟", "赵强", "李娜", "王芳", "刘洋", "黄磊", "陈静", "杨帆", "周杰", "吴敏",
     "孙丽", "孙强", "马超", "高峰", "林涛", "郭敏", "何军"])}

_PERSON = "fields: {name: 姓名, resident_id: 身份证号}"
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
    fields:
      name: 姓名
      resident_id: 身份证号
      death_date: 死亡日期
      population_type: {column: 类型, map: {"1": registered, "2": floating}}
      household_no: 户号
  residence:
    type: house
    required: [address]
    fields: {address: 住址}
  registered_house:
    type: house
    required: [address]
    fields: {address: 户籍地址}
relations:
  - {subject: person, predicate: resides_at, object: residence}
  - {subject: person, predicate: registered_at, object: registered_house}
authority: [person.name, person.resident_id, person.death_date, person.population_type, person.household_no]
""",
    "renshe_insured": f"""
source: renshe_insured
department: social_insurance
connector: {{kind: file, settings: {{path: insured.csv, encoding: utf-8}}}}
record_id: 个人编号
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  insurance:
    type: situation
    required: [situation_type]
    fields:
      situation_type: {{const: insured}}
      status: {{column: 参保状态, map: {{"1": active, "2": suspended, "3": ended}}}}
      amount: 缴费基数
  employer:
    type: organization
    required: [name]
    fields: {{name: 单位名称, credit_code: 信用代码}}
relations:
  - {{subject: insurance, predicate: applies_to, object: person}}
  - {{subject: person, predicate: employed_by, object: employer}}
authority: [situation.situation_type, situation.status]
""",
    "shichang_entities": """
source: shichang_entities
department: market_regulation
connector: {kind: file, settings: {path: market.csv, encoding: utf-8}}
record_id: 统一社会信用代码
entities:
  organization:
    type: organization
    required: [name]
    fields: {name: 企业名称, credit_code: 统一社会信用代码}
authority: [organization.name, organization.credit_code]
""",
    "jiedao_staff": f"""
source: jiedao_staff
department: grid
connector: {{kind: file, settings: {{path: staff.csv, encoding: utf-8}}}}
record_id: 工号
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  committee:
    type: organization
    required: [name]
    fields: {{name: 所在社区}}
relations:
  - {{subject: person, predicate: employed_by, object: committee}}
authority: []
""",
    "minzheng_assistance": f"""
source: minzheng_assistance
department: civil_affairs
connector: {{kind: file, settings: {{path: assistance.csv, encoding: utf-8}}}}
record_id: 序号
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  assistance:
    type: situation
    required: [situation_type]
    fields:
      situation_type: {{column: 救助类别, map: {{城市低保: dibao, 特困供养: tekun}}}}
      status: {{column: 状态, map: {{正常: active, 暂停: suspended, 停发: ended}}}}
relations:
  - {{subject: assistance, predicate: applies_to, object: person}}
authority: [situation.situation_type, situation.status]
""",
    "renshe_pension": f"""
source: renshe_pension
department: social_insurance
connector: {{kind: file, settings: {{path: pension.csv, encoding: utf-8}}}}
record_id: 个人编号
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  pension:
    type: situation
    required: [situation_type]
    fields:
      situation_type: {{const: pension}}
      status: {{column: 待遇状态, map: {{"1": active, "2": suspended, "3": ended}}}}
relations:
  - {{subject: pension, predicate: applies_to, object: person}}
authority: [situation.situation_type, situation.status]
""",
    **{source: f"""
source: {source}
department: property
connector: {{kind: file, settings: {{path: {file}, encoding: utf-8}}}}
record_id: id
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  house:
    type: house
    required: [address]
    fields:
      address: {{parts: {{estate: estate, building: building, unit: unit, room: room}}}}
      estate: estate
      building: building
      unit: unit
      room: room
relations:
  - {{subject: person, predicate: {predicate}, object: house}}
authority: [house.estate, house.building, house.unit, house.room]
""" for source, file, predicate in (("wuye_owners", "owners.csv", "owns"), ("wuye_tenants", "tenants.csv", "rents"))},
    "canlian_disabled": f"""
source: canlian_disabled
department: disabled_persons_federation
connector: {{kind: file, settings: {{path: certificates.csv, encoding: utf-8}}}}
record_id: 序号
entities:
  person:
    type: person
    required: [name]
    {_PERSON}
  disability:
    type: situation
    required: [situation_type]
    fields:
      situation_type: {{const: disability}}
      status: {{column: 人员状态, map: {{正常: active, 暂停: suspended, 死亡注销: ended}}}}
relations:
  - {{subject: disability, predicate: applies_to, object: person}}
authority: [situation.situation_type, situation.status]
""",
    "wuye_vehicles": f"""
source: wuye_vehicles
department: property
connector: {{kind: file, settings: {{path: vehicles.csv, encoding: utf-8}}}}
record_id: id
entities:
  vehicle:
    type: thing
    required: [plate_no]
    fields: {{plate_no: plate, thing_type: {{const: vehicle}}}}
  person:
    type: person
    required: [name]
    {_PERSON}
relations:
  - {{subject: vehicle, predicate: owned_by, object: person}}
authority: [thing.plate_no]
""",
}


def _house(estate: str, building: str, room: str) -> list[str]:
    return [estate, building, "1", room]


REGISTERED = ["张伟", "赵强", "李娜", "王芳", "刘洋", "黄磊", "陈静", "杨帆", "吴敏",   # not 周杰
              "孙丽", "孙强", "马超", "高峰", "林涛", "郭敏", "何军"]
DEAD = {"张伟": "20250110", "赵强": "20250302", "李娜": "20241120"}
HOUSEHOLD = {"孙强": "孙丽", "林涛": "陈静"}               # member → the person whose household (户号) they are in
SHARED_HUKOU = {"高峰": "马超"}                           # registered (户籍) at the other's house, another household


def _register_row(i: int, name: str) -> list[str]:
    head = HOUSEHOLD.get(name, name)
    hukou = REGISTERED.index(SHARED_HUKOU.get(name, head))
    return [f"R{i}", name, IDS[name], DEAD.get(name, ""), "2" if name == "吴敏" else "1",
            f"幸福小区1号楼1单元{101 + i}室", "" if name == "吴敏" else f"H{REGISTERED.index(head):03d}",
            f"幸福小区9号楼1单元{101 + hukou}室"]


ROWS: dict[str, list[list[str]]] = {
    "register.csv": [["编号", "姓名", "身份证号", "死亡日期", "类型", "住址", "户号", "户籍地址"]] + [
        _register_row(i, name) for i, name in enumerate(REGISTERED)],
    "assistance.csv": [
        ["序号", "姓名", "身份证号", "救助类别", "状态"],
        ["1", "张伟", IDS["张伟"], "城市低保", "正常"],
        ["2", "李娜", IDS["李娜"], "城市低保", "停发"],
        ["3", "刘洋", IDS["刘洋"], "城市低保", "正常"],
        ["4", "黄磊", IDS["黄磊"], "特困供养", "正常"],
        ["5", "陈静", IDS["陈静"], "城市低保", "正常"],
        ["6", "杨帆", IDS["杨帆"], "城市低保", "暂停"],
        ["7", "孙丽", IDS["孙丽"], "城市低保", "正常"],
        ["8", "马超", IDS["马超"], "城市低保", "正常"],
        ["9", "何军", IDS["何军"], "城市低保", "正常"],
    ],
    "insured.csv": [
        ["个人编号", "姓名", "身份证号", "参保状态", "缴费基数", "单位名称", "信用代码"],
        ["I1", "孙丽", IDS["孙丽"], "1", "12000.00", "明珠商贸有限公司", "91650102MA7K2L3PXL"],
        ["I2", "马超", IDS["马超"], "1", "5000", "鑫源建材有限公司", "91650102MA8C4D5E6G"],
        ["I3", "陈静", IDS["陈静"], "2", "15000", "恒达物流有限公司", "91650102MA9F6G7H7X"],   # check fails
        ["I4", "何军", IDS["何军"], "1", "3500", "天山区灵活就业人员", ""],
    ],
    "market.csv": [
        ["统一社会信用代码", "企业名称"],
        ["91650102MA7K2L3PXL", "明珠商贸有限公司"],
        ["91650102MA1B2C3D4E", "另一家有限公司"],
    ],
    "staff.csv": [
        ["工号", "姓名", "身份证号", "所在社区"],
        ["SQ1", "孙强", IDS["孙强"], "幸福社区居民委员会"],
        ["SQ2", "高峰", IDS["高峰"], "幸福社区居民委员会"],
        ["SQ3", "郭敏", IDS["郭敏"], "明珠社区居民委员会"],
        ["SQ4", "何军", IDS["何军"], "明珠社区居民委员会"],
    ],
    "pension.csv": [
        ["个人编号", "姓名", "身份证号", "待遇状态"],
        ["P1", "赵强", IDS["赵强"], "1"],
        ["P2", "王芳", IDS["王芳"], "1"],
    ],
    "certificates.csv": [
        ["序号", "姓名", "身份证号", "人员状态"],
        ["1", "赵强", IDS["赵强"], "正常"],
        ["2", "李娜", IDS["李娜"], "死亡注销"],
        ["3", "王芳", IDS["王芳"], "正常"],
    ],
    "owners.csv": [
        ["id", "姓名", "身份证号", "estate", "building", "unit", "room"],
        ["O1", "刘洋", IDS["刘洋"], *_house("明珠花园", "3", "1502")],
        ["O2", "刘洋", IDS["刘洋"], *_house("明珠花园", "5", "301")],
        ["O3", "陈静", IDS["陈静"], *_house("明珠花园", "6", "402")],
    ],
    "tenants.csv": [
        ["id", "姓名", "身份证号", "estate", "building", "unit", "room"],
        ["T1", "周杰", IDS["周杰"], *_house("明珠花园", "7", "101")],
        ["T2", "吴敏", IDS["吴敏"], *_house("明珠花园", "7", "102")],
    ],
    "vehicles.csv": [
        ["id", "plate", "姓名", "身份证号"],
        ["V1", "新A12345", "黄磊", IDS["黄磊"]],
        ["V2", "新A54321", "杨帆", IDS["杨帆"]],
    ],
}

EXPECTED = {
    "welfare_after_death": {"张伟", "赵强"},
    "welfare_with_assets": {"刘洋", "黄磊"},
    "unregistered_tenant": {"周杰"},
    "certificate_after_death": {"赵强"},
    "welfare_with_income": {"孙丽"},
    "welfare_staff_relative": {"孙丽", "马超"},
    "insured_employer_unregistered": {"鑫源建材有限公司", "恒达物流有限公司"},
}
EMPLOYERS = {"明珠商贸有限公司": "I1", "鑫源建材有限公司": "I2", "恒达物流有限公司": "I3", "天山区灵活就业人员": "I4"}


def build_world(settings: HubSettings, tmp_path: Path) -> Hub:
    """The rules' toy world (MAPPINGS, ROWS) under `tmp_path`, ingested once on `settings`' store."""
    return build_fuse_world(settings, tmp_path, MAPPINGS, ROWS, folder="rules")
