"""`hub serve`: the API under uvicorn; its access log, when turned on, never shows a query string or a body.

The access log is off unless asked for (`--access-log`, HUB_API_ACCESS_LOG): the audit log already records
every data request with who asked and what was disclosed, and a formatted log line per request cost a
measurable share of a read's CPU (bench/results/api-profile-speed.md). Identifiers travel in request
bodies (POST …/search), which uvicorn never logs; a query string may still carry a cursor or a filter, so
the access log's request line is cut at "?" before it is written.
With several workers uvicorn starts fresh processes that each build the app from the environment
(`app_from_environment`), opening their own connections to the store.
"""

from __future__ import annotations

import copy
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.settings import HubSettings

WORKER_STARTUP_SECONDS = 60
"""How long uvicorn lets a worker take to answer its supervisor: a worker imports the whole read path (pandas
and the normalizers come with hub.views) before it answers, which takes several seconds on a busy machine;
uvicorn's default of 5 s killed and restarted such workers in a loop."""
ACCESS_FORMAT = '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


class WithoutQueryString(logging.Filter):
    """Drops the query string from uvicorn's access records (args: client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup, with the access filter on its access logger and times on each line."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"without_query_string": {"()": f"{__name__}.WithoutQueryString"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["without_query_string"]
    config["formatters"]["access"]["fmt"] = ACCESS_FORMAT
    config["loggers"]["hub"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker process: settings from the HUB_ environment."""
    return create_app(HubSettings())


def serve(settings: HubSettings, *, host: str, port: int, workers: int, access_log: bool = False) -> None:
    """Run the API until interrupted. The store is opened first, so a wrong URL or key fails here with the
    hub's message instead of in every worker."""
    common: dict[str, Any] = {"host": host, "port": port, "log_config": log_config(), "access_log": access_log,
                              "server_header": False, "proxy_headers": False,
                              "timeout_worker_healthcheck": WORKER_STARTUP_SECONDS}
    if workers <= 1:
        uvicorn.run(create_app(settings), **common)
        return
    ApiContext.open(settings).close()
    uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=workers, **common)


def serve_command(*, host: str, port: int, workers: int) -> list[str]:
    """`hub serve` as an operator starts it, from this interpreter's virtualenv."""
    return [str(Path(sys.executable).parent / "hub"), "serve", "--host", host, "--port", str(port),
            "--workers", str(workers)]


def settings_environment(settings: HubSettings) -> dict[str, str]:
    """This process's environment with `settings` as HUB_ variables: what a `hub serve` child reads."""
    env = dict(os.environ, HUB_HOME=str(settings.home), HUB_DATABASE_URL=settings.database_url,
               HUB_MAPPINGS_DIR=str(settings.mappings_dir))
    if settings.sources_dir is not None:
        env["HUB_SOURCES_DIR"] = str(settings.sources_dir)
    if settings.secret_key is not None:
        env["HUB_SECRET_KEY"] = settings.secret_key.get_secret_value()
    return env


@contextmanager
def server_process(command: list[str], env: dict[str, str], ready_url: str, *,
                   seconds: float = WORKER_STARTUP_SECONDS) -> Iterator[subprocess.Popen[bytes]]:
    """A server in child processes, yielded once `ready_url` answers below 500; stopped on exit (SIGTERM,
    SIGKILL after 20 s). The benchmark and the load tests measure the API this way, in processes of its own
    as an operator runs it, not inside the process that generates the load."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode} before {ready_url} answered")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready_url} did not answer within {seconds:.0f} s")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
