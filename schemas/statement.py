"""Statement: the unit of lineage as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

LOCAL_ID_PREFIX = "local_id:"
"""Statement attribute prefix of a department-local identifier (a mapping's `local_ids`): `local_id:flat_no`.

Such an id names the entity only within its source (the property system's flat number, an employer number):
resolution may treat equal values within one source as one entity; fusion never makes it a golden value."""
LOCAL_ID_METHOD = "local_id"
"""The statement method of a local identifier's value."""


def local_id_attribute(name: str) -> str:
    """The statement attribute that holds the local identifier `name` of an entity."""
    return f"{LOCAL_ID_PREFIX}{name}"


def is_local_id(attribute: str) -> bool:
    return attribute.startswith(LOCAL_ID_PREFIX)


class Statement(BaseModel):
    """陈述 Statement: one normalized value of one attribute, from one source record, in one run.

    Golden records are chosen among statements, so every value the hub publishes can be traced
    back through its statement to the raw record and the run that landed it.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    entity_type: str = Field(description="Canonical entity type (schemas.entity_types()).")
    record_key: str = Field(description="Key of the source record: source plus source record id.")
    attribute: str = Field(description="Canonical attribute of the entity type.")
    value: str | None = Field(
        default=None,
        description="Normalized value as text; None when the caller's clearance does not cover the "
        "attribute's sensitivity.",
    )
    source: str = Field(description="Source (one department system) the value came from.")
    source_record_id: str = Field(description="Id of the record within its source.")
    source_field: str | None = Field(default=None, description="Source column(s) the value was read from.")
    raw_record_id: str = Field(description="Id of the raw record in the raw zone: the version of the record "
                               "that stated the value.")
    run_id: str = Field(description="Id of the run that landed that version.")
    first_seen: datetime = Field(description="When the first version of this record stating this value landed.")
    last_seen: datetime = Field(description="When the latest version of this record stating this value landed.")
