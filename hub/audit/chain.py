"""The audit log's hash chain: rows appended in the caller's transaction, sealed into the chain, verified.

`append` inserts the row in the request's own transaction (it commits or fails with the request), without
taking any lock: on a disk where a commit costs milliseconds, a lock held from the append to the commit
would let one request through at a time (about 100 a second measured here). `seal` then numbers the
rows not yet in the chain, in the order they were appended, and hashes each: HMAC-SHA256 under the audit
key (hub.access.keys) of the previous row's hash and the row's columns as canonical JSON; `audit_head`
holds the last seq and hash. The seal also writes the row's entity index (`entity_index`, the ids the row
names, under a GIN index on PostgreSQL), derived from the row's own `entity_ids` column in the same UPDATE:
a request writes one row, and the seal touches that row only. A sealer runs beside the API (`Sealer`, every
half second) and every command that writes or reads the log seals first, so rows wait at most that long for
their hash.

Once sealed, an edited row no longer matches its hash, a deleted one leaves a gap in seq, an inserted or
reordered one breaks the link to its predecessor, a removed tail no longer reaches the head, and without the
key none of it can be re-hashed. What the chain cannot tell by itself: the tail removed AND the head set
back to an earlier row (keep the head `hub audit verify` prints somewhere else and pass it back as the
anchor: `verify(…, anchor=(seq, hash))`, `hub audit verify --anchor SEQ:HASH`), and a row
changed in the moment before it is sealed (`verify` reports how many rows wait and since when).

Pruning (hub.audit.log.prune) removes the oldest rows and appends a checkpoint row naming the last pruned
seq and hash: the chain then starts there, and the checkpoint itself is chained and keyed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql

from hub.access.keys import AccessKeys
from hub.access.policy import FieldMode, Policy, Role
from hub.store import tables
from hub.store.runs import as_utc, now
from hub.store.steps import Query, Steps, run_steps

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first row of a store's log."""
HEAD_ID = 1
PRUNE_ACTION = "hub audit prune"
"""The action of a checkpoint row; its detail holds `pruned_through` (seq) and `pruned_hash`."""
VERIFY_BATCH = 5000

_PERSONAL_LOOKING = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")


@dataclass(frozen=True)
class AuditEntry:
    """One request or command as the log records it: who, for what purpose, what, and what it disclosed.

    Never a personal value: entity ids, field names and how each was shown (clear, masked, withheld).
    """

    actor: str
    role: Role
    purpose: str | None
    action: str
    """"GET /api/v1/persons/{id}", "hub find", "consumers add", …"""
    status: int = 0
    """HTTP status of a request; a command's exit code."""
    entity_ids: Sequence[str] = ()
    fields: Mapping[str, FieldMode] = field(default_factory=dict)
    detail: Mapping[str, Any] | None = None
    at: datetime | None = None
    """When; None: the time of the append."""

    @classmethod
    def of(cls, policy: Policy, action: str, *, status: int = 0, entity_ids: Sequence[str] = (),
           fields: Mapping[str, FieldMode] | None = None, detail: Mapping[str, Any] | None = None) -> AuditEntry:
        """The entry of a request or command run under `policy`."""
        return cls(actor=policy.actor, role=policy.role, purpose=policy.purpose, action=action, status=status,
                   entity_ids=entity_ids, fields=dict(fields or {}), detail=detail)


class AuditValueError(ValueError):
    """An audit entry carries what looks like a resident ID or phone number: the log must never hold one."""


