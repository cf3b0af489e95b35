"""Households and the persons in them, drawn column-wise.

A household is a kind (single, couple, couple with children, three generations, …) and a size;
members are expanded with `np.repeat`, so every attribute is one vectorized draw over all
members. Families are consistent: children carry the father's surname (Han) or the father's own
name as their second part (Uyghur, Kazakh); twins share a birth date and get neighbouring ID
sequences; namesakes copy another resident's name and birth date but keep their own ID.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.demo.clock import SNAPSHOT
from hub.demo.config import Prevalence
from hub.demo.names import SEPARATOR, draw_given, draw_surnames, draw_translit, twin_given

HEAD, SPOUSE, SON, DAUGHTER, FATHER, MOTHER, OUTSIDER = range(7)
RELATION_NAMES = ("户主", "配偶", "子", "女", "父亲", "母亲", "")
RELATION_CODES = ("02", "10", "20", "30", "51", "52", "")
HAN, UYGHUR, KAZAKH, HUI, OTHER = range(5)
_OTHER_CODES = np.array(["02", "11", "38"])
#                 single, elder alone, couple, +kids, single parent, 3 generations, elder couple, +adult kids
_KIND_P = np.array([0.10, 0.09, 0.16, 0.36, 0.07, 0.10, 0.07, 0.05])
_HEAD_AGE = np.array([[20, 60], [60, 95], [22, 45], [27, 55], [27, 55], [30, 55], [60, 90], [45, 70]])
_HEAD_MALE_P = np.array([0.55, 0.35, 0.85, 0.85, 0.2, 0.85, 0.85, 0.85])


@dataclass
class Households:
    kind: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    spouse: npt.NDArray[np.int64]  # 0 or 1
    kids: npt.NDArray[np.int64]
    elders: npt.NDArray[np.int64]
    size: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]  # index of the head among all members


def _draw_households(rng: np.random.Generator, residents: int, prev: Prevalence) -> Households:
    n = residents // 2 + 20
    kind = rng.choice(len(_KIND_P), n, p=_KIND_P / _KIND_P.sum())
    group = rng.choice(5, n, p=np.array(prev.ethnic_shares) / sum(prev.ethnic_shares))
    spouse = np.isin(kind, [2, 3, 5, 6, 7]).astype(np.int64)
    kids = np.where(np.isin(kind, [3, 4, 5]), rng.choice([1, 2, 3], n, p=[0.5, 0.38, 0.12]), 0)
    kids = np.where(kind == 7, rng.choice([1, 2], n, p=[0.7, 0.3]), kids)
    kids = kids + ((kids > 0) & np.isin(group, [UYGHUR, KAZAKH]) & (rng.random(n) < 0.3))
    elders = np.where(kind == 5, rng.choice([1, 2], n, p=[0.6, 0.4]), 0)
    size = 1 + spouse + kids + elders
    keep = int(np.searchsorted(np.cumsum(size), residents) + 1)
    kind, group, spouse, kids, elders, size = (a[:keep].copy() for a in (kind, group, spouse, kids, elders, size))
    excess = int(size.sum() - residents)  # the last household loses its last members
    for part in (elders, kids, spouse):
        cut = min(excess, int(part[-1]))
        part[-1] -= cut
        excess -= cut
    size = 1 + spouse + kids + elders
    return Households(kind, group, spouse, kids, elders, size, np.cumsum(size) - size)


def _roles(
    hh: Households, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Per member: household index, relation code, male flag. Order: head, spouse, children, elders."""
    member_hh = np.repeat(np.arange(len(hh.size)), hh.size)
    rank = np.arange(hh.size.sum()) - hh.start[member_hh]
    spouse_rank = np.where(hh.spouse[member_hh] == 1, 1, -1)
    first_kid = (1 + hh.spouse)[member_hh]
    first_elder = (1 + hh.spouse + hh.kids)[member_hh]
    head_male = rng.random(len(hh.size)) < _HEAD_MALE_P[hh.kind]
    relation = np.full(len(rank), HEAD)
    relation[rank == spouse_rank] = SPOUSE
    is_kid = (rank >= first_kid) & (rank < first_elder)
    is_elder = rank >= first_elder
    kid_male = rng.random(len(rank)) < 0.51
    two_elders = hh.elders[member_hh] == 2
    elder_male = np.where(two_elders, rank == first_elder, rng.random(len(rank)) < 0.4)
    male = np.select(
        [rank == 0, relation == SPOUSE, is_kid, is_elder],
        [head_male[member_hh], ~head_male[member_hh], kid_male, elder_male],
        False,
    )
    relation[is_kid] = np.where(kid_male[is_kid], SON, DAUGHTER)
    relation[is_elder] = np.where(elder_male[is_elder], FATHER, MOTHER)
    return member_hh, relation, male.astype(bool)


