"""One function per stage, wired from settings: what the CLI, the DAGs and the benchmark call.

`Hub.open(settings)` builds the store engine (migrated to head) and the vault once; the stage
functions take the Hub and do one job each. Reading commands open with `create=False`: then a missing
store, or one at an older schema, is an error and nothing is created or migrated (hub.store.open_store).

Resolution and fusion (hub.resolve, hub.fuse) are imported by `resolve` when it runs, not with this
module: every ingest process, and each worker process it spawns, imports this module first, and those
packages added 0.38 s to the 0.72 s its import takes without them (bench/results/ingest.md).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import Engine

from connectors.base import Connector
from connectors.connection import Connection, resolve_connection
from connectors.registry import create_connector
from hub.alerts import raise_alert
from hub.errors import ConfigurationError, HubError
from hub.ingest import BatchCounts, IngestResult, ingest_source, record_failed_start
from hub.ingest.parallel import machine_cores, watch_parent
from hub.keys import open_vault
from hub.mapping import MappingFile, MappingSet, MappingSpec, load_mappings
from hub.private_files import secure_home
from hub.protect import Vault
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.bulk import paused_gc
from hub.store.initial_load import initial_load, restore_indexes
from hub.store.locks import SOURCE_LOCK_WAIT, SourceBusy, source_lock

if TYPE_CHECKING:
    from hub.events import EventsResult
    from hub.fuse import FuseResult
    from hub.publish import PublishResult
    from hub.quality.report import ReportResult
    from hub.resolve.runner import Progress, TypeRun
    from hub.rules import RulesResult

log = logging.getLogger(__name__)


@dataclass
class Hub:
    settings: HubSettings
    engine: Engine
    vault: Vault

    @classmethod
    def open(cls, settings: HubSettings | None = None, *, create: bool = True) -> Hub:
        """The store and its vault; `create` (commands that write): make or migrate the store as needed."""
        settings = settings or HubSettings()
        engine = open_store(settings.database_url, create=create)
        try:
            vault = open_vault(engine, settings, write=create)
        except BaseException:
            engine.dispose()
            raise
        secure_home(settings)   # HUB_HOME as made by the store and the key above: readable by the hub's user only
        return cls(settings, engine, vault)

    def mappings(self) -> list[MappingSpec]:
        """Every ready mapping, or MappingError naming each file that does not load: fusion ranks every
        source by its mapping's authority, and a missing mapping would silently change golden values.
        Ingest, which needs only one source's mapping at a time, reads the folder with `load_mappings`."""
        return load_mappings(self.settings.mappings_dir).require_ready()


def load_connections_file(settings: HubSettings) -> dict[str, Any]:
    path = settings.connections_file
    if path is None or not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"connections file {path} must map connection names to values")
    return data


ConnectionLookup = Callable[[str], Connection | None]
"""A connection store consulted before the hub's own (hub.orchestrate: Airflow Connections); None: not there."""


def build_connector(spec: MappingSpec, settings: HubSettings, environ: Mapping[str, str] | None = None,
                    lookup: ConnectionLookup | None = None) -> Connector:
    """The connector a mapping asks for, with its connection from `lookup` when given and it has one,
    else from the environment (HUB_CONN_<NAME>) or the connections file."""
    connection: Connection | None = None
    name = spec.connector.connection
    if name and lookup is not None:
        connection = lookup(name)
    if name and connection is None:
        connection = resolve_connection(name, environ=os.environ if environ is None else environ,
                                        file_values=load_connections_file(settings))
    return create_connector(spec.connector.kind, spec.source, spec.connector.settings, connection,
                            batch_size=min(spec.batch_size, settings.batch_size), base_dir=settings.sources_dir,
                            source_roots=settings.source_roots)


