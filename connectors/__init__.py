"""Connector plugins: one Protocol (`connectors.base`), three kinds, found by entry point.

Names resolve lazily, so `import connectors` (as DAG files do at parse time) costs nothing until a
connector is used; SQLAlchemy, httpx and calamine load with the kind that needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from connectors.base import Batch, Column, Connector, ConnectorFactory, RejectedRow, SourceSchema
from connectors.connection import Connection, resolve_connection, sqlalchemy_url

if TYPE_CHECKING:
    from connectors.files import FileConnector
    from connectors.http import HttpConnector
    from connectors.registry import available_kinds, create_connector, get_connector_class, register
    from connectors.sql import SqlConnector

__all__ = [
    "Batch",
    "Column",
    "Connection",
    "Connector",
    "ConnectorFactory",
    "FileConnector",
    "HttpConnector",
    "RejectedRow",
    "SourceSchema",
    "SqlConnector",
    "available_kinds",
    "create_connector",
    "get_connector_class",
    "register",
    "resolve_connection",
    "sqlalchemy_url",
]

_LAZY = {
    "FileConnector": "connectors.files",
    "HttpConnector": "connectors.http",
    "SqlConnector": "connectors.sql",
    "available_kinds": "connectors.registry",
    "create_connector": "connectors.registry",
    "get_connector_class": "connectors.registry",
    "register": "connectors.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")