def _check_detail(value: Any, where: str = "detail") -> None:
    if isinstance(value, str):
        if _PERSONAL_LOOKING.fullmatch(value):
            raise AuditValueError(f"audit {where} holds a value shaped like a resident ID or phone number")
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _check_detail(inner, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for inner in value:
            _check_detail(inner, where)


def _json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 as is (the stored text IS what is hashed)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def _time_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(key: bytes, prev_hash: str, row: Mapping[Any, Any]) -> str:
    """HMAC-SHA256 of the previous hash and the row's columns (id, seq … detail) as canonical JSON."""
    at = as_utc(row["at"])
    assert at is not None
    canonical = orjson.dumps([row["id"], row["seq"], _time_text(at), row["actor"], row["role"], row["purpose"],
                              row["action"], row["status"], row["entity_ids"], row["fields"], row["detail"]])
    return hmac.new(key, prev_hash.encode("ascii") + b"\n" + canonical, hashlib.sha256).hexdigest()


_HEAD = tables.audit_head.c
_LOG = tables.audit_log.c
SEAL_BATCH = 5000


def append(conn: Connection, entry: AuditEntry) -> int:
    """Append `entry` to the log in the caller's transaction and return its row id; `seal` chains it later.

    Raises on any failure, and then the caller's transaction, its request, fails with it: a read that cannot
    be logged is not served. Takes no lock: concurrent requests do not wait for each other.
    """
    return run_steps(conn, append_steps(entry, conn.dialect.name))


def append_steps(entry: AuditEntry, dialect: str) -> Steps[int]:
    """`append` as steps (hub.store.steps) on a store of `dialect`: the API runs them on its request's own
    connection, whichever driver that is, so the row is written with the request or the request fails.

    One row, one statement: the row holds every entity id it names (`entity_ids`, hashed with the row when
    sealed). The entity index (`entity_index`, "who looked at this person") is derived from that column by
    the seal, in the same UPDATE that chains the row; `query` finds the rows not sealed yet by the column
    itself, so no row is missing from an auditor's answer meanwhile.

    The query is `batched`: the API's driver writes it with the rows of other requests in one transaction
    (group commit, hub/api/driver.py) and answers it only once that transaction has committed."""
    if entry.detail is not None:
        _check_detail(dict(entry.detail))
    _check_detail(list(entry.entity_ids), "entity_ids")
    entity_ids = list(dict.fromkeys(entry.entity_ids))
    values = {"at": entry.at or now(), "actor": entry.actor, "role": entry.role, "purpose": entry.purpose,
              "action": entry.action, "status": int(entry.status), "entity_ids": _json(entity_ids),
              "fields": _json(dict(entry.fields)),
              "detail": None if entry.detail is None else _json(dict(entry.detail))}
    return int((yield Query(_APPEND, values, batched=True))[0][0])


_APPEND = tables.audit_log.insert().values(
    seq=None, prev_hash=None, row_hash=None,
    **{name: sa.bindparam(name) for name in ("at", "actor", "role", "purpose", "action", "status", "entity_ids",
                                             "fields", "detail")}).returning(_LOG.id)
def _lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the head (an UPDATE's row lock on PostgreSQL, the write lock on SQLite): (last seq, its hash).
    One sealer at a time; appenders never take it."""
    locked = conn.execute(sa.update(tables.audit_head).where(_HEAD.id == HEAD_ID).values(seq=_HEAD.seq)
                          .returning(_HEAD.seq, _HEAD.row_hash)).first()
    if locked is not None:
        return int(locked.seq), str(locked.row_hash)
    # A store whose head row is missing (migration 0009 adds it): the first seal makes it.
    conn.execute(tables.audit_head.insert().values(id=HEAD_ID, seq=0, row_hash=GENESIS_HASH))
    return 0, GENESIS_HASH


def pending_query(batch: int) -> sa.Select[Any]:
    """The first `batch` rows not sealed yet, in append order: read through the pending index (tables.audit_log)."""
    return sa.select(tables.audit_log).where(_LOG.seq.is_(None)).order_by(_LOG.id).limit(batch)


def seal_pending(conn: Connection, keys: AccessKeys, *, batch: int = SEAL_BATCH) -> int:
    """In the caller's transaction: chain up to `batch` rows appended and committed but not yet sealed, in the
    order of their ids, and write their entity index; returns how many. Holds the head's lock until the
    caller commits."""
    seq, prev = _lock_head(conn)
    if conn.dialect.name == "postgresql":
        # An index scan of the pending index (tables.audit_log), not a bitmap scan: only an index scan marks the
        # entries of rows sealed since the last vacuum as dead, so that the next tick does not visit them again.
        conn.execute(_NO_BITMAP)
    pending = conn.execute(pending_query(batch)).mappings().all()
    if not pending:
        return 0
    sealed = []
    for row in pending:
        seq += 1
        values = dict(row) | {"seq": seq}
        digest = row_hash(keys.audit, prev, values)
        sealed.append({"b_id": row["id"], "b_seq": seq, "b_prev": prev, "b_hash": digest})
        prev = digest
    if conn.dialect.name == "postgresql":
        # One statement for the batch (arrays unnested), not one UPDATE per row: the sealer runs beside every
        # API worker, and row-by-row updates were most of its cost there.
        conn.execute(_SEAL_ARRAYS, {"ids": [r["b_id"] for r in sealed], "seqs": [r["b_seq"] for r in sealed],
                                    "prevs": [r["b_prev"] for r in sealed], "hashes": [r["b_hash"] for r in sealed]})
    else:
        conn.execute(_SEAL_ROW, sealed)
    conn.execute(sa.update(tables.audit_head).where(_HEAD.id == HEAD_ID).values(seq=seq, row_hash=prev))
    return len(sealed)


_NO_BITMAP = sa.text("SET LOCAL enable_bitmapscan = off")
_SEAL_ROW = sa.update(tables.audit_log).where(_LOG.id == sa.bindparam("b_id")).values(
    seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), row_hash=sa.bindparam("b_hash"),
    entity_index=_LOG.entity_ids)
_SEAL_ARRAYS = sa.text(
    "UPDATE audit_log SET seq = v.seq, prev_hash = v.prev_hash, row_hash = v.row_hash, "
    "entity_index = ARRAY(SELECT jsonb_array_elements_text(audit_log.entity_ids::jsonb)) "
    "FROM unnest(:ids, :seqs, :prevs, :hashes) AS v(id, seq, prev_hash, row_hash) WHERE audit_log.id = v.id",
).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger())),
             sa.bindparam("seqs", type_=postgresql.ARRAY(sa.BigInteger())),
             sa.bindparam("prevs", type_=postgresql.ARRAY(sa.String())),
             sa.bindparam("hashes", type_=postgresql.ARRAY(sa.String())))


def seal(engine: Engine, keys: AccessKeys) -> int:
    """Chain every row appended and committed so far (a transaction per batch); returns how many."""
    total = 0
    while True:
        with engine.begin() as conn:
            done = seal_pending(conn, keys)
        total += done
        if done < SEAL_BATCH:
            return total


class Sealer:
    """Seals the log every `interval` seconds in a thread of its own, for a process that appends (the API).

    An error (the store unreachable for a moment) is logged and retried at the next tick: appended rows are
    committed with their requests and wait; `hub audit verify` counts them."""

    def __init__(self, engine: Engine, keys: AccessKeys, interval: float = 0.5):
        self.engine, self.keys, self.interval = engine, keys, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)

    def start(self) -> Sealer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                seal(self.engine, self.keys)
            except Exception:   # kept alive on purpose: the next tick retries
                log.warning("sealing the audit log failed; retrying", exc_info=True)

    def stop(self) -> None:
        """Stop the thread and seal what is left, so a clean shutdown leaves no row unsealed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        seal(self.engine, self.keys)


def record(engine: Engine, keys: AccessKeys, policy: Policy, action: str, *, status: int = 0,
           entity_ids: Sequence[str] = (), fields: Mapping[str, FieldMode] | None = None,
           detail: Mapping[str, Any] | None = None) -> int:
    """Append one entry in a transaction of its own and seal the log: for a command (`hub find`)."""
    with engine.begin() as conn:
        log_id = append(conn, AuditEntry.of(policy, action, status=status, entity_ids=entity_ids, fields=fields,
                                            detail=detail))
    seal(engine, keys)
    return log_id


# ---------------------------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_seq: int | None
    """The first position where the chain is wrong: an altered row, the place of a missing one, an inserted one."""
    problem: str | None
    head_seq: int
    head_hash: str
    """Note these down elsewhere: they are what proves, later, that no tail was cut with the head set back."""
    start_seq: int
    """The first seq the chain holds (1, or one past the last pruned row)."""
    pending: int = 0
    """Rows appended but not sealed yet (not covered by the chain until they are)."""
    oldest_pending_at: datetime | None = None


def _sealed_rows(conn: Connection, stop: int) -> Iterator[list[sa.RowMapping]]:
    """The sealed rows with seq up to `stop`, in seq order, a batch at a time (keyset on the unique seq)."""
    after = -1
    while True:
        batch = conn.execute(sa.select(tables.audit_log).where(_LOG.seq > after, _LOG.seq <= stop)
                             .order_by(_LOG.seq).limit(SEAL_BATCH)).mappings().all()
        if not batch:
            return
        yield list(batch)
        after = batch[-1]["seq"]


def _indexed(value: str | list[str] | None) -> set[str]:
    """A row's `entity_index` as a set: a text[] on PostgreSQL, the JSON list on SQLite, NULL before its seal."""
    if value is None:
        return set()
    return set(orjson.loads(value) if isinstance(value, str) else value)


def chain_start(conn: Connection, head_seq: int) -> tuple[int, str]:
    """(seq of the row before the chain's first, its hash): (0, GENESIS_HASH), or what the latest prune recorded."""
    checkpoint = conn.execute(sa.select(_LOG.detail).where(_LOG.action == PRUNE_ACTION, _LOG.seq <= head_seq)
                              .order_by(_LOG.seq.desc()).limit(1)).scalar()
    if checkpoint is None:
        return 0, GENESIS_HASH
    detail = orjson.loads(checkpoint)
    return int(detail["pruned_through"]), str(detail["pruned_hash"])


def _head(conn: Connection) -> tuple[int, str]:
    head = conn.execute(sa.select(_HEAD.seq, _HEAD.row_hash).where(_HEAD.id == HEAD_ID)).first()
    return (0, GENESIS_HASH) if head is None else (int(head.seq), str(head.row_hash))


def verify(engine: Engine, keys: AccessKeys, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the whole sealed chain from its start to the head and name the first row that is wrong, if any.

    `anchor`: a (seq, hash) noted earlier (a head `verify` printed, an export's last row). The chain must
    still hold that row with that hash, which finds a tail cut together with its head set back.
    """
    with engine.connect() as conn:
        head_seq, head_hash = _head(conn)
        start, prev = chain_start(conn, head_seq)
        expected, checked = start + 1, 0
        waiting = conn.execute(sa.select(sa.func.count(), sa.func.min(_LOG.at)).where(_LOG.seq.is_(None))).one()
        pending, oldest = int(waiting[0]), as_utc(waiting[1])

        def bad(seq: int, problem: str) -> VerifyResult:
            return VerifyResult(False, checked, seq, problem, head_seq, head_hash, start + 1, pending, oldest)

        for batch in _sealed_rows(conn, head_seq):
            for row in batch:
                seq = int(row["seq"])
                if seq < expected:
                    return bad(seq, f"row {seq} lies before the chain's start (rows up to {start} were pruned): "
                                    "inserted")
                if seq > expected:
                    gap = (f"row {expected} is missing" if seq == expected + 1
                           else f"rows {expected}–{seq - 1} are missing")
                    return bad(expected, f"{gap} (the log goes from row {expected - 1} to row {seq})")
                if row["prev_hash"] is None or row_hash(keys.audit, row["prev_hash"], row) != row["row_hash"]:
                    return bad(seq, f"row {seq} was altered: its content does not match its hash")
                if row["prev_hash"] != prev:
                    return bad(seq, f"row {seq} does not follow row {seq - 1}: a row was inserted, reordered or "
                                    "replaced here")
                if _indexed(row["entity_index"]) != set(orjson.loads(row["entity_ids"])):
                    return bad(seq, f"the entity index of row {seq} (entity_index) does not match the row")
                prev, expected, checked = row["row_hash"], expected + 1, checked + 1
                if anchor is not None and seq == anchor[0] and row["row_hash"] != anchor[1]:
                    return bad(seq, f"row {seq} is not the row noted with hash {anchor[1][:16]}…: the log was "
                                    "rewritten from there")
        if expected - 1 != head_seq:
            missing = f"row {expected}" if expected == head_seq else f"rows {expected}–{head_seq}"
            return bad(expected, f"{missing} missing: the log ends at row {expected - 1}, its head says {head_seq}")
        if prev != head_hash:
            return bad(head_seq, f"row {head_seq} is not the row the head recorded: the last row was replaced")
        beyond = conn.execute(sa.select(sa.func.min(_LOG.seq)).where(_LOG.seq > head_seq)).scalar()
        if beyond is not None and _head(conn)[0] == head_seq:   # not a seal that committed meanwhile
            return bad(int(beyond), f"row {beyond} lies beyond the head (row {head_seq}): inserted")
        if anchor is not None and anchor[0] > head_seq:
            return bad(head_seq + 1, f"row {anchor[0]} was noted, but the log ends at row {head_seq}: rows "
                                     f"{head_seq + 1}–{anchor[0]} were cut and the head set back")
    return VerifyResult(True, checked, None, None, head_seq, head_hash, start + 1, pending, oldest)