def _ages(
    rng: np.random.Generator,
    hh: Households,
    member_hh: npt.NDArray[np.int64],
    relation: npt.NDArray[np.int64],
    male: npt.NDArray[np.bool_],
) -> npt.NDArray[np.float64]:
    lo, hi = _HEAD_AGE[hh.kind, 0], _HEAD_AGE[hh.kind, 1]
    head_age = lo + rng.random(len(lo)) * (hi - lo)
    ref = head_age[member_hh]
    n = len(member_hh)
    age = ref.copy()
    spouse = relation == SPOUSE
    gap = np.abs(rng.normal(2.5, 2.0, n))
    age[spouse] = np.clip(ref[spouse] + np.where(male[spouse], gap[spouse], -gap[spouse]), 19 + 3 * gap[spouse] / 8, 98)
    kid = (relation == SON) | (relation == DAUGHTER)
    adult_kids = (hh.kind == 7)[member_hh]
    u = rng.random(n)
    minor_top = np.clip(ref - 20, 0.2, 17.9)
    adult_top = np.maximum(ref - 20, 18.5)
    kid_age = np.where(adult_kids, 18 + u * (adult_top - 18), 0.05 + u * (minor_top - 0.05))
    age[kid] = kid_age[kid]
    elder = (relation == FATHER) | (relation == MOTHER)
    age[elder] = np.clip(ref[elder] + rng.uniform(22, 34, n)[elder], 50, 99)
    return age


def draw_members(rng: np.random.Generator, residents: int, prev: Prevalence) -> tuple[Households, pd.DataFrame]:
    """Households and their members with relation, sex, birth date, ethnicity and names."""
    hh = _draw_households(rng, residents, prev)
    member_hh, relation, male = _roles(hh, rng)
    age = _ages(rng, hh, member_hh, relation, male)
    birth = SNAPSHOT - (age * 365.25).astype(np.int64).astype("timedelta64[D]")
    twins = _twins(rng, hh, member_hh, relation, birth, prev)
    group = hh.group[member_hh]
    ethnicity = np.select(
        [group == HAN, group == UYGHUR, group == KAZAKH, group == HUI],
        ["01", "05", "17", "03"],
        _OTHER_CODES[rng.integers(0, 3, len(group))],
    )
    persons = pd.DataFrame(
        {
            "household": member_hh,
            "relation": relation,
            "male": male,
            "birth": birth,
            "group": group,
            "ethnicity": ethnicity,
            "twin_of": twins,
        }
    )
    _name_members(rng, hh, persons, prev)
    return hh, persons


def _twins(
    rng: np.random.Generator,
    hh: Households,
    member_hh: npt.NDArray[np.int64],
    relation: npt.NDArray[np.int64],
    birth: npt.NDArray[np.datetime64],
    prev: Prevalence,
) -> npt.NDArray[np.int64]:
    """The second child of some households shares the first one's birth date; returns twin_of index."""
    twin_of = np.full(len(member_hh), -1)
    first_kid = hh.start + 1 + hh.spouse
    chosen = (hh.kids >= 2) & (rng.random(len(hh.kids)) < prev.twin_share)
    a = first_kid[chosen]
    b = a + 1
    birth[b] = birth[a]
    twin_of[b] = a
    return twin_of


def _name_members(rng: np.random.Generator, hh: Households, p: pd.DataFrame, prev: Prevalence) -> None:
    n = len(p)
    male = p["male"].to_numpy()
    rel = p["relation"].to_numpy()
    hhx = p["household"].to_numpy()
    group = p["group"].to_numpy()
    head = hh.start[hhx]
    has_spouse = hh.spouse[hhx] == 1
    head_male = male[head]
    father = np.where(head_male, head, np.where(has_spouse, head + 1, -1))  # male adult of the family
    elder_at = hh.start + 1 + hh.spouse + hh.kids
    elder_father = np.where((hh.elders > 0) & (rel[np.minimum(elder_at, n - 1)] == FATHER), elder_at, -1)
    kids = (rel == SON) | (rel == DAUGHTER)

    # Han-style names (Han, Hui, others): surname of the family line, own given names
    family = draw_surnames(rng, len(hh.size), hui=hh.group == HUI)
    own = draw_surnames(rng, n, hui=group == HUI)
    surname = own.copy()
    line = (rel == HEAD) & (head_male | ~has_spouse) | (rel == SPOUSE) & male | kids
    surname[line] = family[hhx[line]]
    surname[rel == FATHER] = surname[head[rel == FATHER]]
    given = draw_given(rng, male)
    twin_of = p["twin_of"].to_numpy()
    tw = np.flatnonzero(twin_of >= 0)
    if len(tw):
        given[tw] = twin_given(rng, given[twin_of[tw]], male[tw])

    # transliterated names: own name · father's own name
    translit = np.isin(group, [UYGHUR, KAZAKH])
    kazakh = group == KAZAKH
    own_name = np.full(n, "", dtype=object)
    own_name[translit] = draw_translit(rng, male[translit], kazakh[translit])
    random_father = np.full(n, "", dtype=object)
    random_father[translit] = draw_translit(rng, np.ones(translit.sum(), bool), kazakh[translit])
    father_part = random_father.copy()
    head_rows = translit & (rel == HEAD) & (elder_father[hhx] >= 0)
    father_part[head_rows] = own_name[elder_father[hhx[head_rows]]]
    kid_rows = translit & kids & (father >= 0)
    father_part[kid_rows] = own_name[father[kid_rows]]
    grandson = kid_rows & male & (rng.random(n) < prev.grandfather_name_share)
    own_name[grandson] = father_part[father[grandson]]

    p["surname"] = np.where(translit, "", surname)
    p["given"] = np.where(translit, own_name, given)
    p["father_part"] = np.where(translit, father_part, "")
    p["name"] = np.where(translit, own_name + SEPARATOR + father_part, surname + given)
