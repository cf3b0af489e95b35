"""`airflow standalone` beside the hub (what `make run` starts): started, checked, triggered, stopped cleanly.

Facts this follows (../shared/stack-notes.md §2): standalone starts its parts as `airflow …` processes, so
the virtualenv's bin goes first on PATH; LocalExecutor forks AIRFLOW__CORE__PARALLELISM workers, held at
the machine's cores; standalone stops cleanly only on SIGINT (KeyboardInterrupt), and a process started
from a script may inherit SIGINT as ignored, so the child restores its default before it becomes
Airflow. It runs in a session of its own (hub.service_process, as the webhook delivery worker does): on stop
it gets SIGINT, and whatever of its process group is still there after the grace period gets SIGTERM, then
SIGKILL. The admin password is kept in a private file under AIRFLOW_HOME and reused, so the login stays the
same from one `make run` to the next.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hub.errors import ConfigurationError
from hub.orchestrate.connections import airflow_environment
from hub.orchestrate.policy import DagPolicy
from hub.orchestrate.specs import FUSION_DAG_ID, ingest_dag_specs
from hub.private_files import make_private_dir, write_private_text
from hub.service_process import ServiceProcess, start_service
from hub.settings import HubSettings

ADMIN = "admin"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
_RESTORE_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                   "os.execv(sys.argv[1], sys.argv[1:])")

__all__ = ["AirflowStandalone", "admin_password", "airflow_env", "running_airflow", "start_standalone"]


def _venv_bin() -> Path:
    return Path(sys.executable).parent


def airflow_env(home: Path, project: Path, settings: HubSettings, *, port: int,
                connections: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The environment of Airflow's processes: its home and DAGs folder, its limits, and the hub's settings
    (absolute paths: Airflow's processes do not run in the project folder), credentials as AIRFLOW_CONN_*."""
    env = dict(os.environ)
    env.update({
        "PATH": f"{_venv_bin()}{os.pathsep}{env.get('PATH', '')}",
        # the DAG files import the hub of the project whose dags/ they are, whatever the virtualenv has
        "PYTHONPATH": os.pathsep.join(p for p in (str(project), env.get("PYTHONPATH", "")) if p),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": str(DagPolicy().pool_slots),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",   # one operator's UI; each further worker is another full process
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "HUB_HOME": str(settings.home.resolve()),
        "HUB_MAPPINGS_DIR": str(settings.mappings_dir.resolve()),
        "HUB_DATABASE_URL": settings.database_url,
    })
    # Standalone keeps Airflow's own metadata in SQLite; its scheduler, API server and task runners write it at
    # once, and SQLite's default wait for a lock (5 s) is too short on two busy cores: the scheduler then dies
    # on "database is locked". An operator's own metadata database (PostgreSQL) is left as set.
    env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{(home / 'airflow.db').resolve()}?timeout=60")
    if settings.sources_dir is not None:
        env["HUB_SOURCES_DIR"] = str(settings.sources_dir.resolve())
    if settings.secret_key is not None:
        env["HUB_SECRET_KEY"] = settings.secret_key.get_secret_value()
    elif settings.key_file is not None:
        env["HUB_KEY_FILE"] = str(settings.key_file.resolve())
    env.update(airflow_environment(connections or {}))
    return env


def admin_password(home: Path) -> str:
    """The admin's password, kept in a private file under AIRFLOW_HOME (made on the first start, reused)."""
    make_private_dir(home)
    passwords = home / PASSWORDS_FILE
    try:
        return str(json.loads(passwords.read_text(encoding="utf-8"))[ADMIN])
    except (OSError, ValueError, KeyError):
        password = secrets.token_urlsafe(12)
        write_private_text(passwords, json.dumps({ADMIN: password}))
        return password


