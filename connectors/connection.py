"""Where a source lives and the secret to reach it, kept apart from its mapping.

A mapping names a connection; the connection itself comes from the environment
(`HUB_CONN_<NAME>`) or from the hub's connections file, in the two forms Airflow accepts for
`AIRFLOW_CONN_*`: a URI (`postgresql://user:pw@host:5432/db?sslmode=require`) or a JSON object
(`{"conn_type": "mysql", "host": ..., "port": ..., "login": ..., "password": ..., "schema": ...,
"extra": {...}}`). Credentials are split out of the URI at parse time, so `uri` can name the place in
an error message without carrying a password, and `repr()` never shows one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from hub.errors import ConfigurationError

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["Connection", "resolve_connection", "sqlalchemy_url"]

ENV_PREFIX = "HUB_CONN_"

# conn_type → SQLAlchemy dialect+driver; Airflow spells PostgreSQL "postgres", which SQLAlchemy 2 refuses.
_SQL_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}


@dataclass(frozen=True, slots=True)
class Connection:
    """A source's address (`uri`, without credentials or query) and its credentials.

    Query parameters of a URI land in `extra`, as Airflow does; SQL connections pass the scalar ones on
    to the driver (`sslmode`, `charset`).
    """

    uri: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def secret(self) -> str | None:
        """The token, or else the password: what an API key header or bearer auth sends."""
        return self.token or self.password

    @classmethod
    def from_value(cls, value: str | Mapping[str, Any]) -> Connection:
        """Parse a URI string, a JSON object as text, or an already-parsed mapping (from YAML)."""
        if isinstance(value, Mapping):
            return cls._from_fields(value)
        text = value.strip()
        if text.startswith("{"):
            try:
                fields = json.loads(text)
            except json.JSONDecodeError as exc:
                # The position only: the text may hold a password.
                raise ValueError(f"not valid JSON (line {exc.lineno} column {exc.colno})") from None
            if not isinstance(fields, dict):
                raise ValueError("a JSON connection must be an object")
            return cls._from_fields(fields)
        return cls._from_uri(text)

    @classmethod
    def _from_uri(cls, text: str) -> Connection:
        parts = urlsplit(text)
        if not parts.scheme:
            raise ValueError("neither a URI with a scheme (postgresql://...) nor a JSON object")
        extra: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
        if "__extra__" in extra:   # Airflow's way of putting a JSON extra into a URI
            extra.update(json.loads(extra.pop("__extra__")))
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        return cls(
            uri=f"{parts.scheme}://{netloc}{parts.path}",
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            token=_pop_token(extra),
            extra=extra,
        )

    @classmethod
    def _from_fields(cls, fields: Mapping[str, Any]) -> Connection:
        extra = fields.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        if not isinstance(extra, Mapping):
            raise ValueError("'extra' must be an object")
        extra = dict(extra)
        token = fields.get("token") or _pop_token(extra)
        return cls(
            uri=fields.get("uri") or _uri_from_fields(fields),
            login=fields.get("login"),
            password=fields.get("password"),
            token=token,
            extra=extra,
        )


_SECRET_EXTRAS = ("token", "api_key", "apikey")


def _pop_token(extra: dict[str, Any]) -> str | None:
    for name in _SECRET_EXTRAS:
        if extra.get(name):
            return str(extra.pop(name))
    return None


def _uri_from_fields(fields: Mapping[str, Any]) -> str | None:
    """Airflow's fields as a URI without credentials. For http conns Airflow keeps the scheme in
    `schema` or in `host` itself; both are honoured."""
    conn_type = str(fields.get("conn_type") or "").lower()
    host = str(fields.get("host") or "")
    port = fields.get("port")
    schema = str(fields.get("schema") or "")
    if not conn_type and not host:
        return None
    if "://" in host:
        return host.rstrip("/") + (f":{port}" if port else "")
    if conn_type in ("http", "https"):
        scheme = schema if schema in ("http", "https") else conn_type
        return f"{scheme}://{host}" + (f":{port}" if port else "")
    if conn_type == "sqlite":
        return f"sqlite:///{schema or host}"
    return f"{conn_type}://{host}" + (f":{port}" if port else "") + (f"/{schema}" if schema else "")


def resolve_connection(
    name: str, *, environ: Mapping[str, str], file_values: Mapping[str, Any]
) -> Connection:
    """The named connection: `HUB_CONN_<NAME>` first, then the connections file, else a clear error."""
    variable = ENV_PREFIX + re.sub(r"[^0-9A-Za-z]", "_", name).upper()
    origin, value = None, None
    if environ.get(variable):
        origin, value = f"environment variable {variable}", environ[variable]
    elif name in file_values:
        origin, value = "the connections file", file_values[name]
    if value is None:
        raise ConfigurationError(
            f"connection {name!r} not found: looked in environment variable {variable} "
            "and in the connections file"
        )
    try:
        return Connection.from_value(value)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"connection {name!r} from {origin} cannot be read: {exc}") from None


def sqlalchemy_url(conn: Connection) -> sa.URL:
    """A SQLAlchemy URL built from the parts, never from Airflow's `postgres://` form."""
    import sqlalchemy as sa  # only SQL sources pay for the import

    if not conn.uri:
        raise ConfigurationError("the connection has no URI (or conn_type and host)")
    parts = urlsplit(conn.uri)
    dialect, _, driver = parts.scheme.lower().partition("+")
    if dialect not in _SQL_DRIVERS:
        raise ConfigurationError(
            f"connection type {dialect!r} is not a SQL database this hub reads "
            f"(known: {', '.join(sorted(_SQL_DRIVERS))})"
        )
    drivername = _SQL_DRIVERS[dialect]
    if driver and dialect != "sqlite":
        drivername = f"{drivername.split('+')[0]}+{driver}"
    if dialect == "sqlite":
        database = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        return sa.URL.create("sqlite", database=database or None)
    # String extras are driver options (sslmode, connect_timeout); nested ones belong to other tools.
    query = {k: str(v) for k, v in conn.extra.items() if type(v) in (str, int)}
    if drivername.startswith("mysql"):
        query.setdefault("charset", "utf8mb4")
    return sa.URL.create(
        drivername,
        username=conn.login,
        password=conn.password,
        host=parts.hostname,
        port=parts.port,
        database=unquote(parts.path.lstrip("/")) or None,
        query=query,
    )
