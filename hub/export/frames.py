"""The three tables of an export, read in batches: record → entity links, golden values, conflicts.

Golden values and the claims behind conflicts come from the published read model at ONE pinned version
(what apps and `hub find` see, consistent even while a resolution runs); the links come from record_link and
the set of conflicting (entity, attribute) pairs from the fusion's conflict table, because the read model does
not publish them. `hub.export.export` refuses to run when the fusion tables are newer than the publication,
so the three always describe the same state.

Every value leaves through `hub.protect.present`, the one masking decision: at the operator's clearance
(identifiers masked, sensitive values withheld) unless a clear export was asked for with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

import schemas
from hub.protect import Vault, present
from hub.publish.versioned import visible
from hub.store import tables
from hub.store.frames import frame_of

BATCH = 20_000
"""Rows read, transformed and written at a time: memory stays flat whatever the district's size."""

LINK_COLUMNS = ("entity_type", "source", "record_id", "entity_ref", "canonical_id", "decided_by", "score")
GOLDEN_COLUMNS = ("canonical_id", "entity_type", "attribute", "value", "shown", "source", "statements", "sources")
CONFLICT_COLUMNS = ("canonical_id", "entity_type", "attribute", "department", "source", "record_key", "value",
                    "shown", "chosen", "last_seen")
COLUMNS = {"links": LINK_COLUMNS, "golden": GOLDEN_COLUMNS, "conflicts": CONFLICT_COLUMNS}
"""Per table of an export, its columns in order (the manifest lists them too)."""


def _batches(conn: Connection, query: sa.Select[Any], columns: list[str]) -> Iterator[pd.DataFrame]:
    """Frames of at most BATCH rows from a streamed result (a server-side cursor on PostgreSQL)."""
    result = conn.execution_options(yield_per=BATCH).execute(query)
    for part in result.partitions(BATCH):
        yield frame_of(part, columns)


def shown_values(frame: pd.DataFrame, vault: Vault, clearance: schemas.Sensitivity) -> pd.DataFrame:
    """`value` as `present` shows it at `clearance`, and `shown` (clear, masked, withheld), for a frame with
    entity_type, attribute, value and value_enc; sealed values are opened only to be shown or masked.
    `present` runs once per distinct value of each (type, attribute), not once per row."""
    values = frame["value"].astype(object).copy()
    sealed = (values.isna() & frame["value_enc"].notna()).to_numpy()
    if sealed.any():
        values[sealed] = [vault.decrypt_text(bytes(blob)) for blob in frame["value_enc"][sealed]]
    out_value = pd.Series(None, index=frame.index, dtype=object)
    out_mode = pd.Series("clear", index=frame.index, dtype=object)
    for key, index in frame.groupby(["entity_type", "attribute"], sort=False).groups.items():
        entity_type, attribute = (str(part) for part in cast(tuple[object, object], key))
        group = values.loc[index]
        decided = {v: present(entity_type, attribute, v, clearance) for v in group.dropna().unique()}
        out_value.loc[index] = group.map({v: shown for v, (shown, _) in decided.items()}).astype(object)
        out_mode.loc[index] = group.map({v: mode for v, (_, mode) in decided.items()}).fillna("clear")
    return frame.drop(columns=["value_enc"]).assign(value=out_value, shown=out_mode)


def links(conn: Connection) -> Iterator[pd.DataFrame]:
    """Every source record resolution linked, with the canonical id of its entity; one row per record_link row."""
    link = tables.record_link.c
    query = (sa.select(link.entity_type, link.source, link.source_record_id, link.entity_ref, link.entity_id,
                       link.decided_by, link.score)
             .order_by(link.entity_type, link.source, link.source_record_id, link.entity_ref))
    yield from _batches(conn, query, list(LINK_COLUMNS))


def golden(conn: Connection, version: int, vault: Vault, clearance: schemas.Sensitivity) -> Iterator[pd.DataFrame]:
    """The golden record of every active entity at `version`: one row per (entity, attribute)."""
    v = tables.pub_value
    query = (sa.select(v.c.entity_id, v.c.entity_type, v.c.attribute, v.c.value, v.c.value_enc, v.c.source,
                       v.c.statements, v.c.sources)
             .where(visible(v, version)).order_by(v.c.entity_type, v.c.entity_id, v.c.attribute))
    columns = ["canonical_id", "entity_type", "attribute", "value", "value_enc", "source", "statements", "sources"]
    for frame in _batches(conn, query, columns):
        yield shown_values(frame, vault, clearance)[list(GOLDEN_COLUMNS)]


def conflicts(conn: Connection, version: int, vault: Vault, clearance: schemas.Sensitivity
              ) -> Iterator[pd.DataFrame]:
    """For every (entity, attribute) where departments disagree, each source record's claim at `version`,
    with its department and whether fusion chose it for the golden record."""
    c, k = tables.pub_claim, tables.conflict
    query = (sa.select(c.c.entity_id, c.c.entity_type, c.c.attribute, c.c.department, c.c.source, c.c.record_key,
                       c.c.value, c.c.value_enc, c.c.chosen, c.c.last_seen)
             .join(k, sa.and_(k.c.entity_id == c.c.entity_id, k.c.attribute == c.c.attribute))
             .where(visible(c, version))
             .order_by(c.c.entity_type, c.c.entity_id, c.c.attribute, c.c.source, c.c.record_key))
    columns = ["canonical_id", "entity_type", "attribute", "department", "source", "record_key", "value",
               "value_enc", "chosen", "last_seen"]
    for frame in _batches(conn, query, columns):
        frame["chosen"] = frame["chosen"].astype(bool)
        yield shown_values(frame, vault, clearance)[list(CONFLICT_COLUMNS)]