@dataclass
class AirflowStandalone:
    """A running `airflow standalone`: its URL, login, REST calls, and a clean stop."""

    service: ServiceProcess
    url: str
    username: str
    password: str = field(repr=False)
    _token: str | None = field(default=None, repr=False)

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.service.process

    @property
    def log_path(self) -> Path:
        return self.service.log_path

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 180) -> None:
        """Until its API answers (ChildExited, a RuntimeError, when it ends first; ChildNotReady, a TimeoutError)."""
        self.service.wait_ready(self._healthy, timeout, every=1.0)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to /api/v2 with a bearer token (fetched once from /auth/token)."""
        if self._token is None:
            answer = httpx.post(f"{self.url}/auth/token", json={"username": self.username, "password": self.password},
                                timeout=30)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return httpx.request(method, f"{self.url}/api/v2{path}", headers={"Authorization": f"Bearer {self._token}"},
                             timeout=30, **kwargs)

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 180) -> None:
        """Until the DAG processor has parsed every one of them."""
        pending = set(dag_ids)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            pending = {d for d in pending if self.api("GET", f"/dags/{d}").status_code != 200}
            errors = self.api("GET", "/importErrors").json().get("import_errors", []) if pending else []
            if errors:
                raise RuntimeError("the DAG files do not import: " + "; ".join(
                    f"{e.get('filename')}: {str(e.get('stack_trace', '')).strip().splitlines()[-1:]}" for e in errors))
            if pending:
                time.sleep(2)
        if pending:
            raise TimeoutError(f"DAGs not parsed within {timeout:.0f} s: {', '.join(sorted(pending))}; "
                               f"see {self.log_path}")

    def ensure_pool(self) -> None:
        """The hub's pool (DagPolicy: its name, one slot per core): created, or resized if it exists."""
        policy = DagPolicy()
        body = {"name": policy.pool, "slots": policy.pool_slots, "description": "hub work: one slot per core",
                "include_deferred": False}
        answer = self.api("POST", "/pools", json=body)
        if answer.status_code == 409:
            answer = self.api("PATCH", f"/pools/{policy.pool}", json=body)
        answer.raise_for_status()

    def trigger(self, dag_id: str) -> str:
        """A manual run of the DAG now; its run id."""
        answer = self.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
        answer.raise_for_status()
        return str(answer.json()["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after", "limit": 50})
        answer.raise_for_status()
        return list(answer.json()["dag_runs"])

    def stop(self, grace: float = 30) -> None:
        """SIGINT (standalone's own clean shutdown), then what is left of its process group is terminated."""
        self.service.stop(signal.SIGINT, grace, term_grace=10.0)


def start_standalone(home: Path, env: Mapping[str, str], *, port: int) -> AirflowStandalone:
    """Start `airflow standalone` in its own session (output in HOME/standalone.log; it migrates its database
    itself), wait until its API answers, and make the hub's pool."""
    password = admin_password(home)
    service = start_service([sys.executable, "-c", _RESTORE_SIGINT, str(_venv_bin() / "airflow"), "standalone"],
                            name="airflow standalone", log_path=home / "standalone.log", env=env, cwd=home)
    standalone = AirflowStandalone(service, f"http://127.0.0.1:{port}", ADMIN, password)
    try:
        standalone.wait_healthy()
        standalone.ensure_pool()
    except BaseException:
        standalone.stop()
        raise
    return standalone


@contextmanager
def running_airflow(settings: HubSettings, project: Path, *, port: int = 8080) -> Iterator[AirflowStandalone]:
    """`make run`'s Airflow: standalone under HUB_HOME/airflow over the project's dags/, the demo's
    connections handed over as AIRFLOW_CONN_*, every ingest DAG triggered once (the fusion DAG follows
    through their assets); stopped when the block ends, however it ends."""
    from hub.pipeline import load_connections_file

    if not (project / "dags").is_dir():
        raise ConfigurationError(f"no dags/ folder in {project}: run `hub demo --airflow` from the project folder")
    home = settings.home.resolve() / "airflow"
    env = airflow_env(home, project, settings, port=port, connections=load_connections_file(settings))
    env.setdefault("HUB_DAG_INGEST_SCHEDULE", "none")   # the demo's sources never change: run when triggered
    airflow = start_standalone(home, env, port=port)
    try:
        specs = ingest_dag_specs(settings.mappings_dir)
        airflow.wait_for_dags([s.dag_id for s in specs] + [FUSION_DAG_ID])
        for spec in specs:
            airflow.trigger(spec.dag_id)
        yield airflow
    finally:
        airflow.stop()
