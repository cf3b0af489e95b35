"""What the change feed returns (hub.feed): the API's /api/v1/feed pages and the webhooks' payloads.

An event says which entity changed and how; its values, when asked for, are the entity's golden values as
served at the page's `version`, shown as the caller's policy allows (masked or withheld like every read).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.views import Disclosure, FieldValue

Change = Literal["created", "updated", "merged", "split", "retired"]


class FeedEvent(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 4711, "version": 12, "published_at": "2026-12-07T02:00:00Z", "entity_id": "P-3f9a0c2b7d1e4a55",
        "entity_type": "person", "change": "updated", "other_id": None, "parts": ["values", "lineage"],
        "attributes": ["phone"], "label": "张*明",
        "values": {"phone": {"value": "138****5678", "mode": "masked", "source": "wuye_owners", "sources": 2}}}]})

    id: int = Field(description="the event's id: ascending, unique; a receiver drops a repeat by it")
    version: int = Field(description="the publication that made the change visible")
    published_at: datetime
    entity_id: str
    entity_type: str
    change: Change = Field(description="created, updated, merged (into `other_id`), split (from `other_id`) or "
                                       "retired (no longer served)")
    other_id: str | None = Field(default=None, description="merged: the survivor; split: the entity it split "
                                 "from; null when you may not see that entity")
    parts: list[str] = Field(default_factory=list, description="what changed: entity, values, relations, scope, "
                             "lineage")
    attributes: list[str] = Field(default_factory=list, description="attributes (that you may receive) whose "
                                  "value or lineage changed")
    label: str | None = None
    values: dict[str, FieldValue] | None = Field(
        default=None, description="the entity's values as served at the page's version (not as of the event), "
                                  "masked to your clearance; null without `values=true`, or when it is no longer "
                                  "active")


class FeedPage(BaseModel):
    """Events after the cursor in order; poll again with `next_cursor` (it is given on the last page too)."""

    items: list[FeedEvent] = Field(default_factory=list)
    next_cursor: str = Field(description="pass it back for the events after this page")
    more: bool = Field(description="more events are waiting: ask again at once")
    version: int = Field(description="the publication version the page was read at")
    disclosed: Disclosure = Field(default_factory=Disclosure, exclude=True)
