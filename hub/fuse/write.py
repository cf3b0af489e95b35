"""Writing fused rows as differences, so a re-run on unchanged data rewrites nothing.

Golden values and conflicts are replaced per entity (an entity whose rows differ in any way gets
all its rows anew); relations and places per id. The comparison uses a fingerprint of the columns
that carry meaning, never the run id. Only what is stored is deleted: the first fusion (empty tables)
and new entities cost no DELETE at all, where they used to cost one statement per 900 ids that found
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Table

from hub.store.bulk import insert_rows
from hub.store.frames import frame_of, rows_of

CHUNK = 900


def _fingerprint(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    columns_ = [time_column(frame[column]) for column in columns]
    texts = [values.astype(str).where(values.notna(), "-").tolist() for values in columns_]
    joined = ["\x1f".join(parts) for parts in zip(*texts, strict=True)] if texts else [""] * len(frame)
    return pd.Series(joined, index=frame.index, dtype=object)   # 4x faster than adding Series


def time_column(values: pd.Series) -> pd.Series:
    """A column of times as integer microseconds (UTC for zoned ones), else the column as it is: formatting
    times as text costs pandas twenty times more, and both sides of a comparison get the same integers.
    Object columns holding datetimes (no rows, or mixed with missing values) are converted first."""
    if values.dtype == object:
        sample = values.dropna().head(1)
        if not len(sample) or not isinstance(sample.iloc[0], datetime):
            return values
        values = pd.to_datetime(values, utc=sample.iloc[0].tzinfo is not None)
    if not (isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M"):
        return values
    micros = pd.Series(values.dt.as_unit("us").array.asi8, index=values.index, dtype=object)
    return micros.where(values.notna().to_numpy(), None)


def json_lists(frame: pd.DataFrame, keys: Sequence[str], column: str) -> pd.Series:
    """Per group of `keys` (rows of a group must be contiguous), the JSON list of `column` in row order.

    A split of one numpy array at the group boundaries: pandas' per-group aggregation with a Python
    function costs a hundred times more on hundreds of thousands of groups.
    """
    if frame.empty:
        return pd.Series([], dtype=object, index=pd.MultiIndex.from_arrays([[]] * len(keys), names=list(keys)))
    keyed = frame[list(keys)]
    starts = np.flatnonzero((keyed != keyed.shift()).any(axis=1).to_numpy())
    chunks = np.split(frame[column].astype(str).to_numpy(), starts[1:])
    index = pd.MultiIndex.from_frame(keyed.iloc[starts])
    return pd.Series([json.dumps(list(chunk), ensure_ascii=False) for chunk in chunks], index=index, dtype=object)


def _delete_in(conn: Connection, table: Table, column: str, values: Collection[str]) -> None:
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        conn.execute(table.delete().where(table.c[column].in_(ordered[start:start + CHUNK])))


def _stored(conn: Connection, table: Table, columns: Sequence[str], where: sa.ColumnElement[bool],
            entity_ids: Collection[str] | None) -> pd.DataFrame:
    query = sa.select(*(table.c[c] for c in columns)).where(where)
    if entity_ids is None:
        return frame_of(conn.execute(query), columns)
    ordered = sorted(entity_ids)
    frames = [frame_of(conn.execute(query.where(table.c.entity_id.in_(ordered[i:i + CHUNK]))), columns)
              for i in range(0, len(ordered), CHUNK)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def replace_per_entity(conn: Connection, table: Table, entity_type: str, rows: pd.DataFrame,
                       columns: Sequence[str], compare: Sequence[str],
                       entity_ids: Collection[str] | None = None) -> int:
    """Make `table`'s rows of `entity_type` (of `entity_ids` when given) equal `rows`; returns entities rewritten."""
    key = ["entity_id", "attribute"]
    stored = _stored(conn, table, [*key, *compare], table.c.entity_type == entity_type, entity_ids)
    new = rows[[*key, *compare]]
    a = set(zip(new["entity_id"], new["attribute"], _fingerprint(new, compare), strict=True))
    b = set(zip(stored["entity_id"], stored["attribute"], _fingerprint(stored, compare), strict=True))
    differ = {entity for entity, _, _ in a ^ b}
    if differ:
        _delete_in(conn, table, "entity_id", differ.intersection(stored["entity_id"]))
        insert_rows(conn, table, columns, rows_of(rows[rows["entity_id"].isin(differ)], columns, conn))
    return len(differ)


def replace_by_id(conn: Connection, table: Table, rows: pd.DataFrame, columns: Sequence[str],
                  compare: Sequence[str], stored: pd.DataFrame | None = None) -> int:
    """Make `table` hold `rows` in place of `stored` (id and `compare` columns of the rows in scope; all rows
    of the table when None), keyed by `id`; returns rows inserted or rewritten."""
    if stored is None:
        stored = _stored(conn, table, ["id", *compare], sa.true(), None)
    new_prints = dict(zip(rows["id"], _fingerprint(rows, compare), strict=True))
    old_prints = dict(zip(stored["id"], _fingerprint(stored, compare), strict=True))
    changed = {i for i, p in new_prints.items() if old_prints.get(i) != p}
    gone = set(old_prints) - set(new_prints)
    _delete_in(conn, table, "id", (changed & old_prints.keys()) | gone)
    insert_rows(conn, table, columns, rows_of(rows[rows["id"].isin(changed)], columns, conn))
    return len(changed)
