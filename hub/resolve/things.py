"""Houses, organizations and vehicles: the same engine with their own keys and comparisons.

- a house is its (estate, building, unit, room); the estate's name varies (小区 added or dropped,
  another spelling), the numbers are normalized as the address normalizer writes them;
- an organization is its unified social credit code when it has one (an old 9-character
  organization code is positions 9–17 of it), else its name: region, brackets and company form
  aside (hub.normalize.org_keys), and only when no two companies with different codes share it;
- a vehicle is its plate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.normalize.org_keys import credit_code_keys, org_name_keys
from hub.resolve.compare import (
    ELSE,
    NULL,
    Comparison,
    Condition,
    Level,
    Mask,
    Prepared,
    Rows,
    both_present,
    edits_at_most,
    equal,
    jaro_winkler_at_least,
    present,
)
from hub.resolve.features import house_parts, joined, on_distinct, text
from hub.resolve.keys import BlockingRule, column_keys, sorted_unique
from hub.resolve.spec import EntitySpec, Guards, LevelMatrix, level_of


def house_features(frame: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame({"record_key": frame["record_key"].astype(str), "source": text(frame, "source")})
    parts = house_parts(frame)
    f = pd.concat([f, parts], axis=1)
    f["house"] = joined(parts, ["estate", "building", "unit", "room"])
    f["bur"] = joined(parts, ["building", "unit", "room"])
    f["estateless_bur"] = f["bur"].where(f["estate"].isna(), None)
    return f


def _exact(column: str, what: str) -> Comparison:
    return Comparison(column, present(column), [NULL, Level("exact", equal(column), f"the same {what}"), ELSE],
                      f"{what.capitalize()}.")


HOUSE_COMPARISONS = (
    Comparison("estate", present("estate"), [
        NULL,
        Level("exact", equal("estate"), "the same estate name (小区 dropped)"),
        Level("similar", jaro_winkler_at_least("estate", 0.9), "estate names Jaro-Winkler ≥ 0.9"),
        ELSE,
    ], "Estate (小区) name."),
    _exact("building", "building number"),
    _exact("unit", "unit number"),
    _exact("room", "room number"),
)


def _all_exact(comparisons: tuple[Comparison, ...]) -> Callable[[LevelMatrix], npt.NDArray[np.bool_]]:
    def seed(levels: LevelMatrix) -> npt.NDArray[np.bool_]:
        out = np.ones(len(levels), dtype=bool)
        for c in comparisons:
            out &= level_of(levels, comparisons, c.name, "exact")
        return out

    return seed


HOUSES = EntitySpec(
    entity_type="house",
    features=house_features,
    rules=(BlockingRule("house", column_keys("house"), cap=100),
           BlockingRule("estateless", column_keys("bur"), probe=column_keys("estateless_bur"), cap=50)),
    comparisons=HOUSE_COMPARISONS,
    seed_rule=_all_exact(HOUSE_COMPARISONS),
    # a house without its estate's name fits the same building/unit/room of every estate: review only
    guards=Guards(requires={("estate", "null"): ()}),
    upper=6.0,
    lower=0.0,
)


def organization_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes as checked keys (hub.normalize.org_keys) and names as region-free, one-form keys."""
    f = pd.DataFrame({"record_key": frame["record_key"].astype(str), "source": text(frame, "source")})
    f = pd.concat([f, on_distinct(text(frame, "credit_code"), credit_code_keys)], axis=1)
    f["name"] = text(frame, "name")
    f = pd.concat([f, on_distinct(f["name"], org_name_keys)], axis=1)
    f["address"] = text(frame, "address")
    return f


