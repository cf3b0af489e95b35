"""The anomalies the cross-department rules (rules/) must find, as they truly are in the world: truth/anomalies.csv.

- `welfare_after_death`: a person public security records as dead who is still paid welfare or a pension: an
  active 低保 or 特困 entry, a row of the disability or old-age allowance roster (every row of it is paid), or an
  active pension. The world draws these: the old-age allowance outlives half of its dead recipients, the
  disability roster keeps its dead holders, a dead pensioner's pension is still paid with probability 0.3.
- `welfare_with_assets`: an active 低保 or 特困 recipient who owns two houses or more (as the property office knows
  owners) or a car registered at the property office.
- `certificate_after_death`: a person public security records as dead whose disability certificate 残联 still
  lists as valid (正常): the federation's roster marks a holder's death (死亡注销) only where it learnt of it, and in
  the world it did not for the holders whose certificate status stayed active.
- `unregistered_tenant`: a floating tenant public security never registered (`Prevalence.unregistered_tenant_share`
  of the floating persons who rent, planted by hub.demo.housing.unregistered_tenants).
- `welfare_with_income`: an active 低保 or 特困 recipient insured and paying on a contribution base of 10,000
  yuan a month or more (`Prevalence.welfare_high_base_share` of the working-age recipients, hub.demo.planted).
- `welfare_staff_relative`: an active 低保 or 特困 recipient with another person on the community staff roster in
  the same household (户号) or registered at the same house (`Prevalence.staff_relative_share` of the active 低保
  households have a relative of the applicant on the roster; some share a registered house by chance).
- `insured_employer_unregistered`: a business social insurance knows as the employer of insured persons that is
  in no register (`Prevalence.sham_employer_share`, half of them quoting a made-up credit code).
- `elderly_alone_no_access`: an elderly person living alone (70+, the only living member of the household) with a
  door event in the 30 days but none in the 48 hours before the snapshot (hub.demo.presence: their events stop for
  `Prevalence.care_stop_share` of them; a few others simply did not pass the gate in those two days).
- `vacant_house_occupied` (a house): the property office marks it 空置 while a living resident is at home
  (`Prevalence.stale_vacancy_share` of the occupied houses).
- `group_renting` (a house): fewer than GROUP_RENT_AREA m² per living occupant (the partitioned flats of
  hub.demo.presence, and any natural case).
- `seasonal_resident`: a registered adult who spends part of the year elsewhere and is away now
  (`Prevalence.seasonal_share`).

One row per (anomaly, person) with the house it concerns (the residence; the rented house for a tenant); a house's
anomaly has no person; an organization's names `organization_id` instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.demo.clock import SNAPSHOT_TIME
from hub.demo.minzheng import allowance_disabled
from hub.demo.planted import HIGH_BASE, assisted_persons
from hub.demo.world import World

ANOMALIES = ("welfare_after_death", "welfare_with_assets", "unregistered_tenant", "certificate_after_death",
             "welfare_with_income", "welfare_staff_relative", "insured_employer_unregistered",
             "elderly_alone_no_access", "vacant_house_occupied", "group_renting", "seasonal_resident")
GROUP_RENT_AREA = 8.0
"""m² of floor area per occupant below which a house counts as group-rented (rules/group_renting.yaml)."""
COLUMNS = ["anomaly", "person_id", "house_id", "organization_id"]


def anomalies_table(world: World) -> pd.DataFrame:
    p, w, occ = world.persons, world.welfare, world.occupancy
    n = len(p)
    ids = p["person_id"].to_numpy(dtype=object)
    houses = world.geo.houses["house_id"].to_numpy(dtype=object)
    residence = p["house"].to_numpy()

    def flag(persons: np.ndarray) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        out[persons] = True
        return out

    assisted = flag(w.loc[w["kind"].isin(["dibao", "tekun"]) & w["status"].eq("active"), "person"].to_numpy())
    allowance = flag(np.concatenate([allowance_disabled(world)["person"].to_numpy(),
                                     w.loc[w["kind"].eq("elderly_allowance"), "person"].to_numpy()]))
    ins = world.insurance
    pension = flag(ins.loc[ins["pension"].eq("1"), "person"].to_numpy())
    dead = p["death"].notna().to_numpy() & p["in_district"].to_numpy() & ~world.unregistered
    after_death = dead & (assisted | allowance | pension)

    owned = occ[occ["role"].eq("owner")].drop_duplicates(["person", "house"])["person"].value_counts()
    several = flag(owned.index[owned.to_numpy() >= 2].to_numpy())
    car = flag(world.vehicles["person"].to_numpy())
    assets = assisted & (several | car)

    certified = flag(w.loc[w["kind"].eq("disability") & w["status"].eq("active")
                           & ~p["floating"].to_numpy()[w["person"].to_numpy()], "person"].to_numpy())
    certificate = dead & certified

    tenant = occ[occ["role"].eq("tenant")].drop_duplicates("person").set_index("person")["house"]
    unregistered = np.flatnonzero(world.unregistered)
    parts = [
        pd.DataFrame({"anomaly": "welfare_after_death", "person_id": ids[after_death],
                      "house_id": np.where(residence[after_death] >= 0, houses[residence[after_death]], "")}),
        pd.DataFrame({"anomaly": "welfare_with_assets", "person_id": ids[assets],
                      "house_id": np.where(residence[assets] >= 0, houses[residence[assets]], "")}),
        pd.DataFrame({"anomaly": "certificate_after_death", "person_id": ids[certificate],
                      "house_id": np.where(residence[certificate] >= 0, houses[residence[certificate]], "")}),
        pd.DataFrame({"anomaly": "unregistered_tenant", "person_id": ids[unregistered],
                      "house_id": houses[tenant.reindex(unregistered).to_numpy()]}),
        welfare_with_income(world),
        welfare_staff_relative(world),
        insured_employer_unregistered(world),
    ]
    return pd.concat([*parts, *_presence_parts(world)], ignore_index=True).fillna({"organization_id": ""})[COLUMNS]


def _rows(world: World, anomaly: str, persons: np.ndarray) -> pd.DataFrame:
    """Rows of one anomaly for the given person indexes (sorted), with their residence."""
    persons = np.sort(np.asarray(persons, dtype=np.int64))
    houses = world.geo.houses["house_id"].to_numpy(dtype=object)
    residence = world.persons["house"].to_numpy()[persons]
    return pd.DataFrame({"anomaly": anomaly, "person_id": world.persons["person_id"].to_numpy(dtype=object)[persons],
                         "house_id": np.where(residence >= 0, houses[np.maximum(residence, 0)], "")})


def welfare_with_income(world: World) -> pd.DataFrame:
    """An active 低保/特困 recipient insured (paying, 参保缴费) on a contribution base of HIGH_BASE or more."""
    ins = world.insurance
    high = ins.loc[ins["status"].eq("1") & (ins["base"].to_numpy() >= HIGH_BASE), "person"].to_numpy()
    return _rows(world, "welfare_with_income", np.intersect1d(assisted_persons(world.welfare), high))


def welfare_staff_relative(world: World) -> pd.DataFrame:
    """An active 低保/特困 recipient with someone else on the community staff roster in the same household (户号)
    or registered (户籍) at the same house."""
    p = world.persons
    assisted = assisted_persons(world.welfare)
    staff = np.unique(world.staff["person"].to_numpy(dtype=np.int64))
    found = []
    for key in (p["household"].to_numpy(), p["hukou_house"].to_numpy()):
        staff_keys = pd.DataFrame({"key": key[staff], "staff": staff})
        staff_keys = staff_keys[staff_keys["key"] >= 0]
        mine = pd.DataFrame({"key": key[assisted], "person": assisted}).merge(staff_keys, on="key")
        found.append(mine.loc[mine["person"] != mine["staff"], "person"].to_numpy())
    return _rows(world, "welfare_staff_relative", np.unique(np.concatenate(found)))


def insured_employer_unregistered(world: World) -> pd.DataFrame:
    """A unit social insurance knows as the employer of insured persons that no register holds (about it, not a
    person: `organization_id`, with its address as house-less text left out)."""
    o = world.orgs
    employers = np.unique(world.insurance["org"].to_numpy())
    unregistered = employers[~o["registered"].to_numpy()[employers] & o["org_type"].ne("virtual_unit").to_numpy()[
        employers]]
    return pd.DataFrame({"anomaly": "insured_employer_unregistered", "person_id": "", "house_id": "",
                         "organization_id": o["org_id"].to_numpy(dtype=object)[unregistered]})


def _presence_parts(world: World) -> list[pd.DataFrame]:
    """The house- and access-side anomalies (hub.demo.presence), from the world as it is."""
    p, pr = world.persons, world.presence
    ids = p["person_id"].to_numpy(dtype=object)
    houses = world.geo.houses["house_id"].to_numpy(dtype=object)
    residence = p["house"].to_numpy()
    a = world.access
    recent = a.loc[a["time"].to_numpy() >= SNAPSHOT_TIME - np.timedelta64(48 * 3600, "s"), "person"].to_numpy()
    seen = a.loc[a["time"].to_numpy() >= SNAPSHOT_TIME - np.timedelta64(30 * 86400, "s"), "person"].to_numpy()
    quiet = np.zeros(len(p), dtype=bool)
    quiet[seen] = True                  # a door that used to open (the last 30 days) ...
    quiet &= pr.alone
    quiet[recent] = False               # ... and has not for 48 hours
    living = p["in_district"].to_numpy() & p["death"].isna().to_numpy()
    occupants = np.bincount(residence[living], minlength=len(houses))
    stale = pr.marked_vacant & (occupants > 0)
    area = world.geo.houses["area"].to_numpy(dtype=float)
    crowded = (occupants > 0) & (area < GROUP_RENT_AREA * np.maximum(occupants, 1))
    return [
        pd.DataFrame({"anomaly": "elderly_alone_no_access", "person_id": ids[quiet],
                      "house_id": houses[residence[quiet]]}),
        pd.DataFrame({"anomaly": "vacant_house_occupied", "person_id": "", "house_id": houses[stale]}),
        pd.DataFrame({"anomaly": "group_renting", "person_id": "", "house_id": houses[crowded]}),
        pd.DataFrame({"anomaly": "seasonal_resident", "person_id": ids[pr.seasonal],
                      "house_id": houses[residence[pr.seasonal]]}),
    ]


def anomaly_counts(table: pd.DataFrame) -> dict[str, int]:
    counts = table["anomaly"].value_counts()
    return {name: int(counts.get(name, 0)) for name in ANOMALIES}
