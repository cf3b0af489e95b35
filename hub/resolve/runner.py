"""One resolution run of an entity type: statements → engine → stable ids → links, entities, queue.

- full: the whole frame is resolved with the judgements in force (first run, `--full`, a new
  judgement since the last run, or more than INCREMENTAL_MAX_SHARE of the records new or changed);
- incremental: only records new or changed since the last run's statement watermark are scored,
  against the blocks they fall into, and attached to the existing entities (hub.resolve.incremental);
- unchanged: nothing new, nothing written but the run row.
Events and situations are not matched: each record is its own entity, with a stable id all the same.
Ids are then kept stable by hub.resolve.stable_ids; everything a run decides is written in one
transaction with its run row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from hub.keys import guard_write
from hub.protect import Vault
from hub.resolve.cluster import Judgement
from hub.resolve.engine import Resolution, resolve
from hub.resolve.entity_types import SPECS, default_model, get_spec, weights_path
from hub.resolve.frames import entity_frame
from hub.resolve.incremental import resolve_incremental
from hub.resolve.model import Model
from hub.resolve.resolved_state import Part, ResolvedState, load_state, save_state
from hub.resolve.review import judged_since, load_judgements
from hub.resolve.stable_ids import ID_PREFIX, UPDATED, Assignment, Minter, Previous, assign_ids, make_minter
from hub.resolve.store import (
    RunInfo,
    entities_of,
    ids_taken,
    last_run,
    latest_model,
    previous_state,
    record_keys,
    records_seen_since,
    save_model,
    split_record_key,
    start_run,
    statement_watermark,
    write_entities,
    write_links,
    write_review_pairs,
)
from hub.store.runs import DEFAULT_STALE_AFTER, failure_text, finish_counted, with_heartbeat

ENTITY_TYPES = tuple(ID_PREFIX)
"""Resolution order: matched types first, then the one-record entities (events, situations)."""
INCREMENTAL_MAX_SHARE = 0.2
"""Beyond this share of new or changed records a full run is cheaper and sees merges an increment would not."""
Progress = Callable[[str], None]


@dataclass
class TypeRun:
    entity_type: str
    mode: str
    """full | incremental | unchanged."""
    records: int = 0
    links_written: int = 0
    review_pairs: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    touched: set[str] | None = None
    """Entity ids whose golden records need rebuilding (None: all of the type, on its first run)."""
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    read_all: bool = True
    """Every record of the type was read from the store (False: only those landed since the last run,
    against the kept state)."""


@dataclass
class _Matched:
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: Model | None
    stats: dict[str, Any]
    resolution: Resolution | None = None
    """Of a full run: its records' features, for the state the next increment resolves against."""
    state: ResolvedState | None = None
    """Of an increment: the state it resolved against (labelled by entity id)."""
    placed: pd.DataFrame | None = None
    """Of an increment: the features of the records it placed (they join the state's delta)."""


def _changed(engine: Engine, frame: pd.DataFrame, previous: Previous, since: RunInfo | None) -> np.ndarray:
    """Records new to resolution or with a statement newer than the last run's watermark."""
    changed = ~frame["record_key"].isin(previous.links["record_key"]).to_numpy()
    if since is not None and since.watermark is not None and len(frame):
        seen = records_seen_since(engine, since.watermark)
        if seen:
            records = [split_record_key(k)[:2] for k in frame["record_key"]]
            changed |= np.fromiter((r in seen for r in records), dtype=bool, count=len(records))
    return changed


def _existing(frame: pd.DataFrame, labels: pd.Series, entity_type: str, model: Model) -> ResolvedState:
    """The engine's view of already resolved records, labelled by entity id, built from their frame."""
    spec = get_spec(entity_type)
    ordered = frame.sort_values("record_key", kind="stable").reset_index(drop=True)
    features = spec.features(ordered)
    return ResolvedState(entity_type, model, Part.build(entity_type, features, ordered["record_key"].map(labels)))


