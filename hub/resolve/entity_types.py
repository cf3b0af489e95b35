"""The entity types resolution knows, and the reviewed weights shipped for each.

Weights files (hub/resolve/weights/<entity type>.json) are written by `Model.save` after a
training run on the demo district and read back when resolution runs without training.
"""

from __future__ import annotations

from pathlib import Path

from hub.errors import ConfigurationError
from hub.resolve.model import Model
from hub.resolve.persons import PERSONS
from hub.resolve.spec import EntitySpec
from hub.resolve.things import HOUSES, ORGANIZATIONS, VEHICLES

WEIGHTS_DIR = Path(__file__).parent / "weights"
SPECS: dict[str, EntitySpec] = {spec.entity_type: spec for spec in (PERSONS, HOUSES, ORGANIZATIONS, VEHICLES)}


def get_spec(entity_type: str) -> EntitySpec:
    try:
        return SPECS[entity_type]
    except KeyError:
        raise ConfigurationError(f"resolution knows no entity type {entity_type!r}; "
                                 f"known: {', '.join(sorted(SPECS))}") from None


def weights_path(entity_type: str) -> Path:
    return WEIGHTS_DIR / f"{entity_type}.json"


def default_model(entity_type: str) -> Model:
    """The reviewed weights for an entity type."""
    path = weights_path(entity_type)
    if not path.exists():
        raise ConfigurationError(f"no weights file for {entity_type} at {path}: train first")
    return Model.load(path)
