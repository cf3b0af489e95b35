"""Airflow orchestration of the hub: what the thin DAG files in dags/ wire together.

specs (which DAGs, their ids and assets), policy (retries, timeouts, the pool), tasks (each task's body:
one hub.pipeline call, its counts, the failure alert), connections (credentials from Airflow Connections),
standalone (`make run`: Airflow standalone next to the hub's API). Only `connections.airflow_connection`,
the DAG files and `standalone` touch Airflow itself; everything else is plain Python that tests call.
"""

from hub.orchestrate.policy import POOL, DagPolicy
from hub.orchestrate.specs import (
    FUSION_DAG_ID,
    INGEST_DAG_PREFIX,
    START_DATE,
    IngestDagSpec,
    hub_settings,
    ingest_dag_specs,
)
from hub.orchestrate.tasks import (
    derive_task,
    fuse_task,
    ingest_task,
    on_failure,
    publish_task,
    report_task,
    resolve_task,
)

__all__ = [
    "FUSION_DAG_ID",
    "INGEST_DAG_PREFIX",
    "POOL",
    "START_DATE",
    "DagPolicy",
    "IngestDagSpec",
    "derive_task",
    "fuse_task",
    "hub_settings",
    "ingest_dag_specs",
    "ingest_task",
    "on_failure",
    "publish_task",
    "report_task",
    "resolve_task",
]
