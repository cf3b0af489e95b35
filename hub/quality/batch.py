"""Validate the batch an ingest run landed and open or close the gate for it (hub.quality.gate)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.ingest import IngestResult
from hub.ingest.parallel import BatchBuilders
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
CHECK_PART = 20_000
"""Rows of a landed batch checked together in one build process (about 10 MB of payloads sent to it)."""


def landed_payloads(engine: Engine, source: str, run_id: str, also: Sequence[str] = ()) -> list[bytes]:
    """The encrypted payloads of the newest version of each record the run landed (and of the versions `also`
    names: held ones it saw again), in the order the store returns them."""
    raw = tables.raw_record.c
    columns = sa.select(raw.source_record_id, raw.extracted_at, raw.payload)
    queries = [columns.where(raw.run_id == run_id, raw.source == source)]
    queries += [columns.where(raw.id.in_(list(also[i:i + CHUNK]))) for i in range(0, len(also), CHUNK)]
    payloads: list[bytes] = []
    ids: list[str] = []
    times: list[object] = []
    with engine.connect() as conn:
        for query in queries:
            result = conn.execution_options(stream_results=True, yield_per=READ_CHUNK).execute(query)
            for part in result.partitions():
                for record_id, at, payload in part:
                    payloads.append(bytes(payload))
                    ids.append(record_id)
                    times.append(at)
    if not payloads:
        return []
    order = pd.DataFrame({"id": ids, "at": times}).sort_values(["id", "at"], kind="stable")
    newest = order[~order["id"].duplicated(keep="last") | order["id"].str.startswith("?")].index
    return [payloads[i] for i in sorted(newest)]


def _loads(text: bytes) -> dict[str, Any]:
    """A payload's JSON: orjson's reading, three times faster, or the standard library's where orjson
    refuses what `json.dumps` wrote (NaN, an integer beyond 64 bits); the same objects either way."""
    try:
        found: dict[str, Any] = orjson.loads(text)
    except orjson.JSONDecodeError:
        found = json.loads(text)
    return found


def decoded_frame(vault: Vault, payloads: Sequence[bytes]) -> pd.DataFrame:
    """The records as the source gave them (decrypted in memory only), one column per source column, every
    value the object JSON read (no dtype inference: a part of a batch reads exactly as the whole would)."""
    if not payloads:
        return pd.DataFrame()
    return pd.DataFrame([_loads(vault.decrypt(p)) for p in payloads], dtype=object)


def batch_frame(engine: Engine, vault: Vault, source: str, run_id: str, also: Sequence[str] = ()) -> pd.DataFrame:
    """The newest version of each record the run landed (and of the versions `also` names: held ones it saw
    again), as the source gave them (decrypted in memory only)."""
    return decoded_frame(vault, landed_payloads(engine, source, run_id, also))


def _checked_part(spec: MappingSpec, vault: Vault, part: tuple[list[bytes], float | None]) -> pd.DataFrame:
    """The check frame of one part of a batch (decrypting, reading and checking are row by row)."""
    payloads, ratio = part
    return check_frame(spec, decoded_frame(vault, payloads), vault, ratio)


def checked_batch(spec: MappingSpec, vault: Vault, payloads: list[bytes], ratio: float | None,
                  workers: BatchBuilders | None = None) -> pd.DataFrame:
    """The frame the suites validate (hub.quality.suites.check_frame) of a landed batch, checked in parts of
    CHECK_PART rows by `workers`, the run's build processes, when it has them: the same frame, since every
    column of it is a function of its row alone."""
    if not payloads or workers is None or not workers.started:
        return check_frame(spec, decoded_frame(vault, payloads), vault, ratio)
    parts = [(payloads[i:i + CHECK_PART], ratio) for i in range(0, len(payloads), CHECK_PART)]
    log.info("source %s: checking %d landed records in %d part(s) in the build processes", spec.source,
             len(payloads), len(parts))
    return pd.concat(list(workers.map(_checked_part, parts)), ignore_index=True)


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


def gate_run(engine: Engine, vault: Vault, spec: MappingSpec, result: IngestResult, root: Path,
             workers: BatchBuilders | None = None) -> GateResult:
    """Validate what the run landed against the source's suites; hold it when a critical expectation fails.
    `workers`: the run's build processes, which check the landed records in parts (`checked_batch`).

    A held batch raises an alert (hub.pipeline.validate_batch → hub.alerts) naming the source, the run and
    the failed expectations (never a value); `hub status` and the DAG task show it, and `hub batches list`
    lists the batch until it is released.
    """
    with engine.connect() as conn:
        reseen = reseen_held(conn, vault, spec.source, result.seen)
    batch = landed_payloads(engine, spec.source, result.run_id, reseen)
    previous = previous_full_read(engine, spec.source) if result.full_read else None
    ratio = result.extracted / previous if previous else None
    frame = checked_batch(spec, vault, batch, ratio, workers)
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
