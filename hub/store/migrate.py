"""Schema migrations with Alembic, run from code so `hub` needs no alembic.ini beside it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from hub.errors import ConfigurationError
from hub.store.engine import make_engine

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


_CREATE_HINT = "run `hub ingest` or `hub db upgrade` to create it"


def open_store(url: str, *, create: bool) -> Engine:
    """The store's engine, at the current schema.

    Only commands that write (ingest, resolve, `hub db upgrade`) pass `create`: they make the store and
    migrate it as needed. A reading command must never create one: a typo in HUB_DATABASE_URL would
    otherwise leave behind new folders and an empty store, and the command would report "nothing
    ingested" about the wrong place. So without `create`, a missing SQLite file, a database without
    the hub's tables or one at an older revision is an error saying what to run, and nothing is written.
    """
    if create:
        engine = make_engine(url)
        upgrade(engine)
        return engine
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(database).is_file():
        raise ConfigurationError(f"HUB_DATABASE_URL names {shown}, but there is no store at "
                                 f"{database}: check the URL for a typo, or {_CREATE_HINT}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        script = ScriptDirectory.from_config(alembic_config())
        head = script.get_current_head()
        if current is None:
            raise ConfigurationError(f"HUB_DATABASE_URL names {shown}, which holds no hub store (none of the "
                                     f"hub's tables): check the URL, or {_CREATE_HINT}")
        if current != head:
            known = {rev.revision for rev in script.walk_revisions()}
            if current in known:
                raise ConfigurationError(f"the store at {shown} has schema revision {current}, this hub needs "
                                         f"{head}: run `hub db upgrade` first")
            raise ConfigurationError(f"the store at {shown} has schema revision {current}, which this hub does "
                                     f"not know (it knows up to {head}): use the hub version that wrote it")
    except BaseException:
        engine.dispose()
        raise
    return engine
