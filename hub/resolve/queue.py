"""The review queue as a person works it: one item per pair of entities, ranked by what deciding it changes.

The engine marks a review pair `queued` only when it is a question (hub.resolve.cluster.questions):
its two records are in different clusters, and no hard contradiction (two valid IDs, a vetoed level,
a reviewer's earlier no) already settles it. Several record pairs between the same two entities are
one decision (an accepted pair joins the entities, a rejected one keeps them apart), so they make one
item, the strongest pair standing for the others (`pairs` counts them).

Items are ranked model-doubted first (pairs a guard held back are rarely one entity), then by the
records an acceptance would move into another entity (`moves`: the smaller of the two entities), then
by weight. The same functions build the queue from an engine run (bench scoring, tests) and from
the store (`hub review list`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ITEM_ORDER = ["guard_held", "moves", "weight", "record_a", "record_b"]


def rank_items(pending: pd.DataFrame, sizes: pd.Series) -> pd.DataFrame:
    """Collapse review pairs into items and rank them.

    `pending`: record_a, record_b, weight, reason, entity_a, entity_b (the entity each record is in;
    missing for a record not linked yet, which is then its own entity of one). `sizes`: records per
    entity id. Pairs inside one entity are dropped. Returns the pending columns plus `pairs` and `moves`.
    """
    entity_a = pending["entity_a"].fillna(pending["record_a"]).to_numpy(dtype=object)
    entity_b = pending["entity_b"].fillna(pending["record_b"]).to_numpy(dtype=object)
    apart = entity_a != entity_b
    pending, entity_a, entity_b = pending[apart], entity_a[apart], entity_b[apart]
    size_a = pd.Series(entity_a).map(sizes).fillna(1).to_numpy(dtype=np.int64)
    size_b = pd.Series(entity_b).map(sizes).fillna(1).to_numpy(dtype=np.int64)
    swap = entity_a > entity_b
    items = pending.assign(_first=np.where(swap, entity_b, entity_a), _second=np.where(swap, entity_a, entity_b),
                           moves=np.minimum(size_a, size_b), guard_held=pending["reason"].notna().to_numpy())
    items = items.sort_values(["guard_held", "weight", "record_a", "record_b"],
                              ascending=[True, False, True, True], kind="stable")
    group = items.groupby(["_first", "_second"], sort=False)
    items = items.assign(pairs=group["record_a"].transform("size")).drop_duplicates(["_first", "_second"])
    items = items.sort_values(ITEM_ORDER, ascending=[True, False, False, True, True], kind="stable")
    return items.drop(columns=["_first", "_second", "guard_held"]).reset_index(drop=True)


def queue_items(pairs: pd.DataFrame, clusters: pd.Series) -> pd.DataFrame:
    """The queue an engine run leaves: its `queued` pairs as ranked items.

    `pairs`: the engine's pairs frame (a, b, weight, reason, queued); `clusters`: record key → cluster
    label of the same run.
    """
    queued = pairs[pairs["queued"]] if "queued" in pairs else pairs[pairs["decision"] == "review"]
    pending = pd.DataFrame({
        "record_a": queued["a"].astype(object).to_numpy(), "record_b": queued["b"].astype(object).to_numpy(),
        "weight": queued["weight"].to_numpy(dtype=float), "reason": queued["reason"].to_numpy(dtype=object),
        "entity_a": queued["a"].astype(object).map(clusters).to_numpy(dtype=object),
        "entity_b": queued["b"].astype(object).map(clusters).to_numpy(dtype=object)})
    return rank_items(pending, clusters.value_counts())

