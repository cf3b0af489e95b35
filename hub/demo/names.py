"""Names of residents: Han names by surname frequency, Uyghur and Kazakh names as own·father's name.

Drawing is column-wise (numpy choices over small pools); assembling a name is a vectorized string
concatenation. Transliterated names are stored in two parts (own name, father's name) because
families pass them on: children carry their father's own name as their second part, and a son named
after his grandfather carries his father's name reversed (达吾提·买合买提 of 买合买提·达吾提).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import numpy.typing as npt

from hub.demo.reference import reference, surname_table

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
SEPARATOR = "\u00b7"
TWO_CHAR_GIVEN = 0.72


def draw_surnames(rng: np.random.Generator, n: int, hui: BoolArray | None = None) -> ObjArray:
    """Surnames by frequency; among Hui families 马 is far commoner (about 45 %)."""
    names, probs = surname_table()
    out = np.array(names, dtype=object)[rng.choice(len(names), n, p=probs)]
    if hui is not None:
        out[hui & (rng.random(n) < 0.45)] = "马"
    return out


def draw_given(rng: np.random.Generator, male: BoolArray) -> ObjArray:
    """Given names of one or two characters from sex-typical character pools."""
    ref = reference()
    pools = {True: np.array(ref["given_male"], dtype=object), False: np.array(ref["given_female"], dtype=object)}
    n = len(male)
    out = np.empty(n, dtype=object)
    for sex, pool in pools.items():
        idx = np.flatnonzero(male == sex)
        first = pool[rng.integers(0, len(pool), len(idx))]
        second = pool[rng.integers(0, len(pool), len(idx))]
        two = rng.random(len(idx)) < TWO_CHAR_GIVEN
        out[idx] = np.where(two, first + second, first)
    return out


def twin_given(rng: np.random.Generator, sibling_given: ObjArray, male: BoolArray) -> ObjArray:
    """A twin's given name: the sibling's first character and another second one (思雨 / 思雪)."""
    ref = reference()
    out = np.empty(len(sibling_given), dtype=object)
    for i, (given, is_male) in enumerate(zip(sibling_given, male, strict=True)):
        pool: list[str] = ref["given_male"] if is_male else ref["given_female"]
        choices = [c for c in pool if c != given[-1] and c != given[0]]
        out[i] = given[0] + choices[int(rng.integers(0, len(choices)))]
    return out


@cache
def _spellings(pool_name: str) -> tuple[str, ...]:
    """A pool name and its other accepted spellings (first the pool's own form)."""
    found = [g for g in reference()["translit_variants"] if g[0] in pool_name]
    forms = [pool_name]
    for group in found[:1]:
        forms.extend(pool_name.replace(group[0], alt) for alt in group[1:])
    return tuple(forms)


def draw_translit(rng: np.random.Generator, male: BoolArray, kazakh: BoolArray) -> ObjArray:
    """Own names of Uyghur (or Kazakh) persons, each in one of its coexisting spellings (the old
    买买提 or the 2002 rule's 麦麦提), so departments start from different but legitimate forms."""
    ref = reference()
    out = np.empty(len(male), dtype=object)
    for is_male in (True, False):
        for is_kazakh in (False, True):
            key = ("kazakh_" if is_kazakh else "uyghur_") + ("male" if is_male else "female")
            pool = ref[key]
            idx = np.flatnonzero((male == is_male) & (kazakh == is_kazakh))
            picks = rng.integers(0, len(pool), len(idx))
            respell = rng.random(len(idx))
            for j, (p, r) in enumerate(zip(picks, respell, strict=True)):
                forms = _spellings(pool[p])
                out[idx[j]] = forms[0] if r < 0.6 or len(forms) == 1 else forms[1 + int(r * 1000) % (len(forms) - 1)]
    return out


@cache
def _variant_pattern() -> re.Pattern[str]:
    members = sorted({m for g in reference()["translit_variants"] for m in g}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, members)))


@cache
def _group_of() -> dict[str, tuple[str, ...]]:
    return {m: tuple(g) for g in reference()["translit_variants"] for m in g}


def respell(name: str, rng: np.random.Generator) -> str:
    """Another spelling of one part of a transliterated name (阿不都 → 阿卜都), or the name unchanged."""
    matches = list(_variant_pattern().finditer(name))
    if not matches:
        return name
    m = matches[int(rng.integers(0, len(matches)))]
    others = [x for x in _group_of()[m.group()] if x != m.group()]
    return name[: m.start()] + others[int(rng.integers(0, len(others)))] + name[m.end() :]


def has_variant(names: ObjArray) -> BoolArray:
    pattern = _variant_pattern()
    return np.array([bool(pattern.search(n)) for n in names], dtype=bool)


@cache
def homophone_map() -> dict[str, tuple[str, ...]]:
    """Character → the other characters read the same way in reference.yaml's homophone groups."""
    return {c: tuple(x for x in g if x != c) for g in reference()["homophones"] for c in g}


def homophone_variant(name: str, rng: np.random.Generator, surname_len: int = 1) -> str:
    """One character replaced by a homophone, preferably in the given name (王伟 → 王玮)."""
    table = homophone_map()
    given_pos = [i for i in range(surname_len, len(name)) if name[i] in table]
    pos = given_pos or [i for i in range(min(surname_len, len(name))) if name[i] in table]
    if not pos:
        return name
    i = pos[int(rng.integers(0, len(pos)))]
    alts = table[name[i]]
    return name[:i] + alts[int(rng.integers(0, len(alts)))] + name[i + 1 :]
