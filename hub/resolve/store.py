"""Persistence of resolution: runs, models, record links, entities, the change feed, the review queue.

Everything one resolution run decides for an entity type is written in one transaction with its
run row, so a crash leaves the previous state whole. Writes are differences: a re-run on unchanged
data rewrites no row, which keeps `run_id` on every link pointing at the run that really set it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.errors import HubError
from hub.keys import check_key_unchanged
from hub.protect import Vault
from hub.quality.gate import QUALITY, changed_since, visible
from hub.resolve.model import Model
from hub.resolve.stable_ids import Assignment, Previous
from hub.store import runs, tables
from hub.store.bulk import insert_rows, timestamp_param, upsert_rows
from hub.store.runs import now

STAGE = "resolve"
LINK_COLUMNS = ("record_key", "entity_type", "source", "source_record_id", "entity_ref", "entity_id", "score",
                "linked_to", "decided_by", "run_id")
LINK_DETAIL = ("entity_id", "score", "linked_to", "decided_by")
"""What makes a link differ from the stored one (the run id alone does not)."""


def split_record_key(record_key: str) -> tuple[str, str, str]:
    """(source, source_record_id, entity_ref): a record id may itself hold `|` (`低保|12`), the others never."""
    source, rest = record_key.split("|", 1)
    record_id, entity_ref = rest.rsplit("|", 1)
    return source, record_id, entity_ref


def pair_key(a: str, b: str) -> tuple[str, str]:
    """A pair in canonical order: judgements and the review queue store the smaller key first."""
    return (a, b) if a <= b else (b, a)


def frame_of(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame from result rows: as plain tuples pandas builds it several times faster than from Row objects."""
    if isinstance(rows, sa.Result):   # one fetchall: iterating a result fetches row by row from the driver
        rows = rows.fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def rows_of(frame: pd.DataFrame, columns: Sequence[str], conn: Connection) -> list[tuple[Any, ...]]:
    """Tuples for the bulk paths: pandas' missing values as None, times as the backend takes them in bulk.

    Column by column into object arrays, zipped once: a time column becomes datetimes at C speed, and is
    mapped per value only where the backend wants another form (SQLite's text).
    """
    cells: list[Any] = []
    for column in columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
            out = np.array(values.dt.to_pydatetime(), dtype=object)
        else:
            out = values.to_numpy(dtype=object, copy=True)
        out[pd.isna(out)] = None
        sample = next((v for v in out[:50] if isinstance(v, datetime)), None)
        if sample is not None and timestamp_param(conn, sample) is not sample:
            out = np.asarray([timestamp_param(conn, v) if isinstance(v, datetime) else v for v in out], dtype=object)
        cells.append(out)
    return list(zip(*cells, strict=True)) if cells else []


@dataclass(frozen=True)
class RunInfo:
    id: str
    started_at: datetime
    watermark: datetime | None


def start_run(engine: Engine, entity_type: str, stage: str = STAGE, *,
              stale_after: timedelta = runs.DEFAULT_STALE_AFTER) -> RunInfo:
    """A `run` row (stage resolve, source = the entity type) marking the run as running, taking over
    the type's interrupted runs (hub.store.runs)."""
    run = runs.start_run(engine, stage, entity_type, stale_after=stale_after)
    return RunInfo(run.id, run.started_at, None)


def guard_write(conn: Connection, run_id: str, vault: Vault) -> None:
    """First in a transaction that writes a run's results: the run still holds its row (its heartbeat
    raises when another run took it over) and the store's key is still the one `vault` was opened with
    (hub.keys); either failing rolls the transaction back and fails the run."""
    runs.heartbeat(conn, run_id)
    check_key_unchanged(conn, vault)


def failure_text(exc: BaseException) -> str:
    """What a failed run records: the hub's own messages (which never carry values), else the type only."""
    return f"{type(exc).__name__}: {exc}" if isinstance(exc, HubError) else type(exc).__name__


