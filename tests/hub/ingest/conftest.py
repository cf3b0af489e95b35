"""Fixtures of the ingest tests: a hub over one mapping and the one file it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.pipeline import Hub
from hub.settings import HubSettings

OneFileSource = Callable[[str, str, bytes], Hub]


@pytest.fixture
def one_file_source(settings: HubSettings, tmp_path: Path) -> Iterator[OneFileSource]:
    """`make(mapping, file_name, content)`: a hub whose only mapping is `mapping` (FILE in it replaced by the
    file's name) and whose sources folder, tmp_path/sources, holds that one file."""
    hubs: list[Hub] = []

    def make(mapping: str, file_name: str, content: bytes) -> Hub:
        (tmp_path / "mappings").mkdir()
        (tmp_path / "sources").mkdir()
        (tmp_path / "mappings" / "source.yaml").write_text(mapping.replace("FILE", file_name), encoding="utf-8")
        (tmp_path / "sources" / file_name).write_bytes(content)
        hub = Hub.open(settings.model_copy(update={"mappings_dir": tmp_path / "mappings",
                                                   "sources_dir": tmp_path / "sources"}))
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.engine.dispose()
