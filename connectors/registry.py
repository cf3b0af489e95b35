"""Connector kinds by name: the `hub.connectors` entry-point group, plus classes registered in-process.

A third party ships a package whose pyproject declares
`[project.entry-points."hub.connectors"] ldap = "hub_ldap:LdapConnector"` and a mapping can say
`connector: ldap`; nothing in the hub changes. A class is built as
`cls(source, settings, connection, batch_size=…, base_dir=…, source_roots=…)`: `base_dir` is the
folder relative file paths start from (HUB_SOURCES_DIR), `source_roots` the further folders
(HUB_SOURCE_ROOTS) a file may lie in; a kind that reads no files accepts and ignores both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from connectors.base import Connector
from connectors.connection import Connection
from hub.errors import ConfigurationError

__all__ = ["available_kinds", "create_connector", "get_connector_class", "register"]

ENTRY_POINT_GROUP = "hub.connectors"

_registered: dict[str, type] = {}


def register(kind: str, cls: type) -> None:
    """Make `cls` the connector for `kind` in this process (tests, embedded plugins).

    It wins over an entry point of the same name."""
    _registered[kind] = cls


def available_kinds() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} | set(_registered))


def get_connector_class(kind: str) -> type:
    if kind in _registered:
        return _registered[kind]
    found = entry_points(group=ENTRY_POINT_GROUP, name=kind)
    if not found:
        raise ConfigurationError(
            f"unknown connector kind {kind!r} (known: {', '.join(available_kinds()) or 'none'})"
        )
    entry = next(iter(found))
    try:
        cls = entry.load()
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"connector kind {kind!r} is registered as {entry.value!r} but cannot be loaded: {exc}"
        ) from exc
    if not isinstance(cls, type):
        raise ConfigurationError(f"connector kind {kind!r} points at {entry.value!r}, which is not a class")
    return cls


def create_connector(
    kind: str,
    source: str,
    settings: Mapping[str, Any],
    connection: Connection | None = None,
    *,
    batch_size: int = 5000,
    base_dir: Path | None = None,
    source_roots: Sequence[Path] = (),
) -> Connector:
    """The one way the hub builds a connector from a mapping's `connector`, `settings` and connection."""
    cls = get_connector_class(kind)
    connector = cls(source, settings, connection, batch_size=batch_size, base_dir=base_dir,
                    source_roots=source_roots)
    if not isinstance(connector, Connector):
        raise ConfigurationError(f"connector kind {kind!r} does not implement discover() and extract()")
    return connector
