"""物 Thing: vehicles, parking spaces and facilities that belong to someone or somewhere."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from schemas.common import CanonicalEntity, attr
from schemas.common import Department as D
from schemas.common import Sensitivity as S

_PROPERTY = (D.property,)
_VEHICLE_REGISTERS = (D.property, D.public_security)
"""Property management registers residents' cars; the traffic police register is the second source."""


class ThingType(StrEnum):
    vehicle = "vehicle"
    parking_space = "parking_space"
    facility = "facility"


class Thing(CanonicalEntity):
    """物 Thing: a vehicle, parking space or facility (车辆、车位、设施) in the community.

    物。车辆、车位、设施以物业登记为准；车牌号以公安交管登记为补充。 Property management registers
    the cars, parking spaces and facilities of its estates; public security's vehicle register
    confirms plates.
    """

    entity_type: ClassVar[str] = "thing"
    label_zh: ClassVar[str] = "物"
    label_en: ClassVar[str] = "Thing"

    thing_type: ThingType | None = attr(
        "What kind of thing this is.", sensitivity=S.public, authority=_PROPERTY, normalizer="text",
    )
    plate_no: str | None = attr(
        "Vehicle plate number (号牌号码).", sensitivity=S.internal, authority=_VEHICLE_REGISTERS,
        normalizer="plate", examples=["新A12345"],
    )
    brand: str | None = attr(
        "Vehicle brand or model.", sensitivity=S.public, authority=_VEHICLE_REGISTERS, normalizer="text",
    )
    color: str | None = attr(
        "Vehicle colour.", sensitivity=S.public, authority=_VEHICLE_REGISTERS, normalizer="text",
    )
    name: str | None = attr(
        "Name of a facility, e.g. 3号楼东侧充电桩.", sensitivity=S.public, authority=_PROPERTY,
        normalizer="text",
    )
    parking_space_no: str | None = attr(
        "Parking space number (车位号).", sensitivity=S.public, authority=_PROPERTY, normalizer="text",
        examples=["B1-023"],
    )
