"""The fusion DAG: resolve → fuse → derive (rules, then events) → publish → the auditors' quality report,
scheduled whenever any source's asset is updated. New high-severity findings raise an alert in derive.

Wiring only: each task calls one hub function (hub.orchestrate.tasks → hub.pipeline). Several sources
landing close together queue their asset events; one run at a time takes them all.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, AssetAny, dag, get_current_context, task

from hub.orchestrate import (
    FUSION_DAG_ID,
    START_DATE,
    DagPolicy,
    derive_task,
    fuse_task,
    hub_settings,
    ingest_dag_specs,
    on_failure,
    publish_task,
    report_task,
    resolve_task,
)

PROJECT = Path(__file__).resolve().parents[1]
POLICY = DagPolicy()
SOURCES = [Asset(name=s.asset_name, uri=s.asset_uri) for s in ingest_dag_specs(hub_settings(PROJECT).mappings_dir)]


@dag(dag_id=FUSION_DAG_ID, schedule=AssetAny(*SOURCES) if SOURCES else None, start_date=START_DATE,
     catchup=False, max_active_runs=1, tags=["hub", "fusion"], doc_md=__doc__,
     default_args=POLICY.task_args(timeout=POLICY.fusion_timeout, on_failure=partial(on_failure, project_root=PROJECT)))
def hub_fusion() -> None:
    @task
    def resolve() -> dict[str, Any]:
        return resolve_task(PROJECT)

    @task
    def fuse(resolved: dict[str, Any]) -> dict[str, Any]:
        return fuse_task(PROJECT, resolved)

    @task
    def derive(fused: dict[str, Any]) -> dict[str, Any]:
        return derive_task(PROJECT, fused, run_id=str(get_current_context().get("run_id", "")))

    @task
    def publish(derived: dict[str, Any]) -> dict[str, Any]:
        return publish_task(PROJECT, derived)

    @task
    def report(published: dict[str, Any]) -> dict[str, Any]:
        return report_task(PROJECT, published)

    report(publish(derive(fuse(resolve()))))


fusion = hub_fusion()
