"""What resolving one entity type needs: features, blocking rules, comparisons, guards, thresholds.

Each entity type (persons, houses, organizations, vehicles) is one `EntitySpec`; the engine,
model, clustering and explanation are shared and know nothing of the type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.compare import Comparison
from hub.resolve.keys import BlockingRule

LevelMatrix = npt.NDArray[np.int8]


@dataclass(frozen=True)
class Guards:
    """Cannot-link rules applied while clustering (judgements override them).

    - `unique_column`: two different values never share a cluster (checksum-valid resident IDs,
      credit codes, plates);
    - `duplicate_free_sources`: at most one record of these sources per cluster, unless the pair
      agrees exactly on `unique_column` (the register itself holds a few true duplicates);
      (`same_entity`: the same valid ID);
    - `requires`: a pair at (comparison, level) is never merged automatically unless one of the
      listed (comparison, level) holds too (differing sex needs the same ID; a reversed name needs
      the birth date or the ID, because father and son reverse each other's names); an empty tuple
      sends the level to review always (a branch and its head office).
    - `vetoes`: a pair at (comparison, level) is a non-match, not a question for a reviewer, unless
      one of the listed (comparison, level) holds too: two different valid IDs, or a different name
      with no ID agreeing (household members sharing a phone and a flat). Such pairs filled the
      person queue with items nobody would accept (hub.resolve.queue).
    """

    unique_column: str | None = None
    duplicate_free_sources: frozenset[str] = frozenset()
    same_entity: tuple[tuple[str, str], ...] = ()
    requires: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)
    vetoes: Mapping[tuple[str, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingSession:
    """Candidate pairs one deterministic rule picks; EM learns m of the comparisons it does not use."""

    name: str
    pairs: Callable[[LevelMatrix], npt.NDArray[np.bool_]]
    blocked_on: frozenset[str]


@dataclass(frozen=True)
class EntitySpec:
    entity_type: str
    features: Callable[[pd.DataFrame], pd.DataFrame]
    rules: Sequence[BlockingRule]
    comparisons: Sequence[Comparison]
    seed_rule: Callable[[LevelMatrix], npt.NDArray[np.bool_]]
    """Pairs a deterministic rule calls matches: where EM starts its m estimates."""
    guards: Guards = Guards()
    fixed_m: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """m fixed by domain knowledge, not learned (two different valid IDs of one person are rare)."""
    upper: float = 6.0
    """Total match weight (log2 odds, prior included) from which a pair is a match."""
    lower: float = 0.0
    """Below this a pair is a non-match; between the two it goes to review."""
    training_sessions: Sequence[TrainingSession] = ()
    population_columns: tuple[str, ...] = ()
    """Feature columns some condition counts over every record, not only the ones compared (which
    companies hold a name): an incremental run hands them in for all live records (`Prepared.population`)."""
    prior_weights: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """Weights for levels the training data hardly shows (no typo'd IDs reach the store today):
    used instead of an estimate from a handful of pairs, and documented in docs/matching.md."""


def level_of(levels: LevelMatrix, comparisons: Sequence[Comparison], comparison: str,
             *level_names: str) -> npt.NDArray[np.bool_]:
    """Pairs whose `comparison` is at one of `level_names`."""
    k = [c.name for c in comparisons].index(comparison)
    wanted = [comparisons[k].level_names.index(name) for name in level_names]
    return np.isin(levels[:, k], wanted)
