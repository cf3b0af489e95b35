"""Precision and recall of each rule against the demo district's planted truth (truth/anomalies.csv).

A finding is about a canonical entity; its true person (or house, or organization, for a rule about houses or
organizations) is the one most of the entity's records truly describe (truth/records.csv). A finding is right
when that person, house or organization carries the rule's anomaly; an anomaly is found when some finding's
entity is it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from bench.resolve.score import truth_labels
from hub.store import tables
from hub.store.frames import frame_of


def true_persons(engine: Engine, truth_dir: Path, entity_type: str = "person") -> pd.Series:
    """Canonical id → the true entity (a person, a house or an organization) most of its records describe."""
    link = tables.record_link.c
    with engine.connect() as conn:
        links = frame_of(conn.execute(sa.select(link.record_key, link.entity_id).where(
            link.entity_type == entity_type)), ["record_key", "entity_id"])
    links["true_id"] = links["record_key"].map(truth_labels(truth_dir, entity_type))
    links = links.dropna(subset=["true_id"])
    counts = links.groupby(["entity_id", "true_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["entity_id", "n", "true_id"], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates("entity_id").set_index("entity_id")["true_id"]


def rule_scores(engine: Engine, truth_dir: Path, findings: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Per rule: planted, found, true positives, false positives (with their entity ids), missed, precision, recall."""
    truth = pd.read_csv(truth_dir / "anomalies.csv", dtype=str, keep_default_na=False)
    if "organization_id" not in truth:
        truth["organization_id"] = ""
    known = {kind: true_persons(engine, truth_dir, kind) for kind in ("person", "house", "organization")}
    out: dict[str, dict[str, Any]] = {}
    for rule_id, found in findings.items():
        mine = truth[truth["anomaly"] == rule_id]
        about = "person"
        if bool((mine["organization_id"] != "").any()) or bool(found["entity_type"].eq("organization").any()):
            about = "organization"
        elif (bool(len(mine)) and bool((mine["person_id"] == "").all())) or (
                len(found) > 0 and bool((found["entity_type"] == "house").all())):
            about = "house"
        planted = set(mine[f"{about}_id"])
        who = found["entity_id"].map(known[about])
        right = who.isin(planted)
        hit = set(who[right])
        out[rule_id] = {
            "planted": len(planted), "found": len(found), "true_positives": int(right.sum()),
            "false_positives": sorted(found.loc[~right, "entity_id"]), "missed": sorted(planted - hit),
            "precision": float(right.mean()) if len(found) else 1.0,
            "recall": len(hit) / len(planted) if planted else 1.0,
        }
    return out
