"""Pin the public surface of `schemas`, as httpx does: adding or removing a name is a decision."""

import schemas


def test_all_is_exactly_the_public_surface() -> None:
    assert sorted(schemas.__all__) == [
        "AttributeSpec",
        "CanonicalEntity",
        "DEPARTMENT_NAMES_ZH",
        "DataGrade",
        "Department",
        "ENTITY_MODELS",
        "Event",
        "EventType",
        "Gender",
        "House",
        "Organization",
        "PREDICATES",
        "PREDICATE_MEANINGS",
        "PREDICATE_SENSITIVITY",
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


def test_every_exported_name_exists() -> None:
    for name in schemas.__all__:
        assert getattr(schemas, name) is not None, name


def test_public_names_not_in_all_are_only_submodules() -> None:
    public = {name for name in dir(schemas) if not name.startswith("_")}
    leftovers = public - set(schemas.__all__)
    assert all(type(getattr(schemas, name)).__name__ == "module" for name in leftovers), leftovers
