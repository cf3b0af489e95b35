"""Relations between canonical entities: which predicates exist and what they may connect."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.common import Sensitivity


class RelationPredicate(StrEnum):
    registered_at = "registered_at"
    resides_at = "resides_at"
    owns = "owns"
    rents = "rents"
    employed_by = "employed_by"
    member_of = "member_of"
    cared_for_by = "cared_for_by"
    served_by = "served_by"
    legal_representative_of = "legal_representative_of"
    owned_by = "owned_by"
    located_at = "located_at"
    concerns = "concerns"
    applies_to = "applies_to"


class _PredicateRule(NamedTuple):
    subjects: frozenset[str]
    objects: frozenset[str]
    sensitivity: Sensitivity
    meaning: str


def _types(*names: str) -> frozenset[str]:
    return frozenset(names)


_P = RelationPredicate
_RULES: dict[RelationPredicate, _PredicateRule] = {
    _P.registered_at: _PredicateRule(_types("person"), _types("house"), Sensitivity.internal,
                                    "户籍登记于 has hukou registered at the house"),
    _P.resides_at: _PredicateRule(_types("person"), _types("house"), Sensitivity.internal,
                                 "居住于 actually lives in the house"),
    _P.owns: _PredicateRule(_types("person"), _types("house"), Sensitivity.internal, "拥有 owns the house"),
    _P.rents: _PredicateRule(_types("person"), _types("house"), Sensitivity.internal, "租住 rents the house"),
    _P.employed_by: _PredicateRule(_types("person"), _types("organization"), Sensitivity.internal,
                                  "就职于 works for the organization"),
    _P.member_of: _PredicateRule(_types("person"), _types("organization"), Sensitivity.internal,
                                "成员 is a member of the (social) organization"),
    _P.cared_for_by: _PredicateRule(_types("person"), _types("organization"), Sensitivity.sensitive,
                                   "供养/照料于 is cared for by the institution (a care home, a 供养机构); "
                                   "sensitive, since the link alone tells that someone receives support"),
    _P.served_by: _PredicateRule(_types("person"), _types("organization"), Sensitivity.internal,
                                "物业服务 the person's home is served by the property company"),
    _P.legal_representative_of: _PredicateRule(
        _types("person"), _types("organization"), Sensitivity.public,
        "法定代表人 is the legal representative, a public register fact",
    ),
    _P.owned_by: _PredicateRule(_types("thing"), _types("person", "organization"), Sensitivity.internal,
                               "归属 the vehicle, parking space or facility belongs to"),
    _P.located_at: _PredicateRule(_types("thing", "event"), _types("house"), Sensitivity.internal,
                                 "位于 is at, or happened at, the house"),
    _P.concerns: _PredicateRule(_types("event"), _types("person"), Sensitivity.internal,
                               "涉及 the event concerns the person"),
    _P.applies_to: _PredicateRule(_types("situation"), _types("person"), Sensitivity.sensitive,
                                 "适用于 the situation applies to the person; sensitive, since the link "
                                 "alone tells that someone receives welfare or has a disability"),
}

PREDICATES: dict[RelationPredicate, tuple[frozenset[str], frozenset[str]]] = {
    predicate: (rule.subjects, rule.objects) for predicate, rule in _RULES.items()
}
"""Predicate → (entity types allowed as subject, entity types allowed as object)."""

PREDICATE_SENSITIVITY: dict[RelationPredicate, Sensitivity] = {
    predicate: rule.sensitivity for predicate, rule in _RULES.items()
}
"""How sensitive the mere existence of a relation is; the API masks relations by this level."""

PREDICATE_MEANINGS: dict[RelationPredicate, str] = {p: rule.meaning for p, rule in _RULES.items()}


def predicate_allows(predicate: RelationPredicate, subject_type: str, object_type: str) -> bool:
    """True when `predicate` may connect an entity of `subject_type` to one of `object_type`."""
    subjects, objects = PREDICATES[predicate]
    return subject_type in subjects and object_type in objects


class Relation(BaseModel):
    """关系 Relation: subject –predicate→ object between canonical entities, valid for a period."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    subject_id: str = Field(min_length=1, description="Canonical id of the subject entity.")
    predicate: RelationPredicate
    object_id: str = Field(min_length=1, description="Canonical id of the object entity.")
    valid_from: date | None = Field(default=None, description="First day the relation holds, when known.")
    valid_to: date | None = Field(
        default=None, description="Last day the relation holds; empty while it lasts."
    )
    sources: list[str] = Field(
        default_factory=list, description="Sources (department systems) whose statements assert the relation."
    )

    @model_validator(mode="after")
    def _period_in_order(self) -> Relation:
        if self.valid_from is not None and self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self
