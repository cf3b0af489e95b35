"""One ingest DAG per department source: a mapping file in mappings/ is a DAG here, no Python per source.

Wiring only: which DAGs, their assets and policies come from hub.orchestrate; each task calls one hub
function. A successful ingest updates the source's asset, which schedules the fusion DAG (hub_fusion.py).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, dag, task

from hub.orchestrate import (
    START_DATE,
    DagPolicy,
    IngestDagSpec,
    hub_settings,
    ingest_dag_specs,
    ingest_task,
    on_failure,
)

PROJECT = Path(__file__).resolve().parents[1]
POLICY = DagPolicy()


def ingest_dag(spec: IngestDagSpec) -> Any:
    @dag(dag_id=spec.dag_id, schedule=POLICY.schedule, start_date=START_DATE, catchup=False, max_active_runs=1,
         tags=["hub", "ingest", spec.department], doc_md=spec.doc,
         default_args=POLICY.task_args(timeout=POLICY.ingest_timeout,
                                       on_failure=partial(on_failure, project_root=PROJECT, source=spec.source)))
    def source_dag() -> None:
        @task(task_id="ingest", outlets=[Asset(name=spec.asset_name, uri=spec.asset_uri)])
        def ingest() -> dict[str, Any]:
            return ingest_task(spec.source, PROJECT)

        ingest()

    return source_dag()


for _spec in ingest_dag_specs(hub_settings(PROJECT).mappings_dir):
    globals()[_spec.dag_id] = ingest_dag(_spec)
