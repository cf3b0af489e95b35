"""A pushed source: records handed to the hub (form write-backs) instead of read from a department system.

The grid collection source (mappings/grid_collection.yaml, 网格采集) is written by the hub's own apps: a form
submission becomes one record, landed at once by `hub.forms.writeback` through `ingest_source` like any
department's batch (raw zone, statements, quality gate), with this connector carrying that one record. Pulled by
`hub ingest`, it has nothing new: its records arrive only by being pushed, so a pull never reads the source
whole and never retires what earlier pushes landed (each pushed batch carries a watermark, its time).

`columns` (settings) are the source's schema, as a table's columns are: a pushed record has every one of
them (None where nothing was given), so the schema-drift check and the mapping check work as for any source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from connectors.base import Batch, Column, SourceSchema
from connectors.connection import Connection
from connectors.settings import ConnectorSettings, parse_settings
from hub.errors import ConfigurationError

__all__ = ["SubmissionSettings", "SubmissionsConnector"]


class SubmissionSettings(ConnectorSettings):
    columns: list[str] = Field(min_length=1, description="the fields every pushed record has")


class SubmissionsConnector:
    kind: ClassVar[str] = "submissions"
    arrives_pushed: ClassVar[bool] = True
    """Its records arrive pushed, a batch each: no run reads the source whole (not even the first, which finds
    no watermark), so none retires what other pushes landed, and no batch supersedes another's (hub.ingest)."""

    def __init__(self, source: str, settings: Mapping[str, Any], connection: Connection | None = None, *,
                 batch_size: int = 5000, base_dir: Path | None = None, source_roots: Sequence[Path] = ()):
        self.source = source
        self.settings = parse_settings(SubmissionSettings, source, settings)
        self.pushed: list[dict[str, Any]] = []
        self.watermark: str | None = None

    def push(self, rows: Sequence[Mapping[str, Any]], watermark: str) -> SubmissionsConnector:
        """Carry `rows` (each with exactly the source's columns) as one batch reaching `watermark`."""
        columns = self.settings.columns
        for row in rows:
            if set(row) != set(columns):
                unknown = sorted(set(row) - set(columns))
                raise ConfigurationError(f"source {self.source!r}: a pushed record must have exactly the columns "
                                         f"of the source's settings (unknown: {', '.join(unknown) or 'none'})")
        self.pushed = [dict(row) for row in rows]
        self.watermark = watermark
        return self

    def discover(self) -> SourceSchema:
        return SourceSchema(tuple(Column(name) for name in self.settings.columns), {"pushed": True})

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        if self.pushed:
            yield Batch(rows=self.pushed, watermark=self.watermark)
