"""Human review: judgements on record pairs, the queue of uncertain pairs, and what a reviewer sees.

A judgement is data the model never overwrites (style.md §6): rows are only appended, the latest
judgement on a pair is the one in force, and every resolution run passes them to the engine, which
joins accepted pairs first and never joins rejected ones. The queue is the engine's `queued` pairs
(questions only) nobody has judged yet. Reviewers see the two records side by side and the weights;
resident IDs and phones appear masked (650102********1237, 138****8000), other sensitive values not
at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from hub.errors import ReviewError
from hub.mapping.code_tables import display_value
from hub.protect import Vault, mask_attribute
from hub.resolve.cluster import Judgement
from hub.resolve.entity_types import SPECS, default_model, get_spec
from hub.resolve.explain import Explanation, explain_pair
from hub.resolve.frames import entity_frame
from hub.resolve.model import Model
from hub.resolve.queue import rank_items
from hub.resolve.store import latest_model, pair_key, split_record_key
from hub.store import tables
from hub.store.frames import frame_of
from hub.store.runs import now

mask = mask_attribute
"""Resident IDs and phones as 650102********1237 / 138****8000; other encrypted values hidden."""


def entity_type_of(engine: Engine, record_key: str) -> str:
    """The entity type of a record key, from its statements; ReviewError when there are none."""
    source, record_id, entity_ref = split_record_key(record_key) if record_key.count("|") >= 2 else ("", "", "")
    s = tables.statement.c
    with engine.connect() as conn:
        found = conn.execute(sa.select(s.entity_type).where(
            s.source == source, s.source_record_id == record_id, s.entity_ref == entity_ref).limit(1)).scalar()
    if found is None:
        raise ReviewError(f"no record {record_key!r}: record keys read source|source_record_id|entity "
                                 "(see `hub review list` or `hub explain ENTITY`)")
    return str(found)


def judge(engine: Engine, a: str, b: str, *, positive: bool, who: str, why: str | None = None) -> str:
    """Record a reviewer's decision on a pair: `positive` the same entity, else different ones.

    Returns the entity type. Both records must exist and be of one type; a pair judged before gets a
    new row (the latest decision is in force, the history stays).
    """
    if a == b:
        raise ReviewError("a judgement needs two different records")
    types = {entity_type_of(engine, a), entity_type_of(engine, b)}
    if len(types) != 1:
        raise ReviewError(f"{a!r} and {b!r} are of different entity types ({', '.join(sorted(types))})")
    entity_type = types.pop()
    if entity_type not in SPECS:
        raise ReviewError(f"{entity_type} records are not matched (each is its own entity): nothing to judge")
    first, second = pair_key(a, b)
    with engine.begin() as conn:
        conn.execute(tables.judgement.insert().values(
            entity_type=entity_type, record_a=first, record_b=second, positive=positive, decided_by=who,
            decided_at=now(), reason=why))
    return entity_type


def load_judgements(engine: Engine, entity_type: str) -> list[Judgement]:
    """The judgements in force for a type: (record a, record b, same entity?), the latest per pair."""
    j = tables.judgement.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(j.record_a, j.record_b, j.positive).where(j.entity_type == entity_type)
                            .order_by(j.id)).all()
    latest: dict[tuple[str, str], bool] = {(a, b): bool(p) for a, b, p in rows}
    return [(a, b, p) for (a, b), p in sorted(latest.items())]


def judged_since(engine: Engine, entity_type: str, since: datetime) -> bool:
    j = tables.judgement.c
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(
            j.entity_type == entity_type, j.decided_at > since)).scalar_one() > 0


def judgement_of(engine: Engine, a: str, b: str) -> dict[str, object] | None:
    """The judgement in force on a pair (who, when, why, positive), or None."""
    first, second = pair_key(a, b)
    j = tables.judgement
    with engine.connect() as conn:
        row = conn.execute(sa.select(j).where(j.c.record_a == first, j.c.record_b == second)
                           .order_by(j.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def queue(engine: Engine, entity_type: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Unjudged review pairs, most probable match first: entity_type, record_a, record_b, weight, reason,
    entity_a, entity_b (their current entities: equal when other links already joined them).

    Pairs the model itself was unsure of come before pairs a guard sent to review (`reason`: conflicting
    fields, two register records): on the benchmark district the first are true matches one time in six
    to three in five, the second about one time in a hundred or less, whatever their weight. Only
    questions are here: the engine queues no pair a contradiction settles (hub.resolve.queue).
    """
    r, j, link = tables.review_pair.c, tables.judgement.c, tables.record_link
    la, lb = link.alias("la"), link.alias("lb")
    judged = sa.select(j.id).where(j.record_a == r.record_a, j.record_b == r.record_b).exists()
    query = (sa.select(r.entity_type, r.record_a, r.record_b, r.weight, r.reason,
                       la.c.entity_id.label("entity_a"), lb.c.entity_id.label("entity_b"))
             .outerjoin(la, la.c.record_key == r.record_a).outerjoin(lb, lb.c.record_key == r.record_b)
             .where(~judged).order_by(sa.case((r.reason.is_(None), 0), else_=1), r.weight.desc(), r.record_a,
                                      r.record_b))
    if entity_type is not None:
        query = query.where(r.entity_type == entity_type)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as conn:
        return frame_of(conn.execute(query), [
            "entity_type", "record_a", "record_b", "weight", "reason", "entity_a", "entity_b"])