def finish_run(conn: Connection, run_id: str, *, status: str, records: int = 0, changed: int = 0,
               watermark: datetime | None = None, error: str | None = None) -> None:
    """A resolution's (or fusion's) end in the run table's words: records read, rows it changed, the
    statement watermark it reached."""
    runs.finish_run(conn, run_id, status, error=error, extracted=records, loaded=changed,
                    unchanged=records - changed, watermark_after=watermark.isoformat() if watermark else None)


def last_run(engine: Engine, entity_type: str) -> RunInfo | None:
    """The latest succeeded resolution run of an entity type, with the statement watermark it reached."""
    r = tables.run.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(r.id, r.started_at, r.watermark_after).where(
            r.stage == STAGE, r.source == entity_type, r.status == "succeeded")
            .order_by(r.started_at.desc()).limit(1)).first()
    if row is None:
        return None
    return RunInfo(row.id, row.started_at, datetime.fromisoformat(row.watermark_after) if row.watermark_after else None)


def _as_time(value: object) -> datetime | None:
    return value if value is None or isinstance(value, datetime) else datetime.fromisoformat(str(value))


def statement_watermark(engine: Engine) -> datetime | None:
    """The time up to which every record version is visible: versions landed after it are the next increment's.

    The newest landing time in the raw zone (indexed; a record's statements land with it, stamped the
    same), unless an ingest is still running (parallel workers commit batches out of order): then just
    before that run began. Runs left `running` by a crash a day ago do not count.
    """
    r = tables.run.c
    with engine.connect() as conn:
        newest = _as_time(conn.execute(sa.select(sa.func.max(tables.raw_record.c.extracted_at))).scalar())
        running = _as_time(conn.execute(sa.select(sa.func.min(r.started_at)).where(
            r.stage == "ingest", r.status == "running", r.started_at > now() - timedelta(days=1))).scalar())
    if running is not None and newest is not None:
        return min(newest, running - timedelta(milliseconds=1))
    return newest


def records_seen_since(engine: Engine, since: datetime) -> set[tuple[str, str]]:
    """(source, source_record_id) of records with a version landed after `since` (new or changed records).

    Every new version of a record is a new raw record (they are keyed by content), and its statements
    are written in the same transaction with the same time; an unchanged record adds nothing.
    """
    raw = tables.raw_record.c
    with engine.connect() as conn:   # no DISTINCT: SQLite would walk the (source, record) index for it
        found = {(r[0], r[1]) for r in conn.execute(
            sa.select(raw.source, raw.source_record_id).where(raw.extracted_at > since))}
        return found | {(r[0], r[1]) for r in conn.execute(changed_since(since))}   # held, retired, released


def record_keys(engine: Engine, entity_type: str, records: Collection[tuple[str, str]] | None = None) -> list[str]:
    """Every record entity of a type (types the engine does not resolve are one record, one entity);
    with `records` ((source, source_record_id) pairs), those records' only."""
    s = tables.statement.c
    query = sa.select(s.source, s.source_record_id, s.entity_ref).where(
        s.entity_type == entity_type, visible(s.raw_record_id, [QUALITY])).distinct()
    with engine.connect() as conn:
        if records is None:
            rows = list(conn.execute(query))
        else:
            rows = [r for where in by_record(s.source, s.source_record_id, records)
                    for r in conn.execute(query.where(where))]
        return sorted({f"{a}|{b}|{c}" for a, b, c in rows})


def by_record(source: Any, record_id: Any, records: Collection[tuple[str, str]],
              chunk: int = 900) -> Iterator[Any]:
    """WHERE clauses selecting some source records, a chunk at a time (each served by a
    (source, source_record_id) index)."""
    per_source: dict[str, list[str]] = {}
    for src, rid in records:
        per_source.setdefault(src, []).append(rid)
    for src, ids in sorted(per_source.items()):
        ids.sort()
        for start in range(0, len(ids), chunk):
            yield sa.and_(source == src, record_id.in_(ids[start:start + chunk]))


