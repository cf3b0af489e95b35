"""Validate the batch an ingest run landed and open or close the gate for it (hub.quality.gate)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.ingest import IngestResult
from hub.mapping import MappingSpec
from hub.protect import Vault
from hub.quality.gate import (
    APPROVED,
    CHUNK,
    HELD,
    PUBLISHED,
    GateResult,
    hold_again,
    hold_run,
    reseen_held,
    set_gate,
    settle_passing_run,
    supersede_earlier,
)
from hub.quality.suites import CRITICAL, SEVERITIES, WARNING, check_frame, source_checks
from hub.quality.validate import record, run_suites
from hub.store import tables

log = logging.getLogger(__name__)
READ_CHUNK = 20_000


def batch_frame(engine: Engine, vault: Vault, source: str, run_id: str, also: Sequence[str] = ()) -> pd.DataFrame:
    """The newest version of each record the run landed (and of the versions `also` names: held ones it saw
    again), as the source gave it (decrypted in memory only)."""
    raw = tables.raw_record.c
    columns = sa.select(raw.source_record_id, raw.extracted_at, raw.payload)
    queries = [columns.where(raw.run_id == run_id, raw.source == source)]
    queries += [columns.where(raw.id.in_(list(also[i:i + CHUNK]))) for i in range(0, len(also), CHUNK)]
    rows: list[dict[str, object]] = []
    ids: list[str] = []
    times: list[object] = []
    with engine.connect() as conn:
        for query in queries:
            result = conn.execution_options(stream_results=True, yield_per=READ_CHUNK).execute(query)
            for part in result.partitions():
                for record_id, at, payload in part:
                    rows.append(json.loads(vault.decrypt(bytes(payload))))
                    ids.append(record_id)
                    times.append(at)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(rows)
    order = pd.DataFrame({"id": ids, "at": times}).sort_values(["id", "at"], kind="stable")
    newest = order[~order["id"].duplicated(keep="last") | order["id"].str.startswith("?")].index
    return frame.loc[sorted(newest)].reset_index(drop=True)


def previous_full_read(engine: Engine, source: str) -> int | None:
    """Rows extracted by the source's last full read whose batch was published or approved."""
    q, r = tables.quality_result.c, tables.run.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(q.detail).join(tables.run, r.id == q.run_id).where(
            q.scope == "source", q.subject == source, q.suite == CRITICAL, r.gate.in_([PUBLISHED, APPROVED]))
            .order_by(q.created_at.desc(), q.id.desc()).limit(50)).scalars().all()
    for detail in rows:
        found = json.loads(detail)
        if found.get("full_read") and found.get("extracted"):
            return int(found["extracted"])
    return None


def gate_run(engine: Engine, vault: Vault, spec: MappingSpec, result: IngestResult, root: Path) -> GateResult:
    """Validate what the run landed against the source's suites; hold it when a critical expectation fails.

    A held batch raises an alert (hub.pipeline.validate_batch → hub.alerts) naming the source, the run and
    the failed expectations (never a value); `hub status` and the DAG task show it, and `hub batches list`
    lists the batch until it is released.
    """
    with engine.connect() as conn:
        reseen = reseen_held(conn, vault, spec.source, result.seen)
    batch = batch_frame(engine, vault, spec.source, result.run_id, reseen)
    previous = previous_full_read(engine, spec.source) if result.full_read else None
    ratio = result.extracted / previous if previous else None
    frame = check_frame(spec, batch, vault, ratio)
    suites = {severity: source_checks(spec, frame, severity) for severity in SEVERITIES}
    found = run_suites(root, spec.source, frame, suites)
    outcome = {r.suite: r for r in found}
    gate = GateResult(result.run_id, spec.source, PUBLISHED if outcome[CRITICAL].success else HELD,
                      rows=len(batch), full_read=result.full_read,
                      failed_critical=[_said(o) for o in outcome[CRITICAL].failed],
                      failed_warning=[_said(o) for o in outcome[WARNING].failed])
    with engine.begin() as conn:
        if frame.columns.size:
            record(conn, result.run_id, "source", spec.source, found,
                   {"extracted": result.extracted, "full_read": result.full_read, "previous_full_read": previous})
        # a run that read the source as it is now: earlier held batches give way (a pushed batch says nothing of
        # the others: each is published or held on its own)
        if result.status == "succeeded" and not result.pushed:
            supersede_earlier(conn, gate)
        if gate.state == PUBLISHED:
            settle_passing_run(conn, vault, gate, result.seen, reseen)
            set_gate(conn, result.run_id, PUBLISHED, None)
        else:
            gate.held_versions = hold_run(conn, result.run_id, spec.source) + len(reseen)
            hold_again(conn, result.run_id, reseen)
            set_gate(conn, result.run_id, HELD, gate.note)
    if gate.state != HELD and gate.failed_warning:
        log.warning("source %s: run %s passed with warnings: %s", spec.source, result.run_id,
                    "; ".join(gate.failed_warning))
    if gate.retired_records or gate.returned_records:
        log.info("source %s: %d records gone from the source retired, %d came back", spec.source,
                 gate.retired_records, gate.returned_records)
    return gate


def _said(outcome: object) -> str:
    """An expectation's failure in words: its name and how far off it was (counts only)."""
    from hub.quality.validate import Outcome

    assert isinstance(outcome, Outcome)
    if outcome.kind == "rows" and outcome.observed is not None:
        return f"{outcome.name} ({outcome.meaning})"
    if outcome.unexpected_percent is not None:
        return f"{outcome.name}: {outcome.unexpected_percent:.1f} % of {outcome.element_count or 0:,} rows fail"
    return outcome.name
