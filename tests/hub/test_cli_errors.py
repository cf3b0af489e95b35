"""F9: what `hub` says when the store or a setting is wrong: one line naming the setting, what is wrong and
what to do, the documented exit code, and a traceback only with -v. Run through the installed `hub`
script, as an operator runs it, with this checkout first on the path."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
