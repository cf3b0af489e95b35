"""Entity resolution: department records → persons, houses, organizations, vehicles.

Blocking, vectorized comparison levels, Fellegi–Sunter weights learned by EM without labels,
thresholds and guarded greedy clustering; docs/matching.md explains each step and its weights.
"""

from hub.resolve.engine import Resolution, resolve
from hub.resolve.explain import Explanation, explain_pair
from hub.resolve.frames import entity_frame
from hub.resolve.incremental import Increment, resolve_incremental
from hub.resolve.model import Model

__all__ = [
    "Explanation",
    "Increment",
    "Model",
    "Resolution",
    "entity_frame",
    "explain_pair",
    "resolve",
    "resolve_incremental",
]
