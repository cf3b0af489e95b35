"""`hub serve` as an operator runs it: uvicorn workers over the store, an access log without query strings."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from hub.access import Policy
from hub.demo.api_access import demo_access
from tests.hub.api.conftest import FusedDistrict

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, server: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"hub serve exited with {server.returncode}: {server.communicate()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    server.send_signal(signal.SIGINT)
    raise AssertionError(f"hub serve did not answer in time: {server.communicate(timeout=30)[0][-3000:]}")


@pytest.mark.slow
def test_hub_serve_with_two_workers_logs_paths_without_query_strings(fused: FusedDistrict) -> None:
    """Also: the demo's consumer and the curl line `make run` prints work against the served API."""
    settings = fused.settings
    access = demo_access(fused.hub.engine, fused.context.keys, Policy.operator("tester"))
    assert settings.secret_key is not None
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_HOME=str(settings.home), HUB_DATABASE_URL=settings.database_url,
               HUB_SECRET_KEY=settings.secret_key.get_secret_value(), HUB_MAPPINGS_DIR=str(settings.mappings_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])), COLUMNS="200")
    server = subprocess.Popen([sys.executable, "-c", "from hub.cli import app; app()", "serve", "--port", str(port),
                               "--workers", "2", "--access-log"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/health", server)
        assert httpx.get(f"{base}/health?probe=SECRET-IN-QUERY").json() == {"status": "ok", "store": "ok"}
        missing = httpx.get(f"{base}/api/v1/nowhere?cursor=SECRET-IN-QUERY")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert "server" not in missing.headers
        curl = subprocess.run(["bash", "-c", access.curl(base)], capture_output=True, text=True, timeout=60)
        profile = json.loads(curl.stdout)
        assert profile["person"]["id"] == access.person_id and profile["person"]["values"]["name"]["mode"] == "clear"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=60)
    assert f"documentation at http://127.0.0.1:{port}/docs" in output
    assert '"GET /health HTTP/1.1" 200' in output and '"GET /api/v1/nowhere HTTP/1.1" 404' in output
    assert "SECRET-IN-QUERY" not in output
    assert "Traceback" not in output


def test_the_demo_consumer_is_registered_once_and_its_secret_rotated(client: TestClient,
                                                                     fused: FusedDistrict) -> None:
    operator = Policy.operator("tester")
    first = demo_access(fused.hub.engine, fused.context.keys, operator)
    second = demo_access(fused.hub.engine, fused.context.keys, operator)
    assert first.client_id == second.client_id and first.client_secret != second.client_secret
    form = {"grant_type": "client_credentials", "client_id": first.client_id}
    assert client.post("/api/v1/token", data={**form, "client_secret": first.client_secret}).status_code == 401
    assert client.post("/api/v1/token", data={**form, "client_secret": second.client_secret}).status_code == 200
    assert second.person_id is not None and f"/api/v1/persons/{second.person_id}/profile" in second.curl("http://h:1")


@pytest.mark.parametrize(("arguments", "environment", "logged"), [
    ([], {}, False),
    (["--access-log"], {}, True),
    ([], {"HUB_API_ACCESS_LOG": "true"}, True),
    (["--no-access-log"], {"HUB_API_ACCESS_LOG": "true"}, False),
])
def test_hub_serve_writes_the_access_log_only_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         arguments: list[str], environment: dict[str, str],
                                                         logged: bool) -> None:
    """The audit log is the record of every data request; uvicorn's access log is opt-in."""
    from typer.testing import CliRunner

    import hub.api.serve
    from hub.cli import app

    asked: dict[str, object] = {}
    monkeypatch.setattr(hub.api.serve, "serve", lambda settings, **options: asked.update(options))
    monkeypatch.setenv("HUB_HOME", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["serve", *arguments])
    assert result.exit_code == 0, result.output
    assert asked["access_log"] is logged
