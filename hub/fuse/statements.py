"""The statements behind entities: current versions only, each with its canonical id and its rank.

A record that changed keeps its old statements (lineage); the values of its latest version are the
ones of the statement rows of its newest raw record. Fusion reads those, joined through `record_link` to
canonical ids, and ranks them for survivorship: authority first (the source's mapping declares it
authoritative, else the department's place in the attribute's `authority` in schemas/), then
recency (`last_seen`), then quality (a mapped value before a constant before one derived from
another field; fewer flags), then the statement id so that equal input always gives equal output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

import schemas
from hub.mapping import MappingSpec
from hub.quality.gate import visible
from hub.statements.entries import explode
from hub.store import tables
from hub.store.frames import frame_of

COLUMNS = ("statement_id", "entity_id", "entity_type", "source", "attribute", "value", "value_enc", "token", "method",
           "flags", "last_seen", "raw_record_id")
_ROW = ("statement_id", "entity_id", "entity_type", "source", "statements", "last_seen", "raw_record_id")
METHOD_RANK = {"mapped": 0, "const": 1, "derived": 2}
CHUNK = 900


def latest_versions(engine: Engine, records: Sequence[tuple[str, str]] | None = None) -> set[str]:
    """Raw record ids of each record's newest version (of every record, or of the (source, record id) given).

    Every version of a record lands its own statement rows, so a statement is current exactly when
    its raw record is its record's newest. Versions a hold keeps out (a held batch's, a retired record's:
    hub.quality.gate) are not considered, so the record's previous version stays current, or none.
    """
    r = tables.raw_record.c
    query = sa.select(r.source, r.source_record_id, r.extracted_at, r.id).where(visible(r.id))
    if records is not None:
        query = query.where(sa.or_(sa.false(), *((r.source == a) & (r.source_record_id == b) for a, b in records)))
    with engine.connect() as conn:
        raw = frame_of(conn.execute(query), ["source", "source_record_id", "extracted_at", "id"])
    raw = raw.sort_values(["source", "source_record_id", "extracted_at", "id"], kind="stable")
    return set(raw.drop_duplicates(["source", "source_record_id"], keep="last")["id"])


def in_chunks(conn: Connection, query: sa.Select[Any], columns: Sequence[str],
              where: Callable[[list[str]], sa.ColumnElement[bool]] | None, ids: Iterable[str] | None) -> pd.DataFrame:
    """Rows of `query`, all of them or those `where(chunk)` selects for chunks of `ids` (bound parameters stay
    under every backend's limit)."""
    if ids is None or where is None:
        return frame_of(conn.execute(query), columns)
    ordered = sorted(set(ids))
    frames = [frame_of(conn.execute(query.where(where(ordered[i:i + CHUNK]))), columns)
              for i in range(0, len(ordered), CHUNK)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def read_statements(engine: Engine, entity_type: str, latest: set[str],
                    entity_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The current attribute statements of an entity type, one row per value, with the canonical id of
    their record entity (of the entities `entity_ids` only, when given). A value's `statement_id` is
    its statement row's: that version of that record entity."""
    s, link = tables.statement.c, tables.record_link.c
    query = (sa.select(s.id, link.entity_id, s.entity_type, s.source, s.statements, s.last_seen, s.raw_record_id)
             .join(tables.record_link, (link.source == s.source) & (link.source_record_id == s.source_record_id)
                   & (link.entity_ref == s.entity_ref))
             .where(s.entity_type == entity_type))
    with engine.connect() as conn:
        rows = in_chunks(conn, query, _ROW, link.entity_id.in_, entity_ids)
    current = rows[rows["raw_record_id"].isin(latest)].reset_index(drop=True)
    # relations are fused as relations; local ids give no golden value
    values = explode(current, except_methods=("relation", schemas.LOCAL_ID_METHOD))
    return values[list(COLUMNS)].reset_index(drop=True)


def authority_ranks(mappings: Sequence[MappingSpec], pairs: pd.DataFrame) -> pd.Series:
    """Rank (0 best) of each (source, entity_type, attribute) row of `pairs`, aligned with it."""
    by_source = {m.source: m for m in mappings}
    cache: dict[tuple[str, str, str], int] = {}

    def rank(source: str, entity_type: str, attribute: str) -> int:
        key = (source, entity_type, attribute)
        if key not in cache:
            spec = by_source.get(source)
            meta = schemas.attribute_spec(entity_type, attribute)
            departments = [d.value for d in meta.authority] if meta else []
            if spec is not None and spec.is_authoritative(entity_type, attribute):
                cache[key] = 0
            elif spec is not None and spec.department in departments:
                cache[key] = 1 + departments.index(spec.department)
            else:
                cache[key] = 1 + len(departments) + (0 if spec is not None else 1)
        return cache[key]

    return pd.Series([rank(*row) for row in pairs[["source", "entity_type", "attribute"]].itertuples(index=False)],
                     index=pairs.index, dtype="int64")


def ranked(statements: pd.DataFrame, mappings: Sequence[MappingSpec]) -> pd.DataFrame:
    """Statements sorted best first within each (entity, attribute), with the ranking columns added."""
    keys = statements[["source", "entity_type", "attribute"]].drop_duplicates()
    keys = keys.assign(authority=authority_ranks(mappings, keys))
    out = statements.merge(keys, on=["source", "entity_type", "attribute"], how="left")
    out["method_rank"] = out["method"].map(METHOD_RANK).fillna(len(METHOD_RANK)).astype(int)
    out["flag_count"] = out["flags"].fillna("").map(lambda f: len([x for x in str(f).split(",") if x]))
    out["newest"] = -pd.to_datetime(out["last_seen"], utc=True).astype("int64")
    return out.sort_values(["entity_id", "attribute", "authority", "newest", "method_rank", "flag_count",
                            "statement_id"], kind="stable").reset_index(drop=True)
