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
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from hub.protect import Vault
from hub.resolve.cluster import Judgement
from hub.resolve.compare import Prepared
from hub.resolve.engine import Resolution, resolve
from hub.resolve.frames import entity_frame
from hub.resolve.incremental import resolve_incremental
from hub.resolve.keys import key_tables
from hub.resolve.model import Model
from hub.resolve.review import judged_since, load_judgements
from hub.resolve.specs import SPECS, default_model, get_spec, weights_path
from hub.resolve.stable_ids import ID_PREFIX, UPDATED, Assignment, Previous, assign_ids, make_minter
from hub.resolve.store import (
    RunInfo,
    failure_text,
    finish_run,
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


@dataclass
class _Matched:
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    model: Model | None
    stats: dict[str, Any]


def _changed(engine: Engine, frame: pd.DataFrame, previous: Previous, since: RunInfo | None) -> np.ndarray:
    """Records new to resolution or with a statement newer than the last run's watermark."""
    changed = ~frame["record_key"].isin(previous.links["record_key"]).to_numpy()
    if since is not None and since.watermark is not None and len(frame):
        seen = records_seen_since(engine, since.watermark)
        if seen:
            records = [split_record_key(k)[:2] for k in frame["record_key"]]
            changed |= np.fromiter((r in seen for r in records), dtype=bool, count=len(records))
    return changed


def _existing(frame: pd.DataFrame, labels: pd.Series, entity_type: str, model: Model) -> Resolution:
    """The engine's view of already resolved records: their features and key tables, labelled by entity id."""
    spec = get_spec(entity_type)
    ordered = frame.sort_values("record_key", kind="stable").reset_index(drop=True)
    data = Prepared(spec.features(ordered))
    clusters = pd.DataFrame({"record_key": ordered["record_key"], "cluster": ordered["record_key"].map(labels)})
    return Resolution(entity_type, clusters, pd.DataFrame(), model, {}, data, key_tables(data.features, spec.rules))


def _match(engine: Engine, frame: pd.DataFrame, entity_type: str, mode: str, changed: np.ndarray,
           previous: Previous, judgements: Sequence[Judgement], train: bool | None) -> _Matched:
    if mode == "full":
        shipped = weights_path(entity_type).exists()
        model = None if train or not shipped else default_model(entity_type)
        result = resolve(frame, entity_type, model=model, judgements=judgements, train_model=model is None)
        return _Matched(result.clusters, result.pairs, result.model, result.stats)
    model = latest_model(engine, entity_type) or default_model(entity_type)
    labels = previous.links.set_index("record_key")["entity_id"]
    existing = _existing(frame[~changed], labels, entity_type, model)
    increment = resolve_incremental(existing, frame[changed], model, judgements=judgements)
    clusters = pd.concat([existing.clusters, increment.assignments], ignore_index=True)
    return _Matched(clusters, increment.pairs, None, increment.stats)


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
        out.loc[hit & out["linked_to"].isna(), "linked_to"] = out.loc[hit, "record_key"].map(partner)
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
                 train: bool | None = None, progress: Progress | None = None) -> TypeRun:
    """Resolve one entity type and persist the outcome (see the module docstring for the three modes).

    `train`: learn weights from this data in a full run; by default the reviewed weights shipped for
    the type are used, and training happens only for types that have none.
    """
    run = start_run(engine, entity_type)
    clock = time.perf_counter()
    try:
        outcome = _run(engine, vault, entity_type, run, full=full, train=train, say=progress or (lambda _: None))
    except Exception as exc:
        with engine.begin() as conn:
            finish_run(conn, run.id, status="failed", error=failure_text(exc))
        raise
    outcome.seconds = round(time.perf_counter() - clock, 3)
    return outcome


def _run(engine: Engine, vault: Vault, entity_type: str, run: RunInfo, *, full: bool, train: bool | None,
         say: Progress) -> TypeRun:
    watermark = statement_watermark(engine)
    previous_run = last_run(engine, entity_type)
    matched = entity_type in SPECS
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
            finish_run(conn, run.id, status="succeeded", records=len(frame), watermark=watermark)
        outcome.touched = set()
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
    review = (m.pairs[m.pairs["decision"] == "review"] if len(m.pairs)
              else pd.DataFrame(columns=["a", "b", "weight", "reason"]))
    say(f"{entity_type}: writing links")
    model = _new_model(engine, m.model)
    with engine.begin() as conn:
        write_entities(conn, entity_type, assignment, run.id)
        outcome.links_written = write_links(conn, entity_type, links, run.id, complete=True)
        write_review_pairs(conn, entity_type, review, run.id, replace=mode == "full")
        if model is not None:
            save_model(conn, run.id, model)
        finish_run(conn, run.id, status="succeeded", records=len(frame), changed=outcome.links_written,
                   watermark=watermark)
    outcome.review_pairs = len(review)
    outcome.changes = {str(k): int(v) for k, v in assignment.changes["change"].value_counts().items()}
    outcome.stats = m.stats
    outcome.touched = None if previous.links.empty else touched(previous, assignment, frame["record_key"][changed])
    return outcome


def touched(previous: Previous, assignment: Assignment, rescored: pd.Series) -> set[str]:
    """Entities whose golden records may differ now: those of records that changed, moved, came or went."""
    old = previous.links.set_index("record_key")["entity_id"]
    new = assignment.links.set_index("record_key")["entity_id"]
    moved = new.index[new.ne(old.reindex(new.index)).to_numpy()]
    keys = list(set(moved) | set(rescored))
    ids = set(new.reindex(keys).dropna()) | set(old.reindex([*keys, *old.index.difference(new.index)]).dropna())
    return {str(i) for i in ids} | set(assignment.entities["id"])
