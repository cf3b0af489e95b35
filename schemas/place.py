"""地 Place: the hierarchy of divisions and premises, from district down to room."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar

from pydantic import model_validator

from schemas.codes import DISTRICT_CODE_PATTERN, GB_T_2260
from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import Sensitivity as S

_PLACE_REGISTERS = (D.civil_affairs, D.grid, D.property)
"""Divisions down to community belong to civil affairs, grids to the grid office, estates and
below to property management."""


class PlaceType(StrEnum):
    """Levels of the hierarchy, from the largest to the smallest."""

    district = "district"  # 区县
    street = "street"  # 街道
    community = "community"  # 社区
    grid = "grid"  # 网格
    estate = "estate"  # 小区
    building = "building"  # 楼栋
    unit = "unit"  # 单元
    room = "room"  # 室


class Place(CanonicalEntity):
    """地 Place: one node of the place hierarchy (区县 › 街道 › 社区 › 网格 › 小区 › 楼栋 › 单元 › 室).

    地点。区县、街道、社区以民政区划地名为准，网格以网格划分为准，小区及以下以物业为准。 Each place
    points to the place that contains it, so houses, events and things can be rolled up to any level.
    """

    entity_type: ClassVar[str] = "place"
    label_zh: ClassVar[str] = "地"
    label_en: ClassVar[str] = "Place"

    place_type: PlaceType | None = attr(
        "Level in the hierarchy.", sensitivity=S.public, authority=_PLACE_REGISTERS, normalizer="text",
    )
    code: str | None = attr(
        "Code of the place: for a district its 6-digit division code; for streets and communities the "
        "statistical division code (9 and 12 digits); for grids and below the local code.",
        sensitivity=S.public, authority=_PLACE_REGISTERS, normalizer="text", code_system=GB_T_2260,
        examples=["650102"],
    )
    name: str | None = attr(
        "Name of the place.", sensitivity=S.public, authority=_PLACE_REGISTERS, normalizer="text",
        examples=["天山区"],
    )
    parent_id: str | None = attr(
        "Canonical id of the place that contains this one; empty for the top of the hierarchy.",
        sensitivity=S.public, authority=_PLACE_REGISTERS, normalizer="text",
    )

    @model_validator(mode="after")
    def _district_code_format(self) -> Place:
        district = self.place_type is PlaceType.district
        if district and self.code is not None and not re.fullmatch(DISTRICT_CODE_PATTERN, self.code):
            raise ValueError("a district's code must be its 6-digit GB/T 2260 division code")
        return self
