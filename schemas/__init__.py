"""The canonical model of the hub: entities, attributes, relations and statements.

Every field's sensitivity level and authoritative departments are declared once, in the models
(see `schemas.common.attr`), and read back with `attributes()` / `attribute_spec()`.
docs/data-model.md is generated from here (`python -m schemas.docs`).
"""

from schemas.codes import Gender
from schemas.common import (
    DEPARTMENT_NAMES_ZH,
    CanonicalEntity,
    DataGrade,
    Department,
    PersonalInfo,
    Sensitivity,
    attr,
)
from schemas.event import Event, EventType
from schemas.house import House
from schemas.organization import Organization
from schemas.person import Person, PopulationType
from schemas.place import Place, PlaceType
from schemas.registry import ENTITY_MODELS, AttributeSpec, attribute_spec, attributes, entity_types
from schemas.relations import (
    PREDICATE_MEANINGS,
    PREDICATE_SENSITIVITY,
    PREDICATES,
    Relation,
    RelationPredicate,
    predicate_allows,
)
from schemas.situation import Situation, SituationStatus, SituationType
from schemas.statement import Statement
from schemas.thing import Thing, ThingType

__all__ = [
    "DEPARTMENT_NAMES_ZH",
    "ENTITY_MODELS",
    "PREDICATES",
    "PREDICATE_MEANINGS",
    "PREDICATE_SENSITIVITY",
    "AttributeSpec",
    "CanonicalEntity",
    "DataGrade",
    "Department",
    "Event",
    "EventType",
    "Gender",
    "House",
    "Organization",
    "Person",
    "PersonalInfo",
    "Place",
    "PlaceType",
    "PopulationType",
    "Relation",
    "RelationPredicate",
    "Sensitivity",
    "Situation",
    "SituationStatus",
    "SituationType",
    "Statement",
    "Thing",
    "ThingType",
    "attr",
    "attribute_spec",
    "attributes",
    "entity_types",
    "predicate_allows",
]
