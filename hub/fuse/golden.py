"""Golden records: one value per entity and attribute, chosen among the statements of every source.

The winner is the best-ranked current statement (authority, then recency, then quality; see
hub.fuse.statements). A golden value copies the winner's clear value, or its ciphertext and token
for sensitive attributes (it is never decrypted here), points at the winning statement, and counts
the statements and sources behind it; `statements_behind` lists them all.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.fuse.statements import latest_versions, ranked, read_statements
from hub.fuse.write import replace_per_entity
from hub.mapping import MappingSpec
from hub.store import tables
from hub.store.frames import frame_of

GOLDEN_COLUMNS = ("entity_id", "attribute", "entity_type", "value", "value_enc", "token", "statement_id", "source",
                  "statements", "sources", "run_id")
COMPARED = ("statement_id", "statements", "sources")


def golden_values(statements: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The golden rows of ranked statements (best first within each entity and attribute)."""
    if statements.empty:
        return pd.DataFrame(columns=list(GOLDEN_COLUMNS))
    groups = statements.groupby(["entity_id", "attribute"], sort=False)
    winners = statements.drop_duplicates(["entity_id", "attribute"]).set_index(["entity_id", "attribute"])
    winners = winners.assign(statements=groups.size(), sources=groups["source"].nunique(), run_id=run_id)
    return winners.reset_index()[list(GOLDEN_COLUMNS)]


def write_golden(conn: Connection, entity_type: str, golden: pd.DataFrame,
                 entity_ids: Collection[str] | None = None) -> int:
    return replace_per_entity(conn, tables.golden_value, entity_type, golden, GOLDEN_COLUMNS, COMPARED, entity_ids)


def statements_behind(engine: Engine, mappings: Sequence[MappingSpec], entity_id: str,
                      attribute: str | None = None) -> pd.DataFrame:
    """Every current statement behind an entity's golden values, best first, `winner` marking the chosen one.

    Values stay as stored (clear, or ciphertext in value_enc): callers mask or decrypt by clearance.
    """
    with engine.connect() as conn:
        entity_type = conn.execute(sa.select(tables.entity.c.entity_type)
                                   .where(tables.entity.c.id == entity_id)).scalar()
    if entity_type is None:
        return pd.DataFrame(columns=["attribute", "statement_id", "source", "value", "value_enc", "method", "flags",
                                     "last_seen", "authority", "winner"])
    link = tables.record_link.c
    with engine.connect() as conn:
        records = [(str(a), str(b)) for a, b in conn.execute(
            sa.select(link.source, link.source_record_id).where(link.entity_id == entity_id).distinct())]
    statements = ranked(read_statements(engine, entity_type, latest_versions(engine, records), [entity_id]), mappings)
    if attribute is not None:
        statements = statements[statements["attribute"] == attribute]
    statements = statements.assign(winner=~statements.duplicated(["entity_id", "attribute"]))
    return statements[["attribute", "statement_id", "source", "value", "value_enc", "method", "flags", "last_seen",
                       "authority", "winner"]].reset_index(drop=True)


def golden_rows(engine: Engine, entity_id: str) -> pd.DataFrame:
    """The golden values of an entity as stored (sensitive ones still encrypted)."""
    g = tables.golden_value.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(g.attribute, g.value, g.value_enc, g.source, g.statements, g.sources,
                                      g.statement_id).where(g.entity_id == entity_id).order_by(g.attribute))
        return frame_of(rows, ["attribute", "value", "value_enc", "source", "statements", "sources",
                                                 "statement_id"])
