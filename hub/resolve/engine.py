"""resolve(): record frame → scored pairs and clusters, in one pass of column operations.

    features → blocking (candidate pairs) → comparison levels → weights (trained or given)
             → thresholds → guarded greedy clustering → labels

Pure: no store access. The lead's code reads frames (hub.resolve.frames), persists links and maps
labels (the smallest record key of each cluster) to stable canonical ids.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.blocking_index import ResolutionIndex
from hub.resolve.cluster import (
    Judgement,
    at_any,
    cluster,
    decide,
    judgement_rows,
    labels_from_roots,
    questions,
    review_mask,
    veto_mask,
)
from hub.resolve.compare import Prepared, compute_levels
from hub.resolve.entity_types import default_model, get_spec
from hub.resolve.keys import RuleTables, candidate_pairs, key_tables
from hub.resolve.model import Model, score
from hub.resolve.spec import EntitySpec, LevelMatrix
from hub.resolve.training import train

CLUSTER = "cluster"


@dataclass
class Resolution:
    """The outcome of one run: record → cluster label, the scored pairs, and how it went."""

    entity_type: str
    clusters: pd.DataFrame
    """record_key, cluster (the smallest record key of the cluster)."""
    pairs: pd.DataFrame
    """a, b (record keys), weight, probability, one level column per comparison, decision, reason."""
    model: Model
    stats: dict[str, Any]
    prepared: Prepared = field(repr=False)
    tables: RuleTables | None = field(default=None, repr=False)
    """Blocking keys of every record, for the index; None until index() needs them (a full run
    blocks on narrower tables, and keeping 17 typo keys per ID of a million records costs gigabytes)."""
    _index: ResolutionIndex | None = field(default=None, repr=False)

    def index(self) -> ResolutionIndex:
        """The index incremental runs probe; built once, on first use (a service keeps it warm)."""
        if self._index is None:
            spec = get_spec(self.entity_type)
            features = self.prepared.features
            if self.tables is None:
                self.tables = key_tables(features, spec.rules)
            tf_columns = sorted({lvl.tf_column for c in spec.comparisons for lvl in c.levels if lvl.tf_column})
            self._index = ResolutionIndex.build(
                spec.rules, self.tables, features, tf_columns, self.clusters[CLUSTER].to_numpy(dtype=object),
                spec.guards.unique_column, features["source"].isin(spec.guards.duplicate_free_sources).to_numpy())
            for dtype in features.dtypes:   # pandas hashes a categorical's categories on first use, then caches
                hash(dtype)                 # it: an increment's concat would otherwise pay that, once per column
        return self._index


def _probability(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))


def pairs_frame(spec: EntitySpec, keys: npt.NDArray[np.object_], a: npt.NDArray[np.int64],
                b: npt.NDArray[np.int64], weights: npt.NDArray[np.float64], levels: LevelMatrix,
                decision: npt.NDArray[np.object_], reason: npt.NDArray[np.object_],
                queued: npt.NDArray[np.bool_] | None = None) -> pd.DataFrame:
    """The scored pairs; `queued` marks the review pairs that are questions for a person (cluster.questions),
    all review pairs when not given."""
    columns: dict[str, Any] = {"a": keys[a], "b": keys[b], "weight": weights, "probability": _probability(weights)}
    for k, comparison in enumerate(spec.comparisons):
        columns[comparison.name] = pd.Categorical.from_codes(levels[:, k].astype(np.int64),
                                                            categories=pd.Index(comparison.level_names))
    columns["decision"] = pd.Categorical(decision, categories=["match", "review", "non_match"])
    columns["reason"] = reason
    columns["queued"] = decision == "review" if queued is None else queued
    return pd.DataFrame(columns)


def _guarded_decisions(spec: EntitySpec, model: Model, levels: LevelMatrix,
                       weights: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    decision = decide(weights, model.upper, model.lower)
    reason = np.full(len(weights), None, dtype=object)
    conflict = review_mask(spec.guards, spec.comparisons, levels) & (decision == "match")
    decision[conflict] = "review"
    reason[conflict] = "conflicting_fields"
    if spec.guards.vetoes:
        vetoed = veto_mask(spec.guards, spec.comparisons, levels) & (decision != "non_match")
        decision[vetoed] = "non_match"
        reason[vetoed] = "contradiction"
    return decision, reason


def _guard_inputs(spec: EntitySpec, data: Prepared, levels: LevelMatrix) -> dict[str, Any]:
    g = spec.guards
    n = len(data)
    unique = data.values(g.unique_column).copy() if g.unique_column else np.full(n, None, dtype=object)
    register = data.features["source"].isin(g.duplicate_free_sources).to_numpy().copy()
    return {"unique": unique, "register": register, "same_unique": at_any(spec.comparisons, levels, g.same_entity)}


def resolve(frame: pd.DataFrame, entity_type: str, *, model: Model | None = None,
            judgements: Iterable[Judgement] = (), train_model: bool = True) -> Resolution:
    """Resolve one entity type's record frame.

    Without a `model`, weights are learned from this frame (train_model=True) or read from the
    reviewed weights file shipped for the entity type.
    """
    spec = get_spec(entity_type)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    ordered = frame.sort_values("record_key", kind="stable").reset_index(drop=True)
    records = len(ordered)
    data = Prepared(spec.features(ordered))
    del ordered, frame   # a caller that passes its only reference frees the records here
    gc.collect()
    lap("features")
    a, b, blocking = candidate_pairs(data.features, spec.rules)
    lap("blocking")
    levels = compute_levels(spec.comparisons, data, a, b)
    lap("compare")
    if model is None:
        model = train(spec, data, a, b, levels) if train_model else default_model(entity_type)
        lap("train")
    weights = score(spec, model, data, a, b, levels)
    decision, reason = _guarded_decisions(spec, model, levels, weights)
    lap("score")
    keys = data.values("record_key")
    roots, decided = cluster(keys, a, b, weights, decision, judged_rows=judgement_rows(keys, judgements),
                             reason=reason, **_guard_inputs(spec, data, levels))
    labels = labels_from_roots(keys, roots)
    lap("cluster")
    pairs = pairs_frame(spec, keys, a, b, weights, levels, decided.decision, decided.reason,
                        questions(decided.decision, roots[a], roots[b]))
    lap("output")
    clusters = pd.DataFrame({"record_key": keys, CLUSTER: labels})
    stats = {
        "records": records, "candidate_pairs": len(a), "clusters": int(pd.Series(labels).nunique()),
        "decisions": pairs["decision"].value_counts().to_dict(), "blocking": blocking.__dict__, "seconds": timings,
    }
    return Resolution(entity_type, clusters, pairs, model, stats, data)
