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

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.fuse.statements import in_chunks
from hub.fuse.write import json_lists, replace_by_id
from hub.store import tables

RELATION_COLUMNS = ("id", "subject_id", "predicate", "object_id", "subject_type", "object_type", "sources",
                    "statement_ids", "valid_from", "valid_to", "run_id")
COMPARED = ("subject_id", "predicate", "object_id", "sources", "statement_ids", "valid_to")
_READ = ("statement_id", "source", "predicate", "first_seen", "last_seen", "raw_record_id", "subject_id",
         "subject_type", "object_id", "object_type")


def relation_id(subject_id: str, predicate: str, object_id: str) -> str:
    return hashlib.blake2b(f"{subject_id}\x1f{predicate}\x1f{object_id}".encode(), digest_size=16).hexdigest()


def _statements(engine: Engine, entity_ids: Collection[str] | None) -> pd.DataFrame:
    """Relation statements with both ends' canonical ids (of relations touching `entity_ids`, when given)."""
    s = tables.statement.c
    subject, obj = tables.record_link.alias("subject"), tables.record_link.alias("object")
    query = (sa.select(s.id, s.source, s.attribute, s.first_seen, s.last_seen, s.raw_record_id, subject.c.entity_id,
                       subject.c.entity_type, obj.c.entity_id, obj.c.entity_type)
             .join(subject, (subject.c.source == s.source) & (subject.c.source_record_id == s.source_record_id)
                   & (subject.c.entity_ref == s.entity_ref))
             .join(obj, (obj.c.source == s.source) & (obj.c.source_record_id == s.source_record_id)
                   & (obj.c.entity_ref == s.value))
             .where(s.method == "relation"))
    with engine.connect() as conn:
        found = in_chunks(conn, query, _READ, lambda ids: subject.c.entity_id.in_(ids) | obj.c.entity_id.in_(ids),
                          entity_ids)
    return found.drop_duplicates("statement_id")


def relations(engine: Engine, run_id: str, latest: set[str], entity_ids: Collection[str] | None = None
              ) -> pd.DataFrame:
    """The relations between linked entities (those with an end in `entity_ids`, when given)."""
    statements = _statements(engine, entity_ids)
    if statements.empty:
        return pd.DataFrame(columns=list(RELATION_COLUMNS))
    statements = statements.assign(current=statements["raw_record_id"].isin(latest))
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