def ingest_one(hub: Hub, spec: MappingSpec, on_batch: Callable[[str, BatchCounts], None] | None = None,
               initial_load: bool = False, *, lookup: ConnectionLookup | None = None,
               workers: int = 1) -> IngestResult:
    """Ingest one source, then validate its batch (`validate_batch`); a source that cannot even start (no
    connection, unknown kind) fails alone. `lookup`: tried first for the mapping's connection (under
    Airflow, its Connections). `workers`: processes that build the source's batches (hub.ingest.parallel)."""
    callback = (lambda counts: on_batch(spec.source, counts)) if on_batch else None
    try:
        connector = build_connector(spec, hub.settings, lookup=lookup)
    except HubError as exc:
        result = record_failed_start(hub.engine, spec.source, str(exc), error_kind=type(exc).__name__,
                                     stale_after=hub.settings.stale_after)
    else:
        try:
            # one writer per source across processes (a CLI run beside a DAG's, an API push): runs of one
            # source never overlap, so neither takes the other's records for gone
            with source_lock(hub.engine, spec.source, wait=SOURCE_LOCK_WAIT):
                result = _land_and_gate(hub, spec, connector, callback, initial_load, workers)
        except SourceBusy as exc:
            result = record_failed_start(hub.engine, spec.source, str(exc), error_kind=type(exc).__name__,
                                         stale_after=hub.settings.stale_after)
    log_ingest(result)
    return result


def _land_and_gate(hub: Hub, spec: MappingSpec, connector: Connector, callback: Callable[[BatchCounts], None] | None,
                   initial_load: bool, workers: int) -> IngestResult:
    landed = ingest_source(spec, connector, engine=hub.engine, vault=hub.vault, on_batch=callback,
                           initial_load=initial_load, stale_after=hub.settings.stale_after, workers=workers,
                           keep_workers=True)
    try:
        return validate_batch(hub, spec, landed)
    finally:
        if landed.builders is not None:   # the gate is done with the build processes
            landed.builders.close(failed=False)
            landed.builders = None


def log_ingest(result: IngestResult) -> None:
    """One line of counts per source (record keys and values never): what an Airflow task log shows."""
    level = logging.INFO if result.status in ("succeeded", "skipped") else logging.ERROR
    log.log(level, "ingest %s: %s, extracted %d, loaded %d, quarantined %d (values rejected %d), unchanged %d, "
            "statements %d, reconciled %s, quality gate %s, run %s", result.source, result.status, result.extracted,
            result.loaded, result.quarantined, result.quarantined_values, result.unchanged, result.statements,
            "yes" if result.reconciled else "NO", result.gate or "-", result.run_id or "-")


def validate_batch(hub: Hub, spec: MappingSpec, result: IngestResult) -> IngestResult:
    """The quality gate (G14): the source's suites over what the run landed; a failed critical expectation
    holds the batch out of fusion and publication (hub.quality.gate). A passing full read also retires the
    records gone from the source. `result.gate` says which; the CLI and the DAGs both come through here."""
    from hub.quality.batch import gate_run

    if result.batches == 0 and result.status != "succeeded":   # failed before landing anything: nothing to gate
        return result
    try:
        gate = gate_run(hub.engine, hub.vault, spec, result, quality_home(hub.settings), workers=result.builders)
    finally:
        result.seen = None   # a full read's record ids: needed by the gate only, never sent between processes
    result.gate = gate.state
    if gate.state == "held":
        result.error = f"batch held by the quality gate: {gate.note}"
        raise_alert(hub.settings, origin="quality gate", run_id=result.run_id or "", source=spec.source,
                    message=f"batch held ({gate.held_versions} record versions kept out of publication): "
                            f"{gate.note}; fix the source and ingest again, or `hub batches approve {result.run_id}`")
    return result


def quality_home(settings: HubSettings) -> Path:
    """Where GX keeps its suites, results and Data Docs, and where the auditors' reports are written."""
    return settings.home / "quality"


def _ingest_in_worker(settings: HubSettings, spec: MappingSpec, initial_load: bool, workers: int) -> IngestResult:
    """Entry point of a worker process: its own engine and vault, one source."""
    hub = Hub.open(settings)
    try:
        return ingest_one(hub, spec, initial_load=initial_load, workers=workers)
    finally:
        hub.engine.dispose()


