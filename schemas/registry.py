"""The catalogue of entity types and their attributes, read back from the models' field metadata.

Mapping validation, storage (what to encrypt or tokenize), masking, GX suites and the data-model
document all ask this module, so none of them keeps its own copy of the model.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from pydantic.fields import FieldInfo

from schemas.common import (
    AUTHORITY_KEY,
    CODE_SYSTEM_KEY,
    GRADE_KEY,
    NORMALIZER_KEY,
    PERSONAL_INFO_KEY,
    SENSITIVITY_KEY,
    TOKENIZED_KEY,
    CanonicalEntity,
    DataGrade,
    Department,
    PersonalInfo,
    Sensitivity,
)
from schemas.event import Event
from schemas.house import House
from schemas.organization import Organization
from schemas.person import Person
from schemas.place import Place
from schemas.situation import Situation
from schemas.thing import Thing

ENTITY_MODELS: dict[str, type[CanonicalEntity]] = {
    model.entity_type: model for model in (Person, House, Organization, Thing, Situation, Event, Place)
}


@dataclass(frozen=True)
class AttributeSpec:
    """Everything the hub needs to know about one canonical attribute."""

    entity_type: str
    name: str
    description: str
    sensitivity: Sensitivity
    authority: tuple[Department, ...]
    normalizer: str
    code_system: str | None
    tokenized: bool
    type_name: str
    grade: DataGrade = DataGrade.general
    personal_info: PersonalInfo = PersonalInfo.none
    pattern: str | None = None
    allowed_values: tuple[str, ...] | None = None

    @property
    def encrypted(self) -> bool:
        return self.sensitivity.encrypted


def entity_types() -> list[str]:
    return list(ENTITY_MODELS)


def attributes(entity_type: str) -> dict[str, AttributeSpec]:
    """The attributes of an entity type, in declaration order (the canonical `id` excluded)."""
    if entity_type not in ENTITY_MODELS:
        raise KeyError(f"unknown entity type {entity_type!r}; known: {', '.join(ENTITY_MODELS)}")
    return dict(_specs(entity_type))


def attribute_spec(entity_type: str, name: str) -> AttributeSpec | None:
    """The spec of one attribute, or None when the entity type or attribute does not exist."""
    if entity_type not in ENTITY_MODELS:
        return None
    return _specs(entity_type).get(name)


@cache
def _specs(entity_type: str) -> dict[str, AttributeSpec]:
    fields = ENTITY_MODELS[entity_type].model_fields
    return {name: _spec(entity_type, name, field) for name, field in fields.items() if name != "id"}


def _spec(entity_type: str, name: str, field: FieldInfo) -> AttributeSpec:
    extra = field.json_schema_extra
    if not isinstance(extra, dict) or not {SENSITIVITY_KEY, AUTHORITY_KEY, NORMALIZER_KEY, GRADE_KEY,
                                           PERSONAL_INFO_KEY} <= extra.keys():
        raise TypeError(f"{entity_type}.{name} is not declared with schemas.common.attr()")
    inner = _without_none(field.annotation)
    authority = extra[AUTHORITY_KEY]
    if not isinstance(authority, list):
        raise TypeError(f"{entity_type}.{name}: {AUTHORITY_KEY} must be a list of departments")
    return AttributeSpec(
        entity_type=entity_type,
        name=name,
        description=field.description or "",
        sensitivity=Sensitivity(str(extra[SENSITIVITY_KEY])),
        authority=tuple(Department(str(d)) for d in authority),
        normalizer=str(extra[NORMALIZER_KEY]),
        code_system=_optional_str(extra.get(CODE_SYSTEM_KEY)),
        tokenized=bool(extra.get(TOKENIZED_KEY, False)),
        type_name=getattr(inner, "__name__", str(inner)),
        grade=DataGrade(str(extra[GRADE_KEY])),
        personal_info=PersonalInfo(str(extra[PERSONAL_INFO_KEY])),
        pattern=next((p for m in field.metadata if (p := getattr(m, "pattern", None))), None),
        allowed_values=_enum_values(inner),
    )


def _enum_values(annotation: Any) -> tuple[str, ...] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(member.value) for member in annotation)
    return None


def _without_none(annotation: Any) -> Any:
    """`X | None` → X: every attribute is optional, the interesting part is X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
