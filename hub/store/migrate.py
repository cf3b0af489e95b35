"""Schema migrations with Alembic, run from code so `hub` needs no alembic.ini beside it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store to `revision` (idempotent: a current store is left as it is)."""
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def revise(engine: Engine, message: str) -> None:
    """Developers: autogenerate a new migration from hub.store.tables (`hub db revision`)."""
    with engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.revision(config, message=message, autogenerate=True)
