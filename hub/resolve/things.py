"""Houses, organizations and vehicles: the same engine with their own keys and comparisons.

- a house is its (estate, building, unit, room); the estate's name varies (小区 added or dropped,
  another spelling), the numbers are normalized as the address normalizer writes them;
- an organization is its unified social credit code when it has one (an old 9-character
  organization code is positions 9–17 of it), else its name and address;
- a vehicle is its plate.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.compare import (
    ELSE,
    NULL,
    Comparison,
    Level,
    both_present,
    edits_at_most,
    equal,
    jaro_winkler_at_least,
    present,
)
from hub.resolve.features import house_parts, joined, text
from hub.resolve.keys import BlockingRule, column_keys
from hub.resolve.spec import EntitySpec, Guards, LevelMatrix, level_of

_ORG_PREFIX = re.compile(r"^(?:新疆维吾尔自治区|新疆|乌鲁木齐市|乌鲁木齐|天山区)+")
_ORG_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|公司|商行|中心|协会|基金会)$")


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


def _org_core(name: str) -> tuple[str]:
    core = _ORG_SUFFIX.sub("", _ORG_PREFIX.sub("", name))
    return (core or name,)


def organization_features(frame: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame({"record_key": frame["record_key"].astype(str), "source": text(frame, "source")})
    code = text(frame, "credit_code")
    f["credit_code"] = code.where(code.str.len() == 18, None)
    f["org_code"] = code.str.slice(8, 17).where(code.str.len() == 18, code.str.replace("-", "", regex=False))
    f["name"] = text(frame, "name")
    f["name_core"] = f["name"].map(lambda v: _org_core(v)[0] if isinstance(v, str) else None)
    f["address"] = text(frame, "address")
    return f


ORG_COMPARISONS = (
    Comparison("credit_code", present("credit_code", "org_code"), [
        NULL,
        Level("exact", equal("credit_code"), "the same unified social credit code"),
        Level("org_code", equal("org_code"), "the same 9-character organization code (an old record)"),
        Level("different_valid", both_present("credit_code"), "two different credit codes"),
        ELSE,
    ], "Unified social credit code (GB 32100), linking to old organization codes (GB 11714)."),
    Comparison("name", present("name"), [
        NULL,
        Level("exact", equal("name"), "the same normalized name", "name"),
        Level("core", equal("name_core"), "the same name without place prefix and legal form (有限公司 …)"),
        Level("similar", jaro_winkler_at_least("name", 0.9), "Jaro-Winkler ≥ 0.9"),
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
           BlockingRule("name_core", column_keys("name_core"), star=True)),
    comparisons=ORG_COMPARISONS,
    seed_rule=lambda levels: level_of(levels, ORG_COMPARISONS, "credit_code", "exact")
    | (level_of(levels, ORG_COMPARISONS, "name", "exact") & level_of(levels, ORG_COMPARISONS, "address", "exact")),
    guards=Guards(unique_column="credit_code"),
    fixed_m={("credit_code", "different_valid"): 1e-4},
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
