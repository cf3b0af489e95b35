"""Fused rows written as differences: only rows that are stored are ever deleted, so the first fusion deletes
nothing, and a change deletes only the rows of what changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.pipeline import Hub, resolve
from hub.settings import HubSettings
from hub.store import tables
from tests.hub.fuse.world import ROWS, build_world, change_rows

FUSED = ("golden_value", "conflict", "relation", "place")


@pytest.fixture
def fresh(settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    hub = build_world(settings, tmp_path)          # ingested, never resolved: the fusion tables are empty
    yield hub
    hub.engine.dispose()


def _deletes(hub: Hub) -> list[str]:
    """The table of every DELETE the engine sends from now on."""
    seen: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        if words[:2] == ["DELETE", "FROM"]:
            seen.append(words[2].strip('"'))

    sa.event.listen(hub.engine, "before_cursor_execute", spy)
    return seen


def _counts(hub: Hub) -> dict[str, int]:
    with hub.engine.connect() as conn:
        return {name: int(conn.execute(sa.select(sa.func.count()).select_from(getattr(tables, name))).scalar_one())
                for name in FUSED}


def test_the_first_fusion_deletes_nothing_and_a_change_deletes_only_its_entity(fresh: Hub) -> None:
    deletes = _deletes(fresh)
    first = resolve(fresh)
    assert sum(first.fusion.golden_entities.values()) > 0 and first.fusion.relations > 0
    assert not [t for t in deletes if t in FUSED]
    stored = _counts(fresh)
    assert stored["golden_value"] > 0 and stored["relation"] > 0 and stored["place"] > 0
    deletes.clear()
    rows = [list(r) for r in ROWS["register.csv"]]
    rows[2][5] = "13900139999"                           # 李娜's register phone changes
    change_rows(fresh, "register.csv", rows)
    again = resolve(fresh)
    rewritten = {t: n for t, n in again.fusion.golden_entities.items() if n}
    assert rewritten.get("person") == 1, rewritten
    # one DELETE per type with a rewritten entity (its rows only, they are few), none for what is unchanged
    assert deletes.count("golden_value") == len(rewritten) and "place" not in deletes, (deletes, rewritten)
    after = _counts(fresh)
    assert {t: after[t] for t in ("golden_value", "relation", "place")} == {  # a value changed, none came or went
        t: stored[t] for t in ("golden_value", "relation", "place")}
    assert after["conflict"] >= stored["conflict"]                  # the register now disagrees with the others