def _match(engine: Engine, frame: pd.DataFrame, entity_type: str, mode: str, changed: np.ndarray,
           previous: Previous, judgements: Sequence[Judgement], train: bool | None) -> _Matched:
    if mode == "full":
        shipped = weights_path(entity_type).exists()
        model = None if train or not shipped else default_model(entity_type)
        result = resolve(frame, entity_type, model=model, judgements=judgements, train_model=model is None)
        return _Matched(result.clusters, result.pairs, result.model, result.stats, resolution=result)
    model = latest_model(engine, entity_type) or default_model(entity_type)
    labels = previous.links.set_index("record_key")["entity_id"]
    existing = _existing(frame[~changed], labels, entity_type, model)
    increment = resolve_incremental(existing, frame[changed], model, judgements=judgements)
    clusters = pd.concat([pd.DataFrame({"record_key": existing.base.features["record_key"],
                                        "cluster": existing.base.labels}), increment.assignments],
                         ignore_index=True)
    return _Matched(clusters, increment.pairs, None, increment.stats, state=existing, placed=increment.features)


def link_details(links: pd.DataFrame, pairs: pd.DataFrame, judgements: Sequence[Judgement],
                 kept: pd.DataFrame | None = None) -> pd.DataFrame:
    """Why each record is in its entity: its strongest match inside it (score, linked_to, decided_by).

    `kept`: stored details of records an increment did not rescore; they stand unless a new pair inside
    the same entity scores higher. A positive judgement inside the entity says `judgement`; a record
    with no match inside its entity is there by its own `key`.
    """
    entity = links.set_index("record_key")["entity_id"]
    candidates = [pd.DataFrame(columns=["record_key", "linked_to", "score", "decided_by"])]
    if len(pairs):
        match = pairs.loc[pairs["decision"] == "match", ["a", "b", "weight"]].astype({"a": object, "b": object})
        match = match[match["a"].map(entity).to_numpy() == match["b"].map(entity).to_numpy()]
        for one, other in (("a", "b"), ("b", "a")):
            candidates.append(pd.DataFrame({"record_key": match[one], "linked_to": match[other],
                                            "score": match["weight"].astype(float), "decided_by": "model"}))
    if kept is not None and len(kept):
        still = kept["linked_to"].isna() | (kept["linked_to"].map(entity) == kept["record_key"].map(entity))
        candidates.append(kept[still][["record_key", "linked_to", "score", "decided_by"]])
    best = pd.concat([c for c in candidates if len(c)] or candidates[:1], ignore_index=True)
    best = best.sort_values(["record_key", "score", "linked_to"], ascending=[True, False, True], na_position="last")
    out = links.merge(best.drop_duplicates("record_key"), on="record_key", how="left")
    out["decided_by"] = out["decided_by"].fillna("key")
    judged = [(a, b) for a, b, same in judgements if same and a in entity.index and b in entity.index
              and entity[a] == entity[b]]
    if judged:
        partner = dict([*judged, *((b, a) for a, b in judged)])
        hit = out["record_key"].isin(partner.keys())
        out.loc[hit, "decided_by"] = "judgement"
        unlinked = hit & out["linked_to"].isna()
        out.loc[unlinked, "linked_to"] = out.loc[unlinked, "record_key"].map(partner)
    return out[["record_key", "entity_id", "score", "linked_to", "decided_by"]]


def content_updates(assignment: Assignment, rescored: pd.Series) -> pd.DataFrame:
    """`updated` events for entities whose records changed content without any record moving (a new phone)."""
    held = assignment.links.loc[assignment.links["record_key"].isin(rescored), "entity_id"].value_counts()
    skip = set(assignment.changes["entity_id"]) | set(assignment.entities.loc[assignment.entities["new"], "id"])
    rows = [{"entity_id": entity_id, "change": UPDATED, "other_id": None,
             "detail": json.dumps({"added": 0, "removed": 0, "changed": int(n)}, sort_keys=True)}
            for entity_id, n in held.items() if entity_id not in skip]
    changes = pd.concat([assignment.changes, pd.DataFrame(rows, columns=assignment.changes.columns)],
                        ignore_index=True)
    return changes.sort_values(["entity_id", "change"], kind="stable").reset_index(drop=True)


