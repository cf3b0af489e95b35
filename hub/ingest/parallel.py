"""Build the rows of one source's batches in worker processes, so that a single large source uses every core.

Reading, screening record ids (in extract order, hub.ingest.repeats) and asking the store which records it
already holds stay in the ingesting process; the CPU work of a batch (`build_rows`: encrypting payloads,
normalizing values, building statements) goes to a pool of processes. The runner keeps the batches in
extract order and commits them one by one as before, so the rows, ids, quarantine and the watermark of
every commit are those of a serial run.

The pool starts with a source's second batch: a source of one batch never pays for starting processes.
Once the load ends, the same warm processes serve the source's quality gate (`map`, hub.quality.batch):
decrypting and checking what the run landed is row-wise work too, and was a serial tail of a third of
the CPU of a large source's `hub ingest` (bench/results/ingest-one-source.md).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from typing import TypeVar

from hub.ingest.landing import NewRecords, PreparedBatch, build_rows
from hub.mapping import MappingSpec
from hub.protect import Vault

log = logging.getLogger(__name__)


def machine_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not on Linux
        return max(1, os.cpu_count() or 1)


_spec: MappingSpec | None = None
_vault: Vault | None = None


def _start_worker(spec: MappingSpec, vault: Vault, parent: int) -> None:
    global _spec, _vault
    _spec, _vault = spec, vault
    young, middle, old = gc.get_threshold()   # as the ingesting process does (hub.ingest.runner)
    gc.set_threshold(young, middle, max(old, 1_000_000))
    watch_parent(parent)


def watch_parent(parent: int) -> None:
    """Make this spawned worker end when `parent`, the process that spawned it, is gone (a killed `hub ingest`):
    a worker pool's processes otherwise wait on its queue forever. The pid is passed in, not read here: a
    parent killed while the worker was still starting would leave it watching its new parent, init."""
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _end_with_parent(parent: int) -> None:
    """End this worker when the ingesting process is gone (killed): its queue never tells the workers, since
    each of them holds the queue's writing end too."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _build(records: NewRecords, run_id: str) -> PreparedBatch:
    assert _spec is not None and _vault is not None
    return build_rows(_spec, records, run_id=run_id, vault=_vault)


T = TypeVar("T")
R = TypeVar("R")
SourceTask = Callable[[MappingSpec, Vault, T], R]
"""Row-wise work on one source's data: (the source's mapping, the vault, a part) → that part's result."""


def _call(task: SourceTask[T, R], part: T) -> R:
    assert _spec is not None and _vault is not None
    return task(_spec, _vault, part)


class BatchBuilders:
    """Where one source's batches are built: here while `workers` is 1 or before the second batch, then in
    a pool of `workers` processes (spawned: no inherited connections or threads). Whoever creates it closes
    it: `ingest_source` when it made its own, else the caller, after the quality gate used it (`map`)."""

    def __init__(self, spec: MappingSpec, vault: Vault, run_id: str, workers: int):
        self.spec, self.vault, self.run_id, self.workers = spec, vault, run_id, workers
        self._pool: ProcessPoolExecutor | None = None
        self._batches = 0

    def map(self, task: SourceTask[T, R], parts: Iterable[T]) -> Iterator[R]:
        """`task` over `parts`, results in their order: in the pool when the load started it, else here.
        `task` must be a module-level function (it is sent to the processes by name)."""
        if self._pool is None:
            return (task(self.spec, self.vault, part) for part in parts)
        return self._pool.map(partial(_call, task), parts)

    def submit(self, records: NewRecords) -> Future[PreparedBatch]:
        self._batches += 1
        if self._pool is None and self.workers > 1 and self._batches > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(self.spec, self.vault, os.getpid()))
            log.info("source %s: building batches in %d processes", self.spec.source, self.workers)
        if self._pool is not None:
            return self._pool.submit(_build, records, self.run_id)
        done: Future[PreparedBatch] = Future()
        done.set_result(build_rows(self.spec, records, run_id=self.run_id, vault=self.vault))
        return done

    @property
    def started(self) -> bool:
        """True once the pool runs (from the second batch on, with several workers)."""
        return self._pool is not None

    @property
    def in_flight(self) -> int:
        """How many batches may be under way at once before the oldest must be committed."""
        return 1 if self._pool is None else self.workers + 1

    def close(self, *, failed: bool) -> None:
        if self._pool is not None:
            # no need to wait while the workers' interpreters tear down their normalizer memos
            self._pool.shutdown(wait=failed, cancel_futures=failed)
            self._pool = None
