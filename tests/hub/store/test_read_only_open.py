"""Finding F10 of issue 18: reading commands never create a store, nor migrate one.

A typo in HUB_DATABASE_URL used to leave new folders and an empty store behind, and `hub status` then
reported that nothing had been ingested, about the wrong place.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from hub.errors import ConfigurationError
from hub.pipeline import Hub
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import make_engine, upgrade

runner = CliRunner()


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.reliability("F10")
def test_read_commands_with_a_typo_in_the_sqlite_url_create_nothing(tmp_path: Path, record_property: Any) -> None:
    from hub.cli import app

    home = tmp_path / "home"
    Hub.open(HubSettings(home=home, secret_key=new_key_text())).engine.dispose()   # the real store, elsewhere
    typo = tmp_path / "hmoe" / "hub.db"
    env = {"HUB_HOME": str(home), "HUB_DATABASE_URL": f"sqlite:///{typo}", "HUB_SECRET_KEY": new_key_text()}
    before = _tree(tmp_path)
    created = 0
    for command in (["status"], ["review", "list"], ["explain", "P-0000000000000000"],
                    ["review", "accept", "a|1|person", "b|1|person"], ["keys", "rotate"]):
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 2, (command, result.output)
        text = " ".join(result.output.split())
        assert "HUB_DATABASE_URL" in text and "hub ingest" in text and "hub db upgrade" in text, text
        assert "Traceback" not in result.output
        created += len(set(_tree(tmp_path)) - set(before))
    assert _tree(tmp_path) == before
    record_property("files or folders created by read commands", created)


def _schema_tables(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        return sorted(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.reliability("F10")
def test_a_database_without_the_hubs_tables_is_refused(store_url: str, tmp_path: Path) -> None:
    if store_url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "hub.db") as conn:          # some other application's database
            conn.execute("create table other (x integer)")
    before = _schema_tables(store_url)
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=new_key_text())
    with pytest.raises(ConfigurationError, match=r"HUB_DATABASE_URL.*no hub store.*hub ingest.*hub db upgrade"):
        Hub.open(settings, create=False)
    assert _schema_tables(store_url) == before
    assert not (tmp_path / "home").exists()


@pytest.mark.reliability("F10")
def test_a_store_at_an_older_revision_is_not_migrated_by_a_reader(store_url: str, tmp_path: Path) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0005")
    settings = HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=new_key_text())
    with pytest.raises(ConfigurationError, match=r"revision 0005.*run `hub db upgrade`"):
        Hub.open(settings, create=False)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0005"
    Hub.open(settings).engine.dispose()                      # a writer migrates it
    Hub.open(settings, create=False).engine.dispose()        # and then a reader opens it
    engine.dispose()