def previous_state(engine: Engine, entity_type: str, entity_ids: Collection[str] | None = None) -> Previous:
    """The links (with their details) and active entities of a type as the last run left them, and every
    id ever minted for it. With `entity_ids`, only those entities and their links, and `taken` holds
    only them (an increment asks about the ids it mints: ids_taken)."""
    link, ent = tables.record_link.c, tables.entity.c
    link_query = sa.select(link.record_key, *(link[c] for c in LINK_DETAIL)).where(link.entity_type == entity_type)
    entity_query = sa.select(ent.id, ent.founding_record, ent.created_at, ent.state).where(
        ent.entity_type == entity_type)
    with engine.connect() as conn:
        if entity_ids is None:
            links = frame_of(conn.execute(link_query), ["record_key", *LINK_DETAIL])
            entities = frame_of(conn.execute(entity_query), ["id", "founding_record", "created_at", "state"])
        else:
            wanted = sorted(entity_ids)
            chunks = [wanted[i:i + 900] for i in range(0, len(wanted), 900)]
            links = frame_of([r for c in chunks for r in conn.execute(link_query.where(link.entity_id.in_(c)))],
                             ["record_key", *LINK_DETAIL])
            entities = frame_of([r for c in chunks for r in conn.execute(entity_query.where(ent.id.in_(c)))],
                                ["id", "founding_record", "created_at", "state"])
    active = entities[entities["state"] == "active"].drop(columns="state").reset_index(drop=True)
    return Previous(links, active, frozenset(entities["id"]))


def ids_taken(engine: Engine, ids: Collection[str]) -> set[str]:
    """Which of `ids` were ever minted (any state): what an increment's new ids must avoid."""
    ent = tables.entity.c
    wanted = sorted(set(ids))
    with engine.connect() as conn:
        return {r[0] for start in range(0, len(wanted), 900)
                for r in conn.execute(sa.select(ent.id).where(ent.id.in_(wanted[start:start + 900])))}


def entities_of(engine: Engine, entity_type: str, record_keys_: Collection[str]) -> pd.DataFrame:
    """record_key, entity_id of the given records as stored (records never linked are absent)."""
    links = link_rows(engine, record_keys_)
    return links[links["entity_type"] == entity_type][["record_key", "entity_id"]].reset_index(drop=True)


def save_model(conn: Connection, run_id: str, model: Model) -> None:
    conn.execute(tables.match_model.insert().values(
        run_id=run_id, entity_type=model.entity_type, created_at=now(),
        weights=json.dumps(model.to_json(), ensure_ascii=False)))


def latest_model(engine: Engine, entity_type: str) -> Model | None:
    """The weights the latest resolution of the type scored with (what explain and increments use)."""
    m = tables.match_model.c
    with engine.connect() as conn:
        text = conn.execute(sa.select(m.weights).where(m.entity_type == entity_type)
                            .order_by(m.created_at.desc()).limit(1)).scalar()
    return Model.from_json(json.loads(text)) if text else None


def _changed_links(conn: Connection, entity_type: str, links: pd.DataFrame, *, every: bool) -> pd.DataFrame:
    """The links that differ from the stored ones; `every`: `links` covers the type (read all stored
    links at once), else only the stored links of `links`' records are read."""
    link = tables.record_link.c
    query = sa.select(link.record_key, *(link[c] for c in LINK_DETAIL))
    if every:
        rows = list(conn.execute(query.where(link.entity_type == entity_type)))
    else:   # by primary key only: with the type as well, SQLite walks the type's index instead
        keys = sorted(links["record_key"])
        rows = [r for start in range(0, len(keys), 900)
                for r in conn.execute(query.where(link.record_key.in_(keys[start:start + 900])))]
    stored = frame_of(rows, ["record_key", *LINK_DETAIL])
    merged = links.merge(stored, on="record_key", how="left", suffixes=("", "_stored"), indicator=True)
    differs = merged["_merge"] == "left_only"
    for column in LINK_DETAIL:
        new, old = merged[column], merged[f"{column}_stored"]
        if column == "score":
            new, old = new.astype(float).round(6), old.astype(float).round(6)
        differs |= ~((new == old) | (new.isna() & old.isna()))
    return links[differs.to_numpy()]


