"""Welfare as it truly is: 低保 households (applicant = head), 特困 persons, disabilities with their
grade, and the 80+ elderly allowance (which, as in real rosters, outlives some of its recipients)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.demo.clock import SNAPSHOT
from hub.demo.config import Prevalence
from hub.demo.orgs import ages


def build_welfare(rng: np.random.Generator, p: pd.DataFrame, hh: pd.DataFrame, prev: Prevalence) -> pd.DataFrame:
    """低保 (per household, applicant = head), 特困, disability (with grade) and 80+ elderly allowance."""
    age = ages(p)
    registered = p["in_district"].to_numpy() & ~p["floating"].to_numpy()
    alive = p["death"].isna().to_numpy()
    frames = []
    weight = np.where(np.isin(hh["kind"].to_numpy(), [1, 4]), 3.0, 1.0)
    dibao_hh = ~hh["floating"].to_numpy() & (rng.random(len(hh)) < prev.dibao_household_share * weight / weight.mean())
    heads = hh["head"].to_numpy()[dibao_hh]
    covered = hh["size"].to_numpy()[dibao_hh]
    frames.append(
        pd.DataFrame(
            {
                "person": heads,
                "kind": "dibao",
                "level": "",
                "covered": covered,
                "amount": covered * rng.integers(350, 731, len(heads)),
            }
        )
    )
    grade_p = np.array([0.12, 0.23, 0.3, 0.35])
    disabled = p["in_district"].to_numpy() & (rng.random(len(p)) < prev.disability_share * (0.5 + age / 45))
    grades = rng.choice(4, len(p), p=grade_p) + 1
    frames.append(
        pd.DataFrame(
            {
                "person": np.flatnonzero(disabled),
                "kind": "disability",
                "level": grades[disabled],
                "covered": 1,
                "amount": 0,
            }
        )
    )
    lonely = (
        registered
        & alive
        & (
            (
                (age >= 60)
                & (p["relation"].to_numpy() == 0)
                & (hh["size"].to_numpy()[np.maximum(p["household"].to_numpy(), 0)] == 1)
            )
            | (disabled & (grades <= 2) & (p["relation"].to_numpy() == 0))
        )
    )
    pool = np.flatnonzero(lonely)
    tekun = rng.choice(pool, min(len(pool), max(1, round(prev.tekun_share * registered.sum()))), replace=False)
    frames.append(
        pd.DataFrame(
            {
                "person": tekun,
                "kind": "tekun",
                "covered": 1,
                "level": rng.choice(["全自理", "半护理", "全护理"], len(tekun), p=[0.6, 0.3, 0.1]),
                "amount": rng.integers(900, 1301, len(tekun)),
            }
        )
    )
    old = registered & (age >= 80) & (alive | (rng.random(len(p)) < 0.5))
    frames.append(
        pd.DataFrame(
            {
                "person": np.flatnonzero(old),
                "kind": "elderly_allowance",
                "level": "",
                "covered": 1,
                "amount": np.select([age[old] >= 100, age[old] >= 90], [500, 200], 100),
            }
        )
    )
    w = pd.concat(frames, ignore_index=True)
    w["level"] = w["level"].astype(str)
    n = len(w)
    w["start"] = SNAPSHOT - rng.integers(30, 10 * 365, n).astype("timedelta64[D]")
    w["status"] = rng.choice(["active", "suspended", "ended"], n, p=[0.9, 0.05, 0.05])
    w["house"] = p["house"].to_numpy()[w["person"].to_numpy()]
    return w
