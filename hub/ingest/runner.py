"""Ingest one source: check its schema, extract from its watermark, land batch after batch.

Each batch and the watermark it reaches commit together, so a crash anywhere leaves whole batches
only, and the next run resumes after the last committed one (reliability G3). A source that is
unreachable or changed its shape fails its own run with the cause; other sources are untouched.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, StatementError

from connectors.base import Batch, Connector
from hub.errors import HubError, SourceSchemaChanged
from hub.ingest.landing import (
    BatchCounts,
    LandedThisRun,
    PreparedBatch,
    Screened,
    prepare_screened,
    screen_batch,
    unknown_records,
    write_batch,
)
from hub.ingest.parallel import BatchBuilders
from hub.ingest.repeats import SeenRecordIds, earlier_runs_of_extract, seed_from_runs
from hub.keys import check_key_unchanged
from hub.mapping import MappingSpec
from hub.mapping.loader import suggest
from hub.protect import Vault
from hub.store import driver_message, tables
from hub.store.initial_load import refresh_statistics
from hub.store.runs import DEFAULT_STALE_AFTER, finish_run, heartbeat, now, start_run

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    source: str
    run_id: str
    status: str
    extracted: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    quarantined_values: int = 0
    statements: int = 0
    batches: int = 0
    watermark: str | None = None
    error: str | None = None
    error_kind: str | None = None
    """The class of the error that failed the run (SourceUnavailable, SourceSchemaChanged, MappingError…;
    OperationalError: the store): what decides whether an orchestrator retries it."""
    full_read: bool = False        # the run read the whole source (hub.quality retires what it no longer holds)
    seen: SeenRecordIds | None = field(default=None, repr=False, compare=False)   # a full read's record ids
    gate: str | None = None        # what the quality gate decided (hub.pipeline): published | held
    pushed: bool = False           # a pushed batch (connectors.submissions): it says nothing of other records
    builders: BatchBuilders | None = field(default=None, repr=False, compare=False)
    """With `keep_workers`: the run's warm build processes, for its quality gate; whoever asked closes them."""

    @property
    def reconciled(self) -> bool:
        """G1: every extracted record is loaded, quarantined, or was already in the raw zone."""
        return self.extracted == self.loaded + self.quarantined + self.unchanged


ANALYZE_EVERY = 25
"""Batches between two refreshes of PostgreSQL's statistics, in a load into a non-empty store only: an
initial load answers its lookups from memory and refreshes them once, when it ends."""


def check_schema(spec: MappingSpec, columns: list[str]) -> None:
    """Fail the source when a column the mapping reads is gone (schema drift), naming the nearest one."""
    missing = sorted(spec.columns_read - set(columns))
    if missing:
        hints = "; ".join(f"{name!r}{suggest(name, columns)}" for name in missing)
        raise SourceSchemaChanged(spec.source, f"column(s) not found in the source: {hints}")


def _save_state(conn: Connection, source: str, watermark: str | None, columns: str | None, run_id: str) -> None:
    values = {"source": source, "watermark": watermark, "updated_at": now(), "last_run_id": run_id}
    if columns is not None:
        values["columns"] = columns
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(tables.source_state).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["source"], set_={
        k: v for k, v in values.items() if k != "source"}))


def read_watermark(engine: Engine, source: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(tables.source_state.c.watermark).where(
            tables.source_state.c.source == source)).scalar_one_or_none()