def _held_by_several(data: Prepared, column: str, code: str) -> npt.NDArray[np.bool_]:
    """Per distinct value of `column` (indexed by its code in `data`): do records with two or more
    different `code`s hold it? Counted over every live record when `data` holds only some."""
    if data.population is None:
        values, codes = data.code(column).astype(np.int64), data.code(code).astype(np.int64)
        n_values = len(data.categories(column))
    else:
        values, distinct = pd.factorize(data.population[column].to_numpy(dtype=object), use_na_sentinel=True)
        codes = pd.factorize(data.population[code].to_numpy(dtype=object), use_na_sentinel=True)[0]
        values, codes, n_values = values.astype(np.int64), codes.astype(np.int64), len(distinct)
    coded = (values >= 0) & (codes >= 0)
    width = np.int64(int(codes.max(initial=0)) + 1)
    held = sorted_unique(values[coded] * width + codes[coded])   # distinct (value, code) pairs
    several = np.bincount(held // width, minlength=n_values) >= 2
    if data.population is None:
        return several
    at = pd.Index(np.asarray(distinct, dtype=object)).get_indexer(data.categories(column))
    return np.where(at >= 0, several[np.maximum(at, 0)], False)


def shared_by_namesakes(name: str, key: str, code: str) -> Condition:
    """The most specific name two records agree on is held by companies with different `code`s.

    Two records with the same `name` are judged on that name (新疆快讯装饰股份有限公司 may belong to one
    company while 快讯装饰有限公司 keys two); records whose names differ but share the `key` are judged on
    the key. Counted over the records compared, so a record without a code never picks one namesake.
    """

    def condition(data: Prepared, a: Rows, b: Rows, undecided: Mask) -> Mask:
        names, keys = data.code(name), data.code(key)
        same_name = (names[a] == names[b]) & (names[a] >= 0)
        same_key = (keys[a] == keys[b]) & (keys[a] >= 0)
        name_shared = _held_by_several(data, name, code)[np.maximum(names[a], 0)]
        key_shared = _held_by_several(data, key, code)[np.maximum(keys[a], 0)]
        return (same_name & name_shared) | (~same_name & same_key & key_shared)

    return condition


ORG_COMPARISONS = (
    Comparison("credit_code", present("org_code"), [
        NULL,
        Level("exact", equal("credit_code"), "the same unified social credit code"),
        Level("org_code", equal("org_code"), "the same 9-character organization code (an old record)"),
        Level("different_valid", both_present("org_code"), "two different valid codes"),
        ELSE,
    ], "Unified social credit code (GB 32100), linking to old organization codes (GB 11714)."),
    Comparison("name", present("name"), [
        NULL,
        Level("shared", shared_by_namesakes("name", "name_key", "org_code"),
              "the same name (or name key), held by companies with different codes: never guessed"),
        Level("exact", equal("name"), "the same normalized name"),
        Level("key", equal("name_key"), "the same name without region, brackets or form (有限公司 / 有限责任公司 / "
              "股份有限公司)"),
        Level("branch", equal("name_head"), "the same company, but another branch (分公司) or the head office"),
        Level("similar", jaro_winkler_at_least("name_key", 0.9), "name keys Jaro-Winkler ≥ 0.9"),
        ELSE,
    ], "Organization name."),
    _exact("address", "normalized address"),
)

ORGANIZATIONS = EntitySpec(
    entity_type="organization",
    features=organization_features,
    rules=(BlockingRule("credit_code", column_keys("credit_code"), star=True),
           BlockingRule("org_code", column_keys("org_code"), star=True),
           BlockingRule("name", column_keys("name"), star=True),
           BlockingRule("name_key", column_keys("name_key"), star=True)),
    comparisons=ORG_COMPARISONS,
    seed_rule=lambda levels: level_of(levels, ORG_COMPARISONS, "credit_code", "exact")
    | (level_of(levels, ORG_COMPARISONS, "name", "exact") & level_of(levels, ORG_COMPARISONS, "address", "exact")),
    # an organization code is one organization: two never share a cluster; a name shared by namesakes
    # links only with a code agreeing; a branch and its head office are never merged automatically
    guards=Guards(unique_column="org_code", requires={
        ("name", "shared"): (("credit_code", "exact"), ("credit_code", "org_code")),
        ("name", "branch"): (),
    }),
    fixed_m={("credit_code", "different_valid"): 1e-4},
    population_columns=("name", "name_key", "org_code"),
    prior_weights={
        ("credit_code", "exact"): 12.0, ("credit_code", "org_code"): 10.0,
        ("name", "shared"): -3.0, ("name", "exact"): 9.0, ("name", "key"): 8.0, ("name", "branch"): -8.0,
        ("name", "similar"): 2.0, ("name", "else"): -4.0,
        ("address", "exact"): 2.0, ("address", "else"): -1.0,
    },
    upper=6.0,
    lower=0.0,
)


def vehicle_features(frame: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame({"record_key": frame["record_key"].astype(str), "source": text(frame, "source")})
    f["plate"] = text(frame, "plate_no")
    f["plate_tail"] = f["plate"].str.slice(1)
    return f


VEHICLE_COMPARISONS = (
    Comparison("plate", present("plate"), [
        NULL,
        Level("exact", equal("plate"), "the same plate"),
        Level("one_edit", edits_at_most("plate", 1), "one character apart (a misread 0/D, 8/B)"),
        ELSE,
    ], "Licence plate."),
)

VEHICLES = EntitySpec(
    entity_type="thing",
    features=vehicle_features,
    rules=(BlockingRule("plate", column_keys("plate"), cap=50),
           BlockingRule("plate_tail", column_keys("plate_tail"), cap=50)),
    comparisons=VEHICLE_COMPARISONS,
    seed_rule=lambda levels: level_of(levels, VEHICLE_COMPARISONS, "plate", "exact"),
    upper=6.0,
    lower=0.0,
)
