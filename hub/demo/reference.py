"""The reference tables of the simulated district (reference.yaml), loaded once.

Kept as data, not code, so that a reader can see at a glance which streets, name pools, county codes
and homophone groups the generator draws from, and change them without touching the logic.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from faker.providers.person.zh_CN import Provider as FakerPerson

SNAPSHOT_YEAR = 2025


@cache
def reference() -> dict[str, Any]:
    text = files("hub.demo").joinpath("reference.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@cache
def surname_table() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Han surnames with realistic frequencies: Faker's zh_CN table (王 7.17 %, 李 7.0 %, …) plus the
    compound and misread surnames that matching must survive (欧阳 comes with Faker, 司马 … from ours)."""
    weights = dict(FakerPerson.last_names)
    for name, weight in reference()["extra_surnames"].items():
        weights.setdefault(name, float(weight))
    names = tuple(weights)
    total = sum(weights.values())
    return names, tuple(weights[n] / total for n in names)


def county_groups() -> dict[str, list[tuple[str, int, int, float]]]:
    """Group name → [(county code, first birth year, last birth year, weight)]."""
    return {
        group: [(str(c), int(a), int(b), float(w)) for c, a, b, w in rows]
        for group, rows in reference()["counties"].items()
    }
