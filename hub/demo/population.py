"""The district's population: members of households placed in houses, plus outsiders, with IDs,
phones, hukou and deaths.

Outsiders are people the departments know who do not live in the district (employees of local
firms, landlords, legal representatives): they appear in social insurance and property records
but never in the public-security register, as in real data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.clock import SNAPSHOT, years_since
from hub.demo.config import Prevalence
from hub.demo.geo import Geography
from hub.demo.idnumbers import make_rics
from hub.demo.names import SEPARATOR, draw_given, draw_surnames, draw_translit
from hub.demo.people import HAN, HUI, KAZAKH, OTHER, OUTSIDER, UYGHUR, draw_members
from hub.demo.reference import county_groups, reference

_REGISTERED_GROUPS = {
    HAN: (["local", "urumqi", "xinjiang_han"], [0.72, 0.14, 0.14]),
    HUI: (["local", "urumqi", "migrant_hui"], [0.7, 0.1, 0.2]),
    OTHER: (["local", "urumqi", "xinjiang_han"], [0.7, 0.15, 0.15]),
    UYGHUR: (["local", "urumqi", "xinjiang_south"], [0.65, 0.1, 0.25]),
    KAZAKH: (["local", "urumqi", "xinjiang_north"], [0.6, 0.1, 0.3]),
}
_FLOATING_GROUPS = {
    HAN: (["migrant_han", "xinjiang_han"], [0.8, 0.2]),
    HUI: (["migrant_hui", "xinjiang_han"], [0.8, 0.2]),
    OTHER: (["migrant_han", "xinjiang_han"], [0.5, 0.5]),
    UYGHUR: (["xinjiang_south", "urumqi"], [0.85, 0.15]),
    KAZAKH: (["xinjiang_north", "urumqi"], [0.85, 0.15]),
}
_OUTSIDER_GROUPS = (["urumqi", "local", "xinjiang_han"], [0.6, 0.2, 0.2])


@dataclass
class Population:
    persons: pd.DataFrame  # one row per person; index = person index
    households: pd.DataFrame  # one row per household; index = household index


def _counties(
    rng: np.random.Generator, groups: npt.NDArray[np.object_], births: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.str_]:
    """A county code per person from its group, among codes in use when the number was assigned."""
    table = county_groups()
    assigned = np.maximum(births.astype("datetime64[Y]").astype(int) + 1970, 1985)
    out = np.empty(len(groups), dtype="<U6")
    for name, rows in table.items():
        idx = np.flatnonzero(groups == name)
        if not len(idx):
            continue
        codes = np.array([r[0] for r in rows])
        first = np.array([r[1] for r in rows])
        last = np.array([r[2] for r in rows])
        weight = np.array([r[3] for r in rows])
        year = assigned[idx, None]
        w = np.where((year >= first) & (year <= last), weight, 0.0)
        cum = np.cumsum(w, axis=1)
        pick = (cum < rng.random(len(idx))[:, None] * cum[:, -1:]).sum(axis=1)
        out[idx] = codes[pick]
    return out


def _pick_groups(rng: np.random.Generator, options: tuple[list[str], list[float]], n: int) -> npt.NDArray[np.object_]:
    names, probs = options
    return np.array(names, dtype=object)[rng.choice(len(names), n, p=probs)]


def assign_ids(rng: np.random.Generator, p: pd.DataFrame, group_of_person: npt.NDArray[np.object_]) -> None:
    """Resident IDs, unique, twins with neighbouring sequences (same parity for the same sex)."""
    births = p["birth"].to_numpy()
    county = _counties(rng, group_of_person, births)
    male = p["male"].to_numpy()
    seq = rng.integers(0, 500, len(p)) * 2 + male
    twin_of = p["twin_of"].to_numpy() if "twin_of" in p else np.full(len(p), -1)
    tw = np.flatnonzero(twin_of >= 0)
    county[tw] = county[twin_of[tw]]
    seq[tw] = (seq[twin_of[tw]] // 2 * 2 + 2 + male[tw]) % 1000
    ids = make_rics(county, births, seq)
    for _ in range(50):
        dup = pd.Series(ids).str[:17].duplicated().to_numpy()
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, dup.sum()) * 2 + male[dup]
        ids[dup] = make_rics(county[dup], births[dup], seq[dup])
    p["county"] = county
    p["resident_id"] = ids.astype(object)


def draw_phones(rng: np.random.Generator, n: int) -> npt.NDArray[np.object_]:
    """Distinct mobile numbers with real carrier prefixes."""
    prefixes = np.array(reference()["mobile_prefixes"], dtype=object)
    numbers = rng.integers(0, 10**8, n)
    for _ in range(50):
        dup = pd.Series(numbers).duplicated().to_numpy()
        if not dup.any():
            break
        numbers[dup] = rng.integers(0, 10**8, dup.sum())
    pre = prefixes[rng.integers(0, len(prefixes), n)]
    return pre + np.char.zfill(numbers.astype(str), 8).astype(object)


def _namesakes(rng: np.random.Generator, p: pd.DataFrame, share: float) -> None:
    """Some residents get the name and birth date of another resident of the same sex and naming
    custom, in another household; only those whose name nobody inherits (spouses, heads without
    children) are renamed, so families stay consistent."""
    n_pairs = round(share * len(p))
    adult = p["birth"].to_numpy() < SNAPSHOT - np.timedelta64(18 * 365, "D")
    rel = p["relation"].to_numpy()
    free = adult & ((rel == 1) | ((rel == 0) & ~p["has_dependants"].to_numpy()))
    target = rng.choice(np.flatnonzero(free), min(n_pairs, int(free.sum())), replace=False)
    kind = p["male"].to_numpy().astype(np.int64) * 2 + p["naming"].to_numpy()
    source = np.full(len(target), -1)
    for k in np.unique(kind[target]):
        pool = np.flatnonzero(adult & (kind == k))
        mine = np.flatnonzero(kind[target] == k)
        source[mine] = pool[rng.integers(0, len(pool), len(mine))]
    hh = p["household"].to_numpy()
    keep = (source >= 0) & (hh[np.maximum(source, 0)] != hh[target])
    target, source = target[keep], source[keep]
    for col in ("surname", "given", "father_part", "name", "birth"):
        values = p[col].to_numpy().copy()
        values[target] = values[source]
        p[col] = values
    namesake_of = np.full(len(p), -1)
    namesake_of[target] = source
    p["namesake_of"] = namesake_of


def _outsiders(rng: np.random.Generator, n: int) -> pd.DataFrame:
    group = rng.choice([HAN, UYGHUR, KAZAKH], n, p=[0.85, 0.1, 0.05])
    male = rng.random(n) < 0.55
    age = rng.uniform(22, 66, n)
    translit = group != HAN
    surname = draw_surnames(rng, n)
    given = draw_given(rng, male)
    own = np.full(n, "", dtype=object)
    father = np.full(n, "", dtype=object)
    own[translit] = draw_translit(rng, male[translit], group[translit] == KAZAKH)
    father[translit] = draw_translit(rng, np.ones(translit.sum(), bool), group[translit] == KAZAKH)
    return pd.DataFrame(
        {
            "household": -1,
            "relation": OUTSIDER,
            "male": male,
            "birth": SNAPSHOT - (age * 365.25).astype(np.int64).astype("timedelta64[D]"),
            "group": group,
            "ethnicity": np.select([group == UYGHUR, group == KAZAKH], ["05", "17"], "01"),
            "twin_of": -1,
            "surname": np.where(translit, "", surname),
            "given": np.where(translit, own, given),
            "father_part": father,
            "name": np.where(translit, own + SEPARATOR + father, surname + given),
        }
    )


def build_population(
    rng: np.random.Generator, residents: int, geo_builder: object, prev: Prevalence
) -> tuple[Population, Geography]:
    """All persons and households; `geo_builder(rng, households)` builds the places they live in."""
    hh, members = draw_members(rng, residents, prev)
    n_hh = len(hh.size)
    geo: Geography = geo_builder(rng, n_hh)  # type: ignore[operator]
    n_houses = len(geo.houses)
    floating = rng.random(n_hh) < prev.floating_share
    house = rng.choice(n_houses, n_hh, replace=False)
    separated = ~floating & (rng.random(n_hh) < prev.separated_hukou_share)
    hukou_house = np.where(floating, -1, np.where(separated, rng.integers(0, n_houses, n_hh), house))
    household_no = np.where(floating, "", np.char.zfill(rng.choice(10**8, n_hh, replace=False).astype(str), 9))
    landline = np.where(
        rng.random(n_hh) < 0.15,
        "0991-"
        + np.char.add(rng.integers(2, 9, n_hh).astype(str), np.char.zfill(rng.integers(0, 10**6, n_hh).astype(str), 6)),
        "",
    )
    households = pd.DataFrame(
        {
            "kind": hh.kind,
            "group": hh.group,
            "size": hh.size,
            "head": hh.start,
            "house": house,
            "hukou_house": hukou_house,
            "floating": floating,
            "household_no": household_no.astype(object),
            "landline": landline.astype(object),
        }
    )
    members["has_dependants"] = (hh.kids > 0)[members["household"].to_numpy()]
    members["naming"] = np.isin(members["group"].to_numpy(), [UYGHUR, KAZAKH]).astype(np.int8)
    _namesakes(rng, members, prev.namesake_share)

    outsiders = _outsiders(rng, round(prev.outsider_share * residents))
    outsiders["naming"] = np.isin(outsiders["group"].to_numpy(), [UYGHUR, KAZAKH]).astype(np.int8)
    outsiders["namesake_of"] = -1
    persons = pd.concat([members.drop(columns="has_dependants"), outsiders], ignore_index=True)
    persons["in_district"] = persons["household"].to_numpy() >= 0
    hhx = persons["household"].to_numpy()
    inside = hhx >= 0
    groups = np.empty(len(persons), dtype=object)
    fl = np.zeros(len(persons), bool)
    fl[inside] = floating[hhx[inside]]
    for g in (HAN, HUI, OTHER, UYGHUR, KAZAKH):
        for is_floating, table in ((False, _REGISTERED_GROUPS), (True, _FLOATING_GROUPS)):
            idx = np.flatnonzero(inside & (persons["group"].to_numpy() == g) & (fl == is_floating))
            groups[idx] = _pick_groups(rng, table[g], len(idx))
    kids = inside & ~fl & np.isin(persons["relation"].to_numpy(), [2, 3]) & (rng.random(len(persons)) < 0.85)
    groups[kids] = "local"
    groups[~inside] = _pick_groups(rng, _OUTSIDER_GROUPS, int((~inside).sum()))
    assign_ids(rng, persons, groups)
    _place_and_reach(rng, persons, households)
    return Population(persons, households), geo


def _place_and_reach(rng: np.random.Generator, p: pd.DataFrame, households: pd.DataFrame) -> None:
    """Houses, population type, phones (own and the one departments reach them by) and deaths."""
    n = len(p)
    hhx = p["household"].to_numpy()
    inside = hhx >= 0
    safe = np.where(inside, hhx, 0)
    p["floating"] = inside & households["floating"].to_numpy()[safe]
    p["house"] = np.where(inside, households["house"].to_numpy()[safe], -1)
    p["hukou_house"] = np.where(inside, households["hukou_house"].to_numpy()[safe], -1)
    p["household_no"] = np.where(inside, households["household_no"].to_numpy()[safe], "")
    age = years_since(p["birth"].to_numpy())
    has_mobile = (age >= 15) & (rng.random(n) < np.where(age >= 75, 0.6, np.where(inside, 0.93, 0.97)))
    phone = np.where(has_mobile, draw_phones(rng, n), "")
    p["phone"] = phone
    head = np.where(inside, households["head"].to_numpy()[safe], 0)
    landline = np.where(inside, households["landline"].to_numpy()[safe], "")
    proxy = np.where(
        phone[head] != "",
        phone[head],
        np.where(phone[np.minimum(head + 1, n - 1)] != "", phone[np.minimum(head + 1, n - 1)], landline),
    )
    p["contact_phone"] = np.where(phone != "", phone, np.where(inside, proxy, ""))
    death_p = np.select([age >= 80, age >= 70, age >= 50], [0.12, 0.04, 0.01], 0.001)
    dies = inside & (rng.random(n) < death_p)
    days_ago = rng.integers(0, 1000, n)
    death = SNAPSHOT - days_ago.astype("timedelta64[D]")
    p["death"] = np.where(dies & (death > p["birth"].to_numpy()), death, np.datetime64("NaT"))
    p["person_id"] = [f"P{i:07d}" for i in range(1, n + 1)]