def _mode(engine: Engine, entity_type: str, full: bool, previous_run: RunInfo | None, previous: Previous,
          changed: np.ndarray, vanished: bool) -> str:
    matched = entity_type in SPECS
    if len(changed) == 0 and not vanished:
        return "unchanged"                      # no record of the type at all
    if full or previous_run is None or previous.links.empty:
        return "full"
    if matched and judged_since(engine, entity_type, previous_run.started_at):
        return "full"
    if not changed.any() and not vanished:
        return "unchanged"
    if matched and changed.mean() > INCREMENTAL_MAX_SHARE:
        return "full"
    return "incremental"


def _new_model(engine: Engine, model: Model | None) -> Model | None:
    """The model of a full run, unless the store holds the same weights already."""
    if model is None:
        return None
    stored = latest_model(engine, model.entity_type)
    same = stored is not None and json.dumps(stored.to_json(), sort_keys=True) == json.dumps(
        model.to_json(), sort_keys=True)
    return None if same else model


def resolve_type(engine: Engine, vault: Vault, entity_type: str, *, full: bool = False,
                 train: bool | None = None, progress: Progress | None = None,
                 state_dir: Path | None = None, stale_after: timedelta = DEFAULT_STALE_AFTER) -> TypeRun:
    """Resolve one entity type and persist the outcome (see the module docstring for the three modes).

    `train`: learn weights from this data in a full run; by default the reviewed weights shipped for
    the type are used, and training happens only for types that have none.
    `state_dir`: where the resolved state is kept between runs (hub.resolve.resolved_state); with it an
    increment reads only the records that changed, without it every increment reads them all.
    `stale_after`: heartbeat age after which a resolution of another host counts as interrupted
    (hub.store.runs); each progress step refreshes this run's heartbeat.
    """
    run = start_run(engine, entity_type, stale_after=stale_after)
    clock = time.perf_counter()
    try:
        outcome = _run(engine, vault, entity_type, run, full=full, train=train,
                       say=with_heartbeat(engine, run.id, progress), state_dir=state_dir)
    except Exception as exc:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="failed", error=failure_text(exc))
        raise
    outcome.seconds = round(time.perf_counter() - clock, 3)
    return outcome


def _run(engine: Engine, vault: Vault, entity_type: str, run: RunInfo, *, full: bool, train: bool | None,
         say: Progress, state_dir: Path | None) -> TypeRun:
    watermark = statement_watermark(engine)
    previous_run = last_run(engine, entity_type)
    matched = entity_type in SPECS
    if not full and previous_run is not None and previous_run.watermark is not None and state_dir is not None \
            and not (matched and judged_since(engine, entity_type, previous_run.started_at)):
        state = load_state(state_dir, vault, entity_type, previous_run.id) if matched else None
        if state is not None or not matched:
            outcome = _run_increment(engine, vault, entity_type, run, previous_run, state, watermark, say, state_dir)
            if outcome is not None:
                return outcome
    say(f"{entity_type}: reading records")
    frame = (entity_frame(engine, vault, entity_type) if matched
             else pd.DataFrame({"record_key": record_keys(engine, entity_type)}, dtype=object))
    previous = previous_state(engine, entity_type)
    changed = _changed(engine, frame, previous, previous_run)
    vanished = not previous.links["record_key"].isin(frame["record_key"]).all()
    mode = _mode(engine, entity_type, full, previous_run, previous, changed, vanished)
    outcome = TypeRun(entity_type, mode, records=len(frame))
    say(f"{entity_type}: {mode} resolution of {len(frame):,} records")
    if mode == "unchanged" or frame.empty:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="succeeded", records=len(frame), watermark=watermark)
        outcome.touched = set()
        if matched and state_dir is not None and previous_run is not None and not frame.empty:
            _carry_state(engine, state_dir, vault, entity_type, run, frame, previous)
        return outcome
    judgements = load_judgements(engine, entity_type) if matched else []
    if matched:
        m = _match(engine, frame, entity_type, mode, changed, previous, judgements, train)
    else:
        m = _Matched(pd.DataFrame({"record_key": frame["record_key"], "cluster": frame["record_key"]}),
                     pd.DataFrame(), None, {})
    say(f"{entity_type}: keeping ids stable")
    assignment = assign_ids(m.clusters, previous, make_minter(entity_type, vault.keyed_hash))
    assignment.changes = content_updates(assignment, frame["record_key"][changed])
    kept = None
    if mode == "incremental":
        details = previous.links.drop(columns="entity_id")
        kept = details[~details["record_key"].isin(frame["record_key"][changed])]
    links = link_details(assignment.links, m.pairs, judgements, kept)
    say(f"{entity_type}: writing links")
    _persist(engine, vault, run, outcome, assignment, links, m.pairs, watermark, complete=True,
             replace_queue=mode == "full", model=_new_model(engine, m.model))
    if state_dir is not None and (m.resolution is not None or m.state is not None):
        _save_next_state(state_dir, vault, run, m, assignment, previous.links)
    outcome.stats = m.stats
    outcome.touched = None if previous.links.empty else touched(previous, assignment, frame["record_key"][changed])
    return outcome


