"""Which publication a reader is pinned to: what `GET /api/v1/publication` answers (no personal data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hub.store import tables
from hub.views.reader import Reader, utc


@dataclass(frozen=True)
class PublishedVersion:
    version: int
    published_at: datetime | None


def publication(reader: Reader) -> PublishedVersion:
    """The version the reader is pinned to and when it was published."""
    p = tables.publication.c
    at = reader.conn.execute(sa.select(p.published_at).where(p.version == reader.version)).scalar()
    return PublishedVersion(reader.version, utc(at) if at is not None else None)
