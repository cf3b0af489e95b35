"""Person-side anomalies planted into the world after it is drawn, each from its own random stream, so the
rest of the world stays what the seed made it (hub.demo.anomalies writes which persons carry them).

- `plant_welfare_income`: a share of the working-age active 低保/特困 recipients hold a job whose social-insurance
  contribution base is above `HIGH_BASE` (an income that contradicts means-tested aid); every other recipient
  who is insured pays on a base well below it, as the lowest bases are what such recipients pay.
- `build_staff`: the community staff roster (社区工作人员花名册): community workers, grid workers and cadres, most
  of them registered residents, some living elsewhere; for a share of the active 低保 households a relative of
  the applicant (a household member other than the applicant) is on the roster.
- `plant_sham_employers`: a share of the businesses that insure employees are in no register (市场监管's register
  of market entities leaves them out), half of them quoting a made-up credit code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.demo.clock import years_since
from hub.demo.config import Prevalence

HIGH_BASE = 10_000
"""Yuan a month: the contribution base above which rules/welfare_with_income.yaml fires."""
LOW_BASE_CAP = 6_000
"""The highest base an insured recipient pays when not planted: far enough below HIGH_BASE."""
POSTS = ("党组织书记", "居委会主任", "居委会副主任", "居委会委员", "社区工作者", "网格员")
POST_SHARES = (0.06, 0.06, 0.08, 0.15, 0.35, 0.30)


def assisted_persons(welfare: pd.DataFrame) -> np.ndarray:
    """The persons an active 低保 or 特困 entry pays (the 低保 applicant, the 特困 person)."""
    w = welfare
    return np.unique(w.loc[w["kind"].isin(["dibao", "tekun"]) & w["status"].eq("active"), "person"].to_numpy())


def plant_welfare_income(rng: np.random.Generator, persons: pd.DataFrame, orgs: pd.DataFrame,
                         insurance: pd.DataFrame, welfare: pd.DataFrame, prev: Prevalence) -> pd.DataFrame:
    """The insurance table with the planted high bases (and the rows of planted recipients not insured before)."""
    assisted = assisted_persons(welfare)
    age = years_since(persons["birth"].to_numpy())[assisted]
    alive = persons["death"].isna().to_numpy()[assisted]
    pool = assisted[(age >= 18) & (age < 60) & alive]
    planted = pool[rng.random(len(pool)) < prev.welfare_high_base_share]
    ins = insurance.copy()
    others = ins["person"].isin(assisted).to_numpy() & ~ins["person"].isin(planted).to_numpy()
    ins.loc[others, "base"] = ins.loc[others, "base"].clip(upper=LOW_BASE_CAP)
    high = np.round(rng.uniform(HIGH_BASE * 1.1, HIGH_BASE * 2.5, len(planted)), -1)
    base_of = pd.Series(high, index=planted)
    held = ins["person"].isin(planted).to_numpy()
    ins.loc[held, "base"] = base_of.reindex(ins.loc[held, "person"]).to_numpy()
    ins.loc[held, "status"] = "1"
    new = planted[~np.isin(planted, ins["person"].to_numpy())]
    real = np.flatnonzero(~orgs["org_type"].eq("virtual_unit").to_numpy())
    first = len(ins) + 1
    added = pd.DataFrame({
        "person": new,
        "org": real[rng.integers(0, len(real), len(new))],
        "status": "1",
        "pension": "0",
        "base": base_of.reindex(new).to_numpy(),
        "insured_no": [f"6501{k:010d}" for k in range(first, first + len(new))],
    })
    return pd.concat([ins, added], ignore_index=True)


def build_staff(rng: np.random.Generator, persons: pd.DataFrame, households: pd.DataFrame,
                welfare: pd.DataFrame, residents: int, prev: Prevalence) -> pd.DataFrame:
    """The staff roster: person, post, community (index) and the staff number, one row per staff member."""
    n_staff = max(5, round(residents * prev.staff_per_1000 / 1000))
    age = years_since(persons["birth"].to_numpy())
    alive = persons["death"].isna().to_numpy()
    inside = persons["in_district"].to_numpy()
    floating = persons["floating"].to_numpy()
    working = alive & (age >= 22) & (age < 60)
    w = welfare
    dibao = w[w["kind"].eq("dibao") & w["status"].eq("active")]
    dibao_households = persons["household"].to_numpy()[dibao["person"].to_numpy()]
    chosen_households = dibao_households[rng.random(len(dibao_households)) < prev.staff_relative_share]
    household = persons["household"].to_numpy()
    relative_pool = np.flatnonzero(alive & (age >= 20) & (age < 65) & inside & np.isin(household, chosen_households)
                                   & ~np.isin(np.arange(len(persons)), dibao["person"].to_numpy()))
    relatives = (pd.Series(relative_pool).groupby(household[relative_pool])
                 .apply(lambda g: g.iloc[rng.integers(0, len(g))]).to_numpy(dtype=np.int64)
                 if len(relative_pool) else np.zeros(0, dtype=np.int64))
    relatives = relatives[:n_staff]
    residents_pool = np.flatnonzero(working & inside & ~floating & ~np.isin(np.arange(len(persons)), relatives))
    outsiders_pool = np.flatnonzero(working & ~inside)
    n_rest = n_staff - len(relatives)
    n_out = min(len(outsiders_pool), round(n_rest * prev.staff_outsider_share))
    rest = np.concatenate([rng.choice(residents_pool, n_rest - n_out, replace=False),
                           rng.choice(outsiders_pool, n_out, replace=False)]).astype(np.int64)
    staff = np.concatenate([relatives, rest])
    staff = staff[rng.permutation(len(staff))]
    return pd.DataFrame({
        "person": staff,
        "post": np.array(POSTS, dtype=object)[rng.choice(len(POSTS), len(staff), p=POST_SHARES)],
        "staff_no": [f"SQ{k:05d}" for k in range(1, len(staff) + 1)],
    })


def plant_sham_employers(rng: np.random.Generator, orgs: pd.DataFrame, insurance: pd.DataFrame,
                         prev: Prevalence) -> pd.DataFrame:
    """Orgs with `registered` (False: no register holds the unit) and, for a share of those, a made-up credit
    code whose check character fails: units that insure employees without being registered (空壳/挂靠参保)."""
    orgs = orgs.copy()
    employers = np.unique(insurance["org"].to_numpy())
    business = orgs["org_type"].isin(["enterprise", "individual_business"]).to_numpy()
    pool = employers[business[employers]]
    sham = pool[rng.random(len(pool)) < prev.sham_employer_share]
    orgs["registered"] = ~np.isin(np.arange(len(orgs)), sham) & orgs["org_type"].ne("virtual_unit").to_numpy()
    made_up = sham[rng.random(len(sham)) < prev.sham_invalid_code_share]
    codes = orgs["credit_code"].to_numpy(dtype=object).copy()
    codes[made_up] = [c[:17] + _other_check(c[17], rng) for c in codes[made_up]]
    orgs["credit_code"] = codes
    return orgs


def _other_check(check: str, rng: np.random.Generator) -> str:
    """A check character other than the right one: the code no longer passes GB 32100's check."""
    alphabet = [c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != check]
    return alphabet[int(rng.integers(0, len(alphabet)))]
