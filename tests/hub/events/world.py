"""The rules' toy district (tests/hub/rules/world.py) with a property ticket source and a grid roster.

Grids: 幸福社区第1网格 holds 幸福小区 building 1, where every registered person lives (workers W1, whose app is
the consumer given to `roster`, and W3); 明珠社区第1网格 holds the whole of 明珠花园, where 周杰 rents (worker
W2). Tickets: a repair at 明珠花园 7-1-101 still open, a complaint at 幸福小区 1-1-101 closed after a day.
"""

from __future__ import annotations

from pathlib import Path

from hub.events import Roster
from hub.events.roster import Grid, Worker
from hub.pipeline import Hub
from hub.rules import Rule, load_rules
from hub.settings import HubSettings
from tests.hub.fuse.world import build_world as build_fuse_world
from tests.hub.rules.world import MAPPINGS, ROWS

RULES = Path(__file__).resolve().parents[3] / "rules"
TOY_RULES = ("welfare_after_death", "welfare_with_assets", "unregistered_tenant", "certificate_after_death")
"""The rules this world's expected events were drawn for: the rules added since fire on it too."""


def toy_rules() -> list[Rule]:
    return [rule for rule in load_rules(RULES).require_ok() if rule.id in TOY_RULES]


TICKETS = """
source: wuye_tickets
department: property
connector: {kind: file, settings: {path: tickets.csv, encoding: utf-8}}
record_id: id
entities:
  event:
    type: event
    required: [event_type]
    fields:
      event_type: {column: type, map: {报修: repair, 投诉: complaint}}
      occurred_at: created_at
      closed_at: closed_at
      status: {column: status, map: {已完成: closed, 处理中: in_progress, 待处理: open}}
  house:
    type: house
    required: [address]
    fields:
      address: {parts: {estate: estate, building: building, unit: unit, room: room}}
      estate: estate
      building: building
      unit: unit
      room: room
relations:
  - {subject: event, predicate: located_at, object: house}
authority: [event.event_type, event.occurred_at, event.closed_at, event.status]
"""

TICKET_ROWS = [
    ["id", "type", "created_at", "closed_at", "status", "estate", "building", "unit", "room"],
    ["K1", "报修", "2026-11-30 09:00:00", "", "待处理", "明珠花园", "7", "1", "101"],
    ["K2", "投诉", "2026-11-20 09:00:00", "2026-11-21 09:00:00", "已完成", "幸福小区", "1", "1", "101"],
]

GRID_A, GRID_B = "幸福社区第1网格", "明珠社区第1网格"


def roster(consumer: str | None = None) -> Roster:
    return Roster(grids=[
        Grid(name=GRID_A, community="幸福社区", buildings={"幸福小区": [1]},
             workers=[Worker(id="W1", name="古丽", consumer=consumer), Worker(id="W3", name="马丽")]),
        Grid(name=GRID_B, community="明珠社区", buildings={"明珠花园": ["*"]},
             workers=[Worker(id="W2", name="阿力木")]),
    ])


def build_world(settings: HubSettings, tmp_path: Path) -> Hub:
    return build_fuse_world(settings, tmp_path, {**MAPPINGS, "wuye_tickets": TICKETS},
                            {**ROWS, "tickets.csv": TICKET_ROWS}, folder="events")
