"""The first rows of a source, read through its connector exactly as ingest would read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector, RejectedRow
from hub.mapping import MappingSpec
from hub.settings import HubSettings

DEFAULT_ROWS = 500


@dataclass
class Sample:
    """Rows (as payload dicts) with their positions, the source's columns and what discovery detected."""

    columns: list[str]
    rows: list[dict[str, Any]]
    positions: list[str]
    rejected: list[RejectedRow] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def values(self, column: str) -> list[Any]:
        return [row.get(column) for row in self.rows]


def read_sample(connector: Connector, rows: int = DEFAULT_ROWS) -> Sample:
    """Discover the source, then read batches until `rows` records (or the end); nothing is landed."""
    schema = connector.discover()
    found: list[dict[str, Any]] = []
    positions: list[str] = []
    rejected: list[RejectedRow] = []
    batches = connector.extract(None)
    try:
        for batch in batches:
            start = len(found)
            found.extend(batch.rows)
            positions.extend(batch.positions or [f"row {start + i + 1}" for i in range(len(batch.rows))])
            rejected.extend(batch.rejected)
            if len(found) + len(rejected) >= rows:
                break
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    columns = list(schema.names)
    for row in found:   # JSON sources: keys absent from the first page's items
        columns.extend(k for k in row if k not in columns)
    return Sample(columns, found[:rows], positions[:rows], rejected, dict(schema.detail),
                  {c.name: c.type for c in schema.columns})


def mapping_sample(spec: MappingSpec, settings: HubSettings, rows: int = DEFAULT_ROWS) -> Sample:
    """The first rows of a mapping's source, with the connection resolved as ingest resolves it."""
    from hub.pipeline import build_connector

    return read_sample(build_connector(spec.model_copy(update={"batch_size": max(1, rows)}), settings), rows)
