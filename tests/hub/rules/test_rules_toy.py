"""The rule files of rules/ on a toy district (tests/hub/rules/world.py), on each store: each fires where it should
and not on its near misses, cites statements of each department, stores no value, and its findings persist,
clear and reopen across runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub.cli import app
from hub.pipeline import Hub, resolve
from hub.rules import load_rules, read_findings, run_rules
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.fuse.world import change_rows
from tests.hub.rules.world import EMPLOYERS, EXPECTED, IDS, REGISTERED, ROWS, build_world

RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture
def world(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)
    resolve(hub)
    yield hub
    hub.engine.dispose()


def names_of(hub: Hub) -> dict[str, str]:
    """Canonical person (or employer) id → name, through the record each is known by."""
    key = {name: f"gongan_population|R{i}|person" for i, name in enumerate(REGISTERED)}
    key["周杰"] = "wuye_tenants|T1|person"
    key.update({org: f"renshe_insured|{row}|employer" for org, row in EMPLOYERS.items()})
    link = tables.record_link.c
    with hub.engine.connect() as conn:
        found = dict(conn.execute(sa.select(link.record_key, link.entity_id).where(
            link.record_key.in_(list(key.values())))).all())
    return {found[k]: name for name, k in key.items()}


def test_each_rule_fires_where_it_should_and_not_on_near_misses(world: Hub) -> None:
    rules = load_rules(RULES).require_ok()   # the toy has no allowance roster: sources unchecked
    result = run_rules(world.engine, world.vault, rules)
    names = names_of(world)
    found = read_findings(world.engine)
    got = {rule: {names[e] for e in group["entity_id"]} for rule, group in found.groupby("rule_id")}
    assert got == EXPECTED
    assert {r: result.per_rule[r].new for r in EXPECTED} == {r: len(v) for r, v in EXPECTED.items()}

    death = found[found["rule_id"] == "welfare_after_death"].set_index("entity_id")
    by_name = {names[e]: row for e, row in death.iterrows()}
    assert json.loads(by_name["张伟"]["sources"]) == ["gongan_population", "minzheng_assistance"]
    assert json.loads(by_name["赵强"]["sources"]) == ["gongan_population", "renshe_pension"]
    cited = json.loads(by_name["张伟"]["evidence"])
    assert {c for c, _, _ in cited} == {"death", "payment"}
    s = tables.statement.c
    with world.engine.connect() as conn:   # every cited statement exists, from the source named beside it
        stored = dict(conn.execute(sa.select(s.id, s.source).where(s.id.in_([i for _, _, i in cited]))).all())
    assert {i: src for _, src, i in cited} == stored
    assert set(json.loads(by_name["张伟"]["related"])) == {"payment"}    # the situation's canonical id

    assets = found[found["rule_id"] == "welfare_with_assets"]
    assert {names[e]: json.loads(src) for e, src in zip(assets["entity_id"], assets["sources"], strict=True)} == {
        "刘洋": ["minzheng_assistance", "wuye_owners"], "黄磊": ["minzheng_assistance", "wuye_vehicles"]}

    with world.engine.connect() as conn:   # ids, source names and statement ids only: no name, ID number or value
        text = " ".join(str(v) for row in conn.execute(sa.select(tables.finding)) for v in row)
    for secret in [*IDS.values(), *IDS, "dibao", "tekun", "active", "20250110", "2025-01-10", "新A12345"]:
        assert secret not in text


def test_findings_persist_clear_and_reopen_across_runs(world: Hub) -> None:
    rules = load_rules(RULES).require_ok()
    first = run_rules(world.engine, world.vault, rules, now=datetime(2026, 12, 1, tzinfo=UTC))
    again = run_rules(world.engine, world.vault, rules, now=datetime(2026, 12, 2, tzinfo=UTC))
    assert all(w.new == w.cleared == w.reopened == 0 for w in again.per_rule.values())
    assert sum(w.found for w in again.per_rule.values()) == sum(w.found for w in first.per_rule.values())

    stopped = [row[:] for row in ROWS["assistance.csv"]]
    stopped[1][4] = "停发"                                  # civil affairs stops 张伟's 低保
    change_rows(world, "assistance.csv", stopped)
    resolve(world)
    cleared = run_rules(world.engine, world.vault, rules)
    assert cleared.per_rule["welfare_after_death"].cleared == 1
    open_now = read_findings(world.engine, ["welfare_after_death"])
    assert {names_of(world)[e] for e in open_now["entity_id"]} == {"赵强"}
    every = read_findings(world.engine, ["welfare_after_death"], include_cleared=True)
    assert len(every) == 2 and every["cleared_at"].notna().sum() == 1

    paid = [row[:] for row in ROWS["assistance.csv"]]   # … and pays it again: the first content, current again
    change_rows(world, "assistance.csv", paid)
    resolve(world)
    reopened = run_rules(world.engine, world.vault, rules)
    assert reopened.per_rule["welfare_after_death"].reopened == 1
    again_open = read_findings(world.engine, ["welfare_after_death"])
    assert len(again_open) == 2
    first_seen = again_open["first_found_at"].map(lambda t: t.replace(tzinfo=None) if t.tzinfo else t)
    assert (first_seen == datetime(2026, 12, 1)).all()      # a reopened finding keeps when it was first found


def test_cli_run_and_list(world: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    assert world.settings.secret_key is not None
    for name, value in {"HUB_HOME": world.settings.home, "HUB_DATABASE_URL": world.settings.database_url,
                        "HUB_SECRET_KEY": world.settings.secret_key.get_secret_value(),
                        "HUB_MAPPINGS_DIR": world.settings.mappings_dir, "HUB_RULES_DIR": RULES,
                        "COLUMNS": 200}.items():
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    ran = runner.invoke(app, ["rules", "run"])
    assert ran.exit_code == 0, ran.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in ran.output.splitlines() if line.startswith("│") and "_" in line}
    assert rows["welfare_after_death"] == ["high", "findings", "2", "2", "0", "0"]
    assert rows["unregistered_tenant"] == ["medium", "findings", "1", "1", "0", "0"]
    assert rows["situation_elderly"][1] == "情 elderly periods"        # periods of a situation, not findings
    assert rows["seasonal_resident"][1] == "findings and 情 seasonal periods"     # one condition, both
    assert "no mapping has source 'minzheng_allowance'" in ran.output     # this toy has no allowance roster
    listed = runner.invoke(app, ["rules", "list", "--findings", "welfare_after_death"])
    assert listed.exit_code == 0 and "死亡后仍在发放救助、补贴或养老金" in listed.output
    assert "情 living_alone periods" in listed.output
    died = [e for e, name in names_of(world).items() if name in ("张伟", "赵强")]
    assert all(e in listed.output for e in died) and "gongan_population, minzheng_assistance" in listed.output
    assert not set(IDS) & set(ran.output + listed.output)                 # no names on the terminal
    unknown = runner.invoke(app, ["rules", "run", "--rule", "no_such_rule"])
    assert unknown.exit_code == 2 and "no rule no_such_rule" in unknown.output


def test_a_store_with_nothing_fused_finds_nothing(settings: HubSettings) -> None:
    hub = Hub.open(settings)
    try:
        result = run_rules(hub.engine, hub.vault, load_rules(RULES).require_ok())
        assert result.per_rule and all(w.found == 0 for w in result.per_rule.values())
        assert read_findings(hub.engine).empty
    finally:
        hub.engine.dispose()
