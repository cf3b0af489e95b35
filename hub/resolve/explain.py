"""Why two records match or not: the per-comparison waterfall `hub explain A B` prints.

Each line is one comparison: the level the pair reached, the two values compared (as features,
so the reader sees what the engine saw), and the weight the model gives that level. The sum with
the prior is the pair's total; the thresholds turn it into a decision. Term-frequency
adjustments need the frequencies of the whole frame; pass them in, or the line shows the plain weight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hub.mapping.code_tables import display_value
from hub.protect import mask_attribute
from hub.resolve.cluster import decide, review_mask, veto_mask
from hub.resolve.compare import Prepared
from hub.resolve.entity_types import get_spec
from hub.resolve.model import Model

_SHOWN = {"name": "name", "resident_id": "id_any", "birth_date": "dob", "sex": "sex", "phone": "phone",
          "house": "house"}
"""Feature shown for a comparison when it differs from the comparison's name."""
_MASKED = {"resident_id", "phone"}
"""Shown masked: an explanation lands in terminals and tickets, never a clear ID or phone."""
_LABELLED = {"sex": "gender"}
"""Person comparisons whose values are codes of a national table (the attribute), shown with their label."""


def _shown(comparison: str, value: object) -> object:
    """A compared value as a person reads it: IDs and phones masked (the hub's one masking), codes with
    their label (sex 2 → 女 (2))."""
    if not isinstance(value, str):
        return value
    if comparison in _MASKED:
        return mask_attribute("person", comparison, value)
    return display_value("person", _LABELLED[comparison], value) if comparison in _LABELLED else value


@dataclass
class Explanation:
    table: pd.DataFrame
    """comparison, level, value_a, value_b, weight (one row per comparison, then prior and total)."""
    total: float
    decision: str


def explain_pair(row_a: pd.Series, row_b: pd.Series, model: Model, *,
                 frequencies: Mapping[str, tuple[float, float]] | None = None) -> Explanation:
    """Explain the score of two frame rows (as `entity_frame` gives them) under `model`.

    `frequencies` maps a term-frequency column (name, name_py, phone) to the share of records
    holding record a's and b's value.
    """
    spec = get_spec(model.entity_type)
    frame = pd.DataFrame([row_a, row_b]).reset_index(drop=True)
    data = Prepared(spec.features(frame))
    if frequencies:
        data.frequencies.update({k: np.asarray(v, dtype=float) for k, v in frequencies.items()})
    a, b = np.array([0]), np.array([1])
    rows = [{"comparison": "prior", "level": "", "value_a": "", "value_b": "", "weight": model.prior_weight}]
    levels = np.zeros((1, len(spec.comparisons)), dtype=np.int8)
    for k, (comparison, weights) in enumerate(zip(spec.comparisons, model.comparisons, strict=True)):
        level = int(comparison.compute(data, a, b)[0])
        levels[0, k] = level
        weight = float(weights.weights()[level])
        tf_column = comparison.levels[level].tf_column
        if tf_column and frequencies and tf_column in frequencies:
            share = max(float(frequencies[tf_column][0]), 1e-6)
            weight += float(np.log2(weights.u[level] / share))
        feature = _SHOWN.get(comparison.name, comparison.name)
        values = data.features[feature] if feature in data.features else pd.Series([None, None])
        shown = [_shown(comparison.name, v) for v in (values.iloc[0], values.iloc[1])]
        rows.append({"comparison": comparison.name, "level": comparison.level_names[level],
                     "value_a": shown[0], "value_b": shown[1], "weight": weight})
    table = pd.DataFrame(rows)
    total = float(table["weight"].sum())
    decision = str(decide(np.array([total]), model.upper, model.lower)[0])
    if decision == "match" and review_mask(spec.guards, spec.comparisons, levels)[0]:
        decision = "review"
    if decision != "non_match" and veto_mask(spec.guards, spec.comparisons, levels)[0]:
        decision = "non_match"
    return Explanation(table, total, decision)
