"""SQL connector on SQLite, MariaDB and PostgreSQL: keyset watermarks, schema drift, unreachable servers."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
import sqlalchemy as sa

from connectors.base import Batch
from connectors.connection import Connection, sqlalchemy_url
from connectors.sql import SqlConnector
from connectors.testing import connector_contract_tests
from connectors.values import json_safe, json_safe_rows
from hub.errors import ConfigurationError, SourceDataError, SourceSchemaChanged, SourceUnavailable

SETTINGS = {"table": "residents", "cursor": "updated_at", "key": ["id"], "retries": 1, "backoff": 0.01}
STAMP = dt.datetime(2024, 3, 1, 8, 30)

metadata = sa.MetaData()
residents = sa.Table(
    "residents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("姓名", sa.String(40)),
    sa.Column("身份证号", sa.String(18)),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("amount", sa.Numeric(10, 2)),
)


def rows_for(ids: range, *, same_stamp: bool = False) -> list[dict[str, object]]:
    return [
        {
            "id": i,
            "姓名": f"居民{i}",
            "身份证号": f"11010519491231{i:04d}",
            "updated_at": STAMP if same_stamp else STAMP + dt.timedelta(hours=i // 4),
            "amount": f"{i}.50",
        }
        for i in ids
    ]


@dataclass
class Database:
    connection: Connection
    engine: sa.Engine

    def fill(self, rows: list[dict[str, object]]) -> None:
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            conn.execute(residents.insert(), rows)

    def execute(self, statement: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(statement))

    def connector(self, batch_size: int = 5, **settings: object) -> SqlConnector:
        return SqlConnector("civil_db", {**SETTINGS, **settings}, self.connection, batch_size=batch_size)


def _database(url: str) -> Iterator[Database]:
    connection = Connection.from_value(url)
    engine = sa.create_engine(sqlalchemy_url(connection))
    yield Database(connection, engine)
    engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from _database(f"sqlite:///{tmp_path / 'civil.db'}")


@pytest.fixture
def mariadb_db(mariadb_database: str) -> Iterator[Database]:
    yield from _database(mariadb_database)


@pytest.fixture
def postgres_db(pg_url: str) -> Iterator[Database]:
    yield from _database(pg_url)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("mariadb", marks=pytest.mark.mariadb),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def db(request: pytest.FixtureRequest) -> Database:
    found: Database = request.getfixturevalue(f"{request.param}_db")
    return found


def _factory(database: Database) -> Callable[[], SqlConnector]:
    database.fill(rows_for(range(1, 41)))
    return lambda: database.connector(batch_size=7)


@pytest.fixture
def sqlite_factory(sqlite_db: Database) -> Callable[[], SqlConnector]:
    return _factory(sqlite_db)


@pytest.fixture
def mariadb_factory(mariadb_db: Database) -> Callable[[], SqlConnector]:
    return _factory(mariadb_db)


@pytest.fixture
def postgres_factory(postgres_db: Database) -> Callable[[], SqlConnector]:
    return _factory(postgres_db)


TestSqliteContract = connector_contract_tests("sqlite_factory", expected_rows=40)
TestMariaDbContract = pytest.mark.mariadb(connector_contract_tests("mariadb_factory", expected_rows=40))
TestPostgresContract = pytest.mark.postgres(connector_contract_tests("postgres_factory", expected_rows=40))


def _ids(connector: SqlConnector, watermark: str | None = None) -> list[int]:
    return [int(row["id"]) for batch in connector.extract(watermark) for row in batch.rows]


def test_equal_cursor_values_across_batch_boundaries_lose_and_repeat_nothing(db: Database) -> None:
    db.fill(rows_for(range(1, 24), same_stamp=True))
    batches = cast(Generator[Batch], db.connector(batch_size=5).extract())
    landed = [next(batches), next(batches)]            # the run stops after two batches
    batches.close()
    resumed = db.connector(batch_size=5).extract(landed[-1].watermark)
    ids = [int(r["id"]) for b in landed for r in b.rows] + [int(r["id"]) for b in resumed for r in b.rows]
    assert sorted(ids) == list(range(1, 24))
    assert len(ids) == len(set(ids)) == 23


def test_each_batch_carries_the_position_of_its_last_row(db: Database) -> None:
    db.fill(rows_for(range(1, 13)))
    batches = list(db.connector(batch_size=5).extract())
    assert [len(b.rows) for b in batches] == [5, 5, 2]
    position = json.loads(batches[0].watermark or "")
    assert position["keys"] == [5]
    assert position["cursor"].replace(" ", "T").startswith("2024-03-01T09:30")


def test_a_changed_row_is_extracted_again_and_nothing_else(db: Database) -> None:
    db.fill(rows_for(range(1, 21)))
    last = list(db.connector().extract())[-1].watermark
    assert _ids(db.connector(), last) == []
    with db.engine.begin() as conn:
        later = residents.update().where(residents.c.id == 3).values(updated_at=STAMP + dt.timedelta(days=2))
        conn.execute(later)
        newcomers = rows_for(range(21, 23))
        for row in newcomers:
            row["updated_at"] = STAMP + dt.timedelta(days=3)
        conn.execute(residents.insert(), newcomers)
    assert _ids(db.connector(), last) == [3, 21, 22]


def test_values_are_json_safe_and_ids_stay_text(db: Database) -> None:
    db.fill(rows_for(range(1, 4)))
    rows = [row for batch in db.connector().extract() for row in batch.rows]
    json.dumps(rows, ensure_ascii=False)
    assert rows[0]["身份证号"] == "110105194912310001"
    assert rows[0]["姓名"] == "居民1"
    if db.engine.dialect.name != "sqlite":
        assert rows[0]["amount"] == "1.50"                       # Decimal as exact text
        assert rows[0]["updated_at"] == "2024-03-01T08:30:00"


def test_json_safe_rows_give_what_json_safe_gives_value_by_value() -> None:
    names = ["a", "b", "c"]
    plain = [("x", 1, None, "order key"), ("y", 2.5, True, "order key")]
    mixed = [*plain, ("z", Decimal("1.50"), dt.datetime(2024, 3, 1, 8, 30), "order key")]
    for rows in (plain, mixed):
        expected = [{n: json_safe(v) for n, v in zip(names, row, strict=False)} for row in rows]
        assert json_safe_rows(names, rows) == expected
    assert json_safe_rows(names, mixed)[2] == {"a": "z", "b": "1.50", "c": "2024-03-01T08:30:00"}


def test_a_query_source_with_selected_columns(db: Database) -> None:
    db.fill(rows_for(range(1, 21)))
    query = "SELECT id, updated_at, amount FROM residents WHERE id > 10;"
    connector = db.connector(table=None, query=query, columns=["id", "amount"])
    assert connector.discover().names == ["id", "updated_at", "amount"]
    batches = list(connector.extract())
    assert sorted(int(r["id"]) for b in batches for r in b.rows) == list(range(11, 21))
    assert all(set(r) == {"id", "amount"} for b in batches for r in b.rows)
    assert _ids(connector, batches[0].watermark) == list(range(16, 21))


@pytest.mark.reliability("G4")
def test_a_renamed_column_is_a_schema_change(db: Database) -> None:
    db.fill(rows_for(range(1, 4)))
    db.execute("ALTER TABLE residents RENAME COLUMN updated_at TO modified_at")
    with pytest.raises(SourceSchemaChanged) as caught:
        list(db.connector().extract())
    assert "'updated_at'" in str(caught.value) and "civil_db" in str(caught.value)
    with pytest.raises(SourceSchemaChanged):
        db.connector().discover()


@pytest.mark.reliability("G4")
def test_a_missing_table_is_a_schema_change(db: Database) -> None:
    db.execute("CREATE TABLE households (id INTEGER)")
    with pytest.raises(SourceSchemaChanged, match="table residents not found"):
        list(db.connector().extract())


@pytest.mark.reliability("G4")
@pytest.mark.parametrize("uri", ["postgresql://postgres@127.0.0.1:1/test", "mysql://root@127.0.0.1:1/test"])
def test_an_unreachable_server_is_unavailable_quickly(uri: str) -> None:
    connector = SqlConnector("civil_db", {**SETTINGS, "connect_timeout": 2}, Connection.from_value(uri))
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        list(connector.extract())
    assert time.monotonic() - started < 5
    assert "127.0.0.1:1" in str(caught.value) and "2 tries" in str(caught.value)


@pytest.mark.reliability("G4")
def test_a_missing_sqlite_file_is_unavailable_not_created(tmp_path: Path) -> None:
    connector = SqlConnector("civil_db", SETTINGS, Connection(uri=f"sqlite:///{tmp_path / 'gone.db'}"))
    with pytest.raises(SourceUnavailable):
        connector.discover()
    assert not (tmp_path / "gone.db").exists()


def test_rows_without_a_cursor_value_are_read_by_a_full_run(sqlite_db: Database) -> None:
    rows = rows_for(range(1, 7))
    rows[0]["updated_at"] = None
    sqlite_db.fill(rows)
    batches = list(sqlite_db.connector(batch_size=2).extract())
    assert sorted(int(r["id"]) for b in batches for r in b.rows) == list(range(1, 7))
    assert all(b.watermark for b in batches)
    assert _ids(sqlite_db.connector(), batches[-1].watermark) == []


def test_without_a_cursor_every_run_reads_everything(sqlite_db: Database) -> None:
    sqlite_db.fill(rows_for(range(1, 6)))
    connector = sqlite_db.connector(cursor=None)
    batches = list(connector.extract())
    assert [b.watermark for b in batches] == [None]
    assert _ids(connector, None) == [1, 2, 3, 4, 5]


def test_a_hand_written_watermark_is_a_closed_start(sqlite_db: Database) -> None:
    sqlite_db.fill(rows_for(range(1, 13)))   # stamps 08:30 for ids 1-3, 09:30 for 4-7, ...
    assert _ids(sqlite_db.connector(), json.dumps({"cursor": "2024-03-01 10:30:00"})) == list(range(8, 13))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"table": "a", "query": "select 1"}, "exactly one of"),
        ({"query": "delete from residents"}, "must be a SELECT"),
        ({"table": "a", "batch": 3}, "settings.batch"),
    ],
)
def test_wrong_settings_are_configuration_errors(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SqlConnector("civil_db", settings, Connection(uri="sqlite:///x.db"))


def test_no_connection_or_a_foreign_watermark_is_a_configuration_error(sqlite_db: Database) -> None:
    with pytest.raises(ConfigurationError, match="needs a connection"):
        SqlConnector("civil_db", SETTINGS)
    sqlite_db.fill(rows_for(range(1, 3)))
    with pytest.raises(ConfigurationError, match="not a sql position"):
        list(sqlite_db.connector().extract("sha256:abc"))


@pytest.mark.postgres
@pytest.mark.reliability("G12")
def test_a_value_the_source_database_refuses_is_not_quoted(postgres_db: Database,
                                                            record_property: Callable[[str, object], None]) -> None:
    """PostgreSQL's DataError quotes the value it could not read (`invalid input syntax …: "1101…"`): the
    source error names the kind of failure, never the value, which would reach run.error and `hub status`."""
    postgres_db.fill(rows_for(range(1, 4)))
    connector = postgres_db.connector(query="SELECT id, CAST(\"身份证号\" AS integer) AS n, updated_at FROM residents",
                                      table=None)
    with pytest.raises(SourceDataError) as caught:
        list(connector.extract())
    message = str(caught.value)
    record_property("clear values found", int("110105" in message))
    assert "refused a value" in message and "110105" not in message, message
