"""Stable canonical ids: from this run's clusters and last run's entities to ids that do not move.

The rule (architecture.md): an entity keeps its id as long as it holds the record that founded it.
When one cluster holds the founding records of several entities, the oldest survives and the others
are recorded as merged into it; a cluster holding no founding record is a new entity, founded by
its smallest record key, and recorded as split from the entities its records came from. Ids come
from a keyed hash of the founding record key, so a fresh store resolving the same records mints the
same ids; an id once minted is never given again (a second generation is hashed instead).

Pure functions over DataFrames: the store reads the previous state and writes the outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pandas as pd

ID_PREFIX = {"person": "P-", "house": "H-", "organization": "O-", "thing": "T-", "event": "E-", "situation": "S-"}
ID_HEX = 16
"""64 bits of the keyed hash: at a million entities a collision has odds of about 3 in 10^8, and the
minting checks taken ids anyway."""

Minter = Callable[[str, int], str]
"""(founding record key, generation) → id."""

CREATED, UPDATED, MERGED_INTO, SPLIT_FROM, RETIRED = "created", "updated", "merged_into", "split_from", "retired"


def make_minter(entity_type: str, keyed_hash: Callable[[bytes], str]) -> Minter:
    """Ids for one entity type: its prefix and the keyed hash (Vault.keyed_hash) of the founding record."""
    prefix = ID_PREFIX.get(entity_type, entity_type[:1].upper() + "-")

    def mint(record_key: str, generation: int) -> str:
        return prefix + keyed_hash(f"{entity_type}\x1f{record_key}\x1f{generation}".encode())[:ID_HEX]

    return mint


@dataclass(frozen=True)
class Previous:
    """What the store knew before this run, for one entity type."""

    links: pd.DataFrame
    """record_key, entity_id: the records of the active entities."""
    entities: pd.DataFrame
    """id, founding_record, created_at (anything that sorts: older first): the active entities."""
    taken: Collection[str] = frozenset()
    """Every id ever minted for the type, whatever its state now."""

    @classmethod
    def empty(cls) -> Previous:
        return cls(pd.DataFrame({"record_key": [], "entity_id": []}, dtype=object),
                   pd.DataFrame({"id": [], "founding_record": [], "created_at": []}, dtype=object))


@dataclass
class Assignment:
    links: pd.DataFrame
    """record_key, entity_id for every record of this run."""
    entities: pd.DataFrame
    """id, founding_record, state (active | merged | retired), merged_into, records, new (bool):
    every entity this run created or touched."""
    changes: pd.DataFrame
    """entity_id, change, other_id, detail (JSON): the change feed of this run."""
    minted: list[str] = field(default_factory=list)


def _refound(entities: pd.DataFrame, links: pd.DataFrame, present: pd.Series) -> pd.DataFrame:
    """Entities whose founding record left the data keep their id through their smallest remaining record."""
    out = entities.assign(refounded=False, orphan=False)
    gone = ~out["founding_record"].isin(present)
    if not gone.any():
        return out
    held = links[links["entity_id"].isin(out.loc[gone, "id"]) & links["record_key"].isin(present)]
    replacement = out["id"].map(held.groupby("entity_id")["record_key"].min())
    refound = gone & replacement.notna()
    out.loc[refound, "founding_record"] = replacement[refound]
    out.loc[refound, "refounded"] = True
    out.loc[gone & replacement.isna(), "orphan"] = True
    return out


def _mint_new(founding: pd.Series, mint: Minter, taken: set[str]) -> tuple[pd.Series, list[str]]:
    ids, minted = [], []
    for record_key in founding.tolist():
        generation = 0
        new_id = mint(record_key, generation)
        while new_id in taken:
            generation += 1
            new_id = mint(record_key, generation)
        taken.add(new_id)
        ids.append(new_id)
        minted.append(new_id)
    return pd.Series(ids, index=founding.index, dtype=object), minted


def _change(entity_id: str, change: str, other: str | None = None,
            detail: dict[str, object] | None = None) -> dict[str, object]:
    return {"entity_id": entity_id, "change": change, "other_id": other,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None}


def assign_ids(clusters: pd.DataFrame, previous: Previous, mint: Minter) -> Assignment:
    """Canonical ids for `clusters` (record_key, cluster: any label) given the `previous` state."""
    clusters = clusters[["record_key", "cluster"]].astype(object)
    present = clusters["record_key"]
    entities = _refound(previous.entities[["id", "founding_record", "created_at"]], previous.links, present)
    founders = entities[~entities["orphan"]].merge(
        clusters, left_on="founding_record", right_on="record_key", how="inner")
    founders = founders.sort_values(["cluster", "created_at", "founding_record", "id"], kind="stable")
    survivor = founders.drop_duplicates("cluster").set_index("cluster")["id"]
    merged = founders[~founders["id"].isin(survivor)]

    unclaimed = clusters[~clusters["cluster"].isin(survivor.index)]
    # each cluster's smallest record key: a sort, not groupby().min(), which on object columns calls Python per
    # cluster (8 s of a 20,000-resident district's events, profiled)
    founding = (unclaimed.sort_values(["cluster", "record_key"], kind="stable").drop_duplicates("cluster")
                .set_index("cluster")["record_key"].sort_values(kind="stable"))
    new_ids, minted = _mint_new(founding, mint, set(previous.taken) | set(entities["id"]))
    cluster_id = pd.concat([survivor, new_ids])
    links = clusters.assign(entity_id=clusters["cluster"].map(cluster_id))[["record_key", "entity_id"]]

    changes: list[dict[str, object]] = []
    old_of_new = previous.links.merge(
        links[links["entity_id"].isin(new_ids)], on="record_key", suffixes=("_old", ""))
    origins = old_of_new.groupby("entity_id")["entity_id_old"].agg(lambda s: sorted(set(s)))
    for founding_record, new_id in zip(founding, new_ids, strict=True):
        came_from = origins.get(new_id, [])
        if came_from:
            changes.extend(_change(new_id, SPLIT_FROM, origin, {"founding_record": founding_record})
                           for origin in came_from)
        else:
            changes.append(_change(new_id, CREATED))
    into = merged["cluster"].map(survivor)
    changes.extend(_change(i, MERGED_INTO, s) for i, s in zip(merged["id"], into, strict=True))
    kept = set(survivor) | set(merged["id"])
    retired = entities.loc[~entities["id"].isin(kept), "id"].tolist()
    changes.extend(_change(i, RETIRED) for i in retired)

    both = previous.links.merge(links, on=["record_key", "entity_id"], how="outer", indicator=True)
    added = both[both["_merge"] == "right_only"].groupby("entity_id").size()
    removed = both[both["_merge"] == "left_only"].groupby("entity_id").size()
    refounded = entities.set_index("id")
    for entity_id in sorted(survivor):
        plus, minus = int(added.get(entity_id, 0)), int(removed.get(entity_id, 0))
        moved = bool(refounded.at[entity_id, "refounded"])
        if plus or minus or moved:
            detail: dict[str, object] = {"added": plus, "removed": minus}
            if moved:
                detail["founding_record"] = refounded.at[entity_id, "founding_record"]
            changes.append(_change(entity_id, UPDATED, detail=detail))

    sizes = links.groupby("entity_id").size()
    touched = set(new_ids) | {str(c["entity_id"]) for c in changes}
    rows = entities[entities["id"].isin(touched)].set_index("id")["founding_record"]
    out = pd.DataFrame({"id": list(rows.index) + list(new_ids),
                        "founding_record": list(rows) + list(founding.reindex(new_ids.index))})
    out["state"] = "active"
    out.loc[out["id"].isin(merged["id"]), "state"] = "merged"
    out.loc[out["id"].isin(retired), "state"] = "retired"
    out["merged_into"] = out["id"].map(dict(zip(merged["id"], into, strict=True)))
    out["records"] = out["id"].map(sizes).fillna(0).astype(int)
    out["new"] = out["id"].isin(new_ids)
    change_frame = pd.DataFrame(changes, columns=["entity_id", "change", "other_id", "detail"])
    change_frame = change_frame.sort_values(["entity_id", "change", "other_id"], kind="stable", na_position="first")
    change_frame = change_frame.astype(object).where(change_frame.notna(), None)
    return Assignment(links.reset_index(drop=True), out.sort_values("id").reset_index(drop=True),
                      change_frame.reset_index(drop=True), minted)