def draft_note(draft: MappingFile) -> str:
    """What the operator reads about a skipped or refused draft: which file, and how to mark it ready."""
    problems = f"; it does not load yet ({len(draft.problems)} problem(s))" if draft.problems else ""
    return (f"{draft.path} is a draft (status: draft), not ingested{problems}: review it, run "
            f"`hub mappings check {draft.path}`, then change its line to `status: ready`")


def _choose(mappings: MappingSet, sources: list[str] | None) -> tuple[list[MappingSpec], list[MappingFile],
                                                                      list[MappingFile]]:
    """The specs to ingest, the failed files to record, the drafts to report as skipped.

    A named source matches a file that does not load by its source id, or by its file's stem when no
    source has that id: the operator names a source by what the file says or by the file's name, and
    reads that file's error either way."""
    ready = {s.source for s in mappings.ready}
    failed = {f.source for f in mappings.failed}
    drafts = [d for d in mappings.drafts if d.source not in ready | failed]
    if sources:
        by_stem = {name for name in sources if name not in ready | failed
                   and any(f.path.stem == name for f in mappings.failed)}
        unknown = sorted(set(sources) - ready - failed - by_stem - {d.source for d in drafts})
        if unknown:
            known = sorted(ready | failed | {d.source for d in mappings.drafts})
            raise ConfigurationError(f"no mapping for source(s) {', '.join(unknown)}; known: {', '.join(known)}")
        refused = [d for d in drafts if d.source in sources]
        if refused:
            raise ConfigurationError("; ".join(draft_note(d) for d in refused))
        return ([s for s in mappings.ready if s.source in sources],
                [f for f in mappings.failed if f.source in sources or f.path.stem in by_stem], [])
    return mappings.ready, mappings.failed, mappings.drafts


def ingest(hub: Hub, sources: list[str] | None = None,
           on_batch: Callable[[str, BatchCounts], None] | None = None, *, workers: int | None = None,
           lookup: ConnectionLookup | None = None, defer_indexes: bool = True) -> list[IngestResult]:
    """Ingest the named sources (all when None), each on its own: one failing never stops the others.

    A mapping file that does not load fails its own source only: a failed run row with its file:line
    problems (files sharing one source id all fail). Drafts (`status: draft`) are never ingested: named,
    they are refused; in a run of all sources each is reported as a `skipped` result naming its file.
    `workers` (default HUB_INGEST_WORKERS, else the machine's cores) share the CPU work: with several
    sources, up to that many run at once, each in its own process (per-batch progress is then reported
    only by that process), and the workers left over build the batches of each (`workers` // sources at
    once, at least 1); one source alone builds its batches in `workers` processes (hub.ingest.parallel).
    Into an empty store, the load runs without secondary indexes and builds them at the end.
    `lookup`: a connection store tried before the hub's own (under Airflow, its Connections; one process only).
    `defer_indexes` False: never an initial load, whatever the store holds. An orchestrator that lands
    several sources at once in separate processes passes it: one load dropping the shared indexes (and
    building them when it ends) while another writes is a race this function cannot see.
    """
    chosen, failed, drafts = _choose(load_mappings(hub.settings.mappings_dir), sources)
    broken: dict[str, list[MappingFile]] = {}
    for f in failed:
        broken.setdefault(f.source, []).append(f)
    not_started = [record_failed_start(hub.engine, source, "\n".join(f.error for f in files),
                                       error_kind="MappingError", stale_after=hub.settings.stale_after)
                   for source, files in broken.items()]
    skipped = [IngestResult(d.source, "", "skipped", error=draft_note(d)) for d in drafts]
    return _ingest_specs(hub, chosen, on_batch, workers, lookup, defer_indexes) + not_started + skipped