def write_links(conn: Connection, entity_type: str, links: pd.DataFrame, run_id: str, *,
                complete: bool) -> int:
    """Upsert the links that differ from the stored ones; `complete`: `links` is every record of the
    type, so stored links of records no longer present are dropped. Returns the links written."""
    changed = _changed_links(conn, entity_type, links, every=complete).copy()
    if complete:
        link = tables.record_link.c
        stored = {r[0] for r in conn.execute(sa.select(link.record_key).where(link.entity_type == entity_type))}
        gone = sorted(stored - set(links["record_key"]))
        for start in range(0, len(gone), 900):
            conn.execute(tables.record_link.delete().where(link.record_key.in_(gone[start:start + 900])))
    if changed.empty:
        return 0
    parts = [split_record_key(k) for k in changed["record_key"]]
    changed["source"], changed["source_record_id"], changed["entity_ref"] = zip(*parts, strict=True)
    changed["entity_type"], changed["run_id"] = entity_type, run_id
    upsert_rows(conn, tables.record_link, LINK_COLUMNS, rows_of(changed, LINK_COLUMNS, conn), key="record_key",
                update=[c for c in LINK_COLUMNS if c != "record_key"])
    return len(changed)


def write_entities(conn: Connection, entity_type: str, assignment: Assignment, run_id: str) -> None:
    """New entities, state changes of touched ones, and the change feed of the run."""
    at = now()
    ents = assignment.entities
    if not ents.empty:
        new = ents[ents["new"]].assign(entity_type=entity_type, created_run=run_id, created_at=at)
        columns = ("id", "entity_type", "state", "founding_record", "merged_into", "records", "created_run",
                   "created_at", "updated_run", "updated_at")
        new = new.assign(updated_run=run_id, updated_at=at)
        insert_rows(conn, tables.entity, columns, rows_of(new, columns, conn))
        e = tables.entity
        touched = [{"key": i, "state": st, "founding": f, "into": m, "records": int(n)} for i, st, f, m, n in rows_of(
            ents[~ents["new"]], ("id", "state", "founding_record", "merged_into", "records"), conn)]
        if touched:
            conn.execute(e.update().where(e.c.id == sa.bindparam("key")).values(
                state=sa.bindparam("state"), founding_record=sa.bindparam("founding"),
                merged_into=sa.bindparam("into"), records=sa.bindparam("records"), updated_run=run_id,
                updated_at=at), touched)
    if not assignment.changes.empty:
        changes = assignment.changes.assign(entity_type=entity_type, run_id=run_id, changed_at=at)
        feed = ("entity_id", "entity_type", "change", "other_id", "detail", "run_id", "changed_at")
        insert_rows(conn, tables.entity_change, feed, rows_of(changes, feed, conn))


def review_pair_id(entity_type: str, a: str, b: str) -> str:
    return hashlib.blake2b(f"{entity_type}\x1f{a}\x1f{b}".encode(), digest_size=16).hexdigest()


