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

One row per (anomaly, person) with the house it concerns (the residence; the rented house for a tenant); an
organization's anomaly names `organization_id` instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.demo.minzheng import allowance_disabled
from hub.demo.planted import HIGH_BASE, assisted_persons
from hub.demo.world import World

ANOMALIES = ("welfare_after_death", "welfare_with_assets", "unregistered_tenant", "certificate_after_death",
             "welfare_with_income", "welfare_staff_relative", "insured_employer_unregistered")
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
    return pd.concat(parts, ignore_index=True).fillna({"organization_id": ""})[COLUMNS]


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


def anomaly_counts(table: pd.DataFrame) -> dict[str, int]:
    counts = table["anomaly"].value_counts()
    return {name: int(counts.get(name, 0)) for name in ANOMALIES}
