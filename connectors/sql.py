"""Read a table or a SELECT from a department's database (SQLite, MariaDB/MySQL, PostgreSQL).

Incremental reads follow dlt's keyset idea: rows are ordered by (cursor, key...) and the watermark
is the position of the last row landed, `{"cursor": ..., "keys": [...]}`. The next run asks for rows
strictly after that position, so a boundary between batches inside a run of equal cursor values
neither repeats nor skips a row. Values travel as the driver returns them (no SQLAlchemy type
processing), so what goes back into the WHERE clause is exactly what came out: on SQLite a
timestamp stays the text it is stored as.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from pydantic import Field, field_validator, model_validator
from sqlalchemy.pool import NullPool
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from connectors.base import Batch, Column, SourceSchema
from connectors.connection import Connection, sqlalchemy_url
from connectors.settings import ConnectorSettings, parse_settings
from connectors.values import json_safe, json_safe_rows
from hub.errors import ConfigurationError, SourceDataError, SourceSchemaChanged, SourceUnavailable

__all__ = ["SqlConnector", "SqlSettings"]


class SqlSettings(ConnectorSettings):
    """`table` (optionally in `schema`) or `query`; `cursor` and `key` make extraction incremental."""

    table: str | None = None
    db_schema: str | None = Field(None, alias="schema")
    query: str | None = None
    cursor: str | None = None
    key: list[str] = Field(default_factory=list)
    columns: list[str] | None = None
    connect_timeout: float = Field(10.0, gt=0)

    @field_validator("key", mode="before")
    @classmethod
    def _one_key_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _table_or_query(self) -> SqlSettings:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of 'table' or 'query'")
        if self.query is not None and self.query.lstrip().split(None, 1)[0].lower() not in ("select", "with"):
            raise ValueError("'query' must be a SELECT (or WITH ... SELECT)")
        return self

    @property
    def order(self) -> list[str]:
        head = [self.cursor] if self.cursor else []
        return head + [k for k in self.key if k != self.cursor]


class SqlConnector:
    kind: ClassVar[str] = "sql"
    settings_model: ClassVar[type[SqlSettings]] = SqlSettings

    def __init__(
        self,
        source: str,
        settings: Mapping[str, Any],
        connection: Connection | None = None,
        *,
        batch_size: int = 5000,
        base_dir: Path | None = None,
        source_roots: Sequence[Path] = (),
    ):
        self.source = source
        self.settings = parse_settings(SqlSettings, source, settings)
        if connection is None:
            raise ConfigurationError(f"source {source!r}: a sql connector needs a connection")
        self.url = _read_only_sqlite(sqlalchemy_url(connection), base_dir)
        self.batch_size = batch_size

    # -- the interface -------------------------------------------------------------------------

    def discover(self) -> SourceSchema:
        with self._connection() as conn:
            columns = self._source_columns(conn)
        self._require(columns)
        detail = {"table": self.settings.table, "cursor": self.settings.cursor, "key": self.settings.key}
        return SourceSchema(columns=tuple(columns), detail=detail)

    def extract(self, watermark: str | None = None) -> Iterator[Batch]:
        start = _decode_watermark(self.source, watermark)
        with self._connection() as conn:
            names = [c.name for c in self._source_columns(conn)]
            self._require([Column(n) for n in names])
            wanted = self.settings.columns or names
            selected = list(dict.fromkeys([*wanted, *self.settings.order]))
            statement = self._statement(selected, start)
            order_at = [selected.index(n) for n in self.settings.order]
            streaming = conn.execution_options(stream_results=True, yield_per=self.batch_size)
            try:
                result = streaming.execute(statement)
                last = watermark
                for part in result.partitions():
                    rows = json_safe_rows(wanted, part)
                    if self.settings.cursor:
                        last = _last_position(part, order_at) or last
                    yield Batch(rows=rows, watermark=last)
            except GeneratorExit:
                # The caller stopped early: close the server-side cursor before the connection goes.
                result.close()
                raise
            except sa.exc.DBAPIError as exc:
                raise self._translate(exc, "reading rows") from None

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        s = self.settings
        if s.table:
            return f"table {s.db_schema + '.' if s.db_schema else ''}{s.table}"
        return "the query"

    @property
    def _place(self) -> str:
        """Where the database is, without credentials: `postgresql 127.0.0.1:5432/civil` or a file."""
        url = self.url
        if url.get_backend_name() == "sqlite":
            return f"sqlite file {str(url.database).removeprefix('file:')}"
        return f"{url.get_backend_name()} {url.host}:{url.port}/{url.database}"

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        engine = sa.create_engine(self.url, poolclass=NullPool, connect_args=self._connect_args())
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=self.settings.backoff_wait(),
            retry=retry_if_exception_type(sa.exc.DBAPIError),
            reraise=True,
        )
        try:
            try:
                conn = retrying(engine.connect)
            except sa.exc.DBAPIError as exc:
                tries = self.settings.retries + 1
                message = f"cannot connect to {self._place} after {tries} tries: {_first_line(exc)}"
                raise SourceUnavailable(self.source, message) from None
            with conn:
                yield conn
        finally:
            engine.dispose()

    def _connect_args(self) -> dict[str, Any]:
        seconds = self.settings.connect_timeout
        if self.url.get_backend_name() == "sqlite":
            return {"timeout": seconds}
        return {"connect_timeout": max(1, math.ceil(seconds))}

    def _source_columns(self, conn: sa.Connection) -> list[Column]:
        s = self.settings
        try:
            if s.table:
                found = sa.inspect(conn).get_columns(s.table, schema=s.db_schema)
                return [Column(c["name"], str(c["type"]).lower()) for c in found]
            probe = sa.text(f"SELECT * FROM ({self._query}) AS hub_src WHERE 1=0")
            return [Column(name, "unknown") for name in conn.execute(probe).keys()]  # noqa: SIM118
        except sa.exc.NoSuchTableError:
            raise SourceSchemaChanged(self.source, f"{self._where} not found") from None
        except sa.exc.DBAPIError as exc:
            raise self._translate(exc, f"reading the columns of {self._where}") from None

    def _require(self, columns: Sequence[Column]) -> None:
        have = {c.name for c in columns}
        s = self.settings
        roles = (("cursor", [s.cursor] if s.cursor else []), ("key", s.key), ("columns", s.columns))
        for role, names in roles:
            missing = [n for n in names or [] if n not in have]
            if missing:
                raise SourceSchemaChanged(
                    self.source, f"column {missing[0]!r} (settings.{role}) not found in {self._where}"
                )

    @property
    def _query(self) -> str:
        return (self.settings.query or "").strip().rstrip(";")

    def _statement(self, selected: list[str], start: tuple[Any, list[Any]] | None) -> sa.Select[Any]:
        """Columns without SQLAlchemy types: values come back as the driver gives them."""
        s = self.settings
        source: sa.FromClause
        if s.table:
            source = sa.table(s.table, *[sa.column(n) for n in selected], schema=s.db_schema)
        else:
            source = sa.text(self._query).columns(*[sa.column(n) for n in selected]).subquery("hub_src")
        statement = sa.select(*[source.c[n] for n in selected])
        if s.order:
            statement = statement.order_by(*[source.c[n] for n in s.order])
        if start is not None and s.cursor:
            cursor_value, keys = start
            if len(keys) == len(s.order) - 1:
                values = [cursor_value, *keys]
                after = sa.tuple_(*[source.c[n] for n in s.order]) > sa.tuple_(*map(_raw_bind, values))
                statement = statement.where(after)
            else:   # a watermark written by hand, without keys: closed start, the raw zone dedups
                statement = statement.where(source.c[s.cursor] >= _raw_bind(cursor_value))
        return statement

    def _translate(self, exc: sa.exc.DBAPIError, doing: str) -> Exception:
        if exc.connection_invalidated or isinstance(exc, sa.exc.InterfaceError):
            return SourceUnavailable(self.source, f"connection lost while {doing}: {_first_line(exc)}")
        if isinstance(exc, (sa.exc.ProgrammingError, sa.exc.OperationalError)):
            return SourceSchemaChanged(self.source, f"{doing} failed: {_first_line(exc)}")
        # DataError, IntegrityError and the like may quote the offending value (a resident ID): name the kind only
        return SourceDataError(self.source, f"{doing} failed: the database refused a value "
                                            f"({type(exc.orig).__name__}; its message is withheld: it may quote data)")


def _read_only_sqlite(url: sa.URL, base_dir: Path | None) -> sa.URL:
    """SQLite opened read-only: a missing file is then an unavailable source, not a new empty one."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return url
    path = Path(url.database)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return sa.URL.create("sqlite", database=f"file:{path}", query={"mode": "ro", "uri": "true"})


