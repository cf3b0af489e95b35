"""房 House: a dwelling or premises, addressed down to the room."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from schemas.codes import DISTRICT_CODE_PATTERN, GB_T_2260
from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import PersonalInfo as P
from schemas.common import Sensitivity as S

_PROPERTY = (D.property,)
_DIVISIONS = (D.civil_affairs,)


class House(CanonicalEntity):
    """房 House: one dwelling or premises (实有房屋), the place people register at, live in, own or rent.

    房屋。楼栋、单元、房号、面积、用途以物业为准；区划与街道社区名称以民政区划地名为准，网格以网格
    划分为准。 Building, unit, room, area and usage come from property management; division codes
    and names from civil affairs, which keeps administrative divisions; grids from the grid office.
    """

    entity_type: ClassVar[str] = "house"
    label_zh: ClassVar[str] = "房"
    label_en: ClassVar[str] = "House"

    address: str | None = attr(
        "Full normalized address; public security's standard address (一标三实) is the second source.",
        sensitivity=S.internal, authority=(D.property, D.public_security), normalizer="address",
        examples=["新疆维吾尔自治区乌鲁木齐市天山区幸福路街道明珠社区明珠花园3号楼2单元1502室"],
        personal_info=P.none,   # a dwelling's address: personal only once linked to who lives there
    )
    district_code: str | None = attr(
        "County-level division code (区县代码).", sensitivity=S.public, authority=_DIVISIONS,
        normalizer="text", code_system=GB_T_2260, pattern=DISTRICT_CODE_PATTERN, examples=["650102"],
    )
    street: str | None = attr(
        "Street or township (街道/乡镇) name.", sensitivity=S.public, authority=_DIVISIONS, normalizer="text",
    )
    community: str | None = attr(
        "Residents' committee (社区) name.", sensitivity=S.public, authority=_DIVISIONS, normalizer="community_name",
    )
    grid: str | None = attr(
        "Grid (网格) name or number.", sensitivity=S.public, authority=(D.grid,), normalizer="text",
    )
    estate: str | None = attr(
        "Residential estate (小区) name.", sensitivity=S.public, authority=_PROPERTY, normalizer="estate_name",
    )
    building: str | None = attr(
        "Building number as text (楼栋).", sensitivity=S.public, authority=_PROPERTY, normalizer="building_no",
        examples=["3"],
    )
    unit: str | None = attr(
        "Stairwell unit number as text (单元).", sensitivity=S.public, authority=_PROPERTY, normalizer="unit_no",
        examples=["2"],
    )
    room: str | None = attr(
        "Room number as text (室).", sensitivity=S.public, authority=_PROPERTY, normalizer="room_no",
        examples=["1502"],
    )
    floor_area: Decimal | None = attr(
        "Floor area in square metres (建筑面积).", sensitivity=S.internal, authority=_PROPERTY,
        normalizer="decimal", ge=0, examples=["89.50"], personal_info=P.none,
    )
    usage: str | None = attr(
        "Usage (用途): residential, commercial, office, ...", sensitivity=S.public, authority=_PROPERTY,
        normalizer="text", examples=["residential"],
    )
    occupancy: str | None = attr(
        "How the property office records the house's use (房屋状态): owner_occupied 自住, rented 出租, vacant 空置.",
        sensitivity=S.internal, authority=_PROPERTY, normalizer="text", examples=["vacant"],
        personal_info=P.none,
    )