class _FullCollectionsHeld:
    """Hold off the garbage collector's full collections while a source loads.

    The normalizer memos keep millions of small results alive from batch to batch, and a full
    collection walks every one of them: preparing the five largest sources of a 1M district ran 26 of
    them, 6.1 of 39.5 CPU seconds (bench/results/ingest.md). Young collections still run, so
    short-lived reference cycles are freed as before; whatever cycle outlives them waits for the next
    full collection after the load (peak memory was the same with and without). The setting belongs to
    the process: ingests in several threads of one process share it, and the last one to end restores it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._saved = young, middle, old = gc.get_threshold()
                gc.set_threshold(young, middle, max(old, 1_000_000))
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    gc.set_threshold(*self._saved)


young_collections_only = _FullCollectionsHeld()


def record_failed_start(engine: Engine, source: str, error: str, *, error_kind: str | None = None,
                        stale_after: timedelta = DEFAULT_STALE_AFTER) -> IngestResult:
    """A run of a source that could not even start (its mapping does not load, no connection, unknown
    connector kind): a run row that starts and fails at once with the cause, so `hub status` shows it
    like any failed run; nothing else is touched."""
    watermark = read_watermark(engine, source)
    run_id = start_run(engine, "ingest", source, watermark_before=watermark, stale_after=stale_after).id
    with engine.begin() as conn:
        finish_run(conn, run_id, "failed", error=error, watermark_after=watermark)
    log.warning("source %s: cannot start: %s", source, error)
    return IngestResult(source, run_id, "failed", watermark=watermark, error=error, error_kind=error_kind)


def ingest_source(spec: MappingSpec, connector: Connector, *, engine: Engine, vault: Vault,
                  on_batch: Callable[[BatchCounts], None] | None = None,
                  initial_load: bool = False, stale_after: timedelta = DEFAULT_STALE_AFTER,
                  workers: int = 1, keep_workers: bool = False) -> IngestResult:
    """Run one ingest of one source and return its reconciled counts (never raises HubError).

    Batches flow through stages at once: while a writer thread commits batch k (raw rows, statements,
    quarantine and the watermark, in one transaction), this thread extracts and screens batch k+1, whose
    rows are built here or, from the second batch on with `workers` > 1, in that many processes
    (hub.ingest.parallel), several batches at a time. Commits stay in extract order, one transaction per
    batch, whatever `workers` is, so a run lands the same rows and can be resumed the same way.
    `initial_load`: the store was empty when this load began (see hub.store.initial_load).
    `stale_after`: heartbeat age after which an ingest of this source on another host counts as
    interrupted; interrupted runs are marked and taken over by this one (hub.store.runs).
    `keep_workers`: a run that succeeded leaves its build processes, if it started any, open in
    `result.builders` (hub.pipeline checks the landed batch in them); the caller closes them. A failed run
    always closes them.
    """
    watermark = read_watermark(engine, spec.source)
    run_id = start_run(engine, "ingest", spec.source, watermark_before=watermark, stale_after=stale_after).id
    pushed = bool(getattr(connector, "arrives_pushed", False))
    result = IngestResult(spec.source, run_id, "running", watermark=watermark, pushed=pushed)
    totals = BatchCounts()
    try:
        schema = connector.discover()
        check_schema(spec, schema.names)
        commit = _BatchCommitter(spec, engine, vault, result, totals, json.dumps(schema.names, ensure_ascii=False),
                                 LandedThisRun() if initial_load else None)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ingest-{spec.source}") as writer, \
                engine.connect() as reader, young_collections_only():
            seen = SeenRecordIds(versions=spec.record_versions is not None)   # record ids of this extract
            resumed = earlier_runs_of_extract(reader, run_id)   # unfinished runs whose extract this one resumes
            if resumed:
                seeded = seed_from_runs(reader, spec, vault, seen, resumed)
                log.info("source %s: run %s resumes the extract of run(s) %s: %d record ids seen before",
                         spec.source, run_id, ", ".join(resumed), seeded)
            reader.rollback()
            builders = BatchBuilders(spec, vault, run_id, workers)
            writes: deque[Future[BatchCounts]] = deque()   # in extract order: one writer commits them in turn
            try:
                for batch in connector.extract(watermark):
                    screened = screen_batch(reader, spec, batch, run_id=run_id, now=now(), vault=vault, seen=seen)
                    built = builders.submit(unknown_records(reader, screened, commit.landed))
                    reader.rollback()   # end the read snapshot: the next batch must see the writer's commits
                    while len(writes) >= builders.in_flight:
                        _after_write(writes.popleft().result(), result, engine, on_batch, initial_load)
                    writes.append(writer.submit(commit, batch, screened, built))
                while writes:
                    _after_write(writes.popleft().result(), result, engine, on_batch, initial_load)
            finally:
                if writes or not keep_workers or not builders.started:
                    builders.close(failed=bool(writes))
                else:
                    result.builders = builders
        result.status = "succeeded"
        whole = getattr(connector, "reads_whole_source", False) and result.watermark != watermark
        if not pushed and not resumed and (watermark is None or whole):   # every record passed through `seen`
            seen.merge()
            result.full_read, result.seen = True, seen
    except HubError as exc:
        _drop_builders(result)
        result.status, result.error, result.error_kind = "failed", str(exc), type(exc).__name__
        log.warning("source %s: run %s failed: %s", spec.source, run_id, exc)
    except OperationalError as exc:   # the store itself (disk full, server gone): this run fails, others go on
        _drop_builders(result)
        result.status, result.error = "failed", f"the store refused the batch: {driver_message(exc)}"
        result.error_kind = type(exc).__name__
        log.warning("source %s: run %s failed: %s", spec.source, run_id, result.error)
    except Exception as exc:  # a defect, not a source problem: record it, then let it surface
        # the type alone for a statement's error: the driver's text may quote the value it refused
        detail = "" if isinstance(exc, StatementError) else f": {exc}"
        _drop_builders(result)
        result.status, result.error = "failed", f"internal error {type(exc).__name__}{detail}"
        _finish(engine, result, totals)
        raise
    _finish(engine, result, totals)
    return result


@dataclass
class _BatchCommitter:
    """Commits one prepared batch with the watermark it reaches and the run's running totals."""

    spec: MappingSpec
    engine: Engine
    vault: Vault
    result: IngestResult
    totals: BatchCounts
    columns: str
    landed: LandedThisRun | None   # what this run wrote, during an initial load only

    def __call__(self, batch: Batch, screened: Screened, built: Future[PreparedBatch]) -> BatchCounts:
        result = self.result
        prepared = built.result()
        prepared.screened = screened
        with self.engine.begin() as conn:
            if not write_batch(conn, prepared, self.landed):   # went stale in flight: prepare it again, here
                assert prepared.screened is not None
                prepared = prepare_screened(conn, self.spec, prepared.screened, run_id=result.run_id,
                                            vault=self.vault, landed=self.landed)
                write_batch(conn, prepared, self.landed)
            reached = replace(self.totals)   # counted once committed: a batch rolled back adds nothing
            reached.add(prepared.counts)
            watermark = batch.watermark if batch.watermark is not None else result.watermark
            _save_state(conn, self.spec.source, watermark, self.columns, result.run_id)
            heartbeat(conn, result.run_id, batches=result.batches + 1, watermark_after=watermark,
                      **asdict(reached))   # raises when the run was taken over: the batch rolls back
            check_key_unchanged(conn, self.vault)   # after the heartbeat (hub.keys): a rotation rolls it back
        self.totals.add(prepared.counts)
        result.batches += 1
        result.watermark = watermark
        return prepared.counts


def _after_write(counts: BatchCounts, result: IngestResult, engine: Engine,
                 on_batch: Callable[[BatchCounts], None] | None, initial_load: bool) -> None:
    if on_batch is not None:
        on_batch(counts)
    if not initial_load and result.batches % ANALYZE_EVERY == 1:
        refresh_statistics(engine)


def _drop_builders(result: IngestResult) -> None:
    if result.builders is not None:
        result.builders.close(failed=True)
        result.builders = None


def _finish(engine: Engine, result: IngestResult, totals: BatchCounts) -> None:
    for name, value in asdict(totals).items():
        setattr(result, name, value)
    try:
        with engine.begin() as conn:
            finish_run(conn, result.run_id, result.status, error=result.error, watermark_after=result.watermark)
    except OperationalError as exc:   # the store cannot take even this row: the next run reads it interrupted
        log.warning("source %s: run %s could not be marked %s: %s", result.source, result.run_id, result.status,
                    driver_message(exc))
