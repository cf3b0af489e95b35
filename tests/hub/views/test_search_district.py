"""Search quality on a generated district (SQLite): residents found by ID number, phone, exact name, a name with
a typo, toneless pinyin; houses by the beginning of their address; scope by community in the query."""

from __future__ import annotations

import csv
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from hub.access.policy import Policy
from hub.demo import running_property_api, write_connections_file
from hub.normalize.name_keys import pinyin_key
from hub.pipeline import Hub, ingest, resolve
from hub.protect import new_key_text
from hub.settings import HubSettings
from hub.store import tables
from hub.views import Reader, entity_view, list_entities, open_reader, person_profile, search
from schemas import Sensitivity
from schemas.views import EntityView, PersonProfile
from tests.conftest import MakeDistrict

ROOT = Path(__file__).resolve().parents[3]
RESIDENTS = 600
SAMPLE = 150
OPERATOR = Policy.operator("tester")


@pytest.fixture(scope="module")
def district_hub(tmp_path_factory: pytest.TempPathFactory, make_district: MakeDistrict) -> Iterator[tuple[Hub, Path]]:
    home = tmp_path_factory.mktemp("search_district")
    manifest = make_district(home / "demo", RESIDENTS, seed=23)
    settings = HubSettings(home=home, mappings_dir=ROOT / "mappings", secret_key=new_key_text(),
                           sources_dir=manifest.out_dir)
    hub = Hub.open(settings)
    with running_property_api(manifest.property_db, manifest.property_token) as base_url:
        assert settings.connections_file is not None
        write_connections_file(manifest, settings.connections_file, port=int(urlparse(base_url).port or 0))
        assert all(r.status == "succeeded" for r in ingest(hub))
    resolve(hub)
    yield hub, manifest.truth_dir
    hub.engine.dispose()


@pytest.fixture
def reader(district_hub: tuple[Hub, Path]) -> Iterator[Reader]:
    hub, _ = district_hub
    with hub.engine.connect() as conn:
        yield open_reader(conn, hub.vault)


def _truth(truth_dir: Path) -> list[dict[str, str]]:
    with (truth_dir / "persons.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["resident_id"] and r["name"] and r["in_district"] == "True"]
    return rows[:: max(1, len(rows) // SAMPLE)][:SAMPLE]


def _typo(name: str) -> str:
    """The last character replaced by its code-point neighbour: another character, usually another sound."""
    return name[:-1] + chr(ord(name[-1]) + 1)


def test_search_finds_residents_by_every_key(district_hub: tuple[Hub, Path], reader: Reader,
                                             record_property: Callable[[str, object], None]) -> None:
    _, truth_dir = district_hub
    people = _truth(truth_dir)
    found: dict[str, list[bool]] = {k: [] for k in ("id", "phone", "name", "typo", "pinyin")}
    took: list[float] = []

    def hit(entity_id: str, **criteria: str) -> bool:
        started = time.perf_counter()
        page = search(reader, OPERATOR, "person", limit=20, **criteria)
        took.append(1000 * (time.perf_counter() - started))
        return entity_id in {h.id for h in page.items}

    for person in people:
        by_id = search(reader, OPERATOR, "person", resident_id=person["resident_id"]).items
        found["id"].append(len(by_id) == 1)
        if len(by_id) != 1:
            continue
        entity_id = by_id[0].id
        if person["phone"]:
            found["phone"].append(hit(entity_id, phone=person["phone"]))
        found["name"].append(hit(entity_id, name=person["name"]))
        if len(person["name"]) >= 3:
            found["typo"].append(hit(entity_id, name=_typo(person["name"])))
        found["pinyin"].append(hit(entity_id, name=pinyin_key(person["name"])))
    rates = {k: sum(v) / len(v) for k, v in found.items() if v}
    for key, rate in rates.items():
        record_property(f"found by {key} (share of {len(found[key])})", round(rate, 3))
    record_property("search ms median", round(statistics.median(took), 1))
    record_property("search ms max", round(max(took), 1))
    assert rates["id"] >= 0.97 and rates["phone"] >= 0.9, rates
    assert rates["name"] >= 0.98 and rates["pinyin"] >= 0.95 and rates["typo"] >= 0.8, rates


def test_houses_are_found_by_the_beginning_of_their_address(district_hub: tuple[Hub, Path], reader: Reader,
                                                            record_property: Callable[[str, object], None]) -> None:
    hub, _ = district_hub
    g = tables.golden_value.c
    with hub.engine.connect() as conn:
        houses = conn.execute(sa.select(g.entity_id, g.value).where(g.entity_type == "house", g.attribute == "address")
                              .order_by(g.entity_id).limit(60)).all()
    found = []
    for house, address in houses:
        building = address[: address.index("单元") + 2] if "单元" in address else address
        hits = search(reader, OPERATOR, "house", address=address).items
        found.append(bool(hits) and hits[0].id == house
                     and house in {h.id for h in search(reader, OPERATOR, "house", address=building, limit=200).items})
    record_property("houses found by address and by its building", f"{sum(found)}/{len(found)}")
    assert sum(found) >= 0.95 * len(found)


def test_scope_by_community_is_part_of_the_query(district_hub: tuple[Hub, Path], reader: Reader) -> None:
    hub, _ = district_hub
    s = tables.pub_scope.c
    with hub.engine.connect() as conn:
        community, = conn.execute(sa.select(s.place_id).where(s.place_type == "community").group_by(s.place_id)
                                  .order_by(sa.func.count().desc()).limit(1)).one()
        in_scope = {r[0] for r in conn.execute(sa.select(s.entity_id).where(s.place_id == community))}
    scoped = Policy(actor="app-grid", role="consumer", purpose="grid work", clearance=Sensitivity.internal,
                    entity_types=frozenset({"person", "house"}), scope=frozenset({community}))
    page = list_entities(reader, scoped, "person", limit=7)
    assert len(page.items) == 7 and {h.id for h in page.items} <= in_scope     # full pages: filtered in the SQL
    every = list_entities(reader, OPERATOR, "person", limit=200, community=community)
    assert every.items and {h.id for h in every.items} <= in_scope
    outside = list_entities(reader, OPERATOR, "person", limit=200)
    stranger = next(h.id for h in outside.items if h.id not in in_scope)
    assert entity_view(reader, scoped, stranger) is None
    resident = page.items[0].id
    view = entity_view(reader, scoped, resident)
    assert isinstance(view, EntityView)
    profile = person_profile(reader, scoped, resident)
    assert isinstance(profile, PersonProfile) and all(h.id in in_scope for h in profile.houses)
    assert profile.organizations == []          # not in the scope's types
