"""The entity models as an API contract: formats enforced, inputs never echoed in errors."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from faker import Faker
from pydantic import ValidationError

from schemas import (
    ENTITY_MODELS,
    CanonicalEntity,
    Gender,
    House,
    Organization,
    Person,
    Place,
    PlaceType,
    Situation,
    SituationType,
    attributes,
)


@pytest.fixture
def fake() -> Faker:
    faker = Faker("zh_CN")
    faker.seed_instance(20240611)
    return faker


@pytest.mark.parametrize("entity_type", list(ENTITY_MODELS))
def test_documented_examples_are_valid_values(entity_type: str) -> None:
    model = ENTITY_MODELS[entity_type]
    examples: dict[str, Any] = {
        name: field.examples[0] for name, field in model.model_fields.items() if field.examples
    }
    entity = model(id=f"{entity_type}-1", **examples)
    assert all(getattr(entity, name) is not None for name in examples)


@pytest.mark.parametrize("entity_type", list(ENTITY_MODELS))
def test_an_empty_entity_has_only_its_id(entity_type: str) -> None:
    entity = ENTITY_MODELS[entity_type](id="x")
    assert entity.model_dump(exclude_none=True) == {"id": "x"}
    assert set(attributes(entity_type)) == set(type(entity).model_fields) - {"id"}


def test_synthetic_person_round_trips_through_json(fake: Faker) -> None:
    person = Person.model_validate({
        "id": "p-1", "name": fake.name(), "resident_id": fake.ssn(), "gender": "2", "ethnicity": "01",
        "birth_date": "1987-03-09", "phone": fake.phone_number(), "population_type": "floating",
    })
    assert person.gender is Gender.female and person.birth_date == date(1987, 3, 9)
    assert Person.model_validate_json(person.model_dump_json()) == person


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resident_id", "11010519491231002"),  # 17 characters
        ("resident_id", "11010519491231002x"),  # the normalizer upper-cases X, not the model
        ("phone", "1380013800"),
        ("phone", "010 12345678"),
        ("ethnicity", "1"),
        ("gender", "男"),
        ("population_type", "tourist"),
    ],
)
def test_person_rejects_values_not_in_canonical_form(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Person.model_validate({"id": "p-1", field: value})
    assert caught.value.errors()[0]["loc"] == (field,)


def test_validation_errors_never_repeat_the_value() -> None:
    bad_id, bad_phone = "1101051949123100Z9", "138-0013-8000"
    with pytest.raises(ValidationError) as caught:
        Person(id="p-1", resident_id=bad_id, phone=bad_phone)
    message = str(caught.value)
    assert "resident_id" in message and "phone" in message
    assert bad_id not in message and bad_phone not in message


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Person.model_validate({"id": "p-1", "shoe_size": "42"})


def test_an_entity_needs_a_canonical_id() -> None:
    with pytest.raises(ValidationError):
        House(id="")
    assert issubclass(House, CanonicalEntity)


def test_house_formats() -> None:
    house = House.model_validate({
        "id": "h-1", "district_code": "650102", "building": "3", "unit": "2", "room": "1502",
        "floor_area": "89.5",
    })
    assert house.floor_area == Decimal("89.5")
    with pytest.raises(ValidationError):
        House(id="h-1", district_code="65010")
    with pytest.raises(ValidationError):
        House.model_validate({"id": "h-1", "floor_area": "-1"})


def test_credit_code_format() -> None:
    assert Organization(id="o-1", credit_code="91350100M000100Y43").credit_code == "91350100M000100Y43"
    with pytest.raises(ValidationError):
        Organization(id="o-1", credit_code="91350100M000100O43")  # O is not in the USCC alphabet


def test_situation_value_sets() -> None:
    situation = Situation.model_validate(
        {"id": "s-1", "situation_type": "dibao", "status": "active", "amount": "780"}
    )
    assert situation.situation_type is SituationType.dibao
    with pytest.raises(ValidationError):
        Situation.model_validate({"id": "s-1", "situation_type": "低保"})
    with pytest.raises(ValidationError):
        Situation.model_validate({"id": "s-1", "amount": "-5"})


def test_district_places_carry_a_division_code() -> None:
    street = Place.model_validate(
        {"id": "pl-2", "place_type": "street", "code": "650102001", "name": "幸福路街道", "parent_id": "pl-1"}
    )
    assert street.place_type is PlaceType.street
    assert Place(id="pl-1", place_type=PlaceType.district, code="650102", name="天山区").code == "650102"
    with pytest.raises(ValidationError, match="6-digit"):
        Place(id="pl-1", place_type=PlaceType.district, code="650102001")
