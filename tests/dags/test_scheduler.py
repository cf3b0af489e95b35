"""The asset trigger, under a running scheduler: `dag.test()` never starts an asset's consumers.

`airflow standalone` as `make run` starts it (hub.orchestrate.standalone), in a home of its own: one
ingest DAG triggered through the REST API (/api/v2) must lead the scheduler to an `asset_triggered` run
of the fusion DAG that succeeds; then standalone stops cleanly, leaving no process behind.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from hub.demo import write_connections_file
from hub.orchestrate import FUSION_DAG_ID, INGEST_DAG_PREFIX
from hub.orchestrate.standalone import airflow_env, start_standalone
from hub.pipeline import load_connections_file
from hub.protect import new_key_text
from hub.settings import HubSettings
from tests.conftest import MakeDistrict
from tests.dags.conftest import PROJECT

pytestmark = pytest.mark.slow

SOURCE = "minzheng_social_orgs"   # a file source: no server to keep up beside Airflow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_ingest_run_triggers_the_fusion_dag_through_its_asset(tmp_path: Path, make_district: MakeDistrict) -> None:
    home = tmp_path / "home"
    manifest = make_district(home / "demo", 200, seed=5)
    settings = HubSettings(home=home, database_url=f"sqlite:///{home / 'hub.db'}", secret_key=new_key_text(),
                           mappings_dir=PROJECT / "mappings")
    assert settings.connections_file is not None
    write_connections_file(manifest, settings.connections_file)
    port = _free_port()
    env = airflow_env(tmp_path / "airflow", PROJECT, settings, port=port,
                      connections=load_connections_file(settings))
    env["HUB_DAG_INGEST_SCHEDULE"] = "none"
    airflow = start_standalone(tmp_path / "airflow", env, port=port)
    try:
        airflow.wait_for_dags([INGEST_DAG_PREFIX + SOURCE, FUSION_DAG_ID])
        airflow.trigger(INGEST_DAG_PREFIX + SOURCE)
        deadline, fusion = time.monotonic() + 150, []
        while time.monotonic() < deadline:
            fusion = [r for r in airflow.runs(FUSION_DAG_ID) if r["run_type"] == "asset_triggered"]
            if any(r["state"] in ("success", "failed") for r in fusion):
                break
            time.sleep(2)
        ingest = airflow.runs(INGEST_DAG_PREFIX + SOURCE)
    finally:
        airflow.stop()
    assert [r["state"] for r in ingest] == ["success"]
    assert [r["state"] for r in fusion] == ["success"], (fusion, airflow.log_path.read_text()[-3000:])
    assert airflow.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        import os

        os.killpg(airflow.process.pid, 0)   # the whole process group is gone
