"""What the core views return (hub.views): the API's public contract, also printed by `hub find` / `hub explain`.

Every value arrives already shown as the caller's policy allows (`hub.protect.present`): `mode` says whether it
is clear, masked (GB/T 35273 patterns) or withheld (None). `disclosed` is what the audit row records about a
result (entity ids, fields and their modes); it is never part of a response body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldMode = Literal["clear", "masked", "withheld"]
_RANK: dict[str, int] = {"withheld": 0, "masked": 1, "clear": 2}


class Disclosure(BaseModel):
    """What a view result discloses, for the audit log: never a value, only ids, field names and modes."""

    entity_ids: list[str] = Field(default_factory=list)
    fields: dict[str, FieldMode] = Field(default_factory=dict)
    """"entity_type.attribute" → the most revealing mode any value of it was shown in."""

    def add(self, entity_id: str | None = None, field: str | None = None, mode: FieldMode | None = None) -> None:
        if entity_id is not None and entity_id not in self.entity_ids:
            self.entity_ids.append(entity_id)
        if field is not None and mode is not None:
            known = self.fields.get(field)
            if known is None or _RANK[mode] > _RANK[known]:
                self.fields[field] = mode

    def merge(self, other: Disclosure) -> None:
        for entity_id in other.entity_ids:
            self.add(entity_id)
        for name, mode in other.fields.items():
            self.add(field=name, mode=mode)


class FieldValue(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"value": "650102********1234", "mode": "masked", "source": "gongan_population", "sources": 3}]})

    value: Any = None
    mode: FieldMode
    source: str | None = Field(default=None, description="the source whose statement fusion chose")
    sources: int | None = Field(default=None, description="how many sources state a value for this field")


class EntityView(BaseModel):
    """One canonical entity with its golden values, as the caller may see them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "P-3f9a0c2b7d1e4a55", "entity_type": "person", "label": "张*明", "records": 4,
        "updated_at": "2026-12-01T08:00:00Z",
        "values": {"name": {"value": "张*明", "mode": "masked", "source": "gongan_population", "sources": 3},
                   "gender": {"value": "male", "mode": "clear", "source": "gongan_population", "sources": 2}}}]})

    id: str
    entity_type: str
    label: str | None = Field(default=None, description="a display label safe at every clearance")
    records: int = Field(description="source records linked to the entity")
    updated_at: datetime
    values: dict[str, FieldValue] = Field(default_factory=dict)
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class Moved(BaseModel):
    """A merged id: the entity now lives on as `merged_into` (the API answers 308 to it)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "P-77aa01c2d3e4f506",
                                                               "merged_into": "P-3f9a0c2b7d1e4a55"}]})

    id: str
    merged_into: str
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class Related(BaseModel):
    """An entity related to the profile's subject, with the relation and a few of its values."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "H-0b1c2d3e4f506172", "entity_type": "house", "predicate": "resides_at", "direction": "out",
        "label": "医学院佳苑 2号楼 2单元 202室", "valid_from": "2024-03-01T00:00:00Z", "valid_to": None,
        "values": {"address": {"value": "医学院佳苑2号楼2单元202室", "mode": "clear"}}}]})

    id: str
    entity_type: str
    predicate: str
    direction: Literal["out", "in"] = Field(description="out: subject –predicate→ it; in: it –predicate→ subject")
    label: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    values: dict[str, FieldValue] = Field(default_factory=dict)


class PlaceRef(BaseModel):
    id: str
    place_type: str
    name: str | None = None


class SituationPeriod(BaseModel):
    """情 derived from fused data by a rule file (hub.rules.situations): what holds, since when, until when, which
    rule derived it and whose statements it rests on. None tells welfare or health status."""

    situation_type: str = Field(description="living_alone, elderly, floating, seasonal, vacancy")
    rule_id: str = Field(description="The rule file (rules/<rule_id>.yaml) that derived it.")
    started_at: datetime = Field(description="Reference time of the rule run that first derived it.")
    ended_at: datetime | None = Field(default=None, description="Reference time of the run that no longer did.")
    sources: list[str] = Field(default_factory=list, description="The sources of the statements behind it.")


class PersonProfile(BaseModel):
    """一人一档: a person with the houses, organizations, things, situations and events related to them."""

    person: EntityView
    houses: list[Related] = Field(default_factory=list)
    organizations: list[Related] = Field(default_factory=list)
    things: list[Related] = Field(default_factory=list)
    situations: list[Related] = Field(default_factory=list)
    derived_situations: list[SituationPeriod] = Field(default_factory=list)
    events: list[Related] = Field(default_factory=list)
    places: list[PlaceRef] = Field(default_factory=list)
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class HouseProfile(BaseModel):
    """一房一档: a house with its community and grid, owners, residents (living, registered, renting), things
    and events located at it."""

    house: EntityView
    places: list[PlaceRef] = Field(default_factory=list)
    owners: list[Related] = Field(default_factory=list)
    residents: list[Related] = Field(default_factory=list)
    things: list[Related] = Field(default_factory=list)
    events: list[Related] = Field(default_factory=list)
    derived_situations: list[SituationPeriod] = Field(default_factory=list)
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class OrganizationProfile(BaseModel):
    """一企一档: an organization with its people (employees, members, legal representative) and premises."""

    organization: EntityView
    people: list[Related] = Field(default_factory=list)
    premises: list[Related] = Field(default_factory=list)
    things: list[Related] = Field(default_factory=list)
    places: list[PlaceRef] = Field(default_factory=list)
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class SearchHit(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "P-3f9a0c2b7d1e4a55", "entity_type": "person", "score": 96.0, "label": "张*明",
        "values": {"name": {"value": "张*明", "mode": "masked"}}}]})

    id: str
    entity_type: str
    score: float = Field(description="0–100: how well the entity matches the query")
    label: str | None = None
    values: dict[str, FieldValue] = Field(default_factory=dict)


class Page(BaseModel):
    """One page of results; pass `next_cursor` back to get the next (None: the last page)."""

    items: list[SearchHit] = Field(default_factory=list)
    next_cursor: str | None = None
    version: int = Field(description="the publication version the page was read at")
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class Claim(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "attribute": "phone", "source": "renshe_insured", "department": "social_insurance",
        "record_key": "renshe_insured|10023|person", "value": "138****5678", "mode": "masked",
        "first_seen": "2026-11-02T10:00:00Z", "last_seen": "2026-12-01T10:00:00Z", "chosen": True}]})

    attribute: str
    source: str
    department: str | None = None
    record_key: str
    value: Any = None
    mode: FieldMode
    first_seen: datetime
    last_seen: datetime
    chosen: bool = Field(description="fusion chose this statement for the golden value")


class LineageView(BaseModel):
    """For every value the caller may see: which departments stated what, and when."""

    entity_id: str
    entity_type: str
    claims: list[Claim] = Field(default_factory=list)
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)
