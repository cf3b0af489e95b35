"""Frames to and from the store: result rows as a frame, a frame as rows for the bulk paths, and
selections of source records a chunk at a time. Resolution, fusion, publication and export all read
and write through these.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from hub.store.bulk import timestamp_param


def frame_of(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame from result rows: as plain tuples pandas builds it several times faster than from Row objects."""
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def rows_of(frame: pd.DataFrame, columns: Sequence[str], conn: Connection) -> list[tuple[Any, ...]]:
    """Tuples for the bulk paths: pandas' missing values as None, times as the backend takes them in bulk."""
    picked = frame[list(columns)].astype(object)
    picked = picked.where(picked.notna(), None)
    for column in picked.columns:
        if any(isinstance(v, datetime) for v in picked[column].head(50)):
            picked[column] = picked[column].map(lambda v: timestamp_param(conn, v) if isinstance(v, datetime) else v)
    return list(picked.itertuples(index=False, name=None))


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
