"""The one interface every connector implements.

A connector knows how to talk to one kind of department system (a SQL database, a file export,
an HTTP API) and nothing about the canonical model. It is built from the `settings` block of a
mapping file and the environment, and offers two things:

- `discover()`: the source's columns as the source itself names them, so that schema drift
  (a renamed or dropped column) is caught before anything lands;
- `extract(watermark)`: batches of payload dicts, unchanged, with the watermark reached after each
  batch. The caller lands a batch and stores its watermark in one transaction, so a crash between
  batches resumes at the last committed batch.

Registration: a class is found by its `kind` through the `hub.connectors` entry-point group, so a
third party adds a connector kind by shipping a package, without editing the hub.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str = "string"   # the source's own type name, informative only


@dataclass(frozen=True, slots=True)
class SourceSchema:
    """What `discover()` found: the columns (header names, table columns or JSON keys)."""

    columns: tuple[Column, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)   # e.g. detected encoding, header row, sheet

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the connector could not turn into a payload at all (a malformed CSV line, a broken JSON item).

    It is not dropped: ingest sends it to quarantine with this position and reason.
    """

    position: str        # where in the source: "line 1234", "page 3 item 7", "sheet 低保 row 88"
    reason: str
    raw: str | None = None   # the raw text, kept encrypted in quarantine for the operator


@dataclass(slots=True)
class Batch:
    """A slice of the source, as dicts keyed by the source's own column names."""

    rows: list[dict[str, Any]]
    watermark: str | None = None          # the watermark once this batch is landed
    rejected: list[RejectedRow] = field(default_factory=list)
    positions: list[str] | None = None    # optional per-row position for error messages


@runtime_checkable
class Connector(Protocol):
    kind: ClassVar[str]

    def discover(self) -> SourceSchema: ...

    def extract(self, watermark: str | None = None) -> Iterator[Batch]: ...


class ConnectorFactory(Protocol):
    def __call__(self, source: str, settings: Mapping[str, Any], *, batch_size: int = ...) -> Connector: ...
