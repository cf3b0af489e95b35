"""The whole resolution on a generated district (SQLite): accuracy of the persisted links, stable ids
on a fresh copy of the store, a re-run that changes nothing, a review queue a person can work through
(at most 1 % of a type's records, and what deciding it either way is worth)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
import pytest
import sqlalchemy as sa

from bench.resolve.score import hard_negatives_merged, queue_scores, scores, truth_labels
from hub.demo import DemoManifest, running_property_api, write_connections_file
from hub.pipeline import Hub, ingest, resolve, resolve_entities
from hub.protect import new_key_text
from hub.resolve.engine import resolve as resolve_frame
from hub.resolve.frames import entity_frame
from hub.resolve.review import queue, queue_size, view_pairs
from hub.settings import HubSettings
from hub.store import tables
from tests.conftest import MakeDistrict

ROOT = Path(__file__).resolve().parents[3]
RESIDENTS = 1500


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, make_district: MakeDistrict) -> tuple[HubSettings, DemoManifest]:
    home = tmp_path_factory.mktemp("district_store")
    manifest = make_district(home / "demo", RESIDENTS, seed=5)
    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings", secret_key=new_key_text())
    hub = Hub.open(settings)
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=int(urlparse(base_url).port or 0))
        assert all(r.status == "succeeded" for r in ingest(hub))
    hub.engine.dispose()
    return settings, manifest


def _copy(settings: HubSettings, name: str) -> Hub:
    """A store holding the same ingested statements and nothing resolved yet."""
    source = Path(settings.database_url.removeprefix("sqlite:///"))
    target = source.with_name(f"{name}.db")
    shutil.copy(source, target)
    return Hub.open(settings.model_copy(update={"database_url": f"sqlite:///{target}"}))


def _links(hub: Hub, entity_type: str | None = None) -> pd.Series:
    link = tables.record_link.c
    query = sa.select(link.record_key, link.entity_id)
    if entity_type:
        query = query.where(link.entity_type == entity_type)
    with hub.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.Series({k: v for k, v in rows}, name="entity_id").sort_index()


@pytest.mark.reliability("G2")
def test_persisted_links_are_accurate_stable_and_reviewable(ingested: tuple[HubSettings, DemoManifest]) -> None:
    settings, manifest = ingested
    first, second = _copy(settings, "first"), _copy(settings, "second")
    resolve(first)
    resolve(second)
    assert _links(first).equals(_links(second))                     # the same statements mint the same ids

    persons = _links(first, "person")
    persons = persons[~persons.index.str.startswith("gongan_access|")]   # door events: many carry a name only
    truth = truth_labels(manifest.truth_dir, "person")
    got = scores(persons, truth)
    assert got["precision"] >= 0.99 and got["f1"] >= 0.97, got
    assert hard_negatives_merged(persons, truth, manifest.truth_dir)["twins"] == 0
    assert scores(_links(first, "house"), truth_labels(manifest.truth_dir, "house"))["b3_f1"] >= 0.95

    again = resolve(first, full=True)
    assert all(run.links_written == 0 and not run.changes for run in again.runs)
    assert sum(again.fusion.golden_entities.values()) == 0 and again.fusion.relations == 0

    pending = queue(first.engine, "person", limit=3)
    assert len(pending) >= 2          # the district's person queue holds a few pairs; each one's breakdown is shown
    views = view_pairs(first.engine, first.vault, list(zip(pending["record_a"], pending["record_b"], strict=True)))
    for view, weight in zip(views, pending["weight"], strict=True):
        assert view.explanation.total == pytest.approx(weight, abs=1e-3)   # the breakdown adds up to the run's score
    with first.engine.connect() as conn:
        predicates = dict(conn.execute(sa.select(tables.relation.c.predicate, sa.func.count())
                                       .group_by(tables.relation.c.predicate)).all())
    assert {"resides_at", "owns", "employed_by", "applies_to", "owned_by", "concerns"} <= set(predicates)
    first.engine.dispose()
    second.engine.dispose()


@pytest.mark.parametrize("entity_type", ["person", "house", "organization"])
def test_the_queue_holds_at_most_one_record_in_a_hundred(ingested: tuple[HubSettings, DemoManifest],
                                                         entity_type: str, record_property: Any) -> None:
    settings, manifest = ingested
    hub = Hub.open(settings)
    frame = entity_frame(hub.engine, hub.vault, entity_type)
    result = resolve_frame(frame, entity_type, train_model=False)
    truth = truth_labels(manifest.truth_dir, entity_type)
    got = queue_scores(frame, entity_type, result.clusters, result.pairs, result.model, truth)
    record_property(f"{entity_type} queue", {k: got[k] for k in ("records", "queue_items", "queue_share")})
    assert got["records"] == len(frame) and got["queue_share"] <= 0.01, got
    for way in ("engine", "accepted", "rejected"):
        assert 0.0 < got[f"{way}_f1"] <= 1.0, got
    # rejecting keeps apart what the engine kept apart; accepting joins exactly the items' entities
    assert got["rejected_f1"] == got["engine_f1"]
    if got["queue_items"] == 0:
        assert got["accepted_f1"] == got["engine_f1"]
    else:
        assert got["accepted_recall"] >= got["engine_recall"]
    if entity_type == "person":
        assert got["engine_f1"] >= 0.97 and got["engine_precision"] >= 0.99, got

    first = _copy(settings, f"queue-{entity_type}")
    resolve_entities(first, [entity_type])   # through the store: the items `hub review list` shows
    assert queue_size(first.engine).get(entity_type, 0) <= 0.01 * len(frame)
    first.engine.dispose()
    hub.engine.dispose()
