"""The demo's grid roster: every building of the district in exactly one grid, the file loads as the hub reads
it, and an operator's edited file is never overwritten."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hub.demo import DemoManifest
from hub.demo.grids import write_grids_file
from hub.events.roster import area_rows, load_roster


def test_every_building_is_in_one_grid_and_the_file_loads(district: DemoManifest, tmp_path: Path) -> None:
    path = tmp_path / "grids.yaml"
    assert write_grids_file(district.truth_dir, path)
    roster = load_roster(path)
    houses = pd.read_csv(district.truth_dir / "houses.csv", dtype=str)
    buildings = houses[["estate", "building"]].drop_duplicates()
    rows = area_rows(roster)                                   # raises if a building were in two grids
    assert len(rows) == len(buildings)
    assert {g.name for g in roster.grids} <= set(houses["grid"]) and all(len(g.workers) == 2 for g in roster.grids)
    assert roster.due("high").total_seconds() == 24 * 3600

    path.write_text("grids: []\n", encoding="utf-8")            # the operator's own file stays
    assert not write_grids_file(district.truth_dir, path) and load_roster(path).grids == []
