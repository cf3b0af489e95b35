"""What `hub status` reports per source: the last run's counts, what the store holds, the commonest reasons.

The last run's counts alone mislead after a run that found nothing new (loaded 0 everywhere), and
quarantine reasons of every run beside them read as if that run had quarantined something: so the
store's totals stand beside them, and reasons are grouped by what was rejected (a whole record, one
entity of a record, one value), each group labelled with its own total.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from hub.store import runs, tables

REJECTION_KINDS = {"record": "records quarantined", "entity": "entities rejected", "value": "values rejected"}
"""Quarantine kinds an operator acts on (flags are warnings about values that were kept), with their labels."""


@dataclass
class SourceStatus:
    source: str
    last_run_id: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    extracted: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    quarantined_values: int = 0
    record_entities_total: int = 0   # statement rows: one per record entity version
    raw_records_total: int = 0
    last_loaded_at: datetime | None = None
    """When a run of this source last loaded a new record (the last run may have found nothing new)."""
    watermark: str | None = None
    error: str | None = None
    rejected_total: dict[str, int] = field(default_factory=dict)
    """Quarantine rows in the store by kind: record (records quarantined), entity, value (values rejected)."""
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """The commonest reasons per kind, most frequent first."""
    # the last run's process and sign of life: a run whose process is gone reads `interrupted`
    heartbeat_at: datetime | None = None
    host: str | None = None
    pid: int | None = None
    took_over: list[str] = field(default_factory=list)


def watermark_shown(watermark: str | None) -> str:
    """A watermark as an operator reads it: the cursor value of a SQL or HTTP position (not its JSON and
    fingerprints), a file's content hash shortened."""
    if not watermark:
        return "-"
    if watermark.startswith("{"):
        try:
            document = json.loads(watermark)
            return str(document.get("cursor", document.get("since", watermark)))
        except (ValueError, AttributeError):
            return watermark
    return watermark[:23] if watermark.startswith("sha256:") else watermark


def source_status(engine: Engine, top_reasons: int = 5, *,
                  stale_after: timedelta = runs.DEFAULT_STALE_AFTER) -> list[SourceStatus]:
    """One row per source that has ever run, from the run, raw, statement and quarantine tables.

    A last run still marked running whose process is gone (or, on another host, whose heartbeat is
    older than `stale_after`) reads `interrupted` (hub.store.runs).
    """
    here = runs.ProcessMark.current()
    r, q = tables.run, tables.quarantine
    out: dict[str, SourceStatus] = {}
    with engine.connect() as conn:
        latest = (select(r.c.source, func.max(r.c.started_at).label("started"))
                  .where(r.c.stage == "ingest").group_by(r.c.source).subquery())
        rows = conn.execute(select(r).join(latest, (r.c.source == latest.c.source)
                                           & (r.c.started_at == latest.c.started)).order_by(r.c.source))
        for row in rows.mappings():
            out[row["source"]] = SourceStatus(
                source=row["source"], last_run_id=row["id"], status=row["status"], started_at=row["started_at"],
                finished_at=row["finished_at"], extracted=row["extracted"], loaded=row["loaded"],
                unchanged=row["unchanged"], quarantined=row["quarantined"],
                quarantined_values=row["quarantined_values"], watermark=row["watermark_after"], error=row["error"],
                heartbeat_at=runs.last_sign_of_life(row), host=row["host"], pid=row["pid"],
                took_over=row["took_over"].split(",") if row["took_over"] else [])
            out[row["source"]].status = runs.seen_status(row, stale_after=stale_after, here=here)
        for table, attr in ((tables.statement, "record_entities_total"), (tables.raw_record, "raw_records_total")):
            for source, count in conn.execute(select(table.c.source, func.count()).group_by(table.c.source)):
                if source in out:
                    setattr(out[source], attr, count)
        for source, when in conn.execute(select(r.c.source, func.max(r.c.finished_at)).where(
                r.c.stage == "ingest", r.c.loaded > 0).group_by(r.c.source)):
            if source in out:
                out[source].last_loaded_at = when
        for source, kind, count in conn.execute(
                select(q.c.source, q.c.kind, func.count()).where(q.c.kind != "flag").group_by(q.c.source, q.c.kind)):
            if source in out:
                out[source].rejected_total[kind] = count
        for st in out.values():
            for kind in REJECTION_KINDS:
                if not st.rejected_total.get(kind):
                    continue
                reasons = conn.execute(
                    select(q.c.reason, func.count().label("n")).where(q.c.source == st.source, q.c.kind == kind)
                    .group_by(q.c.reason).order_by(func.count().desc(), q.c.reason).limit(top_reasons))
                st.reasons[kind] = [(reason, n) for reason, n in reasons]
    return list(out.values())
