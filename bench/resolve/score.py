"""Accuracy of a clustering against the generator's truth: pairwise and B-cubed, hard negatives.

Pairwise counts every pair of records put together; B-cubed averages, per record, how much of its
predicted cluster is truly its entity (precision) and how much of its entity is in its cluster
(recall), so one large wrong merge cannot hide behind many small right ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hub.resolve.engine import CLUSTER, resolve
from hub.resolve.frames import record_keys
from hub.resolve.model import Model
from hub.resolve.queue import queue_items


def truth_labels(truth_dir: Path, entity_type: str) -> pd.Series:
    """record_key → true entity id for one entity type."""
    records = pd.read_csv(truth_dir / "records.csv", dtype=str, keep_default_na=False)
    records = records[records["entity_type"] == entity_type]
    keys = record_keys(records["source"], records["source_record_id"], records["entity"])
    return pd.Series(records["true_id"].to_numpy(), index=keys.to_numpy(), name="true_id")


def _pair_count(sizes: pd.Series) -> int:
    s = sizes.to_numpy(dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def scores(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise and B-cubed precision / recall / F1 of predicted labels (both indexed by record key)."""
    both = pd.DataFrame({"p": predicted, "t": truth.reindex(predicted.index)}).dropna()
    tp = _pair_count(both.groupby(["p", "t"]).size())
    pred_pairs = _pair_count(both.groupby("p").size())
    true_pairs = _pair_count(both.groupby("t").size())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    joint = both.groupby(["p", "t"])["p"].transform("size")
    p_size = both.groupby("p")["p"].transform("size")
    t_size = both.groupby("t")["t"].transform("size")
    b_precision = float((joint / p_size).mean())
    b_recall = float((joint / t_size).mean())
    return {
        "records": len(both), "true_pairs": true_pairs, "predicted_pairs": pred_pairs, "true_positive_pairs": tp,
        "precision": precision, "recall": recall, "f1": _f1(precision, recall),
        "b3_precision": b_precision, "b3_recall": b_recall, "b3_f1": _f1(b_precision, b_recall),
    }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def hard_negatives_merged(predicted: pd.Series, truth: pd.Series, truth_dir: Path) -> dict[str, int]:
    """Per kind (twins, namesakes, reversed names): how many hard-negative person pairs share a cluster."""
    pairs = pd.read_csv(truth_dir / "hard_negatives.csv", dtype=str)
    both = pd.DataFrame({"p": predicted, "t": truth.reindex(predicted.index)}).dropna()
    by_person = both.groupby("t")["p"].agg(set)
    out: dict[str, int] = {}
    for kind, group in pairs.groupby("kind"):
        merged = 0
        for x, y in zip(group["person_id_a"], group["person_id_b"], strict=True):
            if x in by_person.index and y in by_person.index and by_person[x] & by_person[y]:
                merged += 1
        out[str(kind)] = merged
    out["total"] = sum(out.values())
    return out


def pair_completeness(keys: np.ndarray, a: np.ndarray, b: np.ndarray, truth: pd.Series) -> float:
    """Share of true pairs (among records in the frame) that blocking kept as candidates."""
    t = truth.reindex(keys).to_numpy(dtype=object)
    ok = pd.notna(t[a]) & pd.notna(t[b])
    kept = int((t[a][ok] == t[b][ok]).sum())
    true_pairs = _pair_count(pd.Series(t[pd.notna(t)]).value_counts())
    return kept / true_pairs if true_pairs else 1.0


def queue_scores(frame: pd.DataFrame, entity_type: str, clusters: pd.DataFrame, pairs: pd.DataFrame, model: Model,
                 truth: pd.Series) -> dict[str, Any]:
    """The review queue an engine run left, and what it is worth: records, queued record pairs, items
    and their share of the records, items that are truly one entity, and pairwise P/R/F1 of the clusters
    as the engine left them, after a reviewer accepted every item, and after one rejected every item.

    `clusters` (record_key, cluster) and `pairs` (a, b, weight, reason, queued) are the run's, `model`
    its weights. Each way is a real run: the items become judgements (one per item, on the record pair
    standing for it) and the frame is resolved again with the same model, as `hub review accept|reject`
    and the next `hub resolve` would do it.
    """
    items = queue_items(pairs, clusters.set_index("record_key")[CLUSTER])
    records = len(clusters)
    same = items["record_a"].map(truth).to_numpy(dtype=object) == items["record_b"].map(truth).to_numpy(dtype=object)
    out: dict[str, Any] = {"records": records, "queue_pairs": int(pairs["queued"].sum()), "queue_items": len(items),
                           "queue_share": len(items) / records if records else 0.0, "true_items": int(same.sum())}
    ways = {"engine": clusters}
    for way, positive in (("accepted", True), ("rejected", False)):
        judgements = [(a, b, positive) for a, b in zip(items["record_a"], items["record_b"], strict=True)]
        ways[way] = resolve(frame, entity_type, model=model, judgements=judgements).clusters
    for way, labels in ways.items():
        got = scores(labels.set_index("record_key")[CLUSTER], truth)
        out.update({f"{way}_{m}": got[m] for m in ("precision", "recall", "f1")})
    return out
