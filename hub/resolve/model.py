"""Fellegi–Sunter weights: m = P(level | same entity) and u = P(level | different entities) per
comparison level, the prior λ, and scoring with them (training is in hub.resolve.training).

The weight of a level is log2(m/u); a pair's total is the prior log-odds plus its levels' weights.
Exact levels of frequent values (王伟, a shared office phone) weigh less: when scoring, their u is
the value's frequency among the records (term-frequency adjustment).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.errors import ConfigurationError
from hub.resolve.compare import Comparison, Prepared
from hub.resolve.spec import EntitySpec, LevelMatrix

TF_FLOOR = 1e-6


@dataclass
class LevelWeights:
    comparison: str
    levels: list[str]
    m: list[float]
    u: list[float]

    def weights(self) -> npt.NDArray[np.float64]:
        """log2(m/u) per level; the null level weighs 0."""
        w = np.log2(np.asarray(self.m) / np.asarray(self.u))
        w[0] = 0.0
        return w


@dataclass
class Model:
    """Trained weights of one entity type, saved as a reviewed JSON file."""

    entity_type: str
    prior: float
    comparisons: list[LevelWeights]
    upper: float
    lower: float
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1.0 - self.prior)))

    def weight_table(self) -> list[npt.NDArray[np.float64]]:
        return [c.weights() for c in self.comparisons]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Model:
        data = dict(data)
        data["comparisons"] = [LevelWeights(**c) for c in data["comparisons"]]
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Model:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def check_levels(spec: EntitySpec, model: Model) -> None:
    """A weights file must describe the comparisons the code has, level for level."""
    have = [(c.comparison, c.levels) for c in model.comparisons]
    want = [(c.name, c.level_names) for c in spec.comparisons]
    if have != want:
        raise ConfigurationError(f"the {model.entity_type} weights do not fit the comparisons in the code "
                                 "(levels added or renamed): train again and review the new weights file")


def term_frequencies(data: Prepared, column: str) -> npt.NDArray[np.float64]:
    """Each row's value frequency among the rows holding `column` (NaN where missing)."""
    if column in data.frequencies:
        return data.frequencies[column]
    codes = data.code(column)
    present = codes >= 0
    counts = np.bincount(codes[present]) if present.any() else np.zeros(0)
    out = np.full(len(codes), np.nan)
    total = max(int(present.sum()), 1)
    out[present] = counts[codes[present]] / total
    return out


def score(spec: EntitySpec, model: Model, data: Prepared, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64],
          levels: LevelMatrix) -> npt.NDArray[np.float64]:
    """Total match weight of each pair: prior log-odds + level weights, exact levels TF-adjusted."""
    check_levels(spec, model)
    total = np.full(len(a), model.prior_weight)
    for k, (comparison, weights) in enumerate(zip(spec.comparisons, model.comparisons, strict=True)):
        w = weights.weights()
        total += w[levels[:, k]]
        total += _tf_adjustment(comparison, weights, data, a, levels[:, k])
    return total


def _tf_adjustment(comparison: Comparison, weights: LevelWeights, data: Prepared, a: npt.NDArray[np.int64],
                   levels: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    out = np.zeros(len(a))
    for index, level in enumerate(comparison.levels):
        if level.tf_column is None:
            continue
        hit = levels == index
        if not hit.any():
            continue
        tf = term_frequencies(data, level.tf_column)[a[hit]]
        tf = np.where(np.isnan(tf), weights.u[index], np.maximum(tf, TF_FLOOR))
        out[hit] = np.log2(weights.u[index] / tf)
    return out


def weights_frame(model: Model) -> pd.DataFrame:
    """comparison, level, m, u, weight: the table docs/matching.md shows."""
    rows = []
    for c in model.comparisons:
        for level, m, u, w in zip(c.levels, c.m, c.u, c.weights(), strict=True):
            rows.append({"comparison": c.comparison, "level": level, "m": m if level != "null" else None,
                         "u": u if level != "null" else None, "weight": float(w)})
    return pd.DataFrame(rows)
