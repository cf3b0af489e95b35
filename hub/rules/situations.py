"""Situations (情) derived from fused data: a rule file that declares `derives: {situation_type: ...}` states a
condition that holds for a while (living alone, elderly, floating, seasonal, vacancy), not an anomaly to handle.

Welfare and health situations (低保, 特困, disability) are not derived: they are the departments' own situation
entities, encrypted at rest and shown by clearance. A derived copy would state in clear, in its type and rule id,
what those hold encrypted, so `derives` does not accept those types.

Its hits are written here instead of as findings (as well, with `findings: true`): one period per (rule, entity)
in `derived_situation`, started at the reference time of the run that first derived it and ended at the one of
the first run that no longer did (a situation derived again later starts a new period). Each period carries the
rule that derived it and the statements (ids and sources) behind it, so lineage reaches the raw records; no value
is stored.

Derived situations are the derive stage's output, read downstream (profiles through publication, which copies
the periods that hold into pub_situation; events, a grid's load); they never flow back into statements or fusion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine

from hub.rules.store import Written
from hub.store import tables
from hub.store.bulk import insert_rows
from hub.store.frames import frame_of


class DerivedType(StrEnum):
    """The situations rules may derive: none of them tells welfare or health status (see the module's doc)."""

    living_alone = "living_alone"      # 独居
    elderly = "elderly"                # 老年人 (60+)
    floating = "floating"              # 流动人口
    seasonal = "seasonal"              # 候鸟
    vacancy = "vacancy"                # 空置


class Derives(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    situation_type: DerivedType
    findings: bool = False
    """The hits are findings too (under the rule's id, each an event to handle): a condition that is both a
    situation and a notice (候鸟: away now, so the grid's real load is smaller than its register) is written
    once, and the period and the finding come from the same hits."""


def period_id(rule_id: str, entity_id: str, run_id: str) -> str:
    """A period is keyed by the run that started it (two runs may share a reference time)."""
    return hashlib.blake2b(f"{rule_id}\x1f{entity_id}\x1f{run_id}".encode(), digest_size=16).hexdigest()


def write_situations(conn: Connection, rule_id: str, situation_type: str, found: pd.DataFrame, run_id: str,
                     at: datetime) -> Written:
    """Make the open periods of `rule_id` the entities of `found` (hub.rules.engine.FINDING_COLUMNS): `new`
    periods (`reopened`: of entities with an ended one), `cleared`: ended by this run."""
    d = tables.derived_situation.c
    stored = frame_of(conn.execute(sa.select(d.id, d.entity_id, d.ended_at).where(d.rule_id == rule_id)),
                      ["id", "entity_id", "ended_at"])
    open_ = stored[stored["ended_at"].isna()].set_index("entity_id")["id"]
    ever = set(stored["entity_id"])
    known = found["entity_id"].isin(open_.index)
    new = found[~known]
    insert_rows(conn, tables.derived_situation,
                ["id", "rule_id", "situation_type", "entity_type", "entity_id", "evidence", "sources", "started_at",
                 "first_run", "last_run"],
                [(period_id(rule_id, e, run_id), rule_id, situation_type, t, e, ev, src, at, run_id, run_id)
                 for e, t, ev, src in zip(new["entity_id"], new["entity_type"], new["evidence"], new["sources"],
                                          strict=True)])
    again = found[known]
    if len(again):
        conn.execute(
            tables.derived_situation.update().where(d.id == sa.bindparam("key")).values(
                evidence=sa.bindparam("ev"), sources=sa.bindparam("src"), last_run=run_id),
            [{"key": open_[e], "ev": ev, "src": src}
             for e, ev, src in zip(again["entity_id"], again["evidence"], again["sources"], strict=True)])
    gone = open_[~open_.index.isin(found["entity_id"])].tolist()
    for i in range(0, len(gone), 900):
        conn.execute(tables.derived_situation.update().where(d.id.in_(gone[i:i + 900])).values(
            ended_at=at, ended_run=run_id))
    return Written(found=len(found), new=len(new), reopened=int(new["entity_id"].isin(ever).sum()),
                   cleared=len(gone))


SITUATION_VIEW = ["rule_id", "situation_type", "entity_type", "entity_id", "started_at", "ended_at", "evidence",
                  "sources"]


def read_situations(engine: Engine | Connection, entity_ids: Sequence[str] | None = None, *,
                    rule_ids: Sequence[str] | None = None, include_ended: bool = False) -> pd.DataFrame:
    """Derived situations (those that hold unless `include_ended`), of some entities or rules, by entity."""
    d = tables.derived_situation.c
    query = sa.select(*(d[c] for c in SITUATION_VIEW)).order_by(d.entity_id, d.situation_type, d.started_at)
    if entity_ids is not None:
        query = query.where(d.entity_id.in_(list(entity_ids)))
    if rule_ids is not None:
        query = query.where(d.rule_id.in_(list(rule_ids)))
    if not include_ended:
        query = query.where(d.ended_at.is_(None))
    if isinstance(engine, Connection):
        return frame_of(engine.execute(query), SITUATION_VIEW)
    with engine.connect() as conn:
        return frame_of(conn.execute(query), SITUATION_VIEW)
