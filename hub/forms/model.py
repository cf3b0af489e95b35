"""What a form template may say (pydantic v2): the fields a form needs, each bound to the canonical model.

A field is bound to one of three things about the form's subject (a person):
- `person.ATTRIBUTE`: one of the person's golden values (`person.name`, `person.resident_id`);
- `{relation: PREDICATE, attribute: TYPE.ATTRIBUTE}`: a value of the entity the person is related to
  (`{relation: resides_at, attribute: house.address}`: the address of the house the person lives in);
- `{situation: TYPE, attribute: ATTRIBUTE}`: a value of the person's situation of that type (情: 高龄津贴
  `elderly_allowance`, 残疾 `disability` …), reached through `applies_to`.

Every binding is also where a newly collected value is written back (hub.forms.writeback): the column of the
grid collection source it goes to (`column`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SUBJECT = "person"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class Texts(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Binding(_Strict):
    """Where a field's value lives in the canonical model (see the module's docstring)."""

    kind: Literal["attribute", "relation", "situation"]
    entity_type: str
    attribute: str
    predicate: str | None = None
    situation: str | None = None

    @property
    def text(self) -> str:
        if self.kind == "relation":
            return f"{self.predicate} → {self.entity_type}.{self.attribute}"
        if self.kind == "situation":
            return f"situation[{self.situation}].{self.attribute}"
        return f"{self.entity_type}.{self.attribute}"

    @property
    def column(self) -> str:
        """The grid collection source's column a collected value of this binding is written to."""
        if self.kind == "relation":
            return f"{self.predicate}_{self.attribute}"
        if self.kind == "situation":
            return f"situation_{self.attribute}"
        return self.attribute


def _binding(value: Any) -> Any:
    """`person.name`, `{relation: resides_at, attribute: house.address}`, `{situation: dibao, attribute: status}`."""
    if isinstance(value, str):
        entity_type, dot, attribute = value.partition(".")
        if not dot or not entity_type or not attribute:
            raise ValueError(f"bind {value!r}: write TYPE.ATTRIBUTE (person.name), or a relation or situation")
        return {"kind": "attribute", "entity_type": entity_type, "attribute": attribute}
    if isinstance(value, dict):
        given = set(value)
        if given == {"relation", "attribute"} and isinstance(value["attribute"], str):
            entity_type, dot, attribute = value["attribute"].partition(".")
            if not dot:
                raise ValueError("a relation's attribute is TYPE.ATTRIBUTE (house.address)")
            return {"kind": "relation", "predicate": value["relation"], "entity_type": entity_type,
                    "attribute": attribute}
        if given == {"situation", "attribute"}:
            return {"kind": "situation", "situation": value["situation"], "entity_type": "situation",
                    "attribute": value["attribute"]}
        raise ValueError("bind is TYPE.ATTRIBUTE, {relation: PREDICATE, attribute: TYPE.ATTRIBUTE} or "
                         "{situation: TYPE, attribute: ATTRIBUTE}")
    raise ValueError("bind is TYPE.ATTRIBUTE or a mapping with relation or situation")


class FormField(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,47}$", description="the field's name in prefill and submissions")
    label: Texts
    bind: Binding
    required: bool = Field(True, description="the form cannot be handed in without it")

    @model_validator(mode="before")
    @classmethod
    def _bind(cls, data: Any) -> Any:
        if isinstance(data, dict) and "bind" in data and not isinstance(data["bind"], Binding):
            data = {**data, "bind": _binding(data["bind"])}
        return data


class Applicants(_Strict):
    """Who the form is for, for the share of fields served (hub.forms.served); every person when left out.
    Conditions given together must all hold."""

    situation: str | None = Field(default=None, description="persons with a situation of this type (disability)")
    min_age: int | None = Field(default=None, ge=0, le=150, description="persons at least this old (birth_date)")
    population_type: Literal["registered", "floating"] | None = None


class FormTemplate(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    title: Texts
    description: Texts | None = None
    subject: Literal["person"] = "person"
    fields: list[FormField] = Field(min_length=1)
    applicants: Applicants | None = None

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)
