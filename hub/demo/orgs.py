"""Organizations of the district and who works for, represents or is insured through them.

Enterprises and individual businesses carry GB 32100 credit codes registered by market regulation
(9…), social organizations those of civil affairs (5…); both embed a valid GB 11714 organization
code, so pre-2015 records that quote only the 9-character code can be linked. Social insurance
also keeps two virtual units (flexible employment, retirees) that have no credit code.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from faker.providers.company.zh_CN import Provider as FakerCompany

from hub.demo.clock import years_since
from hub.demo.config import Prevalence
from hub.demo.idnumbers import USCC_ALPHABET, make_uscc
from hub.demo.reference import reference

VIRTUAL_UNITS = ("天山区灵活就业人员", "天山区退休人员社会化管理服务中心")
TRADE_SUFFIXES = ("鑫", "恒", "盛", "华", "泰", "源", "达", "隆", "兴", "瑞",
                  "丰", "福", "昌", "祥", "嘉", "宏", "安", "德", "顺", "通")
"""Second syllables for trade names once region × trade name × industry × form (≈20,000 names) runs
out, which happens above ~800,000 residents: "超艺" gives "超艺鑫", "超艺恒", … Smaller districts
never use them, so their output is unchanged."""


def ages(persons: pd.DataFrame) -> npt.NDArray[np.float64]:
    return years_since(persons["birth"].to_numpy())


def _bodies(rng: np.random.Generator, n: int, social: bool) -> list[str]:
    """Distinct 8-character organization code bodies: new-style MA…/MJ… or old all-digit codes."""
    letters = np.array(list(USCC_ALPHABET[:10]))
    out: set[str] = set()
    result: list[str] = []
    while len(result) < n:
        new_style = rng.random() < 0.6
        head = ("MJ" if social else "MA") if new_style else str(rng.integers(10, 99))
        body = head + "".join(letters[rng.integers(0, 10, 6)])
        if body not in out:
            out.add(body)
            result.append(body)
    return result


def _street_address(rng: np.random.Generator, n: int) -> npt.NDArray[np.object_]:
    ref = reference()
    d = ref["district"]
    roads = np.array(ref["roads"], dtype=object)
    return (
        d["city"]
        + d["name"]
        + roads[rng.integers(0, len(roads), n)]
        + rng.integers(1, 500, n).astype(str).astype(object)
        + "号"
    )


def build_organizations(
    rng: np.random.Generator, persons: pd.DataFrame, residents: int, prev: Prevalence
) -> pd.DataFrame:
    ref = reference()
    n_ent = max(10, round(residents * prev.enterprises_per_1000 / 1000))
    n_soc = max(5, round(residents * prev.social_orgs_per_1000 / 1000))
    regions, prefixes, industries = (
        ["乌鲁木齐", "新疆", "乌鲁木齐市天山区"],
        FakerCompany.company_prefixes,
        ref["industries"],
    )
    forms = sorted(set(ref["org_forms"]))
    space = len(regions) * len(prefixes) * len(industries) * len(forms)
    rounds = -(-n_ent // space)   # one round per trade-name variant: plain, then one per suffix
    if rounds > 1 + len(TRADE_SUFFIXES):
        raise ValueError(f"{n_ent:,} enterprises exceed the {space * (1 + len(TRADE_SUFFIXES)):,} distinct names")
    picks = rng.choice(space * rounds, n_ent, replace=False)
    variant, picks = np.divmod(picks, space)
    r, rest = np.divmod(picks, len(prefixes) * len(industries) * len(forms))
    p, rest = np.divmod(rest, len(industries) * len(forms))
    i, f = np.divmod(rest, len(forms))
    trade = ("", *TRADE_SUFFIXES)
    ent_names = [regions[a] + prefixes[b] + trade[v] + industries[c] + forms[e]
                 for a, b, v, c, e in zip(r, p, variant, i, f, strict=True)]
    individual = np.array([forms[e] == "商行" for e in f])
    kinds: list[list[Any]] = ref["social_orgs"]
    words: list[str] = ref["social_org_words"]
    soc_space = [(k, t.format(word=w)) for k in range(len(kinds)) for t in kinds[k][2] for w in words]
    soc_pick = rng.choice(len(soc_space), min(n_soc, len(soc_space)), replace=False)
    n_soc = len(soc_pick)
    soc_kind = [soc_space[j][0] for j in soc_pick]
    n = n_ent + n_soc
    admin = np.where(rng.random(n) < 0.7, ref["district"]["code"], "650100")
    ent_bodies, soc_bodies = _bodies(rng, n_ent, False), _bodies(rng, n_soc, True)
    codes = [make_uscc("92" if individual[k] else "91", admin[k], ent_bodies[k]) for k in range(n_ent)]
    codes += [make_uscc(str(kinds[soc_kind[k]][1]), ref["district"]["code"], soc_bodies[k]) for k in range(n_soc)]
    age = ages(persons)
    alive = persons["death"].isna().to_numpy()
    reps_pool = np.flatnonzero((age >= 28) & (age <= 68) & alive)
    orgs = pd.DataFrame(
        {
            "name": ent_names + [soc_space[j][1] for j in soc_pick],
            "credit_code": codes,
            "org_type": ["individual_business" if x else "enterprise" for x in individual]
            + ["social_organization"] * n_soc,
            "org_kind_zh": ["个体工商户" if x else "企业" for x in individual] + [str(kinds[k][0]) for k in soc_kind],
            "legal_rep": rng.choice(reps_pool, n, replace=len(reps_pool) < n),
            "address": _street_address(rng, n),
            "registered_on": np.where(
                np.char.startswith(np.array(ent_bodies + soc_bodies), "M"),
                np.datetime64("2015-10-01") + rng.integers(0, 9 * 365, n).astype("timedelta64[D]"),
                np.datetime64("1993-01-01") + rng.integers(0, 22 * 365, n).astype("timedelta64[D]"),
            ),
            "supervisor": [""] * n_ent
            + [ref["supervisors"][k] for k in rng.integers(0, len(ref["supervisors"]), n_soc)],
        }
    )
    virtual = pd.DataFrame(
        {
            "name": list(VIRTUAL_UNITS),
            "credit_code": "",
            "org_type": "virtual_unit",
            "org_kind_zh": "虚拟单位",
            "legal_rep": -1,
            "address": _street_address(rng, 2),
            "registered_on": np.datetime64("2000-01-01"),
            "supervisor": "",
        }
    )
    orgs = pd.concat([orgs, virtual], ignore_index=True)
    orgs["org_id"] = [f"O{k:06d}" for k in range(1, len(orgs) + 1)]
    orgs["unit_no"] = [f"{ref['district']['code']}{k:05d}" for k in rng.permutation(len(orgs)) + 1]
    return orgs


def build_insurance(
    rng: np.random.Generator, persons: pd.DataFrame, orgs: pd.DataFrame, prev: Prevalence
) -> pd.DataFrame:
    """Insured persons with their unit: employees (residents and outsiders), flexible workers on the
    virtual unit, and pensioners on the retirees' unit. One row per insured person."""
    n = len(persons)
    age = ages(persons)
    alive = persons["death"].isna().to_numpy()
    inside = persons["in_district"].to_numpy()
    male = persons["male"].to_numpy()
    working_age = (age >= 18) & (age < 60)
    employed = alive & working_age & (rng.random(n) < np.where(inside, prev.employment_share, 0.95))
    real = np.flatnonzero(~orgs["org_type"].eq("virtual_unit").to_numpy())
    weight = 1.0 / np.arange(1, len(real) + 1) ** 0.9
    employer = np.full(n, -1)
    employer[employed] = real[rng.permutation(len(real))][
        rng.choice(len(real), employed.sum(), p=weight / weight.sum())
    ]
    flex_unit, retiree_unit = (int(orgs.index[orgs["name"] == u][0]) for u in VIRTUAL_UNITS)
    insured = employed & (rng.random(n) < prev.insured_share)
    flexible = alive & working_age & ~employed & inside & (rng.random(n) < 0.1)
    employer[flexible] = flex_unit
    retired = inside & (age >= np.where(male, 60, 55)) & (rng.random(n) < prev.pension_share)
    employer[retired] = retiree_unit
    rows = np.flatnonzero(insured | flexible | retired)
    status = rng.choice(["1", "2", "3"], len(rows), p=[0.92, 0.05, 0.03])
    pension = np.where(retired[rows], "1", "0")
    dead = ~alive[rows] & retired[rows]
    pension[dead] = rng.choice(["1", "2", "3"], int(dead.sum()), p=[0.3, 0.3, 0.4])  # '1': still paid after death
    base = np.round(rng.lognormal(np.log(6000), 0.4, len(rows)).clip(3500, 30000), -1)
    return pd.DataFrame(
        {
            "person": rows,
            "org": employer[rows],
            "status": np.where(retired[rows], "1", status),
            "pension": pension,
            "base": base,
            "insured_no": [f"6501{k:010d}" for k in rng.permutation(len(rows)) + 1],
        }
    )
