"""What the raw zone holds of one source, compared with the source itself: the G3 numbers.

- lost: source record ids with no raw record;
- duplicated: raw records beyond one per source record id (the sources used here never change a
  record between runs, so each id has exactly one version);
- half batches: runs whose committed rows disagree with the counters committed with them (raw rows
  against loaded + quarantined, statement entries against statements): a batch and its counters are
  one transaction, so any disagreement is a batch that landed in part.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import orjson
from sqlalchemy import Engine, create_engine, func, select, text

from hub.store import tables


@dataclass(frozen=True)
class Ledger:
    source_records: int
    raw_records: int
    lost: int
    duplicated: int
    half_batches: int
    statement_entries: int
    runs: int


def source_ids(url: str, query: str) -> list[str]:
    """The record ids a department system holds, read straight from it."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [str(value) for value in conn.execute(text(query)).scalars()]
    finally:
        engine.dispose()


def ledger(engine: Engine, source: str, ids: list[str]) -> Ledger:
    raw, run, st = tables.raw_record, tables.run, tables.statement
    with engine.connect() as conn:
        per_id = Counter(dict(conn.execute(select(raw.c.source_record_id, func.count())
                                           .where(raw.c.source == source).group_by(raw.c.source_record_id)).all()))
        raw_per_run = dict(conn.execute(select(raw.c.run_id, func.count()).where(raw.c.source == source)
                                        .group_by(raw.c.run_id)).all())
        entries_per_run: Counter[str] = Counter()
        for run_id, entries in conn.execute(select(st.c.run_id, st.c.statements).where(st.c.source == source)):
            entries_per_run[run_id] += len(orjson.loads(entries))
        runs = conn.execute(select(run.c.id, run.c.loaded, run.c.quarantined, run.c.statements)
                            .where(run.c.stage == "ingest", run.c.source == source)).all()
    half = sum(raw_per_run.get(r.id, 0) != r.loaded + r.quarantined or entries_per_run[r.id] != r.statements
               for r in runs)
    return Ledger(source_records=len(ids), raw_records=sum(per_id.values()), lost=len(set(ids) - set(per_id)),
                  duplicated=sum(n - 1 for n in per_id.values()), half_batches=half,
                  statement_entries=sum(entries_per_run.values()), runs=len(runs))
