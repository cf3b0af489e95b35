"""The finding table: one row per (rule, entity), kept across runs.

A run writes the findings of the rules it ran: a new one is inserted; one found again keeps its first run and
gets the latest run, time and evidence; one no longer found is cleared (its row stays, with the run that cleared
it); a cleared one found again is reopened. Rules not in the run are left as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.store import tables
from hub.store.bulk import insert_rows
from hub.store.frames import frame_of

STORED = ["id", "evidence", "related", "cleared_at"]


def finding_id(rule_id: str, entity_id: str) -> str:
    return hashlib.blake2b(f"{rule_id}\x1f{entity_id}".encode(), digest_size=16).hexdigest()


@dataclass
class Written:
    found: int = 0
    new: int = 0
    reopened: int = 0
    cleared: int = 0


def write_findings(conn: Connection, rule_id: str, found: pd.DataFrame, run_id: str, now: datetime) -> Written:
    """Make the stored findings of `rule_id` the ones `found` (hub.rules.engine.FINDING_COLUMNS)."""
    f = tables.finding.c
    stored = frame_of(conn.execute(sa.select(f.id, f.evidence, f.related, f.cleared_at).where(f.rule_id == rule_id)),
                      STORED).set_index("id")
    found = found.assign(id=[finding_id(rule_id, e) for e in found["entity_id"]])
    known = found["id"].isin(stored.index)
    new = found[~known]
    insert_rows(conn, tables.finding, [*found.columns, "first_run", "first_found_at", "last_run", "last_found_at"],
                [(*row, run_id, now, run_id, now) for row in new.itertuples(index=False, name=None)])
    again = found[known]
    reopened = int(stored.loc[again["id"], "cleared_at"].notna().sum()) if len(again) else 0
    if len(again):
        conn.execute(
            tables.finding.update().where(f.id == sa.bindparam("key")).values(
                evidence=sa.bindparam("ev"), sources=sa.bindparam("src"), related=sa.bindparam("rel"),
                severity=sa.bindparam("sev"), last_run=run_id, last_found_at=now, cleared_run=None, cleared_at=None),
            [{"key": k, "ev": e, "src": s, "rel": r, "sev": v} for k, e, s, r, v in
             zip(again["id"], again["evidence"], again["sources"], again["related"], again["severity"], strict=True)])
    gone = stored.index[stored["cleared_at"].isna() & ~stored.index.isin(found["id"])]
    for i in range(0, len(gone), 900):
        conn.execute(tables.finding.update().where(f.id.in_(list(gone[i:i + 900]))).values(
            cleared_run=run_id, cleared_at=now))
    return Written(found=len(found), new=len(new), reopened=reopened, cleared=len(gone))


FINDING_VIEW = ["rule_id", "entity_type", "entity_id", "severity", "evidence", "sources", "related", "first_found_at",
                "last_found_at", "cleared_at"]


def read_findings(engine: Engine, rule_ids: Sequence[str] | None = None, *, include_cleared: bool = False
                  ) -> pd.DataFrame:
    """Stored findings (open ones unless `include_cleared`), by rule and entity."""
    f = tables.finding.c
    query = sa.select(*(f[c] for c in FINDING_VIEW)).order_by(f.rule_id, f.entity_id)
    if rule_ids is not None:
        query = query.where(f.rule_id.in_(list(rule_ids)))
    if not include_cleared:
        query = query.where(f.cleared_at.is_(None))
    with engine.connect() as conn:
        return frame_of(conn.execute(query), FINDING_VIEW)