def _persist(engine: Engine, vault: Vault, run: RunInfo, outcome: TypeRun, assignment: Assignment,
             links: pd.DataFrame, pairs: pd.DataFrame, watermark: Any, *, complete: bool, replace_queue: bool,
             model: Model | None = None) -> None:
    """Everything a run decided, in one transaction with its run row; `complete`: `links` covers the type."""
    review = (pairs[pairs["queued"]] if len(pairs)
              else pd.DataFrame(columns=["a", "b", "weight", "reason"]))
    with engine.begin() as conn:
        guard_write(conn, run.id, vault)
        write_entities(conn, outcome.entity_type, assignment, run.id)
        outcome.links_written = write_links(conn, outcome.entity_type, links, run.id, complete=complete)
        write_review_pairs(conn, outcome.entity_type, review, run.id, replace=replace_queue)
        if model is not None:
            save_model(conn, run.id, model)
        finish_counted(conn, run.id, status="succeeded", records=outcome.records, changed=outcome.links_written,
                       watermark=watermark)
    outcome.review_pairs = len(review)
    outcome.changes = {str(k): int(v) for k, v in assignment.changes["change"].value_counts().items()}


def _save_next_state(state_dir: Path, vault: Vault, run: RunInfo, m: _Matched, assignment: Assignment,
                     before: pd.DataFrame) -> None:
    ids = assignment.links.set_index("record_key")["entity_id"]
    if m.resolution is not None:   # a full run: its records, under their ids
        keys = m.resolution.clusters["record_key"].to_numpy(dtype=object)
        state = ResolvedState.from_resolution(m.resolution, ids.reindex(keys).to_numpy(dtype=object))
    else:
        assert m.state is not None and m.placed is not None
        state = advanced(m.state, m.placed, ids, before)
    save_state(state_dir, vault, run.id, state)


def advanced(state: ResolvedState, placed: pd.DataFrame, ids: pd.Series, before: pd.DataFrame) -> ResolvedState:
    """The state after an increment: the placed records, and records whose entity id changed (their
    entity was split from under them), join the delta under their ids."""
    stayed = before[~before["record_key"].isin(placed["record_key"])]
    moved = stayed["record_key"][stayed["entity_id"].to_numpy() != ids.reindex(stayed["record_key"]).to_numpy()]
    features = pd.concat([placed, state.features(state.find(moved.to_numpy(dtype=object)))], ignore_index=True)
    keys = features["record_key"].to_numpy(dtype=object)
    return state.advance(keys, features, ids.reindex(keys).to_numpy(dtype=object))


def _carry_state(engine: Engine, state_dir: Path, vault: Vault, entity_type: str, run: RunInfo,
                 frame: pd.DataFrame, previous: Previous) -> None:
    """An unchanged run that had to read everything (no usable state) leaves the state for the next."""
    model = latest_model(engine, entity_type) or default_model(entity_type)
    labels = previous.links.set_index("record_key")["entity_id"]
    save_state(state_dir, vault, run.id, _existing(frame, labels, entity_type, model))


