"""Building blocks shared by the department exports: a clean per-person frame, written addresses,
hometown addresses of migrants, and the ground-truth rows of an export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
from stdnum import numdb

from hub.demo import variants as v
from hub.demo.reference import reference
from hub.demo.world import World

ObjArray = npt.NDArray[np.object_]


@dataclass
class SourceExport:
    """What one export wrote: where, how many records, and the truth about each record."""

    source: str
    location: str
    records: int
    truth: pd.DataFrame  # source, source_record_id, entity, entity_type, true_id, dirt, broken


def truth_rows(
    source: str,
    record_ids: ObjArray,
    links: dict[str, tuple[str, ObjArray]],
    dirt: ObjArray,
    broken: npt.NDArray[np.bool_],
) -> pd.DataFrame:
    """One row per (record, entity the record describes) whose true id is known."""
    parts = []
    for entity, (entity_type, ids) in links.items():
        known = np.array([isinstance(x, str) and x != "" for x in ids])
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "source_record_id": record_ids[known],
                    "entity": entity,
                    "entity_type": entity_type,
                    "true_id": ids[known],
                    "dirt": dirt[known],
                    "broken": broken[known],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def person_frame(world: World, persons: npt.NDArray[np.int64]) -> pd.DataFrame:
    """Clean facts of the given persons with the hidden columns the defects need."""
    p = world.persons
    birth = p["birth"].to_numpy()[persons]
    surname = p["surname"].to_numpy()[persons]
    return pd.DataFrame(
        {
            "name": p["name"].to_numpy()[persons],
            "resident_id": p["resident_id"].to_numpy()[persons],
            "male": p["male"].to_numpy()[persons],
            "ethnicity": p["ethnicity"].to_numpy()[persons],
            "birth": birth,
            "phone": p["contact_phone"].to_numpy()[persons],
            "own_phone": p["phone"].to_numpy()[persons],
            "_person": persons,
            "_person_id": p["person_id"].to_numpy()[persons],
            "_birth_year": birth.astype("datetime64[Y]").astype(int) + 1970,
            "_surname_len": np.array([len(s) for s in surname]),
        }
    )


def address_text(
    world: World, houses: npt.NDArray[np.int64], rng: np.random.Generator, *, variant: float, estate_missing: float
) -> tuple[ObjArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Free-text addresses of houses: canonical for most, another written form for `variant`
    (prefix, 三栋, 二单元, 15楼02, 3-2-1502), without the estate for `estate_missing`."""
    n = len(houses)
    h = world.geo.houses
    e = world.geo.estates.iloc[h["estate"].to_numpy()[houses]]
    d = reference()["district"]
    other = rng.random(n) < variant
    missing = rng.random(n) < estate_missing
    prefixes = np.array([d["city"] + d["name"], d["name"], "", "新疆" + d["city"] + d["name"]], dtype=object)
    prefix = prefixes[np.where(other, rng.integers(0, 4, n), 0)]
    road = np.where(
        other & (rng.random(n) < 0.5), "", e["road"].to_numpy() + e["road_no"].astype(str).to_numpy() + "号"
    ).astype(object)
    estate = np.where(missing, "", e["name"].to_numpy()).astype(object)
    b, u, r = (h[c].to_numpy()[houses] for c in ("building", "unit", "room"))
    zeros = np.zeros(n, dtype=np.int64)
    tail = (
        v.building_text(b, np.where(other, rng.integers(0, 5, n), zeros))
        + v.unit_text(u, np.where(other, rng.integers(0, 2, n), zeros))
        + v.room_text(r, np.where(other, rng.integers(0, 4, n), zeros))
    )
    compact = other & (rng.random(n) < 0.25)
    tail[compact] = (
        b[compact].astype(str).astype(object)
        + "-"
        + u[compact].astype(str).astype(object)
        + "-"
        + r[compact].astype(str).astype(object)
    )
    return prefix + road + estate + tail, other, missing


@cache
def _county_name(code: str) -> str:
    info = dict(numdb.get("cn/loc").info(code)[-1][1]) if len(numdb.get("cn/loc").info(code)) > 1 else {}
    names = re.sub(r"\[[^\]]*\]", "", info.get("county", "")).split(",")
    return names[-1] if names else ""


def hometowns(counties: ObjArray, rng: np.random.Generator) -> ObjArray:
    """Hukou addresses of migrants in their home county: 甘肃省城关区红星村3组12号."""
    ref = reference()
    words = np.array(ref["village_words"], dtype=object)
    province = np.array([ref["province_of_prefix"].get(c[:2], "") for c in counties], dtype=object)
    county = np.array([_county_name(c) for c in counties], dtype=object)
    n = len(counties)
    return (
        province
        + county
        + words[rng.integers(0, len(words), n)]
        + "村"
        + rng.integers(1, 9, n).astype(str).astype(object)
        + "组"
        + rng.integers(1, 80, n).astype(str).astype(object)
        + "号"
    )
