"""schemas.registry: every attribute is governed, and the governance is what the project agreed."""

import pytest

import schemas
from schemas import AttributeSpec, Department, Sensitivity, attribute_spec, attributes, entity_types

NORMALIZERS = {
    "resident_id", "credit_code", "person_name", "org_name", "phone", "date", "date_dmy", "datetime",
    "gender", "ethnicity", "population_type", "relation_to_head", "address", "text", "decimal", "integer",
    "plate", "boolean", "building_no", "unit_no", "room_no", "estate_name", "community_name",
}

ALL_SPECS = [spec for entity_type in entity_types() for spec in attributes(entity_type).values()]


def test_entity_types_are_the_agreed_seven() -> None:
    assert entity_types() == ["person", "house", "organization", "thing", "situation", "event", "place"]
    assert set(schemas.ENTITY_MODELS) == set(entity_types())
    assert all(model.entity_type == name for name, model in schemas.ENTITY_MODELS.items())


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: f"{s.entity_type}.{s.name}")
def test_every_attribute_is_fully_governed(spec: AttributeSpec) -> None:
    assert isinstance(spec.sensitivity, Sensitivity)
    assert spec.authority and all(isinstance(d, Department) for d in spec.authority)
    assert len(set(spec.authority)) == len(spec.authority)
    assert spec.normalizer in NORMALIZERS
    assert spec.description.strip()
    assert not spec.tokenized or spec.encrypted


def test_id_is_not_an_attribute() -> None:
    assert all("id" not in attributes(t) for t in entity_types())


def test_identifiers_used_for_lookup_are_encrypted_and_tokenized() -> None:
    resident_id, phone = attribute_spec("person", "resident_id"), attribute_spec("person", "phone")
    assert resident_id is not None and phone is not None
    assert resident_id.sensitivity is Sensitivity.highly_sensitive
    assert phone.sensitivity is Sensitivity.sensitive
    assert resident_id.tokenized and phone.tokenized
    assert resident_id.encrypted and phone.encrypted
    assert {(s.entity_type, s.name) for s in ALL_SPECS if s.tokenized} == {
        ("person", "resident_id"), ("person", "phone")
    }


@pytest.mark.parametrize("name", ["situation_type", "amount", "level", "status", "start_date", "end_date"])
def test_welfare_and_health_facts_are_sensitive_or_above(name: str) -> None:
    spec = attribute_spec("situation", name)
    assert spec is not None
    assert spec.sensitivity.covers(Sensitivity.sensitive) and spec.encrypted


def test_authorities_follow_the_departments_that_keep_the_registers() -> None:
    def first(entity_type: str, name: str) -> Department:
        spec = attribute_spec(entity_type, name)
        assert spec is not None
        return spec.authority[0]

    for name in ("resident_id", "name", "gender", "ethnicity", "birth_date", "hukou_address", "household_no"):
        assert first("person", name) is Department.public_security
    for name in ("building", "room", "floor_area"):
        assert first("house", name) is Department.property
    assert first("organization", "credit_code") is Department.market_regulation
    credit = attribute_spec("organization", "credit_code")
    assert credit is not None
    assert {Department.civil_affairs, Department.social_insurance} <= set(credit.authority)
    situation = attribute_spec("situation", "situation_type")
    assert situation is not None
    assert set(situation.authority) == {
        Department.civil_affairs, Department.social_insurance, Department.disabled_persons_federation
    }
    plate = attribute_spec("thing", "plate_no")
    assert plate is not None and plate.authority == (Department.property, Department.public_security)


def test_national_code_systems_are_declared() -> None:
    codes = {(s.entity_type, s.name): s.code_system for s in ALL_SPECS if s.code_system}
    assert codes[("person", "resident_id")].startswith("GB 11643")
    assert codes[("person", "gender")].startswith("GB/T 2261.1")
    assert codes[("person", "ethnicity")].startswith("GB 3304")
    assert codes[("house", "district_code")].startswith("GB/T 2260")
    assert codes[("organization", "credit_code")].startswith("GB 32100")


def test_specs_describe_types_patterns_and_value_sets() -> None:
    gender = attribute_spec("person", "gender")
    district = attribute_spec("house", "district_code")
    area = attribute_spec("house", "floor_area")
    assert gender is not None and gender.type_name == "Gender"
    assert gender.allowed_values == ("0", "1", "2", "9")
    assert district is not None and district.pattern == r"^\d{6}$" and district.allowed_values is None
    assert area is not None and area.type_name == "Decimal"


def test_lookups_of_unknown_names() -> None:
    assert attribute_spec("person", "shoe_size") is None
    assert attribute_spec("spaceship", "name") is None
    with pytest.raises(KeyError, match="unknown entity type"):
        attributes("spaceship")


def test_attributes_returns_a_copy_callers_may_change() -> None:
    attributes("person").clear()
    assert "resident_id" in attributes("person")
