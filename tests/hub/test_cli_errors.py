"""F9: what `hub` says when the store or a setting is wrong: one line naming the setting, what is wrong and
what to do, the documented exit code, and a traceback only with -v. Run through the installed `hub`
script, as an operator runs it, with this checkout first on the path."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, select, text

from hub.errors import ConnectorError, MappingError, MappingProblem, ReviewError

STORE, USAGE = 3, 2     # the exit codes README.md documents

HUB_SCRIPT = Path(sys.executable).parent / "hub"
CHECKOUT = Path(__file__).resolve().parents[2]


def run_hub(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    (tmp_path / "mappings").mkdir(exist_ok=True)
    env.update({"PYTHONPATH": str(CHECKOUT), "HUB_HOME": str(tmp_path / "home"),
                "HUB_MAPPINGS_DIR": str(tmp_path / "mappings"), "COLUMNS": "200"})
    env.update({f"HUB_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run([str(HUB_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


CASES = {
    "postgres unreachable": (("status",), {"database_url": "postgresql+psycopg://hub:pw-s3cret@127.0.0.1:{port}/hub"},
                             STORE, ("HUB_DATABASE_URL", "refused", "start the database server")),
    "database missing": (("status",), {"database_url": "postgresql+psycopg://postgres@127.0.0.1:5432/hub_no_such_db"},
                         STORE, ("HUB_DATABASE_URL", "hub_no_such_db", "does not exist", "createdb")),
    "not a database URL": (("status",), {"database_url": "postgress://hub:pw-s3cret@db/hub"},
                           USAGE, ("HUB_DATABASE_URL", "SQLAlchemy URL")),
    "user unknown": (("status",), {"database_url": "postgresql+psycopg://no_such_role_h18:pw-s3cret@127.0.0.1:5432/test"},
                     STORE, ("HUB_DATABASE_URL", "no_such_role_h18", "fix the user or password")),
    "secret key not base64": (("ingest",), {"secret_key": "not base64!"},
                              USAGE, ("HUB_SECRET_KEY", "base64", "hub keygen")),
    "batch size not a number": (("status",), {"batch_size": "many"}, USAGE, ("HUB_BATCH_SIZE", "integer")),
    "batch size zero": (("status",), {"batch_size": "0"}, USAGE, ("HUB_BATCH_SIZE", "greater than 0")),
}


@pytest.mark.reliability("F9")
@pytest.mark.parametrize("case", list(CASES))
def test_a_wrong_store_or_setting_is_one_line_and_a_documented_exit_code(
        case: str, tmp_path: Path, record_property: Any) -> None:
    args, settings, code, words = CASES[case]
    settings = {k: v.format(port=closed_port()) for k, v in settings.items()}
    result = run_hub(tmp_path, *args, **settings)
    record_property("traceback lines", (result.stderr + result.stdout).count("\n  File "))
    line = one_line(result)
    assert result.returncode == code, (result.returncode, line)
    for word in words:
        assert word in line, (word, line)
    assert "pw-s3cret" not in result.stderr + result.stdout      # the password stays hidden


@pytest.mark.reliability("F9")
def test_verbose_adds_the_traceback(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://hub@127.0.0.1:{closed_port()}/hub"
    result = run_hub(tmp_path, "-v", "status", database_url=url)
    assert result.returncode == STORE
    assert "Traceback (most recent call last)" in result.stderr and "OperationalError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: the store cannot be used")


def test_each_kind_of_error_has_its_documented_code() -> None:
    from hub.cli_console import ExitCode, describe_failure

    problem = MappingProblem("m.yaml", 3, "record_id", "unknown column")
    assert describe_failure(MappingError([problem])).code == ExitCode.FAILED
    assert describe_failure(ConnectorError("s", "file 'x.csv' not found")).code == ExitCode.FAILED
    assert describe_failure(ReviewError("no record 'a|b|c'")).code == ExitCode.USAGE
    assert describe_failure(KeyboardInterrupt()).code == ExitCode.INTERRUPTED
    try:
        {}["650102198503071237"]
    except KeyError as exc:     # a bug: its message may quote a value, so only type and place are said
        failure = describe_failure(exc)
    assert failure.code == ExitCode.INTERNAL and "650102198503071237" not in failure.message
    assert "KeyError" in failure.message and "-v" in failure.message


# -- a statement the store refuses is a bug or a race (exit 4), and its value is never echoed ---------------

RESIDENT_ID = "650102198503071237"   # the value the failing statement carries; must appear nowhere


def _data_error(reader: Connection) -> None:
    """A real DataError from the store's driver; psycopg's first line quotes the value it refused."""
    if reader.dialect.name == "postgresql":
        reader.execute(text("SELECT CAST(:v AS bigint)"), {"v": RESIDENT_ID + "X"})
        return
    raw = reader.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    length = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 8)   # sqlite3.DataError: string or blob too big
    try:
        reader.execute(text("SELECT :v"), {"v": RESIDENT_ID})
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, length)


def _integrity_error(reader: Connection) -> None:
    """A real IntegrityError: one key twice (PostgreSQL's DETAIL line quotes the key's value)."""
    reader.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS probe_f9 (id TEXT PRIMARY KEY)"))
    reader.execute(text("INSERT INTO probe_f9 VALUES (:v)"), {"v": RESIDENT_ID})
    reader.execute(text("INSERT INTO probe_f9 VALUES (:v)"), {"v": RESIDENT_ID})


@pytest.mark.reliability("F9")
@pytest.mark.parametrize("statement", [_data_error, _integrity_error], ids=["DataError", "IntegrityError"])
def test_a_statement_the_store_refuses_is_exit_4_and_never_echoes_its_value(
        statement: Callable[[Connection], None], store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        record_property: Any) -> None:
    from typer.testing import CliRunner

    import hub.ingest.runner
    from hub.cli import app
    from hub.protect import new_key_text
    from hub.store import tables

    for name in ("mappings", "sources"):
        (tmp_path / name).mkdir()
    (tmp_path / "sources" / "people.csv").write_text("编号,姓名\n1,张伟\n", encoding="utf-8")
    (tmp_path / "mappings" / "people.yaml").write_text(
        "source: people\ndepartment: civil_affairs\nconnector:\n  kind: file\n  settings: {path: people.csv}\n"
        "record_id: 编号\nentities:\n  person:\n    type: person\n    fields:\n      name: 姓名\n", encoding="utf-8")
    for name, value in (("HOME", tmp_path / "home"), ("SOURCES_DIR", tmp_path / "sources"),
                        ("MAPPINGS_DIR", tmp_path / "mappings"), ("DATABASE_URL", store_url),
                        ("SECRET_KEY", new_key_text())):
        monkeypatch.setenv(f"HUB_{name}", str(value))
    runner = CliRunner()
    with monkeypatch.context() as patched:   # the first batch's statement fails in the store
        patched.setattr(hub.ingest.runner, "screen_batch", lambda reader, *_a, **_k: statement(reader))
        plain, verbose = runner.invoke(app, ["ingest"]), runner.invoke(app, ["-v", "ingest"])
    status = runner.invoke(app, ["status"])
    engine = create_engine(store_url)
    with engine.connect() as conn:
        errors = conn.execute(select(tables.run.c.error).where(tables.run.c.source == "people")).scalars().all()
    engine.dispose()
    said = plain.output + verbose.output + status.output + "".join(e or "" for e in errors)
    record_property("values echoed", said.count(RESIDENT_ID))
    kind = statement.__name__.strip("_").replace("_", " ").title().replace(" ", "")   # DataError, IntegrityError
    assert RESIDENT_ID not in said, said
    assert plain.exit_code == verbose.exit_code == 4, plain.output
    assert f"error: unexpected error {kind} in " in plain.output and "-v" in plain.output, plain.output
    assert "Traceback" in verbose.output and f"sqlalchemy.exc.{kind}: (text withheld" in verbose.output
    assert errors == [f"internal error {kind}"] * 2 and f"internal error {kind}" in status.output, (errors, status)


def test_store_errors_by_what_they_mean() -> None:
    from sqlalchemy import exc

    from hub.cli_console import ExitCode, describe_failure

    class Refused(Exception):
        sqlstate = "42501"   # PostgreSQL: insufficient privilege (psycopg raises it as a ProgrammingError)

    unusable = [exc.OperationalError("SELECT 1", None, Exception("connection refused")),
                exc.InterfaceError("SELECT 1", None, Exception("connection already closed")),
                exc.ProgrammingError("SELECT 1", None, Refused("permission denied for table run"))]
    bugs = [exc.ProgrammingError("SELECT nope", None, Exception('relation "nope" does not exist')),
            exc.IntegrityError("INSERT", None, Exception(f"Key (id)=({RESIDENT_ID}) already exists")),
            exc.DataError("SELECT", None, Exception(f'invalid input syntax for type bigint: "{RESIDENT_ID}"'))]
    assert [describe_failure(e).code for e in unusable] == [ExitCode.STORE] * 3
    assert [describe_failure(e).code for e in bugs] == [ExitCode.INTERNAL] * 3
    assert not any(RESIDENT_ID in describe_failure(e).message for e in bugs)
