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
from hub.resolve.resolved_state import ResolvedState
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


def _agreement(labels: pd.Series, reference: pd.Series) -> float:
    """Share of the reference's clusters that the labels keep whole and unmixed."""
    together = pd.DataFrame({"got": labels, "ref": reference.reindex(labels.index)})
    whole = together.groupby("ref")["got"].nunique().eq(1)
    unmixed = together.groupby("got")["ref"].nunique().eq(1)
    return float(min(whole.mean(), unmixed.mean()))


def test_increments_through_a_kept_state_with_a_delta_agree_with_a_full_run(persons: pd.DataFrame) -> None:
    """Three increments of 3.3% each: the first two land in the delta, the third compacts it into the base."""
    full = resolve(persons, "person")
    batch = np.random.default_rng(5).integers(0, 30, len(persons))   # 0, 1, 2: increments; the rest first
    existing = resolve(persons[batch > 2], "person", model=full.model)
    state = ResolvedState.from_resolution(existing)
    labels = existing.clusters.set_index("record_key")["cluster"]
    for k in range(3):
        increment = resolve_incremental(state, persons[batch == k])
        placed = increment.assignments.set_index("record_key")["cluster"]
        keys = increment.features["record_key"].to_numpy(dtype=object)
        state = state.advance(keys, increment.features, placed.reindex(keys).to_numpy(dtype=object))
        labels = pd.concat([labels, placed])
        assert (state.delta is not None) == (k < 2)   # the third delta outgrows COMPACT_SHARE
    assert state.live_records() == len(persons) == len(labels)
    assert _agreement(labels, full.clusters.set_index("record_key")["cluster"]) > 0.99


def test_a_changed_record_is_placed_afresh_and_its_old_version_never_compared(persons: pd.DataFrame) -> None:
    existing = resolve(persons, "person")
    state = ResolvedState.from_resolution(existing)
    labels = existing.clusters.set_index("record_key")["cluster"]
    sizes = labels.value_counts()
    keys = labels[labels.map(sizes) >= 3].index[:20]          # records of entities with other records
    changed = persons[persons["record_key"].isin(keys)]
    same = resolve_incremental(state, changed)                # an unchanged new version: back where it was
    assert same.stats["changed_records"] == len(keys)
    assert (same.assignments.set_index("record_key")["cluster"] == labels.reindex(keys)).all()
    assert len(same.pairs) and not (same.pairs["a"] == same.pairs["b"]).any()   # never against its old version
    blank = {c: None for c in changed.columns if c not in ("record_key", "source", "name", "birth_date")}
    names = [f"欧阳{chr(0x4E00 + 7 * k)}{chr(0x4E50 + 11 * k)}" for k in range(len(changed))]
    moved = changed.assign(**blank, name=names,
                           birth_date=[f"19{10 + k}-01-0{1 + k % 9}" for k in range(len(changed))])
    away = resolve_incremental(state, moved)                  # versions sharing nothing: each its own entity
    assert (away.assignments["cluster"] == away.assignments["record_key"]).all()
