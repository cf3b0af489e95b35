"""Fusion: from record links and statements to golden records, conflicts, relations and places.

`fuse()` runs after resolution. It rebuilds only what the resolution touched (the entities whose
records or links changed; all of a type after a full run) and writes differences, so a re-run on
unchanged data rewrites nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from hub.fuse.conflicts import conflict_counts, conflicts, write_conflicts
from hub.fuse.golden import golden_values, statements_behind, write_golden
from hub.fuse.places import house_values, places, write_places
from hub.fuse.relations import relations, write_relations
from hub.fuse.statements import latest_versions, ranked, read_statements
from hub.keys import guard_write
from hub.mapping import MappingSpec
from hub.protect import Vault
from hub.resolve.stable_ids import ID_PREFIX
from hub.store.runs import (
    DEFAULT_STALE_AFTER,
    failure_text,
    finish_counted,
    latest_status,
    start_run,
    with_heartbeat,
)

STAGE, SOURCE = "fuse", "all"
Touched = Mapping[str, Collection[str] | None]
"""Entity type → the entity ids to rebuild (None: all of the type)."""


@dataclass
class FuseResult:
    golden_entities: dict[str, int] = field(default_factory=dict)
    """Entities whose golden values were (re)written, per type."""
    conflict_entities: dict[str, int] = field(default_factory=dict)
    relations: int = 0
    places: int = 0


def fuse(engine: Engine, vault: Vault, mappings: Sequence[MappingSpec], touched: Touched,
         progress: Callable[[str], None] | None = None, *,
         stale_after: timedelta = DEFAULT_STALE_AFTER) -> FuseResult:
    """Golden values and conflicts of the touched entities, then the relations touching them and the places.

    `stale_after`: heartbeat age after which a fusion of another host counts as interrupted (hub.store.runs).
    """
    result = FuseResult()
    # catch up after a failed or first fusion
    if latest_status(engine, STAGE, SOURCE, stale_after=stale_after) != "succeeded":
        touched = dict.fromkeys(ID_PREFIX, None)
    run = start_run(engine, STAGE, SOURCE, stale_after=stale_after)
    say = with_heartbeat(engine, run.id, progress)
    try:
        latest = latest_versions(engine)
        for entity_type, ids in touched.items():
            if ids is not None and not ids:
                continue
            say(f"golden records: {entity_type}")
            statements = ranked(read_statements(engine, entity_type, latest, ids), mappings)
            with engine.begin() as conn:
                guard_write(conn, run.id, vault)
                result.golden_entities[entity_type] = write_golden(
                    conn, entity_type, golden_values(statements, run.id), ids)
                result.conflict_entities[entity_type] = write_conflicts(
                    conn, entity_type, conflicts(statements, vault, run.id), ids)
        every = any(ids is None for ids in touched.values())
        ends = None if every else set().union(*(ids for ids in touched.values() if ids))
        if ends is None or ends:
            say("relations")
            rows = relations(engine, run.id, latest, ends)
            with engine.begin() as conn:
                guard_write(conn, run.id, vault)
                result.relations = write_relations(conn, rows, ends)
        if "house" in touched and (touched["house"] is None or touched["house"]):
            say("places")
            with engine.begin() as conn:
                guard_write(conn, run.id, vault)
                result.places = write_places(conn, places(house_values(engine), run.id))
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="succeeded", records=sum(result.golden_entities.values()),
                           changed=sum(result.golden_entities.values()))
    except Exception as exc:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="failed", error=failure_text(exc))
        raise
    return result


__all__ = ["FuseResult", "Touched", "conflict_counts", "fuse", "statements_behind"]
