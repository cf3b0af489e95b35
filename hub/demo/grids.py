"""The demo district's grid roster, written as the street office would keep it (hub.events.roster): every
building in the grid holding most of its houses (the district's grids cut by house, the office's by building),
and two workers per grid, the first the grid's own.

Worker names are drawn from the demo's reference names; nothing in the file is a resident's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from hub.demo.reference import reference
from hub.private_files import private_umask


def grid_roster(houses: pd.DataFrame, seed: int = 7) -> dict[str, object]:
    """The grids file's content from the truth's houses (community, grid, estate, building)."""
    counted = houses.groupby(["community", "estate", "building", "grid"]).size().reset_index(name="n")
    counted = counted.sort_values(["estate", "building", "n", "grid"], ascending=[True, True, False, True])
    owner = counted.drop_duplicates(["estate", "building"])
    rng = np.random.default_rng(seed)
    given = [*reference()["given_female"], *reference()["given_male"]]
    surnames = ["王", "李", "张", "刘", "陈", "杨", "马", "赵"]
    grids = []
    for number, ((community, grid), rows) in enumerate(owner.groupby(["community", "grid"], sort=True), start=1):
        buildings = {str(estate): sorted(int(b) for b in part["building"]) for estate, part in rows.groupby("estate")}
        workers = [{"id": f"W{number:04d}{k}", "name": surnames[int(rng.integers(len(surnames)))]
                    + given[int(rng.integers(len(given)))]} for k in ("A", "B")]
        grids.append({"name": str(grid), "community": str(community), "buildings": buildings, "workers": workers})
    return {"grids": grids, "due_hours": {"high": 24, "medium": 72, "low": 168}}


def write_grids_file(truth_dir: Path, path: Path) -> bool:
    """Write the demo's grids file at `path` unless one is there already (an operator's edits stay)."""
    if path.exists():
        return False
    houses = pd.read_csv(truth_dir / "houses.csv", dtype=str, usecols=["community", "grid", "estate", "building"])
    text = ("# 网格划分与网格员名册 (demo): grid → estates and buildings, workers (the first gets new events).\n"
            "# Set a worker's `consumer:` to the client id of their app (`hub consumers add`) for the events API.\n"
            + yaml.safe_dump(grid_roster(houses), allow_unicode=True, sort_keys=False, width=120))
    path.parent.mkdir(parents=True, exist_ok=True)
    with private_umask():
        path.write_text(text, encoding="utf-8")
    return True
