"""Source credentials under Airflow: its Connections first, the hub's own connection store second.

A mapping names a connection (`connection: gongan`); under Airflow the hub asks Airflow for a connection
of that id (AIRFLOW_CONN_GONGAN, the UI, a secrets backend) and reads it field by field into the hub's
`Connection`. When Airflow has none, the hub falls back to what it reads outside Airflow: HUB_CONN_GONGAN,
then the connections file (connectors.connection). `make run` hands the demo's connections to Airflow
this way (`airflow_environment`), so the DAGs read their credentials from Airflow.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from connectors.connection import Connection

log = logging.getLogger(__name__)

__all__ = ["airflow_conn_id", "airflow_connection", "airflow_environment", "as_airflow_json"]


def airflow_conn_id(name: str) -> str:
    """The Airflow connection id of a mapping's connection name: the name itself, lower case."""
    return re.sub(r"[^0-9a-z_]", "_", name.lower())


def airflow_connection(name: str) -> Connection | None:
    """The connection Airflow holds under the mapping's connection name, or None when it has none."""
    from airflow.sdk import Connection as AirflowConnection
    from airflow.sdk.exceptions import AirflowNotFoundException

    conn_id = airflow_conn_id(name)
    try:
        found = AirflowConnection.get(conn_id)
    except AirflowNotFoundException:
        log.info("connection %s: none in Airflow, using the hub's (HUB_CONN_*, connections file)", conn_id)
        return None
    log.info("connection %s: from Airflow", conn_id)
    extra = found.extra_dejson if found.extra else {}
    return Connection.from_value({"conn_type": found.conn_type, "host": found.host, "port": found.port,
                                  "schema": found.schema, "login": found.login, "password": found.password,
                                  "extra": extra})


def as_airflow_json(conn: Connection) -> str:
    """A hub connection in the JSON form of AIRFLOW_CONN_* (and of the UI's fields), credentials included."""
    fields: dict[str, Any] = {}
    if conn.uri:
        parts = urlsplit(conn.uri)
        scheme = parts.scheme.lower()
        if scheme == "sqlite":
            fields.update(conn_type="sqlite", host=parts.path[1:] if parts.path.startswith("/") else parts.path)
        else:
            fields.update(conn_type=scheme, host=parts.hostname or "", port=parts.port,
                          schema=parts.path.lstrip("/") or None)
    if conn.login:
        fields["login"] = conn.login
    if conn.password:
        fields["password"] = conn.password
    extra = dict(conn.extra)
    if conn.token and conn.token != conn.password:
        extra["token"] = conn.token
    if extra:
        fields["extra"] = extra
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False)


def airflow_environment(connections: Mapping[str, Any]) -> dict[str, str]:
    """AIRFLOW_CONN_<NAME> variables for the hub's connections (name → value, as the connections file holds)."""
    return {f"AIRFLOW_CONN_{airflow_conn_id(name).upper()}": as_airflow_json(Connection.from_value(value))
            for name, value in connections.items()}
