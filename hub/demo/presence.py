"""Who is really at home, and what the property office says about its houses: the world behind the house- and
access-side rules (hub.demo.anomalies).

- Elderly persons living alone (70 or older at the snapshot, the only living member of their household) are in
  the community's door-watch programme (独居老人关爱): their door card is their ID card, and the gate reads it
  about twice a day over the last ten days. For `Prevalence.care_stop_share` of them the events stop, between 50
  hours and ten days before the snapshot: the care alert the rule must raise.
- Seasonal residents (候鸟): `Prevalence.seasonal_share` of the registered adults (not the elderly living alone)
  spend part of the year elsewhere. They are away at the snapshot: their door events of the last 30 days are gone,
  and they passed the gates about 25 times during a season of two to seven months that ended 75 to 200 days ago.
- The property office's house status (房屋状态): 自住, 出租 or 空置 as the world has it, but for
  `Prevalence.stale_vacancy_share` of the occupied houses it still says 空置 (a status nobody updated).
- Partitioned flats (隔断群租): for `Prevalence.group_rent_share` of the renting floating households of three or
  more, the landlord partitioned the flat and the property office records the let unit's own area, at 3 to 6 m²
  per occupant.

Each draws from its own random stream after the rest of the world, so every other part stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.clock import SNAPSHOT, SNAPSHOT_TIME
from hub.demo.config import Prevalence

ELDERLY_AGE = 70
DAY = np.timedelta64(86400, "s")


@dataclass
class Presence:
    alone: npt.NDArray[np.bool_]
    """Per person: 70 or older, alive, in the district, the only living member of the household."""
    stopped: npt.NDArray[np.bool_]
    """Per person: an elderly person living alone whose door events stopped (the care alert)."""
    seasonal: npt.NDArray[np.bool_]
    """Per person: a seasonal resident, away at the snapshot."""
    marked_vacant: npt.NDArray[np.bool_]
    """Per house: the property office records it as 空置."""
    status: npt.NDArray[np.object_]
    """Per house: 自住, 出租 or 空置 as the property office records it."""


def calendar_age(birth: npt.NDArray[np.datetime64], at: np.datetime64 = SNAPSHOT) -> npt.NDArray[np.int64]:
    """Completed years at `at` (the count the rules use: years, less one before the birthday)."""
    b = pd.DatetimeIndex(birth)
    t = pd.Timestamp(at)
    before = (b.month > t.month) | ((b.month == t.month) & (b.day > t.day))
    return np.asarray(t.year - b.year - before.astype(np.int64), dtype=np.int64)


def living_alone(p: pd.DataFrame) -> npt.NDArray[np.bool_]:
    alive = p["in_district"].to_numpy() & p["death"].isna().to_numpy()
    hh = p["household"].to_numpy()
    living = pd.Series(alive.astype(np.int64)).groupby(hh).transform("sum").to_numpy()
    return alive & (living == 1) & (calendar_age(p["birth"].to_numpy()) >= ELDERLY_AGE)


def _events(person: npt.NDArray[np.int64], times: npt.NDArray[np.datetime64], device: npt.NDArray[np.object_],
            rng: np.random.Generator, card: bool) -> pd.DataFrame:
    return pd.DataFrame({"person": person, "device": device, "time": times,
                         "direction": rng.choice(["1", "2"], len(person)), "card": card})


def _gates(p: pd.DataFrame, estates: npt.NDArray[np.int64], who: npt.NDArray[np.int64],
           rng: np.random.Generator) -> npt.NDArray[np.object_]:
    estate = estates[p["house"].to_numpy()[who]]
    gate = rng.integers(1, 4, len(who))
    return np.asarray("MJ" + pd.Series(estate + 1).astype(str).str.zfill(4).to_numpy() + "-" + gate.astype(str),
                      dtype=object)


def plant_presence(rng: np.random.Generator, p: pd.DataFrame, hh: pd.DataFrame, houses: pd.DataFrame,
                   occupancy: pd.DataFrame, access: pd.DataFrame, prev: Prevalence
                   ) -> tuple[Presence, pd.DataFrame]:
    """The door-watch programme, the seasonal residents and the property office's house marks; returns them and
    the door events as they now are. Changes `houses["area"]` of the partitioned flats in place."""
    n = len(p)
    estates = houses["estate"].to_numpy()
    alone = living_alone(p)
    watched = np.flatnonzero(alone)
    stopped = np.zeros(n, dtype=bool)
    stopped[watched[rng.random(len(watched)) < prev.care_stop_share]] = True
    stop = np.full(n, SNAPSHOT_TIME, dtype="datetime64[s]")
    k = int(stopped.sum())
    stop[stopped] = SNAPSHOT_TIME - (rng.uniform(50 / 24, 10, k) * 86400).astype("timedelta64[s]")

    counts = rng.poisson(20, len(watched))
    who = np.repeat(watched, counts)
    times = SNAPSHOT_TIME - (rng.random(len(who)) * 10 * 86400).astype("timedelta64[s]")
    care = _events(who, times, _gates(p, estates, who, rng), rng, card=True)

    adults = p["in_district"].to_numpy() & p["death"].isna().to_numpy() & ~p["floating"].to_numpy() & ~alone
    adults &= calendar_age(p["birth"].to_numpy()) >= 18
    pool = np.flatnonzero(adults)
    seasonal = np.zeros(n, dtype=bool)
    seasonal[pool[rng.random(len(pool)) < prev.seasonal_share]] = True
    birds = np.flatnonzero(seasonal)
    ended = rng.uniform(75, 200, len(birds))
    length = rng.uniform(60, 210, len(birds))
    counts = rng.poisson(25, len(birds))
    who = np.repeat(birds, counts)
    back = np.repeat(ended, counts) + rng.random(len(who)) * np.repeat(length, counts)
    away = _events(who, SNAPSHOT_TIME - (back * 86400).astype("timedelta64[s]"), _gates(p, estates, who, rng), rng,
                   card=False)

    base = access.assign(card=False)
    person = base["person"].to_numpy()
    keep = ~seasonal[person] & (base["time"].to_numpy() < stop[person])
    care = care[care["time"].to_numpy() < stop[care["person"].to_numpy()]]
    events = (pd.concat([base[keep], care, away], ignore_index=True)
              .sort_values("time", kind="stable").reset_index(drop=True))

    living = p["in_district"].to_numpy() & p["death"].isna().to_numpy()
    occupied = np.zeros(len(houses), dtype=bool)
    occupied[p.loc[living, "house"].to_numpy()] = True
    rented = np.zeros(len(houses), dtype=bool)
    rented[occupancy.loc[occupancy["role"].eq("tenant"), "house"].to_numpy()] = True
    stale = occupied & (rng.random(len(houses)) < prev.stale_vacancy_share)
    marked = ~occupied | stale
    status = np.where(marked, "空置", np.where(rented, "出租", "自住")).astype(object)

    size = np.bincount(p.loc[living, "household"].to_numpy(), minlength=len(hh))
    renting = hh["floating"].to_numpy() & rented[hh["house"].to_numpy()] & (size >= 3)
    chosen = np.flatnonzero(renting & (rng.random(len(hh)) < prev.group_rent_share))
    flats = hh["house"].to_numpy()[chosen]
    area = houses["area"].to_numpy(dtype=float).copy()
    area[flats] = np.round(rng.uniform(3, 6, len(flats)) * size[chosen], 2)
    houses["area"] = area
    return Presence(alone, stopped, seasonal, marked, status), events

