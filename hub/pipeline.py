"""One function per stage, wired from settings: what the CLI, the DAGs and the benchmark call.

`Hub.open(settings)` builds the store engine (migrated to head) and the vault once; the stage
functions take the Hub and do one job each.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import Engine

from connectors.base import Connector
from connectors.connection import Connection, resolve_connection
from connectors.registry import get_connector_class
from hub.errors import ConfigurationError, HubError
from hub.ingest import BatchCounts, IngestResult, ingest_source
from hub.mapping import MappingSpec, load_mappings
from hub.protect import Vault
from hub.settings import HubSettings
from hub.store import make_engine, upgrade

log = logging.getLogger(__name__)


@dataclass
class Hub:
    settings: HubSettings
    engine: Engine
    vault: Vault

    @classmethod
    def open(cls, settings: HubSettings | None = None) -> Hub:
        settings = settings or HubSettings()
        engine = make_engine(settings.database_url)
        upgrade(engine)
        return cls(settings, engine, Vault.from_settings(settings))

    def mappings(self) -> list[MappingSpec]:
        return load_mappings(self.settings.mappings_dir)


def load_connections_file(settings: HubSettings) -> dict[str, Any]:
    path = settings.connections_file
    if path is None or not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"connections file {path} must map connection names to values")
    return data


def build_connector(spec: MappingSpec, settings: HubSettings,
                    environ: Mapping[str, str] | None = None) -> Connector:
    """The connector a mapping asks for, with its connection resolved from env or the connections file."""
    connection: Connection | None = None
    if spec.connector.connection:
        connection = resolve_connection(spec.connector.connection,
                                        environ=os.environ if environ is None else environ,
                                        file_values=load_connections_file(settings))
    cls = get_connector_class(spec.connector.kind)
    connector: Connector = cls(spec.source, spec.connector.settings, connection,
                               batch_size=min(spec.batch_size, settings.batch_size), base_dir=settings.sources_dir)
    return connector


def ingest(hub: Hub, sources: list[str] | None = None,
           on_batch: Callable[[str, BatchCounts], None] | None = None) -> list[IngestResult]:
    """Ingest the named sources (all when None), each on its own: one failing never stops the others."""
    specs = hub.mappings()
    known = {s.source for s in specs}
    unknown = sorted(set(sources or []) - known)
    if unknown:
        raise ConfigurationError(f"no mapping for source(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    results = []
    for spec in specs:
        if sources and spec.source not in sources:
            continue
        callback = (lambda counts, name=spec.source: on_batch(name, counts)) if on_batch else None
        try:
            connector = build_connector(spec, hub.settings)
        except HubError as exc:
            results.append(IngestResult(spec.source, "", "failed", error=str(exc)))
            log.warning("source %s: cannot start: %s", spec.source, exc)
            continue
        results.append(ingest_source(spec, connector, engine=hub.engine, vault=hub.vault, on_batch=callback))
    return results
