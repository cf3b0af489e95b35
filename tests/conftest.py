"""Shared fixtures: a store on each backend, settings pointing into a temporary folder.

PostgreSQL and MariaDB are real servers on this machine (127.0.0.1). Each test that needs the
PostgreSQL store gets its own schema, dropped afterwards, so tests never see each other's rows.
Set HUB_TEST_SKIP_SERVERS=1 to skip server tests deliberately on a machine without them; by
default an unreachable server is an error, so CI can never pass by silently skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from hub.demo import DemoManifest, generate_district
from hub.protect import new_key_text
from hub.settings import HubSettings

PG_ADMIN_URL = os.environ.get("HUB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("HUB_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4")
SKIP_SERVERS = os.environ.get("HUB_TEST_SKIP_SERVERS") == "1"

# The reliability table of `make reliability` and `make test`: tests marked reliability("G<n>") or ("F<n>"),
# long cases, and G12's search of the whole session's logs (tests/reliability/plugin.py).
pytest_plugins = ["tests.reliability.plugin"]


def _server_or_skip(url: str, name: str) -> None:
    try:
        with create_engine(url).connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:
        if SKIP_SERVERS:
            pytest.skip(f"{name} not reachable and HUB_TEST_SKIP_SERVERS=1")
        raise RuntimeError(f"{name} at {url} is not reachable ({type(exc).__name__}); "
                           "start it or set HUB_TEST_SKIP_SERVERS=1") from exc


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of its own, dropped afterwards."""
    _server_or_skip(PG_ADMIN_URL, "PostgreSQL")
    schema = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema of its own."""
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def mariadb_database() -> Iterator[str]:
    """A MariaDB URL of a fresh database of its own (dropped afterwards)."""
    _server_or_skip(MARIADB_ADMIN_URL, "MariaDB")
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(MARIADB_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    yield MARIADB_ADMIN_URL.replace("/test?", f"/{name}?")
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The hub's store on each backend: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> HubSettings:
    return HubSettings(home=tmp_path / "home", database_url=store_url, secret_key=new_key_text(),
                       mappings_dir=Path(__file__).parents[1] / "mappings")


MakeDistrict = Callable[..., DemoManifest]


def _generate_sqlite(out: Path, residents: int, seed: int = 7, **kwargs: Any) -> DemoManifest:
    return generate_district(
        out,
        residents=residents,
        seed=seed,
        gongan_url=f"sqlite:///{out / 'gongan.db'}",
        renshe_url=f"sqlite:///{out / 'renshe.db'}",
        **kwargs,
    )


@pytest.fixture(scope="session")
def make_district() -> MakeDistrict:
    """`make_district(out_dir, residents, seed=7, **generate_district_kwargs)` with SQLite databases."""
    return _generate_sqlite


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    """2,000 residents, seed 7, default dirt: the fixture other tests can lean on (< 1 s)."""
    return _generate_sqlite(tmp_path_factory.mktemp("district"), 2000)
