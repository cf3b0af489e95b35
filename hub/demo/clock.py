"""The district's "now" and its random streams: every date is relative to a fixed snapshot, so the
same seed gives the same files on any day."""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

from hub.demo.reference import SNAPSHOT_YEAR

SNAPSHOT = np.datetime64(f"{SNAPSHOT_YEAR}-06-30")
SNAPSHOT_TIME = SNAPSHOT.astype("datetime64[s]") + np.timedelta64(18 * 3600, "s")


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per component, stable across runs and Python versions, so that
    changing one part (say, the dirt rates) leaves the others as they were."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def years_since(dates: npt.NDArray[np.datetime64]) -> npt.NDArray[np.float64]:
    """Age in years at the snapshot date."""
    days = (SNAPSHOT - dates.astype("datetime64[D]")).astype(np.int64)
    return np.asarray(days / 365.25, dtype=np.float64)


def random_times(
    rng: np.random.Generator, n: int, days_back: float, end: np.datetime64 = SNAPSHOT_TIME
) -> npt.NDArray[np.datetime64]:
    """`n` moments spread evenly over the `days_back` days before `end`."""
    return end - (rng.random(n) * days_back * 86400).astype("timedelta64[s]")
