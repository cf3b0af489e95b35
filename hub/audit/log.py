"""What auditors do with the log: query it (by entity, actor, period), export it, prune what is past retention.

等保 2.0 asks that audit records be kept at least six months: `prune` refuses any cut younger than
RETENTION, refuses a chain that does not verify (pruning must not launder a tampered row), and leaves a
checkpoint row in the chain so that what remains still verifies (hub.audit.chain).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql

from hub.access.keys import AccessKeys
from hub.access.policy import Policy
from hub.audit.chain import PRUNE_ACTION, AuditEntry, _lock_head, append, seal, seal_pending, verify
from hub.errors import HubError
from hub.private_files import make_private_dir
from hub.store import tables
from hub.store.runs import as_utc, now

RETENTION = timedelta(days=184)
"""Six months, counted as the longest six consecutive months (July to December)."""
MAX_PAGE = 1000


class AuditQueryError(HubError):
    """An audit query, export or prune asked for something it cannot do (bad cursor, too recent a cut)."""


@dataclass(frozen=True)
class AuditRow:
    id: int
    seq: int | None
    """Its place in the chain; None until sealed (a fraction of a second after its request)."""
    at: datetime
    actor: str
    role: str
    purpose: str | None
    action: str
    status: int
    entity_ids: list[str]
    fields: dict[str, str]
    detail: dict[str, Any] | None
    prev_hash: str | None
    row_hash: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "seq": self.seq, "at": self.at.astimezone(UTC).isoformat(), "actor": self.actor,
                "role": self.role, "purpose": self.purpose, "action": self.action, "status": self.status,
                "entity_ids": self.entity_ids, "fields": self.fields, "detail": self.detail,
                "prev_hash": self.prev_hash, "row_hash": self.row_hash}


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    next_cursor: str | None
    """Opaque; pass it back for the next (older) page. None: this was the last."""


def _row(r: Mapping[Any, Any]) -> AuditRow:
    at = as_utc(r["at"])
    assert at is not None
    return AuditRow(int(r["id"]), None if r["seq"] is None else int(r["seq"]), at, r["actor"], r["role"],
                    r["purpose"], r["action"], int(r["status"]),
                    orjson.loads(r["entity_ids"]), orjson.loads(r["fields"]),
                    None if r["detail"] is None else orjson.loads(r["detail"]), r["prev_hash"], r["row_hash"])


def _cursor(log_id: int) -> str:
    return base64.urlsafe_b64encode(f"audit:{log_id}".encode()).decode("ascii")


def _after_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        prefix, _, log_id = text.partition(":")
        if prefix != "audit":
            raise ValueError(prefix)
        return int(log_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise AuditQueryError("cursor is not one this log gave out: start again without it") from None


def query(engine: Engine, *, entity_id: str | None = None, entity_ids: Iterable[str] | None = None,
          subjects: Iterable[str] | None = None, actor: str | None = None,
          since: datetime | None = None, until: datetime | None = None, limit: int = 100,
          cursor: str | None = None) -> AuditPage:
    """Rows newest first (sealed or not yet): those naming `entity_id` or any of `entity_ids` ("who looked at
    this person": a person's id and the ids merged into it),
    of `actor`, in [since, until). Index lookups (audit_log's entity_index under GIN on PostgreSQL, at,
    actor / at), a page at a time; rows not sealed yet, whose index the seal writes, by their `entity_ids`.
    On SQLite the entity index is a JSON list read with json_each: a scan, for small stores.

    `subjects` widens the entity filter to the 核验 tries about a subject (hub.verify.claims.subject_hash, in the
    row's detail): a try names no entity, since a false claim may be about nobody. Those rows are found by a
    scan of the detail text, so an operator narrows the period on a large log."""
    if not 1 <= limit <= MAX_PAGE:
        raise AuditQueryError(f"limit must be between 1 and {MAX_PAGE}")
    a = tables.audit_log.c
    stmt = sa.select(tables.audit_log)
    if entity_id is not None or entity_ids is not None or subjects is not None:
        ids = [*(entity_ids or ()), *([entity_id] if entity_id is not None else [])]
        # Sealed rows by their entity index; rows not sealed yet (the index is written by the seal) by the ids
        # their own `entity_ids` column names, as JSON strings.
        named = [a.entity_ids.contains(f'"{i}"', autoescape=True) for i in ids]
        pending = sa.select(a.id).where(a.seq.is_(None), sa.or_(sa.false(), *named))
        # The detail is canonical compact JSON (hub.audit.chain), so a subject is always `"subject":"<hash>"`.
        tried = sa.select(a.id).where(sa.or_(sa.false(), *(
            a.detail.contains(f'"subject":"{h}"', autoescape=True) for h in subjects or ())))
        stmt = stmt.where(a.id.in_(sa.union(_indexed(engine.dialect.name, ids), pending, tried)))
    if actor is not None:
        stmt = stmt.where(a.actor == actor)
    if since is not None:
        stmt = stmt.where(a.at >= since)
    if until is not None:
        stmt = stmt.where(a.at < until)
    if cursor is not None:
        stmt = stmt.where(a.id < _after_cursor(cursor))
    with engine.connect() as conn:
        found = [_row(r) for r in conn.execute(stmt.order_by(a.id.desc()).limit(limit + 1)).mappings()]
    more = len(found) > limit
    rows = found[:limit]
    return AuditPage(rows, _cursor(rows[-1].id) if more else None)


def _indexed(dialect: str, ids: list[str]) -> sa.Select[Any]:
    """The sealed rows whose entity index names any of `ids`: `&&` on the GIN-indexed text[] (PostgreSQL), a
    json_each of the JSON list (SQLite)."""
    a = tables.audit_log.c
    if dialect == "postgresql":
        index = sa.type_coerce(a.entity_index, postgresql.ARRAY(sa.Text()))
        return sa.select(a.id).where(index.overlap(sa.cast(sa.literal(ids, postgresql.ARRAY(sa.Text())),
                                                           postgresql.ARRAY(sa.Text()))))
    each = sa.func.json_each(a.entity_index).table_valued("value")
    return sa.select(a.id).where(a.seq.is_not(None), sa.exists(sa.select(1).select_from(each)
                                                               .where(each.c.value.in_(ids))))


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    first_seq: int | None
    last_seq: int | None


def export(engine: Engine, path: Path, since: datetime | None = None, until: datetime | None = None,
           *, batch: int = 5000) -> ExportResult:
    """The sealed rows in [since, until) as JSON lines in chain order, with their hashes (so a copy can be
    checked against the chain later; `seal` first to include the latest). Written 0600 beside `path`,
    renamed into place when complete."""
    path = Path(path)
    make_private_dir(path.parent)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    a = tables.audit_log.c
    stmt = sa.select(tables.audit_log).where(a.seq.is_not(None))
    if since is not None:
        stmt = stmt.where(a.at >= since)
    if until is not None:
        stmt = stmt.where(a.at < until)
    count, first, last, after = 0, None, None, 0
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle, engine.connect() as conn:
        while True:
            rows = [_row(r) for r in conn.execute(stmt.where(a.seq > after).order_by(a.seq).limit(batch)).mappings()]
            if not rows:
                break
            for row in rows:
                handle.write(orjson.dumps(row.as_json()) + b"\n")
            count += len(rows)
            first = rows[0].seq if first is None else first
            last = rows[-1].seq
            after = last or 0
    os.replace(partial, path)
    return ExportResult(path, count, first, last)


@dataclass(frozen=True)
class PruneResult:
    rows_removed: int
    pruned_through: int | None
    """The last seq removed; None when nothing was old enough."""
    checkpoint_seq: int | None


def prune(engine: Engine, keys: AccessKeys, before: datetime, *, by: Policy, at: datetime | None = None,
          ) -> PruneResult:
    """Remove the rows older than `before` (the oldest unbroken run of them), keeping the chain verifiable.

    Refused when `before` is less than RETENTION ago, and when the chain does not verify now. Rows are
    sealed first; the checkpoint row is sealed in the prune's own transaction.
    """
    at = at or now()
    if before.tzinfo is None:
        raise AuditQueryError("the cut-off time must carry its time zone")
    if before > at - RETENTION:
        raise AuditQueryError(f"audit rows are kept at least six months ({RETENTION.days} days, 等保 2.0): the "
                              f"cut-off must be on or before {(at - RETENTION).date().isoformat()}")
    seal(engine, keys)
    checked = verify(engine, keys)
    if not checked.ok:
        raise AuditQueryError(f"the audit chain does not verify ({checked.problem}): nothing is pruned from a "
                              "broken chain; keep it as evidence")
    a = tables.audit_log.c
    with engine.begin() as conn:
        head_seq, _ = _lock_head(conn)   # one sealer at a time: nothing is chained while the cut is chosen
        first_kept = conn.execute(sa.select(sa.func.min(a.seq)).where(a.at >= before, a.seq.is_not(None))).scalar()
        through = head_seq if first_kept is None else int(first_kept) - 1
        oldest = conn.execute(sa.select(sa.func.min(a.seq))).scalar()
        if oldest is None or through < oldest:
            return PruneResult(0, None, None)
        pruned_hash = conn.execute(sa.select(a.row_hash).where(a.seq == through)).scalar_one()
        removed = conn.execute(sa.delete(tables.audit_log).where(a.seq <= through)).rowcount
        checkpoint_id = append(conn, AuditEntry.of(by, PRUNE_ACTION, detail={
            "pruned_through": through, "pruned_hash": pruned_hash, "pruned_rows": removed,
            "before": before.astimezone(UTC).isoformat()}))
        while seal_pending(conn, keys):
            pass
        checkpoint = conn.execute(sa.select(a.seq).where(a.id == checkpoint_id)).scalar_one()
    return PruneResult(removed, through, checkpoint)


__all__ = ["MAX_PAGE", "RETENTION", "AuditPage", "AuditQueryError", "AuditRow", "ExportResult", "PruneResult",
           "export", "prune", "query"]
