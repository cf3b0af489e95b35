"""What the DAG files build, without Airflow: a DAG per mapping file, none for a draft, one for a broken file;
settings under the project folder; alerts that `hub status` prints; credentials handed to Airflow."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.connection import Connection, sqlalchemy_url
from hub.alerts import alerts_path, raise_alert, recent_alerts
from hub.cli import app
from hub.orchestrate import FUSION_DAG_ID, INGEST_DAG_PREFIX, DagPolicy, hub_settings, ingest_dag_specs
from hub.orchestrate.connections import airflow_environment, as_airflow_json
from hub.pipeline import Hub
from hub.protect import new_key_text
from hub.settings import HubSettings

PROJECT = Path(__file__).resolve().parents[3]


def test_a_new_mapping_file_is_a_new_dag_and_a_draft_is_none(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(PROJECT / "mappings", mappings)
    before = {s.source for s in ingest_dag_specs(mappings)}
    assert before == {p.stem for p in (PROJECT / "mappings").glob("*.yaml")}
    text = (mappings / "minzheng_social_orgs.yaml").read_text(encoding="utf-8")
    (mappings / "new_source.yaml").write_text(text.replace("source: minzheng_social_orgs", "source: new_source"),
                                              encoding="utf-8")
    (mappings / "draft.yaml").write_text(text.replace("source: minzheng_social_orgs", "source: draft_one\n"
                                                      "status: draft"), encoding="utf-8")
    (mappings / "broken.yaml").write_text("source: broken_one\nconnector: {kind: nosuch}\n", encoding="utf-8")
    specs = {s.source: s for s in ingest_dag_specs(mappings)}
    assert set(specs) == before | {"new_source", "broken_one"}
    new = specs["new_source"]
    assert new.dag_id == INGEST_DAG_PREFIX + "new_source" and new.asset_uri == "hub://sources/new_source"
    assert FUSION_DAG_ID in new.doc and specs["broken_one"].mapping_path.name == "broken.yaml"


def test_dag_task_settings_live_under_the_project_unless_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HUB_HOME", raising=False)
    monkeypatch.delenv("HUB_MAPPINGS_DIR", raising=False)
    settings = hub_settings(tmp_path)
    assert settings.home == tmp_path / "var" and settings.mappings_dir == tmp_path / "mappings"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'hub.db'}"
    monkeypatch.setenv("HUB_HOME", "/srv/hub")
    assert hub_settings(tmp_path).home == Path("/srv/hub")
    monkeypatch.setenv("HUB_DAG_RETRIES", "5")
    monkeypatch.setenv("HUB_DAG_INGEST_SCHEDULE", "none")
    policy = DagPolicy()
    args = policy.task_args(timeout=60, on_failure=print)
    assert args["retries"] == 5 and args["retry_exponential_backoff"] == 2.0 and args["pool"] == "hub"
    assert policy.schedule is None


def test_an_alert_is_kept_private_and_hub_status_shows_it(tmp_path: Path) -> None:
    home, key = tmp_path / "home", new_key_text()
    settings = HubSettings(home=home, secret_key=key)
    Hub.open(settings).engine.dispose()   # an empty store: `hub status` reads one
    raise_alert(settings, origin="hub_ingest_renshe_insured/ingest", run_id="manual__1", try_number=4,
                source="renshe_insured", message="StageFailed: source renshe_insured failed (SourceUnavailable)")
    assert [a.source for a in recent_alerts(settings)] == ["renshe_insured"]
    assert alerts_path(settings).stat().st_mode & 0o077 == 0
    result = CliRunner().invoke(app, ["status"], env={"HUB_HOME": str(home), "HUB_SECRET_KEY": key})
    assert "latest alerts" in result.output and "hub_ingest_renshe_insured/ingest" in result.output, result.output


@pytest.mark.parametrize("value", [
    "mysql+pymysql://root:pw@127.0.0.1:3306/hub_demo_gongan?charset=utf8mb4",
    "sqlite:////tmp/demo/renshe.db",
    {"conn_type": "http", "uri": "http://127.0.0.1:8765", "token": "t0ken"},
])
def test_a_connection_handed_to_airflow_reads_back_the_same(value: str | dict[str, str]) -> None:
    """`make run` hands the demo's connections to Airflow as JSON; read back field by field (as a task reads
    an Airflow connection) they reach the same place with the same secret."""
    original = Connection.from_value(value)
    fields = json.loads(as_airflow_json(original))
    again = Connection.from_value(fields)
    assert again.uri == original.uri and again.secret == original.secret and again.login == original.login
    if not original.uri or not original.uri.startswith("http"):
        assert sqlalchemy_url(again) == sqlalchemy_url(original)
    assert list(airflow_environment({"gongan": value})) == ["AIRFLOW_CONN_GONGAN"]
