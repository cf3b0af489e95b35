"""schemas.relations: the predicate table and the Relation model."""

from datetime import date

import pytest
from pydantic import ValidationError

from schemas import (
    ENTITY_MODELS,
    PREDICATE_MEANINGS,
    PREDICATE_SENSITIVITY,
    PREDICATES,
    Relation,
    RelationPredicate,
    Sensitivity,
    predicate_allows,
)


def test_every_predicate_has_a_rule_a_meaning_and_a_level() -> None:
    assert set(PREDICATES) == set(RelationPredicate)
    assert set(PREDICATE_MEANINGS) == set(RelationPredicate)
    assert set(PREDICATE_SENSITIVITY) == set(RelationPredicate)


def test_predicates_connect_only_known_entity_types() -> None:
    for subjects, objects in PREDICATES.values():
        assert subjects and objects
        assert subjects <= set(ENTITY_MODELS) and objects <= set(ENTITY_MODELS)


def test_the_agreed_directions() -> None:
    for predicate in ("registered_at", "resides_at", "owns", "rents"):
        assert PREDICATES[RelationPredicate(predicate)] == ({"person"}, {"house"})
    assert PREDICATES[RelationPredicate.owned_by] == ({"thing"}, {"person", "organization"})
    assert PREDICATES[RelationPredicate.located_at] == ({"thing", "event"}, {"house"})
    assert predicate_allows(RelationPredicate.applies_to, "situation", "person")
    assert not predicate_allows(RelationPredicate.applies_to, "person", "situation")
    assert not predicate_allows(RelationPredicate.employed_by, "person", "house")


def test_a_welfare_link_is_as_sensitive_as_the_welfare_itself() -> None:
    assert PREDICATE_SENSITIVITY[RelationPredicate.applies_to] is Sensitivity.sensitive


def test_relation_model() -> None:
    relation = Relation.model_validate({
        "subject_id": "p-1", "predicate": "rents", "object_id": "h-1", "valid_from": "2023-05-01",
        "sources": ["property_erp"],
    })
    assert relation.predicate is RelationPredicate.rents and relation.valid_from == date(2023, 5, 1)
    assert relation.valid_to is None
    with pytest.raises(ValidationError, match="before valid_from"):
        Relation(subject_id="p-1", predicate=RelationPredicate.rents, object_id="h-1",
                 valid_from=date(2023, 5, 1), valid_to=date(2023, 4, 30))
    with pytest.raises(ValidationError):
        Relation.model_validate({"subject_id": "p-1", "predicate": "likes", "object_id": "h-1"})
