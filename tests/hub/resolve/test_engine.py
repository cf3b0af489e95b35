"""End to end on a small generated district: ingest into SQLite, read frames, resolve, score against truth."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from bench.resolve.score import hard_negatives_merged, scores, truth_labels
from hub.demo import DemoManifest, generate_district, running_property_api, write_connections_file
from hub.pipeline import Hub, ingest
from hub.resolve.engine import resolve
from hub.resolve.frames import MATCH_ATTRIBUTES, entity_frame
from hub.resolve.incremental import resolve_incremental
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[3]
RESIDENTS = 3000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Hub, DemoManifest]:
    home = tmp_path_factory.mktemp("resolve")
    out = home / "demo"
    manifest = generate_district(out, residents=RESIDENTS, seed=11, gongan_url=f"sqlite:///{out / 'gongan.db'}",
                                 renshe_url=f"sqlite:///{out / 'renshe.db'}")
    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings")
    hub = Hub.open(settings)
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=int(urlparse(base_url).port or 0))
        results = ingest(hub)
    assert all(r.status == "succeeded" for r in results)
    return hub, manifest


@pytest.fixture(scope="module")
def persons(store: tuple[Hub, DemoManifest]) -> pd.DataFrame:
    hub, _ = store
    frame = entity_frame(hub.engine, hub.vault, "person")
    return frame[frame["source"] != "gongan_access"].reset_index(drop=True)


def test_person_frame_has_one_row_per_record_entity_with_clear_values(persons: pd.DataFrame) -> None:
    assert persons["record_key"].is_unique
    ids = persons["resident_id"].dropna()
    assert len(ids) > 1000 and ids.str.fullmatch(r"\d{17}[\dX]").all()
    assert persons["house_room"].notna().sum() > 1000


def test_a_frame_of_the_matching_attributes_only_holds_the_same_values(store: tuple[Hub, DemoManifest],
                                                                       persons: pd.DataFrame) -> None:
    hub, _ = store
    narrow = entity_frame(hub.engine, hub.vault, "person", attributes=MATCH_ATTRIBUTES["person"])
    narrow = narrow[narrow["source"] != "gongan_access"].reset_index(drop=True)
    assert "hukou_address" not in narrow and "house_room" in narrow
    assert narrow.equals(persons[narrow.columns])


def test_persons_resolve_above_the_f1_floor(store: tuple[Hub, DemoManifest], persons: pd.DataFrame) -> None:
    _, manifest = store
    result = resolve(persons, "person")
    truth = truth_labels(manifest.truth_dir, "person")
    labels = result.clusters.set_index("record_key")["cluster"]
    got = scores(labels, truth)
    assert got["f1"] >= 0.98 and got["precision"] >= 0.99, got
    assert hard_negatives_merged(labels, truth, manifest.truth_dir)["twins"] == 0
    assert set(result.pairs["decision"].unique()) <= {"match", "review", "non_match"}


def test_houses_and_organizations_resolve(store: tuple[Hub, DemoManifest]) -> None:
    hub, manifest = store
    for entity_type in ("house", "organization"):
        result = resolve(entity_frame(hub.engine, hub.vault, entity_type), entity_type)
        got = scores(result.clusters.set_index("record_key")["cluster"], truth_labels(manifest.truth_dir, entity_type))
        assert got["f1"] >= 0.98, (entity_type, got)


def test_incremental_places_new_records_as_a_full_run_would(persons: pd.DataFrame) -> None:
    full = resolve(persons, "person")
    new = np.random.default_rng(2).random(len(persons)) < 0.02
    existing = resolve(persons[~new], "person", model=full.model)
    increment = resolve_incremental(existing, persons[new])
    assert increment.stats["involved_records"] < len(persons) / 5
    combined = pd.concat([existing.clusters, increment.assignments]).set_index("record_key")["cluster"]
    reference = full.clusters.set_index("record_key")["cluster"]
    together = pd.DataFrame({"inc": combined, "full": reference.reindex(combined.index)})
    agree = together.groupby("full")["inc"].nunique().eq(1).mean()
    assert agree > 0.99
