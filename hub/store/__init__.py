"""The hub's store: tables, engines, migrations and bulk paths."""

from hub.store import tables
from hub.store.engine import driver_message, make_engine
from hub.store.migrate import open_store, upgrade

__all__ = ["driver_message", "make_engine", "open_store", "tables", "upgrade"]
