"""Incremental resolution: place new records among existing clusters without re-resolving all.

Only the new records get features and blocking keys; they probe the last run's index
(hub.resolve.index), so only the blocks they fall into are read. Pairs touching a new record are
scored with the same model (term frequencies still counted on everything) and clustered with the
existing clusters seeded
as groups carrying their cluster-level guard values. A new record that would join two existing
clusters is attached to the stronger one and the other link goes to review: merges of existing
entities are a reviewer's call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hub.resolve.cluster import Judgement, cluster, labels_from_roots
from hub.resolve.compare import Prepared, compute_levels
from hub.resolve.engine import CLUSTER, Resolution, _guard_inputs, _guarded_decisions, pairs_frame
from hub.resolve.index import ResolutionIndex
from hub.resolve.keys import (
    BlockingStats,
    KeyTable,
    Rows,
    RuleTables,
    join_keys,
    key_tables,
    sorted_unique,
    unique_pairs,
)
from hub.resolve.model import Model, score
from hub.resolve.spec import EntitySpec
from hub.resolve.specs import get_spec


@dataclass
class Increment:
    assignments: pd.DataFrame
    """record_key (new records), cluster: an existing label, or a new one (its smallest record key)."""
    pairs: pd.DataFrame
    stats: dict[str, Any]


def resolve_incremental(existing: Resolution, new_frame: pd.DataFrame, model: Model | None = None, *,
                        judgements: Iterable[Judgement] = ()) -> Increment:
    """Assign `new_frame`'s records to `existing`'s clusters (or new ones)."""
    spec = get_spec(existing.entity_type)
    model = model or existing.model
    index = existing.index()
    new = spec.features(new_frame.sort_values("record_key", kind="stable").reset_index(drop=True))
    n_old = len(existing.prepared)
    a, b, blocking = _new_pairs(spec, index, key_tables(new, spec.rules), n_old, len(new))
    involved = sorted_unique(np.concatenate([a, b, n_old + np.arange(len(new))]))
    old_rows = involved[involved < n_old]
    sub = pd.concat([existing.prepared.features.iloc[old_rows], new.iloc[involved[len(old_rows):] - n_old]],
                    ignore_index=True)
    data = Prepared(sub, frequencies=_frequencies(spec, index, new, sub))
    la, lb = np.searchsorted(involved, a), np.searchsorted(involved, b)
    levels = compute_levels(spec.comparisons, data, la, lb)
    weights = score(spec, model, data, la, lb, levels)
    decision, reason = _guarded_decisions(spec, model, levels, weights)
    keys = data.values("record_key")
    labels = existing.clusters[CLUSTER].to_numpy(dtype=object)[old_rows]
    group_codes, group_labels = pd.factorize(labels)
    guard = _guard_inputs(spec, data, levels)
    if spec.guards.unique_column:
        guard["unique"][: len(old_rows)] = index.cluster_unique.reindex(labels).to_numpy(dtype=object)
    guard["register"][: len(old_rows)] = index.cluster_register.reindex(labels).to_numpy(dtype=bool)
    seed = np.full(len(involved), -1, dtype=np.int64)
    seed[: len(old_rows)] = group_codes
    roots, decided = cluster(keys, la, lb, weights, decision, judgements=judgements, seed_groups=seed.tolist(),
                             groups_exclusive=True, reason=reason, **guard)
    root_label: dict[int, object] = {}
    for row in range(len(old_rows)):
        root_label.setdefault(int(roots[row]), group_labels[group_codes[row]])
    fresh = labels_from_roots(keys, roots)
    new_local = np.arange(len(old_rows), len(involved))
    assignments = pd.DataFrame({"record_key": keys[new_local],
                                CLUSTER: [root_label.get(int(roots[r]), fresh[r]) for r in new_local]})
    pairs = pairs_frame(spec, keys, la, lb, weights, levels, decided.decision, decided.reason)
    stats = {"new_records": len(new), "candidate_pairs": len(a), "involved_records": len(involved),
             "blocking": blocking.__dict__}
    return Increment(assignments, pairs, stats)


def _shift(table: KeyTable, offset: int) -> KeyTable:
    return table[0] + offset, table[1]


def _new_pairs(spec: EntitySpec, index: ResolutionIndex, tables: RuleTables, n_old: int,
               n_new: int) -> tuple[Rows, Rows, BlockingStats]:
    """Candidate pairs touching a new record: new keys probed in the index, and new against new."""
    stats = BlockingStats()
    found_a, found_b = [], []
    for rule in spec.rules:
        right, probe = (_shift(t, n_old) for t in tables[rule.name])
        right_index, probe_index = index.keys[rule.name]
        (a, b), capped = right_index.probe(probe, rule.cap, rule.star)
        found_a.append(a)
        found_b.append(b)
        if probe_index is not None:
            (a, b), more = probe_index.probe(right, rule.cap, rule.star)
            found_a.append(a)
            found_b.append(b)
            capped += more
        a, b, more, _ = join_keys(probe, right, rule.cap, star=rule.star)
        found_a.append(a)
        found_b.append(b)
        stats.capped_blocks[rule.name] = capped + more
    a, b = unique_pairs(np.concatenate(found_a), np.concatenate(found_b), n_old + n_new)
    stats.candidate_pairs = len(a)
    return a, b, stats


def _frequencies(spec: EntitySpec, index: ResolutionIndex, new: pd.DataFrame,
                 sub: pd.DataFrame) -> dict[str, np.ndarray]:
    """Term frequencies counted on every record (the index's counts plus the new records')."""
    out = {}
    for column, counts in index.term_counts.items():
        values = pd.Index(sub[column].to_numpy())
        added = new[column].value_counts()
        both = counts.reindex(values).fillna(0).to_numpy() + added.reindex(values).fillna(0).to_numpy()
        total = max(float(index.term_totals[column] + added.sum()), 1.0)
        out[column] = np.where(both > 0, both / total, np.nan)
    return out
