"""The bodies of the hub's DAG tasks: each opens the hub, calls one function of hub.pipeline, logs and
returns its counts, and turns a failed stage into the exception that tells Airflow whether to retry.

A source that could not be reached (SourceUnavailable), answered with unreadable data, or whose store
refused a batch fails with a retryable error; one whose schema changed, whose mapping does not load or
whose connection is missing fails at once (AirflowFailException): a retry cannot fix those, and waiting
through the backoff only delays the alert. Returned dicts are the tasks' XComs: counts and ids, never
values. The quality gate and the report of the pipeline run inside these same functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hub.alerts import raise_alert
from hub.orchestrate.connections import airflow_connection
from hub.orchestrate.specs import hub_settings

log = logging.getLogger(__name__)

RETRYABLE = frozenset({"SourceUnavailable", "SourceDataError", "OperationalError"})
"""IngestResult.error_kind values worth a retry with backoff; any other failure fails the task at once."""

__all__ = ["RETRYABLE", "StageFailed", "derive_task", "fuse_task", "ingest_task", "on_failure", "publish_task",
           "report_task", "resolve_task"]


class StageFailed(RuntimeError):
    """A hub stage finished as failed (its run row says why); raised so that Airflow marks the task failed."""


def ingest_task(source: str, project_root: Path) -> dict[str, Any]:
    """Ingest one source, its credentials from Airflow Connections first; its counts, or the failure."""
    from hub.pipeline import Hub, ingest

    hub = Hub.open(hub_settings(project_root))
    try:
        [result] = ingest(hub, [source], lookup=airflow_connection, defer_indexes=False)
    finally:
        hub.engine.dispose()
    counts = {"source": result.source, "run_id": result.run_id, "status": result.status,
              "extracted": result.extracted, "loaded": result.loaded, "quarantined": result.quarantined,
              "values_rejected": result.quarantined_values, "unchanged": result.unchanged,
              "statements": result.statements, "reconciled": result.reconciled}
    if result.status == "failed":
        message = f"source {source} failed ({result.error_kind or 'error'}): {result.error}"
        if result.error_kind in RETRYABLE:
            raise StageFailed(message)
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(message + " (not retried: a retry cannot fix this; fix it, then clear the task)")
    return counts


def resolve_task(project_root: Path) -> dict[str, Any]:
    """Resolve every entity type; per type its counts, and what fusion must rebuild (ids, or None for all)."""
    from hub.pipeline import Hub, resolve_entities

    hub = Hub.open(hub_settings(project_root))
    try:
        hub.mappings()   # fusion needs every mapping: a broken one stops the run before any work
        runs = resolve_entities(hub)
    finally:
        hub.engine.dispose()
    return {
        "types": {run.entity_type: {"mode": run.mode, "records": run.records, "matched": run.links_written,
                                    "in_review": run.review_pairs, "changes": dict(run.changes)} for run in runs},
        "touched": {run.entity_type: None if run.touched is None else sorted(run.touched) for run in runs},
        "changed": any(run.links_written or any(run.changes.values()) for run in runs),
    }


def fuse_task(project_root: Path, resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Fuse what the resolution touched (all of it after a failed or a first fusion)."""
    from hub.pipeline import Hub, fuse_entities

    hub = Hub.open(hub_settings(project_root))
    try:
        fusion = fuse_entities(hub, resolved["touched"])
    finally:
        hub.engine.dispose()
    changed = bool(resolved["changed"] or any(fusion.golden_entities.values()) or fusion.relations
                   or fusion.places)
    return {"golden": dict(fusion.golden_entities), "conflicts": dict(fusion.conflict_entities),
            "relations": fusion.relations, "places": fusion.places, "changed": changed}


def derive_task(project_root: Path, fused: Mapping[str, Any], run_id: str = "") -> dict[str, Any]:
    """Rules over the fused data, then events (hub.pipeline.derive); new high-severity findings raise an alert
    (the task succeeds: publication goes on, the operator sees the alert in the task log and `hub status`)."""
    from hub.pipeline import Hub, derive

    hub = Hub.open(hub_settings(project_root))
    try:
        result = derive(hub)
    finally:
        hub.engine.dispose()
    d = result.events.derived
    high = {rule: w.new for rule, w in result.rules.per_rule.items() if rule in d.new_high}
    if high:
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(high.items()))
        raise_alert(hub.settings, origin="hub_fusion/derive", run_id=run_id,
                    message=f"new high-severity findings: {counts}; `hub events list` shows their events")
    return {"findings": {rule: w.found for rule, w in result.rules.per_rule.items()},
            "new_high": high, "events": {"new": d.new, "tickets": d.tickets, "reopened": d.reopened,
                                         "closed": d.closed, "assigned": d.assigned, "unlocated": d.unlocated},
            "changed": bool(fused.get("changed"))}


def publish_task(project_root: Path, fused: Mapping[str, Any]) -> dict[str, Any]:
    """Publish the read model's next version (none when nothing changed)."""
    from hub.pipeline import Hub, publish

    hub = Hub.open(hub_settings(project_root))
    try:
        result = publish(hub, fusion_changed=bool(fused["changed"]))
    finally:
        hub.engine.dispose()
    return {"version": result.version, "previous": result.previous, "changed": result.changed,
            "counts": result.counts, "run_id": result.run_id}


def report_task(project_root: Path, published: Mapping[str, Any]) -> dict[str, Any]:
    """Write the auditors' quality report of the state just published; its path is the task's result."""
    from hub.pipeline import Hub, report

    hub = Hub.open(hub_settings(project_root))
    try:
        result = report(hub)
    finally:
        hub.engine.dispose()
    log.info("quality report of version %s: %s", published.get("version"), result.path)
    return {"path": str(result.path), "version": published.get("version")}


def on_failure(context: Mapping[str, Any], project_root: Path, source: str | None = None) -> None:
    """Airflow's on_failure_callback of every hub task: an alert in the log at ERROR and in the alerts file."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    origin = f"{getattr(ti, 'dag_id', '?')}/{getattr(ti, 'task_id', '?')}"
    message = f"{type(exception).__name__}: {exception}" if exception is not None else "failed"
    raise_alert(hub_settings(project_root), origin=origin, message=message, run_id=str(getattr(ti, "run_id", "")),
                try_number=int(getattr(ti, "try_number", 0) or 0), source=source)
