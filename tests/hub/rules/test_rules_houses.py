"""The house- and access-side rules (rules/elderly_alone_no_access, seasonal_resident, vacant_house_occupied,
group_renting) on a toy district, on each store: each fires where it should and not on its near misses, judged
at the run's reference time, and cites the statements that made it; and the situations (情) the situation_*
rules derive, as periods, in the profiles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from hub.access.policy import Policy
from hub.pipeline import Hub, publish, resolve
from hub.publish import current_version
from hub.rules import load_rules, read_findings, read_situations, run_rules
from hub.settings import HubSettings
from hub.store import tables
from hub.views import house_profile, open_reader, person_profile
from hub.views.reader import pinned_reader
from schemas.views import HouseProfile, PersonProfile
from tests.hub.rules.world_houses import EXPECTED, IDS, REFERENCE, build_world

RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()


def labels(hub: Hub) -> dict[str, str]:
    """Canonical id → the person's name or the house's room, through the records each is known by."""
    link = tables.record_link.c
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(link.record_key, link.entity_id)).all()
    out = {}
    for key, entity in rows:
        source, record, local = key.split("|")
        if source == "wuye_houses":
            out[entity] = record.removeprefix("H")
        elif local == "person" and source in ("gongan_population", "wuye_tenants"):
            out.setdefault(entity, record)
    names = {f"R{i}": n for i, n in enumerate(IDS) if n not in ("郑一", "郑二", "郑三", "钱一", "钱二", "钱三")}
    return {e: names.get(v, v) for e, v in out.items()}


def house_rules() -> list:
    return [r for r in load_rules(RULES).require_ok() if r.id in EXPECTED]


def test_each_rule_fires_where_it_should_and_not_on_near_misses(world: Hub) -> None:
    run_rules(world.engine, world.vault, house_rules(), now=REFERENCE)
    found = read_findings(world.engine)
    names = labels(world)
    got = {rule: {names[e] for e in group["entity_id"]} for rule, group in found.groupby("rule_id")}
    assert got == EXPECTED

    care = found[found["rule_id"] == "elderly_alone_no_access"].iloc[0]
    assert care["severity"] == "high"
    assert json.loads(care["sources"]) == ["gongan_access", "gongan_population"]
    cited = json.loads(care["evidence"])
    assert {c for c, _, _ in cited} == {"elderly", "alone", "watched", "no_access"}
    last = [i for c, _, i in cited if c == "no_access"]   # the last door event before the window: three days ago
    s = tables.statement.c
    with world.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(s.id, s.source).where(s.id.in_([i for _, _, i in cited]))).all())
    assert {i: src for _, src, i in cited} == stored and len(last) == 1 and stored[last[0]] == "gongan_access"

    crowded = found[found["rule_id"] == "group_renting"].iloc[0]
    assert json.loads(crowded["sources"]) == ["wuye_houses", "wuye_tenants"]
    assert len(json.loads(crowded["related"])["crowded"]) == 3      # the three tenants


def test_the_reference_time_decides_the_windows(world: Hub) -> None:
    rules = {r.id: r for r in house_rules()}
    names = labels(world)
    run_rules(world.engine, world.vault, [rules["elderly_alone_no_access"]], now=REFERENCE - timedelta(days=4))
    care = read_findings(world.engine, ["elderly_alone_no_access"])
    # four days earlier 张伟's door had opened a day before; 李娜's two door events both come after that moment, so
    # her door had not opened in the 30 days before it either: no door data, no alert
    assert {names[e] for e in care["entity_id"]} == set()
    run_rules(world.engine, world.vault, [rules["seasonal_resident"]], now=REFERENCE - timedelta(days=35))
    away = read_findings(world.engine, ["seasonal_resident"])
    # 35 days earlier 杨帆's last door event (a month ago) has not happened yet: she is away as 陈静 is
    assert {names[e] for e in away["entity_id"]} == {"陈静", "杨帆"}
    # the one condition is the finding and the 情 period: the same hits, under the same rule
    periods = read_situations(world.engine, rule_ids=["seasonal_resident"])
    assert set(periods["entity_id"]) == set(away["entity_id"]) and set(periods["situation_type"]) == {"seasonal"}


def test_situations_are_periods_with_their_rule_and_show_in_the_profiles(world: Hub) -> None:
    situational = [r for r in load_rules(RULES).require_ok() if r.derives]
    run_rules(world.engine, world.vault, situational, now=REFERENCE - timedelta(days=35))
    names = labels(world)
    held = read_situations(world.engine)
    got = {(names[e], t) for e, t in zip(held["entity_id"], held["situation_type"], strict=True)}
    assert {("张伟", "living_alone"), ("张伟", "elderly"), ("王芳", "elderly"), ("陈静", "seasonal"),
            ("杨帆", "seasonal"), ("201", "vacancy"), ("202", "vacancy"), ("204", "vacancy")} <= got
    assert not {("赵强", "living_alone"), ("刘洋", "elderly"), ("203", "vacancy"), ("孙丽", "elderly")} & got
    zhang = next(e for e, n in names.items() if n == "张伟")
    alone = held[(held["entity_id"] == zhang) & (held["situation_type"] == "living_alone")].iloc[0]
    assert alone["rule_id"] == "situation_living_alone" and json.loads(alone["sources"]) == ["gongan_population"]
    assert all(json.loads(alone["evidence"]))                           # statement ids: lineage to raw records

    later = run_rules(world.engine, world.vault, situational, now=REFERENCE)   # 杨帆's door opened a month ago
    assert later.per_rule["seasonal_resident"].cleared == 1 and later.per_rule["situation_elderly"].new == 0
    seasons = read_situations(world.engine, rule_ids=["seasonal_resident"], include_ended=True)
    ended = {names[e]: t for e, t in zip(seasons["entity_id"], seasons["ended_at"], strict=True)}
    assert ended["陈静"] is None or pd.isna(ended["陈静"])
    end = pd.Timestamp(ended["杨帆"])                     # SQLite keeps the moment as given, PostgreSQL in UTC
    assert (end.tz_convert("Asia/Shanghai").tz_localize(None) if end.tzinfo else end) == pd.Timestamp(REFERENCE)
    again = run_rules(world.engine, world.vault, situational, now=REFERENCE - timedelta(days=35))
    assert again.per_rule["seasonal_resident"].reopened == 1                # a new period, the old one kept
    assert len(read_situations(world.engine, rule_ids=["seasonal_resident"], include_ended=True)) == 3

    house = next(e for e, n in names.items() if n == "201")
    publish(world, fusion_changed=False)          # the profiles read what publication made visible
    with world.engine.connect() as conn:
        reader = open_reader(conn, world.vault)
        person = person_profile(reader, Policy.operator("tester"), zhang)
        home = house_profile(reader, Policy.operator("tester"), house)
    assert isinstance(person, PersonProfile) and isinstance(home, HouseProfile)
    assert {s.situation_type for s in person.derived_situations} == {"living_alone", "elderly"}
    assert [s.situation_type for s in home.derived_situations] == ["vacancy"]
    assert home.derived_situations[0].sources == ["wuye_houses"]


def test_a_profile_shows_the_situations_of_its_version(world: Hub) -> None:
    """G13: a reader pinned to a version sees the derived situations published with it, not those of a rules run
    published after it or not yet published (the derive stage runs before publication in the fusion DAG)."""
    situational = [r for r in load_rules(RULES).require_ok() if r.derives]
    names = labels(world)
    by_name = {n: e for e, n in names.items()}
    operator = Policy.operator("tester")

    def shown(name: str, version: int) -> set[str]:
        with world.engine.connect() as conn:
            profile = person_profile(pinned_reader(conn, version, world.vault), operator, by_name[name])
        assert isinstance(profile, PersonProfile)
        return {s.situation_type for s in profile.derived_situations}

    with world.engine.connect() as conn:
        first = current_version(conn)
    assert first is not None
    run_rules(world.engine, world.vault, situational, now=REFERENCE - timedelta(days=35))
    assert shown("张伟", first) == set()                 # derived, not published: not the first version's
    second = publish(world, fusion_changed=False)        # fusion unchanged: only the situations are compared
    assert second.changed and second.version == first + 1 and set(second.counts) == {"pub_situation"}
    assert second.version is not None
    assert shown("张伟", second.version) == {"living_alone", "elderly"} and shown("张伟", first) == set()
    assert "seasonal" in shown("杨帆", second.version)

    run_rules(world.engine, world.vault, situational, now=REFERENCE)    # 杨帆's door opened a month ago
    assert "seasonal" in shown("杨帆", second.version)    # ended by a run not published yet
    third = publish(world, fusion_changed=False)
    assert third.version is not None and third.version == second.version + 1
    assert "seasonal" not in shown("杨帆", third.version) and "seasonal" in shown("杨帆", second.version)
    assert not publish(world, fusion_changed=False).changed        # nothing derived anew: no new version
