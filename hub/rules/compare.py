"""Numeric tests of golden values (`gt`, `ge`, `lt`, `le`): amounts and contribution bases are stored as
normalized decimal text, so the column is read as numbers once and compared whole."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hub.rules.model import ValueTest


def compares(values: pd.Series, test: ValueTest) -> np.ndarray:
    """Mask of the values that are numbers and pass the test's one comparison (a non-number fails)."""
    numbers = pd.to_numeric(values.astype(str), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        if test.gt is not None:
            return numbers > test.gt
        if test.ge is not None:
            return numbers >= test.ge
        if test.lt is not None:
            return numbers < test.lt
        assert test.le is not None
        return numbers <= test.le