def write_review_pairs(conn: Connection, entity_type: str, pairs: pd.DataFrame, run_id: str, *,
                       replace: bool) -> None:
    """The pairs the engine left for review (a, b, weight, reason); `replace`: a full run's queue replaces
    the type's queue, an increment adds to it. Pairs already queued with the same weight stay untouched."""
    r = tables.review_pair.c
    ordered = [pair_key(a, b) for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    frame = pd.DataFrame({
        "id": [review_pair_id(entity_type, a, b) for a, b in ordered], "entity_type": entity_type,
        "record_a": [a for a, _ in ordered], "record_b": [b for _, b in ordered],
        "weight": pairs["weight"].astype(float).round(6).to_numpy(), "reason": pairs["reason"].to_numpy(),
        "run_id": run_id}).drop_duplicates("id")
    query = sa.select(r.id, r.weight, r.reason).where(r.entity_type == entity_type)
    if replace:
        found = list(conn.execute(query))
    else:   # an increment's few pairs: look up just them
        ids = sorted(frame["id"])
        found = [row for start in range(0, len(ids), 900)
                 for row in conn.execute(query.where(r.id.in_(ids[start:start + 900])))]
    stored = {i: (float(w), reason) for i, w, reason in found}
    if replace:
        gone = sorted(set(stored) - set(frame["id"]))
        for start in range(0, len(gone), 900):
            conn.execute(tables.review_pair.delete().where(r.id.in_(gone[start:start + 900])))
    same = [stored.get(i) == (w, reason if isinstance(reason, str) else None)
            for i, w, reason in zip(frame["id"], frame["weight"], frame["reason"], strict=True)]
    fresh = frame[~pd.Series(same, index=frame.index, dtype=bool)]
    columns = ("id", "entity_type", "record_a", "record_b", "weight", "reason", "run_id")
    upsert_rows(conn, tables.review_pair, columns, rows_of(fresh, columns, conn), key="id",
                update=("weight", "reason", "run_id"))


def links_of(engine: Engine, entity_id: str) -> pd.DataFrame:
    """The records of an entity: record_key, source, score, linked_to, decided_by, run_id."""
    link = tables.record_link.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(link.record_key, link.source, link.score, link.linked_to, link.decided_by,
                                      link.run_id).where(link.entity_id == entity_id).order_by(link.record_key))
        return frame_of(rows, ["record_key", "source", "score", "linked_to", "decided_by", "run_id"])


def link_rows(engine: Engine, record_keys_: Iterable[str]) -> pd.DataFrame:
    """record_key, entity_id, entity_type of the given records (those linked)."""
    keys = sorted(set(record_keys_))
    link = tables.record_link.c
    rows: list[tuple[Any, ...]] = []
    with engine.connect() as conn:
        for start in range(0, len(keys), 900):
            rows.extend(tuple(r) for r in conn.execute(sa.select(link.record_key, link.entity_id, link.entity_type)
                                                       .where(link.record_key.in_(keys[start:start + 900]))))
    return frame_of(rows, ["record_key", "entity_id", "entity_type"])


def entity_row(engine: Engine, entity_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.entity).where(tables.entity.c.id == entity_id)).mappings().first()
        return dict(row) if row else None


def entity_changes(engine: Engine, entity_id: str) -> pd.DataFrame:
    """The change feed rows naming an entity, as subject or as the other side, oldest first."""
    c = tables.entity_change.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.entity_id, c.change, c.other_id, c.detail, c.run_id, c.changed_at).where(
            (c.entity_id == entity_id) | (c.other_id == entity_id)).order_by(c.id))
        return frame_of(rows, ["entity_id", "change", "other_id", "detail", "run_id", "changed_at"])


def entity_counts(engine: Engine) -> pd.DataFrame:
    """entity_type, entities (active), records (linked): the headline of a resolution."""
    e, link = tables.entity.c, tables.record_link.c
    with engine.connect() as conn:
        active = sa.select(e.entity_type, sa.func.count()).where(e.state == "active").group_by(e.entity_type)
        entities: dict[str, int] = {str(t): int(n) for t, n in conn.execute(active)}
        linked = sa.select(link.entity_type, sa.func.count()).group_by(link.entity_type)
        records: dict[str, int] = {str(t): int(n) for t, n in conn.execute(linked)}
    types = sorted(set(entities) | set(records))
    return pd.DataFrame({"entity_type": types, "entities": [entities.get(t, 0) for t in types],
                         "records": [records.get(t, 0) for t in types]})