def _first_line(exc: sa.exc.DBAPIError) -> str:
    """The driver's own message, without SQLAlchemy's appended SQL and parameters (which may hold values)."""
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return f"{type(exc.orig).__name__}: {text.strip().splitlines()[0] if text.strip() else ''}"


def _raw_bind(value: Any) -> sa.BindParameter[Any]:
    return sa.bindparam(None, value, type_=sa.types.NullType())


def _last_position(part: Sequence[Sequence[Any]], order_at: list[int]) -> str | None:
    """The watermark of the last row whose cursor is set; rows with a NULL cursor leave it unchanged
    (they are read by a run without a watermark, as dlt's on_cursor_value_missing='include')."""
    for row in reversed(part):
        if row[order_at[0]] is not None:
            return _encode_watermark(row[order_at[0]], [row[i] for i in order_at[1:]])
    return None


_DECODERS: dict[str, Any] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": Decimal,
    "bytes": bytes.fromhex,
}


def _tag(value: Any) -> str:
    for name, kind in (("datetime", dt.datetime), ("date", dt.date), ("time", dt.time), ("decimal", Decimal)):
        if isinstance(value, kind):
            return name
    return "bytes" if isinstance(value, (bytes, bytearray, memoryview)) else "json"


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return json_safe(value)


def _encode_watermark(cursor_value: Any, keys: list[Any]) -> str:
    """`types` lets the next run bind a datetime as a datetime, so the database compares natively."""
    document = {
        "cursor": _plain(cursor_value),
        "keys": [_plain(k) for k in keys],
        "types": [_tag(v) for v in (cursor_value, *keys)],
    }
    return json.dumps(document, ensure_ascii=False)


def _decode_watermark(source: str, watermark: str | None) -> tuple[Any, list[Any]] | None:
    if not watermark:
        return None
    try:
        document = json.loads(watermark)
        values = [document["cursor"], *document.get("keys", [])]
        tags = document.get("types") or ["json"] * len(values)
        pairs = zip(values, tags, strict=True)
        decoded = [v if t == "json" or v is None else _DECODERS[t](v) for v, t in pairs]
    except (ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"source {source!r}: the watermark is not a sql position ({{'cursor': ..., 'keys': [...]}})"
        ) from None
    return decoded[0], decoded[1:]
