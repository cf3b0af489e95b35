"""From scored pairs to clusters: thresholds, then greedy merging with cannot-link guards.

Connected components over every link above a threshold chain strangers together through one
shared phone or one wrong link. Here links are taken strongest first, and a link is refused when
the two clusters it would join hold different checksum-valid IDs, or both hold a record of the
resident register (unless the link is the same ID), or a reviewer said they differ. A link refused
for two valid IDs or a reviewer's no is a non-match (a hard contradiction is no question for a
reviewer); one refused for two register records, or for joining two existing clusters in an
increment, goes to review. Pairs whose birth dates or sexes conflict beyond a
typo go to review instead of merging; pairs at a vetoed level (two different valid IDs) are
non-matches. Judgements win over everything: must-link pairs are joined first, cannot-link pairs are
never joined.
The label of a cluster is its smallest record key, so equal input gives equal output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.compare import Comparison
from hub.resolve.spec import Guards, LevelMatrix

MATCH, REVIEW, NON_MATCH = "match", "review", "non_match"
HARD_CONFLICTS = frozenset({"different_ids", "judged_different"})
"""Why a would-be merge was refused when the refusal settles it: two valid IDs, a reviewer's no. Two
register records (`register_duplicate`: the register's own duplicates, mostly one person when measured)
and an increment reaching two entities (`joins_existing_clusters`) stay questions."""
Keys = Sequence[str] | npt.NDArray[np.object_]
"""Record keys, one per row."""
Judgement = tuple[str, str, bool]
"""(record key a, record key b, same entity?) decided by a person; never overwritten."""


@dataclass
class Decisions:
    decision: npt.NDArray[np.object_]
    reason: npt.NDArray[np.object_]


def decide(weights: npt.NDArray[np.float64], upper: float, lower: float) -> npt.NDArray[np.object_]:
    """match at or above `upper`, non_match below `lower`, review between."""
    out = np.full(len(weights), REVIEW, dtype=object)
    out[weights >= upper] = MATCH
    out[weights < lower] = NON_MATCH
    return out


def review_mask(guards: Guards, comparisons: Sequence[Comparison], levels: LevelMatrix) -> npt.NDArray[np.bool_]:
    """Pairs at a level that must not merge automatically without the evidence it requires."""
    return _lacking(guards.requires, comparisons, levels)


def veto_mask(guards: Guards, comparisons: Sequence[Comparison], levels: LevelMatrix) -> npt.NDArray[np.bool_]:
    """Pairs at a vetoed level without the evidence that lifts the veto: non-matches, never queued."""
    return _lacking(guards.vetoes, comparisons, levels)


def _lacking(rules: Mapping[tuple[str, str], Sequence[tuple[str, str]]], comparisons: Sequence[Comparison],
             levels: LevelMatrix) -> npt.NDArray[np.bool_]:
    mask = np.zeros(len(levels), dtype=bool)
    for level, needed in rules.items():
        mask |= at_any(comparisons, levels, (level,)) & ~at_any(comparisons, levels, needed)
    return mask


def at_any(comparisons: Sequence[Comparison], levels: LevelMatrix,
           wanted: Iterable[tuple[str, str]]) -> npt.NDArray[np.bool_]:
    """Pairs at any of the (comparison, level) pairs."""
    out = np.zeros(len(levels), dtype=bool)
    names = [c.name for c in comparisons]
    for comparison, level in wanted:
        k = names.index(comparison)
        out |= levels[:, k] == comparisons[k].level_names.index(level)
    return out


class _Clusters:
    """Union-find whose roots carry what the guards need: the cluster's unique value and register flag."""

    def __init__(self, unique: Sequence[object] | npt.NDArray[np.object_],
                 register: Sequence[bool] | npt.NDArray[np.bool_]):
        n = len(unique)
        self.parent = list(range(n))
        self.unique = [None if v is None or (isinstance(v, float) and v != v) else v for v in unique]
        self.register = list(register)
        self.cannot: dict[int, list[int]] = {}
        self.group = [-1] * n

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def conflict(self, ra: int, rb: int, same_unique_pair: bool) -> str | None:
        ua, ub = self.unique[ra], self.unique[rb]
        if ua is not None and ub is not None and ua != ub:
            return "different_ids"
        if self.register[ra] and self.register[rb] and not same_unique_pair:
            return "register_duplicate"
        if self.group[ra] >= 0 and self.group[rb] >= 0 and self.group[ra] != self.group[rb]:
            return "joins_existing_clusters"
        find = self.find
        if any(find(p) == rb for p in self.cannot.get(ra, ())) or any(find(p) == ra for p in self.cannot.get(rb, ())):
            return "judged_different"
        return None

    def union(self, ra: int, rb: int) -> None:
        keep, gone = (ra, rb) if ra < rb else (rb, ra)
        self.parent[gone] = keep
        if self.unique[keep] is None:
            self.unique[keep] = self.unique[gone]
        self.register[keep] = self.register[keep] or self.register[gone]
        self.group[keep] = max(self.group[keep], self.group[gone])
        if gone in self.cannot:
            self.cannot.setdefault(keep, []).extend(self.cannot.pop(gone))


def questions(decision: npt.NDArray[np.object_], root_a: npt.NDArray[np.int64],
              root_b: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Review pairs a decision would change: those whose two records other links have not already put
    in one cluster (there accepting moves nothing, and rejecting would split what the model is sure of)."""
    return (decision == REVIEW) & (root_a != root_b)


def judgement_rows(record_keys: Keys, judgements: Iterable[Judgement]) -> list[tuple[int, int, bool]]:
    """Judgements on two records of `record_keys`, as (row, row, same entity?)."""
    judgements = list(judgements)
    if not judgements:   # a dict of every record key costs seconds at a million records: only judgements need it
        return []
    position = {key: i for i, key in enumerate(record_keys)}
    return [(position[x], position[y], same) for x, y, same in judgements if x in position and y in position]


def cluster(record_keys: Keys, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64],
            weights: npt.NDArray[np.float64], decision: npt.NDArray[np.object_], *,
            unique: Sequence[object] | npt.NDArray[np.object_], register: Sequence[bool] | npt.NDArray[np.bool_],
            same_unique: npt.NDArray[np.bool_], judged_rows: Iterable[tuple[int, int, bool]] = (), existing: int = 0,
            reason: npt.NDArray[np.object_] | None = None) -> tuple[npt.NDArray[np.int64], Decisions]:
    """Root row of each record's cluster, and the decisions after guards (a refused link is a
    non-match when the refusal is a hard contradiction, HARD_CONFLICTS; else it goes to review).

    `same_unique` marks pairs that agree exactly on the unique column (they may join two register
    records). `judged_rows`: reviewers' judgements by row (`judgement_rows`). In incremental runs the first
    `existing` rows each stand for a cluster of the last run: two of them are never joined (that merge
    is a reviewer's call), and a cluster holding one has it as its root.
    """
    clusters = _Clusters(unique, register)
    clusters.group[:existing] = range(existing)
    reason = np.full(len(a), None, dtype=object) if reason is None else reason.copy()
    decision = decision.copy()
    for x, y, same in judged_rows:
        if same:
            rx, ry = clusters.find(x), clusters.find(y)
            if rx != ry:
                clusters.union(rx, ry)
        else:
            clusters.cannot.setdefault(clusters.find(x), []).append(y)
            clusters.cannot.setdefault(clusters.find(y), []).append(x)
    candidates = np.flatnonzero(decision == MATCH)
    order = candidates[np.lexsort((b[candidates], a[candidates], -weights[candidates]))]
    find = clusters.find
    # Python lists of the match pairs only: indexing numpy arrays per pair costs more than the
    # union-find step itself, and lists of every candidate pair would cost hundreds of megabytes
    steps = zip(order.tolist(), a[order].tolist(), b[order].tolist(), same_unique[order].tolist(), strict=True)
    for p, row_a, row_b, same in steps:
        ra, rb = find(row_a), find(row_b)
        if ra == rb:
            continue
        why = clusters.conflict(ra, rb, same)
        if why is None:
            clusters.union(ra, rb)
        else:
            decision[p], reason[p] = (NON_MATCH if why in HARD_CONFLICTS else REVIEW), why
    roots = np.fromiter((find(i) for i in range(len(record_keys))), dtype=np.int64, count=len(record_keys))
    return roots, Decisions(decision, reason)


def labels_from_roots(record_keys: Keys, roots: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Each record's cluster label: the smallest record key in its cluster (one sort, then integers)."""
    keys = np.asarray(record_keys, dtype=object)
    # resolve() passes keys already sorted: checking that is one pass, sorting strings is many
    ordered = pd.Index(keys).is_monotonic_increasing
    order = np.arange(len(keys)) if ordered else np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    best = np.full(int(roots.max(initial=-1)) + 1, len(keys), dtype=np.int64)
    np.minimum.at(best, roots, rank)
    return keys[order[best[roots]]]
