"""`shares`: an entity that shares a household key with another entity meeting some clauses (a 低保 recipient in
the household of a community staff member), as joins over whole columns.

The others are found first (the `with` clauses run over every active entity of the type), then the candidates
are joined to them on each key of `on`: a golden value (the same 户号) or the object of a relation (registered at
the same house). An entity never shares with itself. A finding cites the statements behind both keys and the
other's own evidence, and names the other entity (`related`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from hub.rules.model import SharesClause
from schemas.registry import attributes
from schemas.relations import PREDICATES, RelationPredicate

if TYPE_CHECKING:
    from hub.rules.engine import RuleRunner

_EVIDENCE = ["entity_id", "clause", "statement_id", "other_id"]   # hub.rules.engine.EVIDENCE


def shared_objects(entity_type: str, predicate: str) -> list[str]:
    """The entity types a relation of `predicate` from `entity_type` may point at (none: not such a predicate)."""
    if predicate not in {p.value for p in RelationPredicate}:
        return []
    subjects, objects = PREDICATES[RelationPredicate(predicate)]
    return sorted(objects) if entity_type in subjects else []


def _keys(runner: RuleRunner, entity_type: str, key: str) -> pd.DataFrame:
    """entity_id, key (the value or the object's id), statement_id: every entity's values of one key."""
    if key in attributes(entity_type):
        g = runner.fused.golden(entity_type, key)
        return pd.DataFrame({"entity_id": g["entity_id"], "key": g["value"].astype(str),
                             "statement_id": g["statement_id"]})
    parts = []
    for object_type in shared_objects(entity_type, key):
        r = runner.fused.relations(key, entity_type, object_type)
        r = r[r["current"]]
        parts.append(pd.DataFrame({"entity_id": r["subject_id"], "key": object_type + "\x1f" + r["object_id"],
                                   "statement_id": [json.loads(t) for t in r["statement_ids"]]})
                     .explode("statement_id"))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["entity_id", "key", "statement_id"])


def shared(runner: RuleRunner, entity_type: str, clause: SharesClause, ids: pd.Series) -> tuple[pd.Index, pd.DataFrame]:
    """The candidates `ids` that share a key of `clause.on` with another entity meeting `clause.with_`."""
    others = runner.fused.entities(entity_type)
    their_evidence = []
    for inner in clause.with_:
        others, ev = runner.clause(entity_type, inner, others)
        their_evidence.append(ev)
        if others.empty:
            break
    found = []
    for key in clause.on:
        values = _keys(runner, entity_type, key)
        mine = values[values["entity_id"].isin(ids)]
        theirs = values[values["entity_id"].isin(others)].rename(
            columns={"entity_id": "other_id", "statement_id": "other_statement"})
        pairs = mine.merge(theirs, on="key")
        found.append(pairs[pairs["entity_id"] != pairs["other_id"]])
    pairs = pd.concat(found, ignore_index=True)
    if pairs.empty:
        return pd.Index([], dtype=object), pd.DataFrame(columns=_EVIDENCE)
    theirs_ev = pd.concat(their_evidence, ignore_index=True)[["entity_id", "statement_id"]].rename(
        columns={"entity_id": "other_id"})
    link = pairs[["entity_id", "other_id"]].drop_duplicates()
    ev = pd.concat([
        pairs[["entity_id", "other_id", "statement_id"]],
        pairs[["entity_id", "other_id", "other_statement"]].rename(columns={"other_statement": "statement_id"}),
        link.merge(theirs_ev, on="other_id"),
    ], ignore_index=True).assign(clause=None)[_EVIDENCE]
    return pd.Index(ids[ids.isin(pairs["entity_id"])], dtype=object), ev
