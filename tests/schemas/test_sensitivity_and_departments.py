"""schemas.common: levels, departments and the attr() declaration helper."""

import pytest
from pydantic import BaseModel

from schemas.common import DEPARTMENT_NAMES_ZH, Department, Sensitivity, attr


def test_levels_are_ordered_from_public_to_highly_sensitive() -> None:
    assert [level.rank for level in Sensitivity] == [0, 1, 2, 3]
    assert Sensitivity.highly_sensitive.covers(Sensitivity.sensitive)
    assert Sensitivity.internal.covers(Sensitivity.internal)
    assert not Sensitivity.internal.covers(Sensitivity.sensitive)
    assert not Sensitivity.public.covers(Sensitivity.internal)


def test_only_sensitive_levels_are_encrypted() -> None:
    assert {level for level in Sensitivity if level.encrypted} == {
        Sensitivity.sensitive,
        Sensitivity.highly_sensitive,
    }


def test_every_department_has_its_chinese_name() -> None:
    assert set(DEPARTMENT_NAMES_ZH) == set(Department)
    assert Department.public_security.name_zh == "公安"
    assert Department.property.name_zh == "物业"
    assert Department.disabled_persons_federation.name_zh == "残联"


def test_attr_carries_metadata_into_the_json_schema() -> None:
    class Sample(BaseModel):
        code: str | None = attr(
            "a code", sensitivity=Sensitivity.sensitive, authority=(Department.grid, Department.property),
            normalizer="text", code_system="GB 1", tokenized=True, pattern=r"^\d{2}$",
        )

    prop = Sample.model_json_schema()["properties"]["code"]
    assert prop["x-sensitivity"] == "sensitive"
    assert prop["x-authority"] == ["grid", "property"]
    assert prop["x-normalizer"] == "text"
    assert prop["x-code-system"] == "GB 1"
    assert prop["x-tokenized"] is True
    assert Sample().code is None


def test_attr_refuses_a_declaration_without_authority() -> None:
    with pytest.raises(ValueError, match="no authoritative department"):
        attr("x", sensitivity=Sensitivity.public, authority=(), normalizer="text")


def test_attr_refuses_a_token_for_a_value_stored_in_clear() -> None:
    with pytest.raises(ValueError, match="not encrypted"):
        attr("x", sensitivity=Sensitivity.internal, authority=(Department.grid,), normalizer="text",
             tokenized=True)
