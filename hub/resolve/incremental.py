"""Incremental resolution: place new records among existing clusters without re-resolving all.

Only the new records get features and blocking keys; they probe the last run's index
(hub.resolve.blocking_index), so only the blocks they fall into are read. Pairs touching a new record are
scored with the same model (term frequencies still counted on everything) and clustered with the
existing clusters they reach, each entering as one node carrying its cluster-level guard values. A
new record that would join two existing clusters is attached to the stronger one and the other link
goes to review: merges of existing entities are a reviewer's call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.cluster import Decisions, Judgement, cluster, judgement_rows, labels_from_roots, questions
from hub.resolve.compare import Prepared, compute_levels
from hub.resolve.engine import CLUSTER, Resolution, _guard_inputs, _guarded_decisions, pairs_frame
from hub.resolve.entity_types import get_spec
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
from hub.resolve.resolved_state import ResolvedState
from hub.resolve.spec import EntitySpec


@dataclass
class Increment:
    assignments: pd.DataFrame
    """record_key (new records), cluster: an existing label, or a new one (its smallest record key)."""
    pairs: pd.DataFrame
    stats: dict[str, Any]
    features: pd.DataFrame
    """The placed records' features, in assignment order (what the next state keeps of them)."""


def resolve_incremental(existing: ResolvedState | Resolution, new_frame: pd.DataFrame, model: Model | None = None,
                        *, judgements: Iterable[Judgement] = ()) -> Increment:
    """Assign `new_frame`'s records to `existing`'s clusters (or new ones).

    A record of `new_frame` already in `existing` is a changed record: its old row must be retired
    in `existing` (ResolvedState.advance does that for the next increment); here it is placed afresh.
    """
    state = existing if isinstance(existing, ResolvedState) else ResolvedState.from_resolution(existing)
    spec = get_spec(state.entity_type)
    model = model or state.model
    new = spec.features(new_frame.sort_values("record_key", kind="stable").reset_index(drop=True))
    changed = state.retire_rows(new["record_key"].to_numpy(dtype=object))
    n_old = len(state)
    a, b, blocking = _new_pairs(spec, state, key_tables(new, spec.rules), n_old, len(new), changed)
    involved = sorted_unique(np.concatenate([a, b, n_old + np.arange(len(new))]))
    old_rows = involved[involved < n_old]
    sub = pd.concat([state.features(old_rows), new.iloc[involved[len(old_rows):] - n_old]], ignore_index=True)
    data = Prepared(sub)
    data.frequencies = _frequencies(spec, state, new, data)
    if spec.population_columns:
        columns = list(spec.population_columns)
        data.population = pd.concat([*(p.features.loc[~p.retired, columns].astype(object) for p in state.parts),
                                     new[columns].astype(object)], ignore_index=True)
    la, lb = np.searchsorted(involved, a), np.searchsorted(involved, b)
    levels = compute_levels(spec.comparisons, data, la, lb)
    weights = score(spec, model, data, la, lb, levels)
    decision, reason = _guarded_decisions(spec, model, levels, weights)
    keys = data.values("record_key")
    assignments, decided, queued = _place(spec, state, keys, state.labels(old_rows), la, lb, weights, decision,
                                          reason, _guard_inputs(spec, data, levels), judgements)
    pairs = pairs_frame(spec, keys, la, lb, weights, levels, decided.decision, decided.reason, queued)
    stats = {"new_records": len(new), "changed_records": int(changed.sum()), "candidate_pairs": len(a),
             "involved_records": len(involved), "blocking": blocking.__dict__}
    return Increment(assignments, pairs, stats, new)


