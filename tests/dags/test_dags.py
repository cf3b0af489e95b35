"""Every DAG of dags/ runs for real (`dag.test()`) over a small simulated district, on both stores.

Credentials come from Airflow Connections (AIRFLOW_CONN_*, made from the demo's connections, whose file
is then removed), so the runs also show that a task reads them from Airflow. A broken source (its
database unreachable, or a column renamed) fails its own DAG, with a retry only where one can help and
an alert that `hub status` reads, while the other sources land and the fusion DAG publishes.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from sqlalchemy import make_url, select

from hub.alerts import recent_alerts
from hub.demo import DemoManifest, running_property_api, write_connections_file
from hub.demo.grids import write_grids_file
from hub.events import list_events
from hub.orchestrate import FUSION_DAG_ID, INGEST_DAG_PREFIX, hub_settings
from hub.orchestrate.connections import airflow_environment
from hub.pipeline import Hub, load_connections_file
from hub.protect import new_key_text
from hub.publish import current_version
from hub.settings import HubSettings
from hub.status import source_status
from tests.conftest import MakeDistrict
from tests.dags.conftest import PROJECT

pytestmark = pytest.mark.slow


@pytest.fixture
def hub_env(tmp_path: Path, store_url: str, make_district: MakeDistrict,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HubSettings, DemoManifest]]:
    """A 500-resident district, the 物业 API serving it, the hub's settings in HUB_ variables (as a DAG
    task reads them) and every connection in AIRFLOW_CONN_* only."""
    home = tmp_path / "home"
    manifest = make_district(home / "demo", 500, seed=3)
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        for name, value in {"HUB_HOME": str(home), "HUB_DATABASE_URL": store_url, "HUB_SECRET_KEY": new_key_text(),
                            "HUB_MAPPINGS_DIR": str(PROJECT / "mappings")}.items():
            monkeypatch.setenv(name, value)
        settings = hub_settings(PROJECT)
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=urlparse(base_url).port or 0)
        for name, value in airflow_environment(load_connections_file(settings)).items():
            monkeypatch.setenv(name, value)
        settings.connections_file.unlink()   # from here on only Airflow knows the credentials
        assert settings.grids_file is not None
        write_grids_file(manifest.truth_dir, settings.grids_file)
        yield settings, manifest


def _run(bag: Any, dag_id: str) -> Any:
    """One real run of the DAG, its tasks in this process (dag.test); the DagRun."""
    return bag.dags[dag_id].test()


def _task_tries(run: Any) -> dict[str, tuple[str, int]]:
    return {ti.task_id: (str(ti.state), ti.try_number) for ti in run.get_task_instances()}


def test_every_dag_runs_and_the_fusion_publishes(dag_bag: Any, hub_env: tuple[HubSettings, DemoManifest],
                                                 caplog: pytest.LogCaptureFixture) -> None:
    settings, _ = hub_env
    ingest_ids = sorted(d for d in dag_bag.dags if d.startswith(INGEST_DAG_PREFIX))
    assert len(ingest_ids) == len(list((PROJECT / "mappings").glob("*.yaml")))
    caplog.set_level(logging.INFO)
    for dag_id in ingest_ids:
        run = _run(dag_bag, dag_id)
        assert run.state == "success", (dag_id, _task_tries(run))
    run = _run(dag_bag, FUSION_DAG_ID)
    assert run.state == "success", _task_tries(run)
    tasks = [t.task_id for t in dag_bag.dags[FUSION_DAG_ID].topological_sort()]
    assert tasks == ["resolve", "fuse", "derive", "publish", "report"]

    hub = Hub.open(settings, create=False)
    try:
        rows = {s.source: s for s in source_status(hub.engine, stale_after=settings.stale_after)}
        with hub.engine.connect() as conn:
            version = current_version(conn)
        events = list_events(hub.engine, states=None)
    finally:
        hub.engine.dispose()
    assert sorted(INGEST_DAG_PREFIX + s for s in rows) == ingest_ids
    assert set(events["origin"]) == {"finding", "ticket"}                 # findings and 物业 tickets, located
    assert events["grid"].notna().mean() > 0.9 and events.query("state == 'assigned'")["worker_id"].notna().all()
    # grid_collection (网格采集) is pushed by form write-backs: its DAG runs and finds nothing to pull
    assert all(s.status == "succeeded" and (s.extracted > 0 or s.source == "grid_collection")
               for s in rows.values()), rows
    assert version is not None
    text = caplog.text
    assert "connection gongan: from Airflow" in text and "connection wuye: from Airflow" in text
    assert "ingest gongan_population: succeeded, extracted" in text
    assert "resolve person (full): records" in text and "publish: version" in text and "derive: findings" in text
    high = events.query("origin == 'finding' and severity == 'high'")
    alerts = recent_alerts(settings)        # new high-severity findings raise one alert, and nothing else does
    assert [a.origin for a in alerts] == (["hub_fusion/derive"] if len(high) else [])
    assert all(rule in alerts[0].message for rule in set(high["kind"])) if alerts else True

    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        produced = {e.source_dag_id for e in session.scalars(select(AssetEvent))}
    assert set(ingest_ids) <= produced


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)   # store-specific paths: the test above
def test_a_broken_source_fails_its_own_dag_and_the_others_publish(
        dag_bag: Any, hub_env: tuple[HubSettings, DemoManifest], monkeypatch: pytest.MonkeyPatch) -> None:
    settings, manifest = hub_env
    # 人社's database unreachable: Airflow's connection wins over the hub's own, which would work
    monkeypatch.setenv("AIRFLOW_CONN_RENSHE", json.dumps({"conn_type": "mysql", "host": "127.0.0.1", "port": 9,
                                                          "login": "nobody", "schema": "renshe"}))
    # 公安's population table renamed a column the mapping reads
    with sqlite3.connect(str(make_url(manifest.gongan_url).database)) as db:
        db.execute("ALTER TABLE RK_SYRK RENAME COLUMN XM TO XINGMING")
    runs = {source: _run(dag_bag, INGEST_DAG_PREFIX + source)
            for source in ("renshe_insured", "gongan_population", "minzheng_social_orgs", "wuye_houses")}
    assert runs["renshe_insured"].state == "failed"
    assert _task_tries(runs["renshe_insured"])["ingest"] == ("failed", 2)      # retried once: it may come back
    assert runs["gongan_population"].state == "failed"
    assert _task_tries(runs["gongan_population"])["ingest"] == ("failed", 1)   # not retried: the column is gone
    assert runs["minzheng_social_orgs"].state == runs["wuye_houses"].state == "success"
    fusion = _run(dag_bag, FUSION_DAG_ID)
    assert fusion.state == "success", _task_tries(fusion)

    alerts = {a.source: a for a in recent_alerts(settings)}
    assert set(alerts) == {"renshe_insured", "gongan_population"}
    assert alerts["renshe_insured"].origin == f"{INGEST_DAG_PREFIX}renshe_insured/ingest"
    assert "SourceUnavailable" in alerts["renshe_insured"].message
    assert "SourceSchemaChanged" in alerts["gongan_population"].message and "XM" in alerts["gongan_population"].message
    hub = Hub.open(settings, create=False)
    try:
        rows = {s.source: s for s in source_status(hub.engine, stale_after=settings.stale_after)}
        with hub.engine.connect() as conn:
            assert current_version(conn) is not None
    finally:
        hub.engine.dispose()
    assert rows["renshe_insured"].status == rows["gongan_population"].status == "failed"
    assert rows["minzheng_social_orgs"].status == "succeeded"
