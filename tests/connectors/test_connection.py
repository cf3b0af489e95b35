"""Connections: both Airflow forms parse, secrets stay out of repr and messages, SQL URLs are loadable."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from connectors.connection import Connection, resolve_connection, sqlalchemy_url
from hub.errors import ConfigurationError

SECRET = "pa55:w@rd/é"


def test_uri_form_splits_credentials_from_the_address() -> None:
    conn = Connection.from_value("postgresql://hub%20reader:pa55%3Aw%40rd%2F%C3%A9@db.local:5433/civil?sslmode=require")
    assert conn.uri == "postgresql://db.local:5433/civil"
    assert conn.login == "hub reader"
    assert conn.password == SECRET
    assert conn.extra == {"sslmode": "require"}


def test_json_form_as_airflow_writes_it() -> None:
    text = json.dumps({
        "conn_type": "mysql", "host": "127.0.0.1", "port": 3306, "login": "root",
        "password": SECRET, "schema": "civil", "extra": {"charset": "utf8mb4"},
    })
    conn = Connection.from_value(text)
    assert conn.uri == "mysql://127.0.0.1:3306/civil"
    assert (conn.login, conn.password, conn.extra) == ("root", SECRET, {"charset": "utf8mb4"})


def test_http_connection_takes_its_token_from_extra() -> None:
    conn = Connection.from_value({"conn_type": "http", "host": "api.example.org", "schema": "https",
                                  "extra": {"token": "t0ken"}})
    assert conn.uri == "https://api.example.org"
    assert conn.token == "t0ken" and conn.secret == "t0ken"
    assert "token" not in conn.extra


def test_repr_never_shows_a_secret() -> None:
    conn = Connection(uri="https://x", login="u", password=SECRET, token="t0ken-secret")
    assert SECRET not in repr(conn) and "t0ken-secret" not in repr(conn)


def test_environment_wins_over_the_connections_file() -> None:
    conn = resolve_connection(
        "civil-db",
        environ={"HUB_CONN_CIVIL_DB": "sqlite:////data/civil.db"},
        file_values={"civil-db": "sqlite:////elsewhere.db"},
    )
    assert conn.uri == "sqlite:////data/civil.db"


def test_connections_file_values_may_be_parsed_mappings() -> None:
    values = {"health": {"conn_type": "postgres", "host": "h"}}
    conn = resolve_connection("health", environ={}, file_values=values)
    assert conn.uri == "postgres://h"


def test_missing_connection_names_both_places() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_connection("civil", environ={}, file_values={})
    assert "'civil'" in str(caught.value)
    assert "HUB_CONN_CIVIL" in str(caught.value) and "connections file" in str(caught.value)


def test_an_unreadable_connection_does_not_echo_its_text() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_connection("x", environ={"HUB_CONN_X": '{"password": "' + SECRET}, file_values={})
    assert SECRET not in str(caught.value)
    assert "HUB_CONN_X" in str(caught.value)


@pytest.mark.parametrize(
    ("uri", "driver"),
    [
        ("postgres://u@h:5432/db", "postgresql+psycopg"),
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("mysql://u@h/db", "mysql+pymysql"),
        ("mariadb://u@h/db", "mysql+pymysql"),
    ],
)
def test_sql_urls_use_the_installed_drivers(uri: str, driver: str) -> None:
    url = sqlalchemy_url(Connection.from_value(uri))
    assert url.drivername == driver
    assert not url.render_as_string().startswith("postgres://")
    assert url.get_dialect() is not None   # the plugin loads: no NoSuchModuleError


def test_mysql_gets_utf8mb4_and_the_password_from_the_connection() -> None:
    url = sqlalchemy_url(Connection.from_value({"conn_type": "mysql", "host": "h", "login": "root",
                                                "password": SECRET, "schema": "db"}))
    assert url.query["charset"] == "utf8mb4"
    assert url.password == SECRET and url.database == "db"


def test_sqlite_paths_survive() -> None:
    assert sqlalchemy_url(Connection.from_value("sqlite:////tmp/civil.db")).database == "/tmp/civil.db"
    assert sqlalchemy_url(Connection.from_value("sqlite:///civil.db")).database == "civil.db"
    assert isinstance(sqlalchemy_url(Connection(uri="sqlite:///x.db")), sa.URL)


def test_a_non_sql_connection_is_refused_for_sql() -> None:
    with pytest.raises(ConfigurationError, match="not a SQL database"):
        sqlalchemy_url(Connection.from_value("https://api.example.org"))