def _place(spec: EntitySpec, state: ResolvedState, keys: npt.NDArray[np.object_], old_labels: npt.NDArray[np.object_],
           la: Rows, lb: Rows, weights: npt.NDArray[np.float64], decision: npt.NDArray[np.object_],
           reason: npt.NDArray[np.object_], guard: dict[str, Any],
           judgements: Iterable[Judgement]) -> tuple[pd.DataFrame, Decisions, npt.NDArray[np.bool_]]:
    """Cluster the new records (the rows of `keys` after the old ones) with the existing clusters
    their pairs reach; their assignments, the pair decisions after the guards, and which review pairs
    are questions (cluster.questions).

    Each existing cluster enters the union-find as one node carrying its cluster-level guard values,
    not as its rows: a 1% increment of a million records touches some 100,000 old rows, and a Python
    union-find seeded row by row cost more than everything else in the increment.
    """
    n_old = len(old_labels)
    group_of, distinct = pd.factorize(old_labels)
    group_labels = np.asarray(distinct, dtype=object)
    n_groups, n_new = len(group_labels), len(keys) - n_old
    node = np.concatenate([group_of, n_groups + np.arange(n_new)]).astype(np.int64)
    unique, register = state.cluster_guards(group_labels)
    if not spec.guards.unique_column:
        unique = np.full(n_groups, None, dtype=object)
    node_unique = np.concatenate([unique, guard["unique"][n_old:]]).astype(object)
    node_register = np.concatenate([register, guard["register"][n_old:]])
    node_keys = np.concatenate([group_labels, keys[n_old:]])
    judged = [(int(node[x]), int(node[y]), same) for x, y, same in judgement_rows(keys, judgements)]
    roots, decided = cluster(node_keys, node[la], node[lb], weights, decision, unique=node_unique,
                             register=node_register, same_unique=guard["same_unique"], judged_rows=judged,
                             existing=n_groups, reason=reason)
    # a cluster holding an existing one keeps its label (its node is the root: the lowest node wins);
    # one of new records only is labelled by its smallest record key
    label_of_node = labels_from_roots(node_keys, roots)
    label_of_node[:n_groups] = group_labels
    queued = questions(decided.decision, roots[node[la]], roots[node[lb]])
    return pd.DataFrame({"record_key": keys[n_old:], CLUSTER: label_of_node[roots[n_groups:]]}), decided, queued


def _shift(table: KeyTable, offset: int) -> KeyTable:
    return table[0] + offset, table[1]


def _new_pairs(spec: EntitySpec, state: ResolvedState, tables: RuleTables, n_old: int, n_new: int,
               retired: npt.NDArray[np.bool_]) -> tuple[Rows, Rows, BlockingStats]:
    """Candidate pairs touching a new record: new keys probed in the state's index, and new against new.
    Old rows of the records being placed again (`retired`) are left out."""
    stats = BlockingStats()
    found_a, found_b = [], []
    for rule in spec.rules:
        right, probe = (_shift(t, n_old) for t in tables[rule.name])
        (a, b), capped = state.probe(rule.name, probe, rule.cap, rule.star, probe_side=False)
        found_a.append(a)
        found_b.append(b)
        if state.has_probe_index(rule.name):
            (a, b), more = state.probe(rule.name, right, rule.cap, rule.star, probe_side=True)
            found_a.append(a)
            found_b.append(b)
            capped += more
        a, b, more, _ = join_keys(probe, right, rule.cap, star=rule.star)
        found_a.append(a)
        found_b.append(b)
        stats.capped_blocks[rule.name] = capped + more
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    if retired.any():
        gone = np.concatenate([retired, np.zeros(n_new, dtype=bool)])
        live = ~gone[a] & ~gone[b]
        a, b = a[live], b[live]
    a, b = unique_pairs(a, b, n_old + n_new)
    stats.candidate_pairs = len(a)
    return a, b, stats


def _frequencies(spec: EntitySpec, state: ResolvedState, new: pd.DataFrame,
                 data: Prepared) -> dict[str, np.ndarray]:
    """Term frequencies counted on every record (the state's counts plus the new records'), looked up
    once per distinct value of the scored rows and spread to them by code."""
    out = {}
    for column in state.base.index.term_counts:
        values = pd.Index(data.categories(column))
        counts, total = state.term_counts(column, values)
        added = new[column].value_counts()
        both = counts + added.reindex(values).fillna(0).to_numpy()
        total = max(total + float(added.sum()), 1.0)
        share = np.append(np.where(both > 0, both / total, np.nan), np.nan)
        codes = data.code(column)
        out[column] = share[np.where(codes >= 0, codes, len(values))]
    return out