def _run_increment(engine: Engine, vault: Vault, entity_type: str, run: RunInfo, previous_run: RunInfo,
                   state: ResolvedState | None, watermark: Any, say: Progress, state_dir: Path) -> TypeRun | None:
    """An increment that reads only the records landed since the last run, and the entities they touch.

    None when a full run is due instead (too many records changed). Unmatched types need no state:
    each record is its own entity.
    """
    assert previous_run.watermark is not None
    seen = records_seen_since(engine, previous_run.watermark)
    matched = state is not None
    say(f"{entity_type}: reading {len(seen):,} changed source records")
    frame = (entity_frame(engine, vault, entity_type, records=seen) if matched
             else pd.DataFrame({"record_key": record_keys(engine, entity_type, records=seen)}, dtype=object))
    if state is not None and len(frame) > INCREMENTAL_MAX_SHARE * max(state.live_records(), 1):
        return None
    outcome = TypeRun(entity_type, "unchanged" if frame.empty else "incremental", records=len(frame), read_all=False)
    if frame.empty:
        with engine.begin() as conn:
            finish_counted(conn, run.id, status="succeeded", watermark=watermark)
        if state is not None:
            save_state(state_dir, vault, run.id, state)
        outcome.touched = set()
        return outcome
    keys = frame["record_key"].astype(object)
    judgements = load_judgements(engine, entity_type) if matched else []
    if state is not None:
        say(f"{entity_type}: incremental resolution of {len(frame):,} records")
        model = latest_model(engine, entity_type) or state.model
        increment = resolve_incremental(state, frame, model, judgements=judgements)
        placed, pairs, stats = increment.assignments, increment.pairs, increment.stats
    else:
        placed = pd.DataFrame({"record_key": keys, "cluster": keys})
        pairs, stats = pd.DataFrame(), {}
    old = entities_of(engine, entity_type, keys)
    labels = set(placed["cluster"])
    scope = set(old["entity_id"]) | ids_taken(engine, {str(x) for x in labels})
    previous = previous_state(engine, entity_type, scope)
    others = previous.links[~previous.links["record_key"].isin(keys)]
    clusters = pd.concat([pd.DataFrame({"record_key": others["record_key"], "cluster": others["entity_id"]}),
                          placed], ignore_index=True)
    say(f"{entity_type}: keeping ids stable")
    assignment = _assign_checked(engine, clusters, previous, make_minter(entity_type, vault.keyed_hash))
    assignment.changes = content_updates(assignment, keys)
    kept = previous.links.drop(columns="entity_id")
    kept = kept[~kept["record_key"].isin(keys)]
    links = link_details(assignment.links, pairs, judgements, kept)
    say(f"{entity_type}: writing links")
    _persist(engine, vault, run, outcome, assignment, links, pairs, watermark, complete=False, replace_queue=False)
    if state is not None:
        ids = assignment.links.set_index("record_key")["entity_id"]
        save_state(state_dir, vault, run.id, advanced(state, increment.features, ids, previous.links))
    outcome.stats = stats
    outcome.touched = touched(previous, assignment, keys)
    return outcome


def _assign_checked(engine: Engine, clusters: pd.DataFrame, previous: Previous, mint: Minter) -> Assignment:
    """assign_ids with `previous` holding only some entities: ids it mints are checked against every id
    ever minted, and minted again past the ones taken (an id is never given twice)."""
    taken = set(previous.taken)
    while True:
        assignment = assign_ids(clusters, Previous(previous.links, previous.entities, frozenset(taken)), mint)
        clash = ids_taken(engine, assignment.minted)
        if not clash:
            return assignment
        taken |= clash


def touched(previous: Previous, assignment: Assignment, rescored: pd.Series) -> set[str]:
    """Entities whose golden records may differ now: those of records that changed, moved, came or went."""
    old = previous.links.set_index("record_key")["entity_id"]
    new = assignment.links.set_index("record_key")["entity_id"]
    moved = new.index[new.ne(old.reindex(new.index)).to_numpy()]
    keys = list(set(moved) | set(rescored))
    ids = set(new.reindex(keys).dropna()) | set(old.reindex([*keys, *old.index.difference(new.index)]).dropna())
    return {str(i) for i in ids} | set(assignment.entities["id"])
