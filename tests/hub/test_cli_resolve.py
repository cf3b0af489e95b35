"""`hub resolve`, `hub review`, `hub explain` on the toy world: what an operator sees, masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.pipeline import Hub
from hub.protect import mask_identifier, new_key_text
from hub.resolve.store import link_rows, write_review_pairs
from hub.settings import HubSettings
from tests.hub.fuse.world import ZHANG, build_world

OWNER, REGISTER = "t_vehicles|V1|owner", "t_register|R1|person"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    settings = HubSettings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'hub.db'}",
                           secret_key=new_key_text())
    hub = build_world(settings, tmp_path)
    hub.engine.dispose()
    assert hub.settings.secret_key is not None
    return {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": hub.settings.database_url,
            "HUB_SECRET_KEY": hub.settings.secret_key.get_secret_value(),
            "HUB_MAPPINGS_DIR": str(hub.settings.mappings_dir), "HUB_SOURCES_DIR": str(hub.settings.sources_dir)}


def _settings(env: dict[str, str]) -> HubSettings:
    return HubSettings(database_url=env["HUB_DATABASE_URL"], secret_key=env["HUB_SECRET_KEY"],
                       home=Path(env["HUB_HOME"]))


def hub_cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    assert ZHANG not in result.output and "13800138000" not in result.output       # never in clear
    return result.output


def test_resolve_review_and_explain_from_the_command_line(env: dict[str, str]) -> None:
    out = hub_cli(env, "resolve")
    assert "match summary" in out and "conflicts between sources" in out and "review queue" in out
    hub = Hub.open(_settings(env))
    with hub.engine.begin() as conn:      # the toy world is too small for the engine to doubt: queue a pair
        write_review_pairs(conn, "person", pd.DataFrame({"a": [REGISTER], "b": [OWNER], "weight": [5.0],
                                                         "reason": [None]}), "test", replace=False)
    hub.engine.dispose()
    out = hub_cli(env, "review", "list")
    assert OWNER in out and "138****8000" in out and "1 item(s) waiting" in out
    out = hub_cli(env, "review", "accept", REGISTER, OWNER, "--why", "same car park", "--who", "tester")
    assert "recorded" in out
    out = hub_cli(env, "explain", REGISTER, OWNER)
    assert "total" in out and "judgement in force: same entity by tester" in out
    hub_cli(env, "resolve", "-t", "person")
    out = hub_cli(env, "review", "list")
    assert "0 item(s) waiting" in out


def test_explain_an_entity_lists_its_records_and_golden_record(env: dict[str, str]) -> None:
    hub_cli(env, "resolve")
    hub = Hub.open(_settings(env))
    zhang = str(link_rows(hub.engine, [REGISTER])["entity_id"].iloc[0])
    hub.engine.dispose()
    out = hub_cli(env, "explain", zhang)
    assert "golden record" in out and "t_welfare|1|person" in out and "650102********" in out
    assert "created" in out and "conflict: phone has 2 values" in out
    assert hub_cli(env, "explain", REGISTER).splitlines()[0] == out.splitlines()[0]   # a record key: its entity


def test_unknown_entity_types_and_records_are_reported_plainly(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["resolve", "-t", "people"], env=env)
    assert result.exit_code == 2 and "cannot resolve people" in result.output
    hub_cli(env, "resolve", "-t", "person")
    result = CliRunner().invoke(app, ["explain", REGISTER, "t_register|R404|person"], env=env)
    assert result.exit_code == 2 and "no person record" in result.output
    result = CliRunner().invoke(app, ["explain", "P-0000000000000000"], env=env)
    assert result.exit_code == 2 and "no entity" in result.output
    result = CliRunner().invoke(app, ["review", "accept", "t_register|R1|home", "t_register|R2|home"], env=env)
    assert result.exit_code == 0        # houses are matched: a reviewer may join two of them


@pytest.mark.reliability("F14")
def test_every_table_masks_ids_alike_and_shows_gender_labels(env: dict[str, str], record_property: Any) -> None:
    """F14f/g: `explain A B` showed 650102********1237 in one table and 650***********1237 in the next;
    gender showed its code (1), not 男."""
    hub_cli(env, "resolve")
    out = hub_cli(env, "explain", REGISTER, "t_welfare|1|person")
    masks = set(re.findall(r"\d*\*{4,}[\dX]{4}", out))
    id_masks = {m for m in masks if len(m) == 18}
    record_property("ID mask forms", len(id_masks))
    assert id_masks == {mask_identifier(ZHANG)} and ZHANG not in out
    assert "男 (1)" in out                                       # the register's gender, with its label
    hub = Hub.open(_settings(env))
    zhang = str(link_rows(hub.engine, [REGISTER])["entity_id"].iloc[0])
    hub.engine.dispose()
    assert "男 (1)" in hub_cli(env, "explain", zhang)            # the golden record too


def test_the_one_masking_follows_gb_t_35273() -> None:
    assert mask_identifier("650102198503071237") == "650102********1237"
    assert mask_identifier("13800138000") == "138****8000"
    assert mask_identifier("张伟", "name") == "张*" and mask_identifier("张伟明", "name") == "张*明"
    assert mask_identifier("欧阳娜娜", "name") == "欧**娜"
