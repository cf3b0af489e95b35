"""The district's places: streets, communities (社区), grids (网格), estates (小区) and their rooms.

Built top-down from the number of houses the households need: estates of several buildings, each
with stairwell units, floors and rooms per floor; estates fill communities of about 3,000
residents, communities fill streets, and grids cut each community into parts of ~300 residents.
Everything is an integer index into small tables, so 200,000 houses cost a few megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hub.demo.reference import reference

RESIDENTS_PER_HOUSEHOLD = 2.6
OCCUPANCY = 0.88
COMMUNITY_RESIDENTS = 3000
GRID_RESIDENTS = 300


@dataclass
class Geography:
    streets: list[str]
    communities: pd.DataFrame  # name, street (index into streets), code
    estates: pd.DataFrame  # name, road, road_no, community (index), buildings
    houses: pd.DataFrame  # house_id, estate, building, unit, floor, room, area, grid (name), grid_no

    def address(self, idx: np.ndarray) -> pd.Series:
        """Canonical full address of houses, the form the truth uses: 乌鲁木齐市天山区<road><no>号<estate>
        <b>号楼<u>单元<room>室."""
        h = self.houses.iloc[idx]
        e = self.estates.iloc[h["estate"].to_numpy()]
        d = reference()["district"]
        return pd.Series(
            d["city"]
            + d["name"]
            + e["road"].to_numpy()
            + e["road_no"].astype(str).to_numpy()
            + "号"
            + e["name"].to_numpy()
            + h["building"].astype(str).to_numpy()
            + "号楼"
            + h["unit"].astype(str).to_numpy()
            + "单元"
            + h["room"].astype(str).to_numpy()
            + "室",
            index=np.arange(len(idx)),
        )


def _unique_names(
    rng: np.random.Generator, first: list[str], second: list[str], phases: list[str], n: int
) -> list[str]:
    combos = [a + b for a in first for b in second]
    order = rng.permutation(len(combos))
    names: list[str] = []
    for phase in phases:
        names.extend(combos[i] + phase for i in order)
        if len(names) >= n:
            break
    if len(names) < n:
        raise ValueError(f"reference.yaml names only {len(names)} estates, {n} needed")
    return names[:n]


def build_geography(rng: np.random.Generator, households: int) -> Geography:
    ref = reference()
    houses_needed = int(np.ceil(households / OCCUPANCY)) + 10
    guess = houses_needed // 200 + 8
    buildings = rng.integers(2, 15, guess)
    units = rng.choice([1, 2, 3, 4], guess, p=[0.15, 0.35, 0.35, 0.15])
    floors = rng.choice([6, 7, 11, 18, 26], guess, p=[0.35, 0.2, 0.2, 0.15, 0.1])
    per_floor = rng.choice([2, 3, 4], guess, p=[0.6, 0.25, 0.15])
    capacity = buildings * units * floors * per_floor
    n_estates = int(np.searchsorted(np.cumsum(capacity), houses_needed) + 1)
    if n_estates > guess:
        raise ValueError("estate draw too small for the requested district")
    b, u, f, r = buildings[:n_estates], units[:n_estates], floors[:n_estates], per_floor[:n_estates]
    short = houses_needed - int(capacity[: n_estates - 1].sum())  # trim the last estate to what is needed
    per_building = u[-1] * f[-1] * r[-1]
    b[-1] = min(b[-1], max(1, -(-short // per_building)))
    cap = b * u * f * r

    estate_of = np.repeat(np.arange(n_estates), cap)
    local = np.arange(cap.sum()) - np.repeat(np.cumsum(cap) - cap, cap)
    rf = np.repeat(r, cap)
    ff = np.repeat(f, cap)
    uf = np.repeat(u, cap)
    room_in_floor = local % rf + 1
    floor = (local // rf) % ff + 1
    unit = (local // (rf * ff)) % uf + 1
    building = local // (rf * ff * uf) + 1

    houses_per_community = COMMUNITY_RESIDENTS / RESIDENTS_PER_HOUSEHOLD / OCCUPANCY
    community_of_estate = (np.cumsum(cap) - cap // 2) // houses_per_community
    community_of_estate = community_of_estate.astype(np.int64)
    n_comm = int(community_of_estate.max()) + 1
    streets_all: list[str] = ref["streets"]
    per_street = max(4, -(-n_comm // len(streets_all)))
    n_streets = -(-n_comm // per_street)
    street_order = rng.permutation(len(streets_all))[:n_streets]
    streets = [streets_all[i] for i in street_order]
    comm_names = _unique_names(
        rng, ref["community_words"], [s + "社区" for s in ref["community_suffixes"]], [""], n_comm
    )
    communities = pd.DataFrame(
        {
            "name": comm_names,
            "street": np.arange(n_comm) // per_street,
            "code": [
                f"{ref['district']['code']}{s + 1:03d}{c + 1:03d}"
                for c, s in enumerate(np.arange(n_comm) // per_street)
            ],
        }
    )
    roads: list[str] = ref["roads"]
    estates = pd.DataFrame(
        {
            "name": _unique_names(rng, ref["estate_first"], ref["estate_second"], ref["estate_phases"], n_estates),
            "road": [roads[i] for i in rng.integers(0, len(roads), n_estates)],
            "road_no": rng.integers(1, 400, n_estates),
            "community": community_of_estate,
            "buildings": b,
        }
    )
    community_of_house = community_of_estate[estate_of]
    first_of_community = np.searchsorted(community_of_house, community_of_house)
    houses_per_grid = GRID_RESIDENTS / RESIDENTS_PER_HOUSEHOLD / OCCUPANCY
    grid_no = ((np.arange(len(estate_of)) - first_of_community) // houses_per_grid).astype(np.int64) + 1
    grid_names = (
        pd.Series(np.array(comm_names, dtype=object)[community_of_house])
        + "第"
        + pd.Series(grid_no).astype(str)
        + "网格"
    )
    houses = pd.DataFrame(
        {
            "house_id": [f"H{i:07d}" for i in range(1, len(estate_of) + 1)],
            "estate": estate_of,
            "building": building,
            "unit": unit,
            "floor": floor,
            "room": floor * 100 + room_in_floor,
            "area": np.round(rng.normal(88, 22, len(estate_of)).clip(38, 180), 2),
            "grid": grid_names.to_numpy(),
        }
    )
    return Geography(streets=streets, communities=communities, estates=estates, houses=houses)
