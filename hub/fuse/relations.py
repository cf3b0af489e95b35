"""Relations between canonical entities, from the relation statements of every source.

A relation statement says, inside one source record, "entity `person` resides_at entity
`residence`" (attribute = predicate, value = the object's local name). Both ends are record
entities with links to canonical ids, so the statement becomes subject id –predicate→ object id;
statements of several records and sources asserting the same triple make one relation. It is
valid from the first time a statement asserted it and stays open while the latest version of some
record still asserts it; once none does, it ends at the last time one was seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.fuse.statements import in_chunks
from hub.fuse.write import json_lists, replace_by_id
from hub.quality.gate import QUALITY, visible
from hub.statements.entries import explode
from hub.store import tables
from hub.store.frames import by_record, frame_of

RELATION_COLUMNS = ("id", "subject_id", "predicate", "object_id", "subject_type", "object_type", "sources",
                    "statement_ids", "valid_from", "valid_to", "run_id")
COMPARED = ("subject_id", "predicate", "object_id", "sources", "statement_ids", "valid_to")
_READ = ("statement_id", "source", "source_record_id", "entity_ref", "value", "predicate", "first_seen", "last_seen",
         "raw_record_id", "subject_id", "subject_type", "object_id", "object_type")
_ROW = ("id", "source", "source_record_id", "entity_ref", "first_seen", "last_seen", "raw_record_id", "statements")
_ENTRY = (*_ROW[:-1], "attribute", "value")
_LINK = ("record_key", "entity_id", "entity_type")
READ_CHUNK = 50_000
RELATION_METHOD = "relation"


def relation_id(subject_id: str, predicate: str, object_id: str) -> str:
    return hashlib.blake2b(f"{subject_id}\x1f{predicate}\x1f{object_id}".encode(), digest_size=16).hexdigest()


def _relation_entries(conn: Connection, query: sa.Select[Any]) -> pd.DataFrame:
    """The relation entries of the statement rows `query` selects, read a chunk of rows at a time."""
    parts = []
    for part in conn.execute(query.execution_options(stream_results=True, yield_per=READ_CHUNK)).partitions():
        parts.append(explode(frame_of(part, _ROW), with_ciphertext=False, methods=(RELATION_METHOD,))[list(_ENTRY)])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_ENTRY))


def _statements(engine: Engine, entity_ids: Collection[str] | None) -> pd.DataFrame:
    """Relation statements with both ends' canonical ids (of relations touching `entity_ids`, when given).

    Both ends of a relation are entities of the same source record, so with `entity_ids` it reads only
    the records that hold one of those entities."""
    s, link = tables.statement.c, tables.record_link.c
    rows = sa.select(s.id, s.source, s.source_record_id, s.entity_ref, s.first_seen, s.last_seen, s.raw_record_id,
                     s.statements).where(visible(s.raw_record_id, [QUALITY]),   # a retired record's close them
                                         # only rows with a relation entry are parsed (about half of them)
                                         s.statements.contains(f'"{RELATION_METHOD}"', autoescape=True))
    links = sa.select(link.record_key, link.entity_id, link.entity_type)
    with engine.connect() as conn:
        if entity_ids is None:
            entries = _relation_entries(conn, rows)
            ends = frame_of(conn.execute(links), _LINK)
        else:
            found = in_chunks(conn, sa.select(link.source, link.source_record_id).distinct(),
                              ["source", "source_record_id"], link.entity_id.in_, entity_ids)
            records = set(zip(found["source"], found["source_record_id"], strict=True))
            parts = [_relation_entries(conn, rows.where(w)) for w in by_record(s.source, s.source_record_id, records)]
            entries = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_ENTRY))
            ends = frame_of([r for w in by_record(link.source, link.source_record_id, records)
                             for r in conn.execute(links.where(w))], _LINK)
    record = entries["source"].astype(str) + "|" + entries["source_record_id"].astype(str) + "|"
    entries = entries.assign(subject_key=record + entries["entity_ref"].astype(str),
                             object_key=record + entries["value"].astype(str))
    subject = ends.rename(columns={"record_key": "subject_key", "entity_id": "subject_id",
                                   "entity_type": "subject_type"})
    obj = ends.rename(columns={"record_key": "object_key", "entity_id": "object_id", "entity_type": "object_type"})
    found = entries.merge(subject, on="subject_key").merge(obj, on="object_key")
    if entity_ids is not None:
        wanted = set(entity_ids)
        found = found[found["subject_id"].isin(wanted) | found["object_id"].isin(wanted)]
    return found.rename(columns={"id": "statement_id", "attribute": "predicate"})[list(_READ)].reset_index(drop=True)


def _one_per_record(statements: pd.DataFrame) -> pd.DataFrame:
    """One statement per record and relation, however many versions of the record repeat it: the newest
    version's row, seen from the first version's time to the last one's, current if any version is.

    Every version of a record is a statement row of its own; without this an unchanged relation would
    gain a statement id, and be rewritten, each time its record changed in some other field.
    """
    same = ["source", "source_record_id", "entity_ref", "predicate", "value"]
    ordered = statements.sort_values([*same, "last_seen", "statement_id"], kind="stable")
    groups = ordered.groupby(same, sort=False)
    newest = ordered.drop_duplicates(same, keep="last").set_index(same)
    newest["first_seen"] = groups["first_seen"].min()
    newest["current"] = groups["current"].any()
    return newest.reset_index()


def relations(engine: Engine, run_id: str, latest: set[str], entity_ids: Collection[str] | None = None
              ) -> pd.DataFrame:
    """The relations between linked entities (those with an end in `entity_ids`, when given)."""
    statements = _statements(engine, entity_ids)
    if statements.empty:
        return pd.DataFrame(columns=list(RELATION_COLUMNS))
    statements = _one_per_record(statements.assign(current=statements["raw_record_id"].isin(latest)))
    keys = ["subject_id", "predicate", "object_id"]
    groups = statements.groupby(keys, sort=True)
    out = groups.agg(subject_type=("subject_type", "first"), object_type=("object_type", "first"),
                     valid_from=("first_seen", "min"), last_seen=("last_seen", "max"), open=("current", "any"))
    out["sources"] = json_lists(statements.drop_duplicates([*keys, "source"]).sort_values([*keys, "source"]), keys,
                                "source")
    out["statement_ids"] = json_lists(statements.sort_values([*keys, "statement_id"]), keys, "statement_id")
    out = out.reset_index()
    out["valid_to"] = out["last_seen"].astype(object).where(~out["open"], None)
    out["id"] = [relation_id(s, p, o) for s, p, o in zip(out["subject_id"], out["predicate"], out["object_id"],
                                                           strict=True)]
    out["run_id"] = run_id
    return out[list(RELATION_COLUMNS)].sort_values("id").reset_index(drop=True)


def write_relations(conn: Connection, rows: pd.DataFrame, entity_ids: Collection[str] | None = None) -> int:
    """Replace the stored relations (those with an end in `entity_ids`, when given) by `rows`."""
    r = tables.relation.c
    query = sa.select(r.id, *(r[c] for c in COMPARED))
    stored = in_chunks(conn, query, ["id", *COMPARED], lambda ids: r.subject_id.in_(ids) | r.object_id.in_(ids),
                       entity_ids)
    return replace_by_id(conn, tables.relation, rows, RELATION_COLUMNS, COMPARED, stored)
