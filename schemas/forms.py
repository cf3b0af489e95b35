"""What the forms endpoints answer: a prefilled form (fields served by the hub, fields to collect), a receipt
for a write-back, and the share of a form's fields the hub serves. Part of the API's public contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.views import Disclosure, FieldMode

FieldStatus = Literal["filled", "withheld", "to_collect"]


class FormSummary(BaseModel):
    id: str
    title: str
    title_en: str
    fields: int
    bindings: dict[str, str] = Field(description="field key → the canonical attribute or relation it is bound to")


class PrefilledField(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "key": "phone", "label": "联系电话", "bind": "person.phone", "required": True, "status": "filled",
        "value": "138****5678", "mode": "masked", "source": "wuye_owners", "department": "property",
        "as_of": "2026-12-01T10:00:00Z", "entity_id": "P-3f9a0c2b7d1e4a55"}]})

    key: str
    label: str
    bind: str
    required: bool
    status: FieldStatus = Field(description="filled: the hub's value, shown as your clearance allows; withheld: "
                                            "your grant does not show this field (the hub may hold it); "
                                            "to_collect: the hub holds no value: ask the resident once")
    value: Any = None
    mode: FieldMode | None = None
    source: str | None = Field(default=None, description="the source whose statement fusion chose")
    department: str | None = None
    as_of: datetime | None = Field(default=None, description="freshness: when that source last stated the value")
    entity_id: str | None = Field(default=None, description="the entity the value belongs to (the person, the "
                                                            "house the person lives in, the situation)")


class FormPrefill(BaseModel):
    form: str
    title: str
    subject_id: str
    version: int = Field(description="the published version read")
    fields: list[PrefilledField]
    to_collect: list[str] = Field(description="keys of the fields the hub holds no value for")
    served: int = Field(description="fields filled from the hub")
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)


class SubmissionReceipt(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "submission_id": "5f0c…", "record_key": "grid_collection|5f0c…", "form": "elderly_allowance",
        "subject_id": "P-3f9a0c2b7d1e4a55", "fields": ["phone"], "run_id": "…", "statements": 2,
        "gate": "published", "published": False}]})

    submission_id: str
    record_key: str
    form: str
    subject_id: str | None
    fields: list[str] = Field(description="the keys written back")
    run_id: str = Field(description="the ingest run of the grid collection source that landed it")
    statements: int
    rejected: int = Field(description="values the normalizers refused (quarantined with their reason, not stored)")
    gate: str | None = Field(description="what the quality gate decided for the batch: published or held")
    published: bool = Field(description="false until the next fusion run (hub resolve, the fusion DAG) "
                                        "resolves, fuses and publishes it")


class FieldShare(BaseModel):
    key: str
    bind: str
    required: bool
    filled: int


class FormShare(BaseModel):
    form: str
    title: str
    persons: int = Field(description="the form's applicants (`applicants` in the template) among active persons")
    fields: list[FieldShare]
    share: float = Field(description="filled (person, field) pairs / (persons × fields)")
    required_share: float = Field(description="the same over the required fields")
