"""Publication: the fused state made into the read model (pub_* tables) that the API, `hub find` and exports read.

`publish()` builds what the read model should hold from the fusion tables, compares it with the published rows
and, in ONE transaction, retires changed rows (`until = v`), adds new ones (`since = v`), writes one change
event per entity whose served state changed (the outbox of the change feed, hub.feed.outbox) and marks version v
published. A reader pins the latest published version once (`current_version`) and reads only rows visible at
it, so it never sees half a publication, and a reader pinned to the previous version keeps its rows: only rows
retired at or before the previous version are deleted afterwards. Nothing changed: no new version (G2).
The derived situations (情) that hold are published the same way (pub_situation), so a profile shows those of
its version, never those of a rules run published later or not at all.
The first version fills empty tables: their secondary indexes are dropped and built again after the COPY, in
that same transaction (hub.store.initial_load.indexes_built_after), instead of growing row by row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from hub.feed.outbox import record_changes
from hub.keys import guard_write
from hub.protect import Vault
from hub.publish import build, versioned
from hub.store import runs, tables
from hub.store.initial_load import indexes_built_after, refresh_statistics
from hub.store.runs import DEFAULT_STALE_AFTER, failure_text, finish_counted, now

STAGE, SOURCE = "publish", "all"
PUBLISHED = "published"


@dataclass
class PublishResult:
    version: int | None
    """The version now served (the new one, or the previous one when nothing changed; None: nothing fused)."""
    previous: int | None
    changed: bool
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per table: rows added and retired by this publication."""
    pruned: int = 0
    run_id: str = ""
    seconds: float = 0.0
    events: int = 0
    """Change events written to the outbox (hub.feed) with this version."""


def current_version(conn: Connection) -> int | None:
    """The latest published version, None before the first publication."""
    p = tables.publication.c
    value = conn.execute(sa.select(sa.func.max(p.version)).where(p.state == PUBLISHED)).scalar()
    return None if value is None else int(value)


def _next_version(conn: Connection) -> int:
    value = conn.execute(sa.select(sa.func.max(tables.publication.c.version))).scalar()
    return 1 if value is None else int(value) + 1


PUB_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pub_entity", build.ENTITY_COLUMNS),
    ("pub_value", build.VALUE_COLUMNS),
    ("pub_key", build.KEY_COLUMNS),
    ("pub_relation", build.RELATION_COLUMNS),
    ("pub_scope", build.SCOPE_COLUMNS),
    ("pub_claim", build.CLAIM_COLUMNS),
    ("pub_situation", build.SITUATION_COLUMNS),
)
SITUATIONS_ONLY = PUB_TABLES[-1:]


def _frames(engine: Engine, departments: Mapping[str, str], say: Callable[[str], None]) -> dict[str, pd.DataFrame]:
    say("publication: golden values")
    golden = build.golden_rows(engine)
    entities = build.entity_rows(engine, golden)
    say("publication: claims and search keys")
    claims = build.claim_frame(engine, golden, departments)
    active = set(entities.loc[entities["state"] == "active", "entity_id"])
    relations = build.relation_rows(engine, active)
    return {
        "pub_entity": entities,
        "pub_value": build.value_rows(golden),
        "pub_key": build.key_rows(golden, claims),
        "pub_relation": relations,
        "pub_scope": build.scope_rows(engine, entities, relations, golden),
        "pub_claim": claims,
        "pub_situation": build.situation_rows(engine),
    }


def up_to_date(engine: Engine, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> int | None:
    """The served version when the last publication succeeded (so it holds the fused state as it then was);
    None when there is none or the last one failed or was interrupted."""
    if runs.latest_status(engine, STAGE, SOURCE, stale_after=stale_after) != "succeeded":
        return None
    with engine.connect() as conn:
        return current_version(conn)


def publish(engine: Engine, vault: Vault, *, full: bool = False, progress: Callable[[str], None] | None = None,
            departments: Mapping[str, str] | None = None, fusion_changed: bool = True,
            stale_after: timedelta = DEFAULT_STALE_AFTER) -> PublishResult:
    """Publish the fused state as a new read-model version, writing only differences (`full`: every row anew).

    `departments`: source → department, for lineage (pipeline.publish passes the mappings'); a run row of stage
    "publish" records the outcome. A failure rolls everything back: the previous version stays served.
    `fusion_changed` False (a resolution that changed no link, entity, golden value, relation or place): when
    the last publication succeeded, only the derived situations (情) are compared, for the derive stage may
    have run since; none changed, no run and its version stays served.
    """
    started = time.perf_counter()
    chosen = PUB_TABLES
    if not fusion_changed and not full and (served := up_to_date(engine, stale_after=stale_after)) is not None:
        with engine.connect() as conn:
            held = versioned.diff(conn, tables.pub_situation, build.situation_rows(engine), build.SITUATION_COLUMNS)
        if not held.changes:
            return PublishResult(served, served, False, seconds=time.perf_counter() - started)
        chosen = SITUATIONS_ONLY
    run = runs.start_run(engine, STAGE, SOURCE, stale_after=stale_after)
    say = runs.with_heartbeat(engine, run.id, progress)
    try:
        frames = (_frames(engine, departments or {}, say) if chosen is PUB_TABLES
                  else {"pub_situation": build.situation_rows(engine)})
        say("publication: writing differences")
        with engine.begin() as conn:
            guard_write(conn, run.id, vault)
            previous = current_version(conn)
            diffs = [versioned.diff(conn, getattr(tables, name), frames[name], columns, full=full)
                     for name, columns in chosen]
            counts = {d.table.name: {"added": len(d.add), "retired": len(d.retire)} for d in diffs}
            changes = sum(d.changes for d in diffs)
            if changes == 0 and previous is not None and not full:
                finish_counted(conn, run.id, status="succeeded", records=sum(len(f) for f in frames.values()),
                               changed=0)
                return PublishResult(previous, previous, False, counts, run_id=run.id,
                                     seconds=time.perf_counter() - started)
            version = _next_version(conn)
            conn.execute(tables.publication.insert().values(version=version, run_id=run.id, state="building",
                                                            started_at=run.started_at))
            # the first version fills empty tables: their indexes are built once after the COPY, not row by row
            first = previous is None and not any(d.retire for d in diffs)
            with (indexes_built_after(conn, [d.table for d in diffs if len(d.add)]) if first else nullcontext()):
                for change in diffs:
                    versioned.apply(conn, change, version)
            at = now()
            events = record_changes(conn, version, previous, at)      # the outbox, with the change (hub.feed)
            # the switch: one UPDATE, committed with the rows and the events it makes visible
            conn.execute(tables.publication.update().where(tables.publication.c.version == version).values(
                state=PUBLISHED, published_at=at, counts=json.dumps(counts, sort_keys=True)))
            finish_counted(conn, run.id, status="succeeded", records=sum(len(f) for f in frames.values()),
                           changed=changes)
    except Exception as exc:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="failed", error=failure_text(exc))
        raise
    pruned = 0
    if previous is not None:
        with engine.begin() as conn:
            pruned = sum(versioned.prune(conn, getattr(tables, name), previous) for name, _ in PUB_TABLES)
    # The API's plans (a profile joins relations to entities) need statistics of tables that may have grown from
    # empty in this run; without them PostgreSQL scanned every entity of a 2,000-resident district per profile.
    refresh_statistics(engine, [getattr(tables, name) for name, _ in PUB_TABLES])
    return PublishResult(version, previous, True, counts, pruned, run.id, time.perf_counter() - started, events)


__all__ = ["PublishResult", "current_version", "publish"]
