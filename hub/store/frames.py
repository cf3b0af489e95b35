"""Frames to and from the store: result rows as a frame, a frame as rows for the bulk paths, and
selections of source records a chunk at a time. Resolution, fusion, publication and export all read
and write through these.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from hub.store.bulk import timestamp_param


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
