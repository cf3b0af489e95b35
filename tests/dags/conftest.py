"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME, migrated once per session, with the hub's pool.

Airflow reads AIRFLOW_HOME when it is first imported, so the variables are set when this file is
collected, before any test imports it; nothing else in the suite imports Airflow. The HUB_DAG_ policy
is shortened (one retry after a second) so that a failing source shows its retry without waiting minutes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from hub.orchestrate import POOL

PROJECT = Path(__file__).resolve().parents[2]
DAGS = PROJECT / "dags"
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="hub-airflow-test-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)   # made at collection, used or not
AIRFLOW_ENV = {
    "AIRFLOW_HOME": str(AIRFLOW_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
    "AIRFLOW__CORE__PARALLELISM": "2",
    "HUB_DAG_RETRIES": "1",
    "HUB_DAG_RETRY_DELAY": "1",
    "HUB_DAG_INGEST_SCHEDULE": "none",
}
os.environ.update(AIRFLOW_ENV)


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the `airflow` command of this virtualenv; its output, or the test fails with it."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    done = subprocess.run(command, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The session's Airflow metadata database, migrated, with the hub's pool (removed when pytest exits)."""
    airflow_cli("db", "migrate")
    airflow_cli("pools", "set", POOL, "2", "hub work: one slot per core")
    return AIRFLOW_HOME


@pytest.fixture(scope="session")
def dag_bag(airflow_db: Path) -> Any:
    """Every DAG of dags/, parsed as the scheduler parses them (no import error allowed)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag
