"""事 Event: something that happened in the community and may have a life cycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import Sensitivity as S

_REPORTERS = (D.grid, D.property, D.public_security)
"""Grid workers log complaints and moves, property logs repairs and access, public security deaths."""


class EventType(StrEnum):
    repair = "repair"  # 报修
    complaint = "complaint"  # 投诉
    access = "access"  # 门禁通行
    death = "death"  # 死亡
    move_in = "move_in"  # 迁入
    move_out = "move_out"  # 迁出
    registration = "registration"  # 登记: a person registered with a department (实有人口登记, 住户登记)


class Event(CanonicalEntity):
    """事 Event: a repair, complaint, access, death, move or registration that concerns people and houses.

    事件。报修、门禁以物业为准；投诉、迁入迁出以网格为准；死亡以公安为准。 An event is located at a
    house (located_at) and concerns persons (concerns); its status follows it until closed.
    """

    entity_type: ClassVar[str] = "event"
    label_zh: ClassVar[str] = "事"
    label_en: ClassVar[str] = "Event"

    event_type: EventType | None = attr(
        "What happened.", sensitivity=S.internal, authority=_REPORTERS, normalizer="text",
    )
    occurred_at: datetime | None = attr(
        "When it happened (ISO 8601).", sensitivity=S.internal, authority=_REPORTERS, normalizer="datetime",
    )
    closed_at: datetime | None = attr(
        "When it was closed, for events with a life cycle.", sensitivity=S.internal, authority=_REPORTERS,
        normalizer="datetime",
    )
    description: str | None = attr(
        "Free-text description as reported.", sensitivity=S.internal, authority=_REPORTERS, normalizer="text",
    )
    status: str | None = attr(
        "Life-cycle state as the source reports it: open, in_progress, closed, ...",
        sensitivity=S.internal, authority=_REPORTERS, normalizer="text", examples=["closed"],
    )
    device: str | None = attr(
        "Access-control device or door id that recorded an access event.",
        sensitivity=S.internal, authority=(D.property,), normalizer="text",
    )
