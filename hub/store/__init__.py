"""The hub's store: tables, engines, migrations and bulk paths."""

from hub.store import tables
from hub.store.engine import make_engine
from hub.store.migrate import open_store, upgrade

__all__ = ["make_engine", "open_store", "tables", "upgrade"]