def _ingest_specs(hub: Hub, chosen: list[MappingSpec], on_batch: Callable[[str, BatchCounts], None] | None,
                  workers: int | None, lookup: ConnectionLookup | None = None,
                  defer_indexes: bool = True) -> list[IngestResult]:
    workers = max(1, workers or hub.settings.ingest_workers or machine_cores())
    if not defer_indexes:
        restore_indexes(hub.engine)   # after an initial load that was killed
    with initial_load(hub.engine) if defer_indexes else nullcontext(False) as empty_store:
        if workers <= 1 or len(chosen) <= 1:
            return [ingest_one(hub, spec, on_batch, empty_store, lookup=lookup, workers=workers) for spec in chosen]
        at_once = min(workers, len(chosen))
        context = multiprocessing.get_context("spawn")   # no inherited engine connections or threads
        pool = ProcessPoolExecutor(max_workers=at_once, mp_context=context, initializer=watch_parent,
                                   initargs=(os.getpid(),))
        try:
            futures = [pool.submit(_ingest_in_worker, hub.settings, spec, empty_store, max(1, workers // at_once))
                       for spec in chosen]
            results = [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)   # no index is built while a worker still writes
            raise
        # All done: no need to wait while a spawned worker's interpreter tears down its normalizer memos
        # (about 2 s at 1M records); the indexes build meanwhile, and the interpreter joins it at exit.
        pool.shutdown(wait=False)
        return results


@dataclass
class ResolveReport:
    runs: list[TypeRun]
    fusion: FuseResult
    publication: PublishResult


def resolve(hub: Hub, entity_types: list[str] | None = None, *, full: bool = False, train: bool | None = None,
            progress: Progress | None = None) -> ResolveReport:
    """Resolve the entity types (all when None) into stable canonical ids, fuse golden records, conflicts,
    relations and places for what changed, then publish the read model (`publish`). See hub.resolve.runner
    for full and incremental runs."""
    mappings = hub.mappings()   # before any work: fusion needs every mapping, a broken one stops it here
    runs = resolve_entities(hub, entity_types, full=full, train=train, progress=progress)
    fusion = fuse_entities(hub, touched_by(runs), mappings=mappings, progress=progress)
    changed = fusion_changed(runs, fusion)
    return ResolveReport(runs, fusion, publish(hub, progress=progress, mappings=mappings, fusion_changed=changed))


def resolve_entities(hub: Hub, entity_types: list[str] | None = None, *, full: bool = False,
                     train: bool | None = None, progress: Progress | None = None) -> list[TypeRun]:
    """Resolution alone (the fusion DAG's first task): records → stable canonical ids, per entity type."""
    from hub.resolve.runner import ENTITY_TYPES, resolve_type

    unknown = sorted(set(entity_types or []) - set(ENTITY_TYPES))
    if unknown:
        raise ConfigurationError(f"cannot resolve {', '.join(unknown)}; entity types: {', '.join(ENTITY_TYPES)}")
    wanted = [t for t in ENTITY_TYPES if entity_types is None or t in entity_types]
    restore_indexes(hub.engine)   # after an initial load that was killed: resolution reads through them
    runs = []
    for entity_type in wanted:
        with paused_gc():
            run = resolve_type(hub.engine, hub.vault, entity_type, full=full, train=train, progress=progress,
                               state_dir=hub.settings.home / "state", stale_after=hub.settings.stale_after)
        log.info("resolve %s (%s): records %d, matched (links written) %d, in review %d, entities %s, %.1f s",
                 run.entity_type, run.mode, run.records, run.links_written, run.review_pairs,
                 ", ".join(f"{kind} {n}" for kind, n in sorted(run.changes.items())) or "unchanged", run.seconds)
        runs.append(run)
    return runs


def touched_by(runs: list[TypeRun]) -> dict[str, set[str] | None]:
    """What fusion must rebuild after these resolutions: per entity type its touched ids (None: all)."""
    return {run.entity_type: run.touched for run in runs}


def fusion_changed(runs: list[TypeRun], fusion: FuseResult) -> bool:
    """Whether resolution or fusion changed anything a publication would show."""
    return (any(run.links_written or any(run.changes.values()) for run in runs)
            or any(fusion.golden_entities.values()) or fusion.relations > 0 or fusion.places > 0)


def fuse_entities(hub: Hub, touched: Mapping[str, Collection[str] | None], *,
                  mappings: list[MappingSpec] | None = None, progress: Progress | None = None) -> FuseResult:
    """Fusion alone (the fusion DAG's second task): golden values, conflicts, relations and places of the
    touched entities; after a failed or a first fusion, of all of them (hub.fuse)."""
    from hub.fuse import fuse

    specs = hub.mappings() if mappings is None else mappings
    with paused_gc():
        fusion = fuse(hub.engine, hub.vault, specs, touched, progress, stale_after=hub.settings.stale_after)
    log.info("fuse: golden records %s; entities with conflicts %s; relations %d, places %d",
             ", ".join(f"{t} {n}" for t, n in sorted(fusion.golden_entities.items())) or "none",
             ", ".join(f"{t} {n}" for t, n in sorted(fusion.conflict_entities.items())) or "none",
             fusion.relations, fusion.places)
    return fusion


def report(hub: Hub, out: Path | None = None) -> ReportResult:
    """The auditors' static HTML report of the store as it is now (hub.quality.report): what `hub report`
    writes, what `hub demo` ends with, and the fusion DAG's last task links to."""
    from hub.quality.report import write_report

    specs = load_mappings(hub.settings.mappings_dir).ready
    return write_report(hub.engine, hub.vault, quality_home(hub.settings),
                        departments={spec.source: spec.department for spec in specs}, out=out)


def publish(hub: Hub, *, full: bool = False, progress: Callable[[str], None] | None = None,
            mappings: list[MappingSpec] | None = None, fusion_changed: bool = True) -> PublishResult:
    """Publish the fused state as the read model's next version (hub.publish): what `hub resolve` ends with,
    and the last task of the fusion DAG. Unchanged fusion publishes no new version; told that fusion changed
    nothing (`fusion_changed` False) after a successful publication, it does not even compare."""
    from hub.publish import publish as publish_read_model

    specs = hub.mappings() if mappings is None else mappings
    with paused_gc():
        result = publish_read_model(hub.engine, hub.vault, full=full, progress=progress,
                                    departments={spec.source: spec.department for spec in specs},
                                    fusion_changed=fusion_changed, stale_after=hub.settings.stale_after)
    log.info("publish: version %s (previous %s, %s), rows %s, %.1f s", result.version, result.previous,
             "new" if result.changed else "unchanged",
             ", ".join(f"{table} +{c.get('added', 0)}/-{c.get('retired', 0)}"
                       for table, c in sorted(result.counts.items())) or "none", result.seconds)
    return result


@dataclass
class DeriveReport:
    rules: RulesResult
    events: EventsResult


def derive(hub: Hub) -> DeriveReport:
    """Rules over the fused data, then their findings and the property tickets into events (the fusion DAG's
    step after fusion, before publication; `hub demo` runs it after `resolve`). A wrong rule file or grids file
    stops it before any work."""
    from hub.events import load_roster, run_events
    from hub.rules import load_rules, run_rules

    sources = [spec.source for spec in hub.mappings()]
    rules = load_rules(hub.settings.rules_dir, sources).require_ok()
    roster = load_roster(hub.settings.grids_file)
    found = run_rules(hub.engine, hub.vault, rules, now=hub.settings.rules_at, stale_after=hub.settings.stale_after)
    events = run_events(hub.engine, hub.vault, roster, stale_after=hub.settings.stale_after)
    d = events.derived
    log.info("derive: findings %s; events new %d, tickets %d, reopened %d, closed %d, assigned %d, without a grid %d",
             ", ".join(f"{rule} {w.found}" for rule, w in sorted(found.per_rule.items())) or "none", d.new, d.tickets,
             d.reopened, d.closed, d.assigned, d.unlocated)
    return DeriveReport(found, events)