def review_items(engine: Engine, entity_type: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """The queue as a reviewer works it: one item per pair of entities, ranked (hub.resolve.queue).

    One judgement settles a pair of entities (an accepted record pair joins their clusters; a
    rejected one keeps them apart, whatever other records link them), so the other record pairs
    between the same two entities are not shown as items of their own: `pairs` counts them. An
    entity pair on which some record pair is judged already is settled and left out, and so is a
    pair whose two records other links have already put in one entity. `moves` is the number of
    records accepting the item would move into another entity.
    """
    pending = queue(engine, entity_type)
    if pending.empty:
        return pending.assign(pairs=pd.Series(dtype="int64"), moves=pd.Series(dtype="int64"))
    items = pd.concat([rank_items(group, _entity_sizes(engine, group))
                       for _, group in pending.groupby("entity_type", sort=True)], ignore_index=True)
    settled = _judged_entity_pairs(engine, entity_type)
    if settled:
        a = items["entity_a"].fillna(items["record_a"]).to_numpy(dtype=object)
        b = items["entity_b"].fillna(items["record_b"]).to_numpy(dtype=object)
        held = pd.MultiIndex.from_arrays([items["entity_type"], np.where(a < b, a, b), np.where(a < b, b, a)])
        items = items[~held.isin(list(settled))].reset_index(drop=True)
    return items if limit is None else items.head(limit)


def _entity_sizes(engine: Engine, pending: pd.DataFrame) -> pd.Series:
    """Records linked to each entity of the pending pairs (what accepting an item would move)."""
    ids = sorted(set(pending["entity_a"].dropna()) | set(pending["entity_b"].dropna()))
    link = tables.record_link.c
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            counts.update({str(e): int(n) for e, n in conn.execute(
                sa.select(link.entity_id, sa.func.count()).where(link.entity_id.in_(ids[start:start + 900]))
                .group_by(link.entity_id))})
    return pd.Series(counts, dtype="int64")


def _judged_entity_pairs(engine: Engine, entity_type: str | None) -> set[tuple[str, str, str]]:
    """(entity type, entity, entity) of every judged record pair, the two entities in sorted order."""
    j, link = tables.judgement.c, tables.record_link
    la, lb = link.alias("la"), link.alias("lb")
    query = (sa.select(j.entity_type, sa.func.coalesce(la.c.entity_id, j.record_a),
                       sa.func.coalesce(lb.c.entity_id, j.record_b))
             .outerjoin(la, la.c.record_key == j.record_a).outerjoin(lb, lb.c.record_key == j.record_b))
    if entity_type is not None:
        query = query.where(j.entity_type == entity_type)
    with engine.connect() as conn:
        return {(t, min(a, b), max(a, b)) for t, a, b in conn.execute(query)}


def queue_size(engine: Engine) -> dict[str, int]:
    """Items waiting per entity type (one per pair of entities, as `hub review list` shows them)."""
    sizes = review_items(engine).groupby("entity_type").size()
    return {str(k): int(v) for k, v in sizes.items()}


@dataclass
class PairView:
    """What a reviewer sees for one pair."""

    entity_type: str
    record_a: str
    record_b: str
    side_by_side: pd.DataFrame
    """attribute, a, b (masked)."""
    explanation: Explanation
    judgement: dict[str, object] | None


def model_for(engine: Engine, entity_type: str) -> Model:
    """The weights the last run scored with, else the reviewed weights shipped for the type."""
    return latest_model(engine, entity_type) or default_model(entity_type)


def term_shares(entity_type: str, frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Per term-frequency feature, each record's share of records holding its value (as a run counts it)."""
    spec = get_spec(entity_type)
    features = spec.features(frame)
    columns = {level.tf_column for c in spec.comparisons for level in c.levels if level.tf_column}
    out = {}
    for column in sorted(columns):
        values = pd.Series(features[column].to_numpy(dtype=object), index=features.index)   # may be categorical
        out[column] = (values.map(values.value_counts()) / max(int(values.notna().sum()), 1)).reset_index(drop=True)
    return out


def _shown(entity_type: str, attribute: str, value: object) -> object:
    """A value as the reviewer sees it: masked by its sensitivity, a code with its label (女 (2))."""
    return display_value(entity_type, attribute, mask(entity_type, attribute, value))


def _side_by_side(entity_type: str, row_a: pd.Series, row_b: pd.Series) -> pd.DataFrame:
    attributes = [c for c in row_a.index if c not in ("record_key", "source")
                  and not (pd.isna(row_a[c]) and pd.isna(row_b[c]))]
    return pd.DataFrame({
        "attribute": ["source", *attributes],
        "a": [row_a["source"], *(_shown(entity_type, c, row_a[c]) for c in attributes)],
        "b": [row_b["source"], *(_shown(entity_type, c, row_b[c]) for c in attributes)],
    })


def view_pairs(engine: Engine, vault: Vault, pairs: Sequence[tuple[str, str]],
               frames: Mapping[str, pd.DataFrame] | None = None) -> list[PairView]:
    """Side-by-side records and score breakdown of each pair (frames are read once per entity type)."""
    cache: dict[str, pd.DataFrame] = dict(frames or {})
    shares: dict[str, dict[str, pd.Series]] = {}
    models: dict[str, Model] = {}
    views = []
    for a, b in pairs:
        entity_type = entity_type_of(engine, a)
        if entity_type not in SPECS:
            raise ReviewError(f"{entity_type} records are not matched: each record is its own entity")
        if entity_type not in cache:
            cache[entity_type] = entity_frame(engine, vault, entity_type)
        frame = cache[entity_type]
        position = pd.Series(np.arange(len(frame)), index=frame["record_key"])
        missing = [k for k in (a, b) if k not in position.index]
        if missing:
            raise ReviewError(f"no {entity_type} record {missing[0]!r}")
        if entity_type not in shares:
            shares[entity_type] = term_shares(entity_type, frame.reset_index(drop=True))
            models[entity_type] = model_for(engine, entity_type)
        i, j = int(position[a]), int(position[b])
        row_a, row_b = frame.iloc[i], frame.iloc[j]
        frequencies = {c: (float(s.iloc[i]), float(s.iloc[j])) for c, s in shares[entity_type].items()}
        explanation = explain_pair(row_a, row_b, models[entity_type], frequencies=frequencies)
        views.append(PairView(entity_type, a, b, _side_by_side(entity_type, row_a, row_b), explanation,
                              judgement_of(engine, a, b)))
    return views
