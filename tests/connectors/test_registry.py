"""Connector kinds come from the `hub.connectors` entry points, or from `register()` in-process."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

import connectors
from connectors import registry
from connectors.base import Batch, Column, SourceSchema
from connectors.connection import Connection
from connectors.files import FileConnector
from connectors.http import HttpConnector
from connectors.sql import SqlConnector
from hub.errors import ConfigurationError


class MemoryConnector:
    kind: ClassVar[str] = "memory"

    def __init__(self, source: str, settings: Mapping[str, Any], connection: Connection | None = None, *,
                 batch_size: int = 5000, base_dir: Path | None = None, source_roots: Sequence[Path] = ()):
        self.rows = list(settings.get("rows", []))

    def discover(self) -> SourceSchema:
        return SourceSchema(columns=(Column("n"),))

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        if watermark != "done":
            yield Batch(rows=self.rows, watermark="done")


@pytest.fixture
def memory_kind() -> Iterator[None]:
    registry.register("memory", MemoryConnector)
    yield
    registry._registered.pop("memory", None)


def test_the_three_kinds_come_from_entry_points() -> None:
    assert registry.get_connector_class("sql") is SqlConnector
    assert registry.get_connector_class("file") is FileConnector
    assert registry.get_connector_class("http") is HttpConnector
    assert {"sql", "file", "http"} <= set(registry.available_kinds())


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        registry.get_connector_class("ftp")
    assert "'ftp'" in str(caught.value) and "file, http, sql" in str(caught.value)


def test_a_registered_class_is_found_and_built(memory_kind: None) -> None:
    assert "memory" in registry.available_kinds()
    connector = registry.create_connector("memory", "demo", {"rows": [{"n": 1}]})
    assert [b.rows for b in connector.extract()] == [[{"n": 1}]]


def test_create_connector_passes_connection_and_base_dir(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("n\n1\n", encoding="utf-8")
    connector = registry.create_connector("file", "demo", {"path": "a.csv"}, base_dir=tmp_path, batch_size=10)
    assert [b.rows for b in connector.extract()] == [[{"n": "1"}]]


def test_the_package_exports_resolve_lazily() -> None:
    for name in connectors.__all__:
        assert getattr(connectors, name) is not None
    assert connectors.get_connector_class is registry.get_connector_class
    with pytest.raises(AttributeError):
        connectors.nothing_here  # noqa: B018
